package org.efcp.optim.gpu;

import java.util.Arrays;
import java.util.Locale;
import java.util.function.IntConsumer;

import org.efcp.cuda.DeviceBuffer;
import org.efcp.cuda.GpuContext;
import org.efcp.cuda.GpuEvent;
import org.efcp.optim.DirectionPipeline;
import org.efcp.optim.Method;
import org.efcp.optim.OptimizerConfig;
import org.efcp.optim.PipelineState;
import org.efcp.optim.TensorLayout;

/**
 * Benchmark main (not a test): one sparse M-FAC direction step at logistic-regression size (d = 769,000, m = 1024,
 * k = 7,690) on the GPU and on the CPU, one dense and one low-rank M-FAC step on the GPU, and the sparse and dense
 * GGT steps (m = 100) on the GPU and on the CPU, one JSON line per measurement.
 * <ul>
 *   <li>{@code gpu_sparse_mfac_step} api=device: g already on the device, each step followed by a stream sync
 *   (latency); api=device_pipelined: steps queued back to back, one sync at the end (throughput);
 *   api=host: {@link GpuSparseMfacPipeline#direction} with both copies;</li>
 *   <li>{@code gpu_sparse_mfac_stages}: device milliseconds of the Top-k, m×m and combination stages;</li>
 *   <li>{@code cpu_sparse_mfac_step}: the CPU {@link DirectionPipeline} on the same gradients;</li>
 *   <li>{@code gpu_dense_mfac_step}: the dense M-FAC step ({@link GpuDenseMfacPipeline}, a 3.15 GB float32 window,
 *   m×m state as an updated Cholesky factor), api=device (each step synchronised; with the host refreshes of the
 *   factor and the last drift against its tolerance) and api=device_pipelined, {@value #DENSE_TIMED} timed
 *   steps, once per m×m kernel ({@link MfacCholeskyKernel}; {@code "mxm_kernel":"rows"|"wavefront"}) and schedule of
 *   the combination ({@link DenseMfacCombine}; {@code "combine":"separate"|"overlapped"}), each separate one followed
 *   by {@code gpu_mfac_cholesky_kernel}: that kernel alone (device milliseconds between CUDA events around its
 *   launch, {@value #MXM_RUNS} runs, each re-inserting the oldest vector of the filled window);</li>
 *   <li>{@code gpu_lowrank_mfac_step}: the low-rank M-FAC step ({@link GpuLowRankMfacPipeline}) at the linear-probe
 *   layout 1000×768 + 1000 with ρ = {@value #RANK}, m = 1024 (the paper's LR-MFAC settings; 66 MB of float64
 *   factor window), api=device and api=device_pipelined, {@value #LOWRANK_TIMED} timed steps, once per m×m
 *   kernel;</li>
 *   <li>{@code gpu_sparse_ggt_step} and {@code gpu_dense_ggt_step} ({@link GpuSparseGgtPipeline},
 *   {@link GpuDenseGgtPipeline}) at the paper's GGT window m = {@value #GGT_M}, ε = 1e-5, ridge 1e-6: api=device and
 *   api=device_pipelined as above, and {@code gpu_sparse_ggt_eigen} / {@code gpu_dense_ggt_eigen}, the one-block
 *   Jacobi eigen step alone (each run synchronised) with its sweep count;</li>
 *   <li>{@code gpu_sparse_mfac_state_export} and {@code gpu_sparse_mfac_state_import}: a filled sparse M-FAC
 *   pipeline's state copied to the host, and a fresh pipeline given it (what a GPU checkpoint and a resume cost);</li>
 *   <li>{@code cpu_sparse_ggt_step} and {@code cpu_dense_ggt_step}: the CPU {@link DirectionPipeline} at the same
 *   sizes.</li>
 * </ul>
 * The dense and low-rank M-FAC lines come last on the device (see {@link #main}). The window is filled (m steps)
 * before anything is timed. Arguments (all optional): damping (default 1e-4), timed GPU steps (200), timed CPU steps
 * (20; 0 skips the CPU).
 */
