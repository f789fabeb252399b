package org.efcp.ml.train.stream;

import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.Serializable;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.util.ArrayList;
import java.util.List;
import org.apache.spark.TaskContext;
import org.efcp.ml.train.PartitionGradient;
import org.efcp.ml.train.BatchTotals;
import org.efcp.ml.train.TrainingBlock;
import scala.collection.Iterator;
import scala.jdk.javaapi.CollectionConverters;
import scala.runtime.AbstractFunction1;

/**
 * The body of one long-lived barrier task: keeps its partition's cached blocks, connects to the driver's
 * endpoint, authenticates with the fit's token, then answers every STEP with its SHARE until STOP. Every read
 * has a timeout: reads wake every {@value #POLL_MILLIS} ms to honour a kill of the task, and a task that hears
 * nothing from the driver for {@code timeoutMillis} fails (so the stage fails and Spark retries or ends it).
 * Returns the number of steps served.
 */
final class StreamTask extends AbstractFunction1<Iterator<TrainingBlock>, Iterator<Long>> implements Serializable {
  private static final long serialVersionUID = 1L;
  static final int POLL_MILLIS = 200;

  private final String host;
  private final int port;
  private final byte[] token;
  private final int numPartitions;
  private final PartitionGradient kernel;
  private final double[] scale;
  private final long timeoutMillis;

  StreamTask(String host, int port, byte[] token, int numPartitions, PartitionGradient kernel, double[] scale,
      long timeoutMillis) {
    this.host = host;
    this.port = port;
    this.token = token;
    this.numPartitions = numPartitions;
    this.kernel = kernel;
    this.scale = scale;
    this.timeoutMillis = timeoutMillis;
  }

  @Override
  public Iterator<Long> apply(Iterator<TrainingBlock> it) {
    TaskContext context = TaskContext.get();
    List<TrainingBlock> blocks = new ArrayList<>();
    it.foreach(blocks::add);
    try {
      long served = serve(context, blocks);
      return CollectionConverters.asScala(List.of(served).iterator());
    } catch (IOException e) {
      throw new UncheckedIOException("EFCP stream task of partition " + context.partitionId() + ": "
          + e.getMessage(), e);
    } finally {
      // The task serves the whole fit: its device-resident rows are not needed after it.
      kernel.release(blocks);
    }
  }

  private long serve(TaskContext context, List<TrainingBlock> blocks) throws IOException {
    int d = kernel.dimension();
    int stepLength = StreamProtocol.stepLength(d);
    try (Socket socket = new Socket()) {
      socket.setTcpNoDelay(true);
      socket.setReceiveBufferSize(StreamProtocol.SOCKET_BUFFER_BYTES);
      socket.setSendBufferSize(StreamProtocol.SOCKET_BUFFER_BYTES);
      socket.connect(new InetSocketAddress(host, port), (int) Math.min(Integer.MAX_VALUE, timeoutMillis));
      socket.setSoTimeout(POLL_MILLIS);
      InputStream in = socket.getInputStream();
      OutputStream out = socket.getOutputStream();
      out.write(hello(context.partitionId(), context.stageAttemptNumber(), d));
      out.flush();

      byte[] header = new byte[StreamProtocol.LENGTH_BYTES + 1];
      byte[] step = new byte[stepLength - 1];
      ByteBuffer stepView = ByteBuffer.wrap(step).order(ByteOrder.LITTLE_ENDIAN);
      byte[] share = new byte[StreamProtocol.LENGTH_BYTES + StreamProtocol.shareLength(d)];
      ByteBuffer shareView = ByteBuffer.wrap(share).order(ByteOrder.LITTLE_ENDIAN);
      FloatBuffer thetaIn = ByteBuffer.wrap(step, StreamProtocol.STEP_HEADER - 1, 4 * d).slice()
          .order(ByteOrder.LITTLE_ENDIAN).asFloatBuffer();
      FloatBuffer shareOut = ByteBuffer.wrap(share, StreamProtocol.LENGTH_BYTES + StreamProtocol.SHARE_HEADER, 4 * d)
          .slice().order(ByteOrder.LITTLE_ENDIAN).asFloatBuffer();
      float[] floats = new float[d];
      double[] theta = new double[d];
      double[] gradient = new double[d];
      long served = 0;
      while (true) {
        readFully(in, header, context);
        ByteBuffer h = ByteBuffer.wrap(header).order(ByteOrder.LITTLE_ENDIAN);
        int length = h.getInt();
        int type = h.get();
        if (type == StreamProtocol.STOP && length == StreamProtocol.STOP_LENGTH) {
          return served;
        }
        if (type != StreamProtocol.STEP || length != stepLength) {
          throw new IOException("unexpected frame from the driver: " + StreamProtocol.typeName(type) + " of "
              + length + " bytes");
        }
        readFully(in, step, context);
        stepView.clear();
        long globalStep = stepView.getLong();
        int epoch = stepView.getInt();
        long stepInEpoch = stepView.getLong();
        thetaIn.get(0, floats); // bulk copies and plain array loops: the fastest passes over d
        for (int i = 0; i < d; i++) {
          theta[i] = floats[i];
        }

        BatchTotals s = kernel.compute(blocks, theta, scale, epoch, stepInEpoch, gradient);
        shareView.clear();
        shareView.putInt(StreamProtocol.shareLength(d)).put(StreamProtocol.SHARE).putLong(globalStep)
            .putDouble(s.loss()).putDouble(s.weight()).putLong(s.rows());
        for (int i = 0; i < d; i++) {
          floats[i] = (float) gradient[i];
          gradient[i] = 0; // ready for the next step without another pass
        }
        shareOut.put(0, floats);
        out.write(share);
        out.flush();
        served++;
      }
    }
  }

  private byte[] hello(int partition, int attempt, int d) {
    ByteBuffer b = ByteBuffer.allocate(StreamProtocol.LENGTH_BYTES + StreamProtocol.HELLO_LENGTH)
        .order(ByteOrder.LITTLE_ENDIAN);
    b.putInt(StreamProtocol.HELLO_LENGTH).put(StreamProtocol.HELLO).put(token).putInt(partition)
        .putInt(numPartitions).putInt(attempt).putInt(d);
    return b.array();
  }

  /** Reads {@code buf} whole; polls the task's kill flag while waiting and gives up after the timeout. */
  private void readFully(InputStream in, byte[] buf, TaskContext context) throws IOException {
    long deadline = System.nanoTime() + timeoutMillis * 1_000_000L;
    int n = 0;
    while (n < buf.length) {
      int r;
      try {
        r = in.read(buf, n, buf.length - n);
      } catch (SocketTimeoutException e) {
        context.killTaskIfInterrupted();
        if (System.nanoTime() > deadline) {
          throw new IOException("no message from the driver for " + timeoutMillis + " ms "
              + "(spark.efcp.stream.timeout)");
        }
        continue;
      }
      if (r < 0) {
        throw new EOFException("the driver closed the connection");
      }
      n += r;
    }
  }
}
