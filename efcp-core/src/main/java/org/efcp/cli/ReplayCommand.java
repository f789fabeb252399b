package org.efcp.cli;

import java.io.IOException;
import java.nio.file.Path;
import java.util.Set;
import org.efcp.io.Npy;
import org.efcp.io.NpyRowReader;
import org.efcp.io.NpyRowWriter;
import org.efcp.optim.DirectionPipeline;
import org.efcp.optim.Method;
import org.efcp.optim.OptimizerConfig;

/**
 * {@code efcp replay}: runs the direction pipeline over the rows of a T × d gradient file (float32 or
 * float64) and writes the T × d update directions (and optionally the compressed vectors c_t) as float64.
 * Holds O(d) of file data in memory. Outputs appear only when every row succeeded.
 */
final class ReplayCommand {
  static final Set<String> FLAGS = ConfigOptions.flagsWith("grads", "out", "dump-compressed");

  private ReplayCommand() {}

  /**
   * Runs the command.
   *
   * @throws CliException for bad options, unusable files or non-finite gradients
   */
  static void run(CliArgs args) throws IOException {
    Path grads = Path.of(args.required("grads"));
    Path out = Path.of(args.required("out"));
    Path dump = args.has("dump-compressed") ? Path.of(args.required("dump-compressed")) : null;
    if (dump != null && dump.toAbsolutePath().normalize().equals(out.toAbsolutePath().normalize())) {
      throw new CliException("--dump-compressed: names the same file as --out: " + out);
    }
    if (!args.has("method")) {
      throw new CliException("--method: required (one of dense-mfac, sparse-mfac, lowrank-mfac, dense-ggt,"
          + " sparse-ggt, adagrad-ef, sgd)");
    }
    ConfigOptions options = ConfigOptions.parse(args, Method.SPARSE_MFAC);
    try (NpyRowReader reader = Npy.openRows(grads)) {
      int d = reader.cols();
      if (d == 0) {
        throw new CliException(grads + ": has 0 columns (expected T x d gradients with d >= 1)");
      }
      OptimizerConfig config = options.toConfig(d);
      try (PendingFile outFile = PendingFile.beside(out, "--out");
          PendingFile dumpFile = dump == null ? null : PendingFile.beside(dump, "--dump-compressed")) {
        replay(grads, reader, DirectionPipeline.create(config), outFile, dumpFile);
        outFile.commit();
        if (dumpFile != null) {
          dumpFile.commit();
        }
      }
    }
  }

  private static void replay(Path grads, NpyRowReader reader, DirectionPipeline pipeline, PendingFile outFile,
      PendingFile dumpFile) throws IOException {
    int d = reader.cols();
    double[] g = new double[d];
    double[] u = new double[d];
    double[] c = dumpFile == null ? null : new double[d];
    try (NpyRowWriter uWriter = Npy.createRows(outFile.temp(), reader.rows(), d);
        NpyRowWriter cWriter = dumpFile == null ? null : Npy.createRows(dumpFile.temp(), reader.rows(), d)) {
      while (reader.hasNext()) {
        long row = reader.nextRow();
        reader.readRow(g);
        requireFinite(grads, row, g);
        pipeline.direction(g, u);
        uWriter.writeRow(u);
        if (cWriter != null) {
          pipeline.lastCompressed().toDense(c);
          cWriter.writeRow(c);
        }
      }
    }
  }

  private static void requireFinite(Path grads, long row, double[] g) {
    for (int i = 0; i < g.length; i++) {
      if (!Double.isFinite(g[i])) {
        throw new CliException(grads + ": gradient row " + row + ", column " + i + " (0-based) is " + g[i]
            + " (gradients must be finite)");
      }
    }
  }
}