public final class GpuStepBench {
  private static final int D = 769_000;
  private static final int M = 1024;
  private static final int K = 7690;
  /** Heavy-tailed steps of {@link GradientSequence} (none of its constant, zero or quantised ones). */
  static final int[] GRADIENT_STEPS = {2, 3, 5, 6, 8, 9, 10, 11};
  private static final int DENSE_TIMED = 100;
  /** Timed runs of the m×m kernel alone. */
  private static final int MXM_RUNS = 50;
  /** The linear probe's tensors, nn.Linear(768, 1000): weight 1000 × 768 and bias 1000 (d = {@value #D}). */
  private static final TensorLayout LINEAR_PROBE = TensorLayout.parse("1000x768,1000");
  /** The paper's LR-MFAC rank (algorithms doc §6). */
  private static final int RANK = 4;
  private static final int LOWRANK_TIMED = 100;
  /** The paper's GGT window. */
  private static final int GGT_M = 100;
  private static final double GGT_EPSILON = 1e-5;
  private static final double GGT_RIDGE = 1e-6;

  private GpuStepBench() {}

  public static void main(String[] args) {
    double damping = args.length > 0 ? Double.parseDouble(args[0]) : 1e-4;
    int timed = args.length > 1 ? Integer.parseInt(args[1]) : 200;
    int cpuTimed = args.length > 2 ? Integer.parseInt(args[2]) : 20;
    GradientSequence sequence = new GradientSequence(D, 0.125, 99);
    double[][] gradients = new double[GRADIENT_STEPS.length][];
    for (int i = 0; i < gradients.length; i++) {
      gradients[i] = sequence.gradient(GRADIENT_STEPS[i]);
    }
    GpuContext ctx = GpuContext.open(0);
    String device = ctx.deviceName();
    benchGpu(ctx, device, gradients, damping, timed);
    try (GpuSparseGgtPipeline sparse = new GpuSparseGgtPipeline(ctx, D, GGT_M, K, GGT_EPSILON, GGT_RIDGE)) {
      benchGgt("sparse_ggt", sparse, ctx, device, gradients, timed);
    }
    try (GpuDenseGgtPipeline dense = new GpuDenseGgtPipeline(ctx, D, GGT_M, GGT_EPSILON, GGT_RIDGE)) {
      benchGgt("dense_ggt", dense, ctx, device, gradients, timed);
    }
    benchStateTransfer(ctx, device, gradients, damping);
    // Last on the device: the m×m step's variants not yet measured there (a kernel that traps leaves the context
    // unusable for whatever follows), the default one first.
    benchDense(ctx, device, gradients, damping);
    benchLowRank(ctx, device, gradients, damping);
    if (cpuTimed > 0) {
      benchCpu(gradients, damping, cpuTimed);
      benchCpuGgt(Method.SPARSE_GGT, "cpu_sparse_ggt_step", gradients, cpuTimed);
      benchCpuGgt(Method.DENSE_GGT, "cpu_dense_ggt_step", gradients, cpuTimed);
    }
  }

  /** The gpu_NAME_step (api=device, api=device_pipelined) and gpu_NAME_eigen lines of a fresh GGT pipeline. */
  private static void benchGgt(String name, GpuGgtPipeline p, GpuContext ctx, String device, double[][] gradients,
      int timed) {
    String shape = String.format(Locale.ROOT, "\"d\":%d,\"m\":%d,%s\"eps\":%g,\"ridge\":%g", D, GGT_M,
        p instanceof GpuSparseGgtPipeline ? "\"k\":" + K + "," : "", GGT_EPSILON, GGT_RIDGE);
    try (DeviceSteps steps = new DeviceSteps(ctx, gradients)) {
      double fillMs = steps.queuedMillis(p, GGT_M);
      double[] ms = steps.syncedMillis(p, timed);
      System.out.println(String.format(Locale.ROOT,
          "{\"bench\":\"gpu_%s_step\",\"api\":\"device\",\"device\":\"%s\",%s,\"steps\":%d,\"median_ms\":%.4f,"
              + "\"p90_ms\":%.4f,\"min_ms\":%.4f,\"fill_%d_steps_ms\":%.1f,\"last_sweeps\":%d,\"memory_bytes\":%d}",
          name, device, shape, timed, quantile(ms, 0.5), quantile(ms, 0.9), quantile(ms, 0.0), GGT_M, fillMs,
          p.lastSweeps(), p.memoryBytes()));

      double perStep = steps.queuedMillis(p, timed) / timed;
      System.out.println(String.format(Locale.ROOT,
          "{\"bench\":\"gpu_%s_step\",\"api\":\"device_pipelined\",\"device\":\"%s\",%s,\"steps\":%d,"
              + "\"mean_ms\":%.4f}",
          name, device, shape, timed, perStep));

      int runs = Math.min(timed, 50);
      double[] eigenMs = millisEach(runs, i -> {
        p.rerunEigenStep();
        p.stream().synchronize();
      });
      System.out.println(String.format(Locale.ROOT,
          "{\"bench\":\"gpu_%s_eigen\",\"device\":\"%s\",\"m\":%d,\"runs\":%d,\"median_ms\":%.4f,"
              + "\"p90_ms\":%.4f,\"min_ms\":%.4f,\"sweeps\":%d}",
          name, device, GGT_M, runs, quantile(eigenMs, 0.5), quantile(eigenMs, 0.9), quantile(eigenMs, 0.0),
          p.lastSweeps()));
    }
  }

