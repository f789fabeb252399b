package org.efcp.ml.train;

import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.ObjectInputFilter;
import java.io.ObjectInputStream;
import java.io.ObjectOutputStream;
import java.io.OutputStream;
import java.io.Serializable;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.UUID;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileStatus;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.efcp.optim.EfcpOptimizer;

/**
 * Everything a fit needs to continue bit-identically from the end of a step: the weights, the optimizer state
 * (error buffer, window, m×m state, momentum, step count), the position in the epoch loop and the history so far.
 *
 * <p>Files are {@code efcp-checkpoint-<step>.bin} in the checkpoint directory (any Hadoop file system), written
 * to a temporary name and renamed, so a reader sees a whole checkpoint or none; older ones are deleted after a
 * newer one is in place. The content is a magic header, a format version and Java serialisation restricted by
 * a filter to this project's and java.* classes: this object, then the optimizer.
 */
final class TrainingCheckpoint implements Serializable {
  private static final long serialVersionUID = 1L;

  private static final byte[] MAGIC = {'E', 'F', 'C', 'P', 'C', 'K', 'P', '\n'};
  /** 2: the optimizer follows the checkpoint object in the stream (1 held it as a byte array, at most 2 GB). */
  private static final int FORMAT_VERSION = 2;
  private static final String PREFIX = "efcp-checkpoint-";
  private static final String SUFFIX = ".bin";
  private static final ObjectInputFilter FILTER = ObjectInputFilter.Config.createFilter(
      "org.efcp.**;java.lang.*;java.lang.invoke.SerializedLambda;java.util.*;!*");

  final String fingerprint;
  /** Global index of the next step to run. */
  final long nextStep;
  final int epoch;
  final int nextStepInEpoch;
  final double[] theta;
  final double epochLoss;
  final double epochWeight;
  final double[] objectiveHistory;
  final ArrayList<StepRecord> records;
  /** The optimizer read back with this checkpoint (on the host); null in one about to be written. */
  private transient EfcpOptimizer optimizer;

  TrainingCheckpoint(String fingerprint, long nextStep, int epoch, int nextStepInEpoch, double[] theta,
      double epochLoss, double epochWeight, double[] objectiveHistory, List<StepRecord> records) {
    this.fingerprint = fingerprint;
    this.nextStep = nextStep;
    this.epoch = epoch;
    this.nextStepInEpoch = nextStepInEpoch;
    this.theta = theta.clone();
    this.epochLoss = epochLoss;
    this.epochWeight = epochWeight;
    this.objectiveHistory = objectiveHistory.clone();
    this.records = new ArrayList<>(records);
  }

  /** The optimizer state this checkpoint was read with, on the host ({@link #latest}). */
  EfcpOptimizer optimizer() {
    return optimizer;
  }

  /**
   * Writes this checkpoint and {@code optimizer}'s state (a GPU optimizer's host copy) atomically into {@code dir}
   * and deletes older ones. The state is streamed into the file, so it may exceed a Java array (dense M-FAC at the
   * linear-probe size holds 3.15 GB).
   */
  void write(String dir, Configuration conf, EfcpOptimizer optimizer) {
    Path root = new Path(dir);
    try {
      FileSystem fs = root.getFileSystem(conf);
      fs.mkdirs(root);
      Path tmp = new Path(root, "_tmp-" + UUID.randomUUID() + SUFFIX);
      try (OutputStream raw = fs.create(tmp, false); DataOutputStream out = new DataOutputStream(raw)) {
        out.write(MAGIC);
        out.writeInt(FORMAT_VERSION);
        ObjectOutputStream oos = new ObjectOutputStream(out);
        oos.writeObject(this);
        oos.writeObject(optimizer);
        oos.flush();
      }
      Path target = new Path(root, String.format("%s%015d%s", PREFIX, nextStep, SUFFIX));
      fs.delete(target, false);
      if (!fs.rename(tmp, target)) {
        fs.delete(tmp, false);
        throw new IOException("rename of " + tmp + " to " + target + " failed");
      }
      for (FileStatus st : fs.listStatus(root)) {
        String name = st.getPath().getName();
        if (name.startsWith(PREFIX) && name.endsWith(SUFFIX) && !st.getPath().equals(target)
            && stepOf(name) < nextStep) {
          fs.delete(st.getPath(), false);
        }
      }
    } catch (IOException e) {
      throw new UncheckedIOException("checkpointDir '" + dir + "': cannot write checkpoint: " + e.getMessage(), e);
    }
  }

  /**
   * The newest checkpoint in {@code dir}, or null when there is none.
   *
   * @throws IllegalArgumentException "checkpointDir ..." if it belongs to a fit with other settings or data, or
   *     is not a checkpoint of this format
   */
  static TrainingCheckpoint latest(String dir, String fingerprint, Configuration conf) {
    Path root = new Path(dir);
    try {
      FileSystem fs = root.getFileSystem(conf);
      if (!fs.exists(root)) {
        return null;
      }
      FileStatus newest = null;
      for (FileStatus st : fs.listStatus(root)) {
        String name = st.getPath().getName();
        if (name.startsWith(PREFIX) && name.endsWith(SUFFIX)
            && (newest == null || stepOf(name) > stepOf(newest.getPath().getName()))) {
          newest = st;
        }
      }
      if (newest == null) {
        return null;
      }
      TrainingCheckpoint c;
      try (InputStream raw = fs.open(newest.getPath()); DataInputStream in = new DataInputStream(raw)) {
        byte[] magic = new byte[MAGIC.length];
        in.readFully(magic);
        if (!Arrays.equals(magic, MAGIC)) {
          throw new IllegalArgumentException("checkpointDir '" + dir + "': " + newest.getPath().getName()
              + " is not an EFCP checkpoint");
        }
        int version = in.readInt();
        if (version != FORMAT_VERSION) {
          throw new IllegalArgumentException("checkpointDir '" + dir + "': checkpoint format version " + version
              + " is not supported (expected " + FORMAT_VERSION + ")");
        }
        ObjectInputStream ois = new ObjectInputStream(in);
        ois.setObjectInputFilter(FILTER);
        c = (TrainingCheckpoint) ois.readObject();
        c.optimizer = (EfcpOptimizer) ois.readObject();
      } catch (ClassNotFoundException | ClassCastException | java.io.InvalidClassException
          | java.io.EOFException e) {
        throw new IllegalArgumentException("checkpointDir '" + dir + "': unreadable checkpoint "
            + newest.getPath().getName() + ": " + e.getMessage(), e);
      }
      if (!c.fingerprint.equals(fingerprint)) {
        throw new IllegalArgumentException("checkpointDir '" + dir + "': holds a checkpoint of a fit with other "
            + "settings or data; use an empty directory (checkpoint: " + c.fingerprint + "; this fit: "
            + fingerprint + ")");
      }
      return c;
    } catch (IOException e) {
      throw new UncheckedIOException("checkpointDir '" + dir + "': cannot read: " + e.getMessage(), e);
    }
  }

  private static long stepOf(String name) {
    try {
      return Long.parseLong(name.substring(PREFIX.length(), name.length() - SUFFIX.length()));
    } catch (NumberFormatException e) {
      return -1;
    }
  }

}
