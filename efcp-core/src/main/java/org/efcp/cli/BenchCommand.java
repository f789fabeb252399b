package org.efcp.cli;

import dev.ludovic.netlib.blas.BLAS;
import java.io.PrintStream;
import java.util.Arrays;
import java.util.Set;
import org.efcp.optim.DirectionPipeline;
import org.efcp.optim.Method;
import org.efcp.optim.MfacCholeskyState;
import org.efcp.optim.MfacPreconditioner;
import org.efcp.optim.OptimizerConfig;
import org.efcp.optim.PipelineState;

/**
 * {@code efcp bench}: fills the window with synthetic gradients, then times {@code direction} alone over more
 * steps, then the export of the pipeline's state and its import into a fresh pipeline (what moving an optimizer
 * between host and GPU, or checkpointing a GPU optimizer, costs on the host), and prints one JSON line. Defaults
 * are the paper's linear probe (sparse-mfac, d = 769,000, m = 1024, k = 1 %, 50 timed steps after m fill steps).
 */
final class BenchCommand {
  static final Set<String> FLAGS = ConfigOptions.flagsWith("d", "fill", "steps");
  static final int DEFAULT_D = 769_000;
  static final int DEFAULT_STEPS = 50;
  /** Calls of the O(m³) from-scratch factorisation whose median is reported. */
  static final int REFACTOR_REPEATS = 5;

  /** One benchmark: {@code fill} untimed then {@code steps} timed direction calls of a pipeline for {@code config}. */
  record Plan(OptimizerConfig config, int fill, int steps) {}

  private BenchCommand() {}

  /**
   * Parses and validates every option, then runs the benchmark and prints its JSON line to {@code out}.
   *
   * @throws CliException for bad options
   */
  static void run(CliArgs args, PrintStream out) {
    Plan plan = plan(args);
    out.println(measure(plan, DirectionPipeline.create(plan.config())));
    out.flush();
  }

  /**
   * The validated benchmark the options ask for: d from {@code --d}, else from {@code --shapes}, else
   * {@link #DEFAULT_D}; fill m steps by default for methods with a window (0 otherwise).
   *
   * @throws CliException for bad options
   */
  static Plan plan(CliArgs args) {
    ConfigOptions options = ConfigOptions.parse(args, Method.SPARSE_MFAC);
    int d = args.has("d") || options.shapes() == null ? args.intValue("d", DEFAULT_D) : options.layoutDimension();
    if (d < 1) {
      throw new CliException("--d: must be >= 1, got " + d);
    }
    int steps = args.intValue("steps", DEFAULT_STEPS);
    if (steps < 1) {
      throw new CliException("--steps: must be >= 1, got " + steps);
    }
    OptimizerConfig config = options.toConfig(d);
    int fill = args.intValue("fill", config.method().hasWindow() ? config.window() : 0);
    if (fill < 0) {
      throw new CliException("--fill: must be >= 0, got " + fill);
    }
    return new Plan(config, fill, steps);
  }

  /** Runs {@code plan} on {@code pipeline} (built for {@code plan.config()}) and returns the JSON line. */
  static JsonLine measure(Plan plan, DirectionPipeline pipeline) {
    OptimizerConfig config = plan.config();
    int fill = plan.fill();
    int steps = plan.steps();
    int d = config.dimension();
    SyntheticGradients source = new SyntheticGradients(d, config.seed());
    double[] g = new double[d];
    double[] u = new double[d];
    for (int t = 0; t < fill; t++) {
      source.next(g);
      pipeline.direction(g, u);
    }
    MfacPreconditioner mfac = pipeline.preconditioner() instanceof MfacPreconditioner p ? p : null;
    long[] stepNanos = new long[steps];
    long[] windowNanos = new long[steps];
    for (int t = 0; t < steps; t++) {
      source.next(g);
      long start = System.nanoTime();
      pipeline.direction(g, u);
      stepNanos[t] = System.nanoTime() - start;
      if (mfac != null) {
        windowNanos[t] = mfac.lastWindowUpdateNanos();
      }
    }
    Method method = config.method();
    JsonLine json = new JsonLine().put("method", method.cliName()).put("d", d);
    if (method.hasWindow()) {
      json.put("m", config.window());
    } else {
      json.putNull("m");
    }
    if (method.usesTopK()) {
      json.put("k", config.topK());
    } else {
      json.putNull("k");
    }
    json.put("fill", fill).put("steps", steps)
        .put("median_step_ms", millis(median(stepNanos)))
        .put("p90_step_ms", millis(percentile(stepNanos, 0.9)))
        .put("state_bytes", pipeline.memoryBytes());
    if (mfac != null) {
      json.put("window_update_ms", millis(median(windowNanos)))
          .put("full_refactor_ms", millis(median(refactorNanos(mfac.state()))));
    }
    long start = System.nanoTime();
    PipelineState state = pipeline.exportState();
    long exported = System.nanoTime();
    DirectionPipeline.create(config).importState(state);
    long imported = System.nanoTime();
    json.put("state_export_ms", millis(exported - start)).put("state_import_ms", millis(imported - exported));
    return json.put("blas", BLAS.getInstance().getClass().getSimpleName());
  }

  /** Wall times of {@link #REFACTOR_REPEATS} from-scratch factorisations of the current window state. */
  private static long[] refactorNanos(MfacCholeskyState state) {
    long[] nanos = new long[REFACTOR_REPEATS];
    for (int r = 0; r < nanos.length; r++) {
      long start = System.nanoTime();
      state.refactorFromScratch();
      nanos[r] = System.nanoTime() - start;
    }
    return nanos;
  }

  static double median(long[] values) {
    long[] s = values.clone();
    Arrays.sort(s);
    int n = s.length;
    return n % 2 == 1 ? s[n / 2] : (s[n / 2 - 1] + (double) s[n / 2]) / 2;
  }

  /** Nearest-rank percentile: the smallest value with at least a fraction q of the values at or below it. */
  static double percentile(long[] values, double q) {
    long[] s = values.clone();
    Arrays.sort(s);
    int rank = (int) Math.ceil(q * s.length);
    return s[Math.max(0, rank - 1)];
  }

  private static double millis(double nanos) {
    return nanos / 1e6;
  }
}