  private static void benchCpuGgt(Method method, String bench, double[][] gradients, int timed) {
    DirectionPipeline cpu = DirectionPipeline.create(OptimizerConfig.builder(method, TensorLayout.flat(D))
        .window(GGT_M).density(K).ggtEpsilon(GGT_EPSILON).ridge(GGT_RIDGE).build());
    double[] u = new double[D];
    for (int t = 0; t < GGT_M; t++) {
      cpu.direction(gradients[t % gradients.length], u);
    }
    double[] ms = millisEach(timed, i -> cpu.direction(gradients[i % gradients.length], u));
    System.out.println(String.format(Locale.ROOT,
        "{\"bench\":\"%s\",\"api\":\"host\",\"device\":\"cpu (%d threads)\",\"d\":%d,\"m\":%d,%s\"eps\":%g,"
            + "\"ridge\":%g,\"steps\":%d,\"median_ms\":%.4f,\"p90_ms\":%.4f,\"min_ms\":%.4f}",
        bench, Runtime.getRuntime().availableProcessors(), D, GGT_M,
        method == Method.SPARSE_GGT ? "\"k\":" + K + "," : "", GGT_EPSILON, GGT_RIDGE, timed, quantile(ms, 0.5),
        quantile(ms, 0.9), quantile(ms, 0.0)));
  }

  private static void benchGpu(GpuContext ctx, String device, double[][] gradients, double damping, int timed) {
    try (GpuSparseMfacPipeline p = new GpuSparseMfacPipeline(ctx, D, M, K, damping);
        DeviceSteps steps = new DeviceSteps(ctx, gradients)) {
      double fillMs = steps.queuedMillis(p, M);
      double[] ms = steps.syncedMillis(p, timed);
      print("gpu_sparse_mfac_step", "device", device, damping, ms, p.refreshCount(),
          String.format(Locale.ROOT, ",\"fill_%d_steps_ms\":%.1f,\"last_drift\":%.3e", M, fillMs, p.lastDrift()));

      double perStep = steps.queuedMillis(p, timed) / timed;
      System.out.println(String.format(Locale.ROOT,
          "{\"bench\":\"gpu_sparse_mfac_step\",\"api\":\"device_pipelined\",\"device\":\"%s\",\"d\":%d,\"m\":%d,"
              + "\"k\":%d,\"damping\":%g,\"steps\":%d,\"mean_ms\":%.4f,\"refreshes\":%d}",
          device, D, M, K, damping, timed, perStep, p.refreshCount()));

      p.profileStages(true);
      int profiled = Math.min(timed, 50);
      double[][] stages = new double[3][profiled];
      for (int i = 0; i < profiled; i++) {
        steps.queue(p, i);
        double[] s = p.lastStageMillis();
        for (int j = 0; j < 3; j++) {
          stages[j][i] = s[j];
        }
      }
      p.profileStages(false);
      System.out.println(String.format(Locale.ROOT,
          "{\"bench\":\"gpu_sparse_mfac_stages\",\"device\":\"%s\",\"d\":%d,\"m\":%d,\"k\":%d,\"steps\":%d,"
              + "\"topk_median_ms\":%.4f,\"mxm_median_ms\":%.4f,\"combine_median_ms\":%.4f}",
          device, D, M, K, profiled, quantile(stages[0], 0.5), quantile(stages[1], 0.5), quantile(stages[2], 0.5)));

      int hostSteps = Math.min(timed, 50);
      double[] uHost = new double[D];
      double[] hostMs = millisEach(hostSteps, i -> p.direction(gradients[i % gradients.length], uHost));
      print("gpu_sparse_mfac_step", "host", device, damping, hostMs, p.refreshCount(), "");
    }
  }

  /**
   * gpu_sparse_mfac_state_export (a filled pipeline's state copied to the host) and gpu_sparse_mfac_state_import (a
   * fresh pipeline built and given that state, K inverted on the host): what a GPU checkpoint and a resume on the GPU
   * cost. Runs after the other GPU benches, and a failure only prints its error, so it cannot cost them their lines.
   */
  private static void benchStateTransfer(GpuContext ctx, String device, double[][] gradients, double damping) {
    int runs = 3;
    PipelineState[] state = new PipelineState[1];
    try (GpuSparseMfacPipeline p = new GpuSparseMfacPipeline(ctx, D, M, K, damping);
        DeviceSteps steps = new DeviceSteps(ctx, gradients)) {
      steps.queuedMillis(p, M);
      double[] exportMs = millisEach(runs, i -> state[0] = p.exportState());
      double[] importMs = millisEach(runs, i -> {
        try (GpuSparseMfacPipeline q = new GpuSparseMfacPipeline(ctx, D, M, K, damping)) {
          q.importState(state[0]);
          q.stream().synchronize();
        }
      });
      String shape = String.format(Locale.ROOT, "\"device\":\"%s\",\"d\":%d,\"m\":%d,\"k\":%d,\"runs\":%d", device,
          D, M, K, runs);
      System.out.println(String.format(Locale.ROOT,
          "{\"bench\":\"gpu_sparse_mfac_state_export\",%s,\"median_ms\":%.2f,\"max_ms\":%.2f}", shape,
          quantile(exportMs, 0.5), quantile(exportMs, 1.0)));
      System.out.println(String.format(Locale.ROOT,
          "{\"bench\":\"gpu_sparse_mfac_state_import\",%s,\"median_ms\":%.2f,\"max_ms\":%.2f}", shape,
          quantile(importMs, 0.5), quantile(importMs, 1.0)));
    } catch (RuntimeException e) {
      System.err.println("GpuStepBench: the state transfer bench failed: " + e);
    }
  }

  private static void benchDense(GpuContext ctx, String device, double[][] gradients, double damping) {
    for (DenseMfacCombine combine : DenseMfacCombine.values()) {
      for (MfacCholeskyKernel kernel : MfacCholeskyKernel.values()) {
        benchDense(ctx, device, gradients, damping, kernel, combine);
      }
    }
  }

  /**
   * The dense lines for one m×m kernel and combination (a fresh pipeline; the previous one's 3.15 GB window is freed
   * first); the m×m kernel alone after the separate combination's.
   */
  private static void benchDense(GpuContext ctx, String device, double[][] gradients, double damping,
      MfacCholeskyKernel kernel, DenseMfacCombine combine) {
    String name = kernelName(kernel);
    String schedule = combine.name().toLowerCase(Locale.ROOT);
    try (GpuDenseMfacPipeline p = new GpuDenseMfacPipeline(ctx, D, M, damping, kernel, combine);
        DeviceSteps steps = new DeviceSteps(ctx, gradients)) {
      double fillMs = steps.queuedMillis(p, M);
      double[] ms = steps.syncedMillis(p, DENSE_TIMED);
      System.out.println(String.format(Locale.ROOT,
          "{\"bench\":\"gpu_dense_mfac_step\",\"api\":\"device\",\"mxm_kernel\":\"%s\",\"combine\":\"%s\","
              + "\"device\":\"%s\",\"d\":%d,\"m\":%d,\"damping\":%g,\"steps\":%d,\"median_ms\":%.4f,\"p90_ms\":%.4f,"
              + "\"min_ms\":%.4f,\"refreshes\":%d,\"fill_%d_steps_ms\":%.1f,\"last_drift\":%.3e,"
              + "\"drift_tolerance\":%.3e,\"memory_bytes\":%d}",
          name, schedule, device, D, M, damping, DENSE_TIMED, quantile(ms, 0.5), quantile(ms, 0.9),
          quantile(ms, 0.0), p.refreshCount(), M, fillMs, p.lastDrift(), p.driftTolerance(), p.memoryBytes()));

      double perStep = steps.queuedMillis(p, DENSE_TIMED) / DENSE_TIMED;
      System.out.println(String.format(Locale.ROOT,
          "{\"bench\":\"gpu_dense_mfac_step\",\"api\":\"device_pipelined\",\"mxm_kernel\":\"%s\","
              + "\"combine\":\"%s\",\"device\":\"%s\",\"d\":%d,\"m\":%d,\"damping\":%g,\"steps\":%d,\"mean_ms\":%.4f,"
              + "\"refreshes\":%d}",
          name, schedule, device, D, M, damping, DENSE_TIMED, perStep, p.refreshCount()));
      if (combine != DenseMfacCombine.SEPARATE) {
        return;  // the same m×m kernel as the separate combination's, timed there
      }

      double[] kernelMs = new double[MXM_RUNS];
      try (GpuEvent start = ctx.createEvent(true);
          GpuEvent end = ctx.createEvent(true)) {
        for (int i = 0; i < MXM_RUNS; i++) {
          p.state.checkDrift();
          p.state.queueReinsertOldest(start, end);
          end.synchronize();
          kernelMs[i] = end.millisSince(start);
        }
      }
      p.stream().synchronize();
      p.state.checkDrift();
      System.out.println(String.format(Locale.ROOT,
          "{\"bench\":\"gpu_mfac_cholesky_kernel\",\"mxm_kernel\":\"%s\",\"device\":\"%s\",\"m\":%d,"
              + "\"damping\":%g,\"runs\":%d,\"median_ms\":%.4f,\"p90_ms\":%.4f,\"min_ms\":%.4f,\"refreshes\":%d,"
              + "\"last_drift\":%.3e}",
          name, device, M, damping, MXM_RUNS, quantile(kernelMs, 0.5), quantile(kernelMs, 0.9),
          quantile(kernelMs, 0.0), p.refreshCount(), p.lastDrift()));
    }
  }

  private static void benchLowRank(GpuContext ctx, String device, double[][] gradients, double damping) {
    for (MfacCholeskyKernel kernel : MfacCholeskyKernel.values()) {
      benchLowRank(ctx, device, gradients, damping, kernel);
    }
  }

  /** The low-rank lines for one m×m kernel (a fresh pipeline). */
  private static void benchLowRank(GpuContext ctx, String device, double[][] gradients, double damping,
      MfacCholeskyKernel kernel) {
    String name = kernelName(kernel);
    try (GpuLowRankMfacPipeline p = new GpuLowRankMfacPipeline(ctx, LINEAR_PROBE, M, RANK, 0, damping, kernel);
        DeviceSteps steps = new DeviceSteps(ctx, gradients)) {
      double fillMs = steps.queuedMillis(p, M);
      double[] ms = steps.syncedMillis(p, LOWRANK_TIMED);
      System.out.println(String.format(Locale.ROOT,
          "{\"bench\":\"gpu_lowrank_mfac_step\",\"api\":\"device\",\"mxm_kernel\":\"%s\",\"device\":\"%s\","
              + "\"layout\":\"%s\",\"m\":%d,\"rank\":%d,\"damping\":%g,\"steps\":%d,\"median_ms\":%.4f,"
              + "\"p90_ms\":%.4f,\"min_ms\":%.4f,\"refreshes\":%d,\"fill_%d_steps_ms\":%.1f,\"last_drift\":%.3e,"
              + "\"memory_bytes\":%d}",
          name, device, LINEAR_PROBE, M, RANK, damping, LOWRANK_TIMED, quantile(ms, 0.5), quantile(ms, 0.9),
          quantile(ms, 0.0), p.refreshCount(), M, fillMs, p.lastDrift(), p.memoryBytes()));

      double perStep = steps.queuedMillis(p, LOWRANK_TIMED) / LOWRANK_TIMED;
      System.out.println(String.format(Locale.ROOT,
          "{\"bench\":\"gpu_lowrank_mfac_step\",\"api\":\"device_pipelined\",\"mxm_kernel\":\"%s\","
              + "\"device\":\"%s\",\"layout\":\"%s\",\"m\":%d,\"rank\":%d,\"damping\":%g,\"steps\":%d,"
              + "\"mean_ms\":%.4f,\"refreshes\":%d}",
          name, device, LINEAR_PROBE, M, RANK, damping, LOWRANK_TIMED, perStep, p.refreshCount()));
    }
  }

  /** The m×m kernel as the bench lines name it ({@code "mxm_kernel"}): rows, wavefront. */
  private static String kernelName(MfacCholeskyKernel kernel) {
    return kernel.name().toLowerCase(Locale.ROOT);
  }

  private static void benchCpu(double[][] gradients, double damping, int timed) {
    DirectionPipeline cpu = DirectionPipeline.create(OptimizerConfig.builder(Method.SPARSE_MFAC, TensorLayout.flat(D))
        .window(M).density(K).damping(damping).build());
    double[] u = new double[D];
    double fillMs = millis(() -> {
      for (int t = 0; t < M; t++) {
        cpu.direction(gradients[t % gradients.length], u);
      }
    });
    double[] ms = millisEach(timed, i -> cpu.direction(gradients[i % gradients.length], u));
    String device = "cpu (" + Runtime.getRuntime().availableProcessors() + " threads)";
    print("cpu_sparse_mfac_step", "host", device, damping, ms, -1,
        String.format(Locale.ROOT, ",\"fill_%d_steps_ms\":%.1f", M, fillMs));
  }

  private static void print(String bench, String api, String device, double damping, double[] ms, long refreshes,
      String extra) {
    System.out.println(String.format(Locale.ROOT,
        "{\"bench\":\"%s\",\"api\":\"%s\",\"device\":\"%s\",\"d\":%d,\"m\":%d,\"k\":%d,\"damping\":%g,\"steps\":%d,"
            + "\"median_ms\":%.4f,\"p90_ms\":%.4f,\"min_ms\":%.4f,\"refreshes\":%s%s}",
        bench, api, device, D, M, K, damping, ms.length, quantile(ms, 0.5), quantile(ms, 0.9), quantile(ms, 0.0),
        refreshes < 0 ? "null" : Long.toString(refreshes), extra));
  }

  /** Milliseconds of each of {@code runs} calls of {@code run} (given the run's index). */
  private static double[] millisEach(int runs, IntConsumer run) {
    double[] ms = new double[runs];
    for (int i = 0; i < runs; i++) {
      long start = System.nanoTime();
      run.accept(i);
      ms[i] = (System.nanoTime() - start) / 1e6;
    }
    return ms;
  }

  /** Milliseconds {@code work} takes. */
  private static double millis(Runnable work) {
    long start = System.nanoTime();
    work.run();
    return (System.nanoTime() - start) / 1e6;
  }

  /** The q-quantile by the nearest-rank rule on a sorted copy. */
  private static double quantile(double[] x, double q) {
    double[] s = x.clone();
    Arrays.sort(s);
    return s[(int) Math.min(s.length - 1, Math.round(q * (s.length - 1)))];
  }

  /** The bench gradients on the device and a u buffer: the timing loops every GPU bench runs on a pipeline. */
  private static final class DeviceSteps implements AutoCloseable {
    private final DeviceBuffer[] g;
    private final DeviceBuffer u;

    DeviceSteps(GpuContext ctx, double[][] gradients) {
      g = new DeviceBuffer[gradients.length];
      u = ctx.allocate(8L * D);
      try {
        for (int i = 0; i < g.length; i++) {
          g[i] = ctx.allocate(8L * D);
          g[i].copyFrom(gradients[i], 0, D, 0);
        }
      } catch (RuntimeException e) {
        close();
        throw e;
      }
    }

    /** Queues step {@code i} (the gradients in turn) without waiting. */
    void queue(GpuDirectionPipeline p, int i) {
      p.directionDevice(g[i % g.length], u);
    }

    /** Milliseconds of {@code steps} steps queued back to back, up to the stream's end (throughput, or the fill). */
    double queuedMillis(GpuDirectionPipeline p, int steps) {
      return millis(() -> {
        for (int i = 0; i < steps; i++) {
          queue(p, i);
        }
        p.stream().synchronize();
      });
    }

    /** Milliseconds of each of {@code steps} steps, each waited for (latency). */
    double[] syncedMillis(GpuDirectionPipeline p, int steps) {
      return millisEach(steps, i -> {
        queue(p, i);
        p.stream().synchronize();
      });
    }

    @Override
    public void close() {
      u.close();
      for (DeviceBuffer b : g) {
        if (b != null) {
          b.close();
        }
      }
    }
  }
}
