package org.efcp.optim.gpu;

import static org.efcp.optim.gpu.GpuPipelineTesting.assertClose;
import static org.efcp.optim.gpu.GpuPipelineTesting.assertDeviceApiMatchesHostApi;
import static org.efcp.optim.gpu.GpuPipelineTesting.assertFewRefreshes;
import static org.efcp.optim.gpu.GpuPipelineTesting.assertMemoryBetween;
import static org.efcp.optim.gpu.GpuPipelineTesting.assertRejectsBadArguments;
import static org.efcp.optim.gpu.GpuPipelineTesting.assertWindowRowIsFloatOf;
import static org.efcp.optim.gpu.GpuPipelineTesting.checkedContext;
import static org.efcp.optim.gpu.GpuPipelineTesting.refreshIfDue;
import static org.junit.jupiter.api.Assertions.fail;

import org.efcp.cuda.DeviceBuffer;
import org.efcp.cuda.GpuContext;
import org.efcp.optim.DirectionPipeline;
import org.efcp.optim.Method;
import org.efcp.optim.OptimizerConfig;
import org.efcp.optim.TensorLayout;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * The device pipeline against the CPU {@link DirectionPipeline} for dense M-FAC on the same gradients (ties, zeros
 * and heavy tails, see {@link GradientSequence}): every step the window row is bitwise (float) g and u agrees to a
 * max-norm relative 1e-5; two device runs give bitwise the same u (no atomics); the Cholesky factor needs no host
 * refresh (at most a stray one) even where A is badly conditioned, as at the benchmark's size.
 */
@Tag("gpu")
class GpuDenseMfacPipelineTest {
  private static final double TOLERANCE = 1e-5;
  private static final double SCALE = 0.125;

  @ParameterizedTest(name = "damping {0}")
  @CsvSource({"1e-5", "1e-3", "1e-2"})
  void matchesTheCpuPipelineOverThreePassesOfTheRing(double damping) {
    compareWithCpu(20_011, 64, damping, 0, 3 * 64, 0);
  }

  @Test
  void forcedHostRefreshesKeepMatchingTheCpuPipeline() {
    compareWithCpu(20_011, 64, 1e-5, 0, 2 * 64, 37);
  }

  @ParameterizedTest(name = "d={0}, m={1}")
  @CsvSource({"1, 1", "2, 2", "5, 3", "4096, 9", "4099, 17", "8192, 5"})
  void edgeShapesMatchTheCpuPipeline(int d, int m) {
    compareWithCpu(d, m, 1e-3, 0, 3 * m + 4, 0);
  }

  /** The benchmark's size: 3.15 GB of window on the device (and on the CPU heap); a short fill, then 30 steps. */
  @Test
  @Tag("device-only")
  void matchesTheCpuPipelineAtLogisticRegressionSize() {
    compareWithCpu(769_000, 1024, 1e-4, 64, 30, 0);
  }

  /**
   * The benchmark's shape and gradients (GpuStepBench: eight heavy-tailed gradients in turn, so the window holds
   * 128 near-copies of each and A = K/λ + m I is badly conditioned; the explicit inverse drifted past its tolerance
   * every step here): a full ring, then 100 steps, with at most two host refreshes of R and the last drift within
   * tolerance.
   */
  @Test
  @Tag("device-only")
  void theBenchmarkShapeNeedsNoRefreshes() {
    int d = 769_000;
    int m = 1024;
    GpuContext ctx = checkedContext();
    try (BenchmarkGradients g = BenchmarkGradients.upload(ctx, d);
        GpuDenseMfacPipeline gpu = new GpuDenseMfacPipeline(ctx, d, m, 1e-4);
        DeviceBuffer u = ctx.allocate(8L * d)) {
      for (int t = 0; t < m + 100; t++) {
        gpu.directionDevice(g.at(t), u);
      }
      gpu.stream().synchronize();
      double[] last = new double[d];
      u.copyTo(last, 0, d, 0);
      for (int i = 0; i < d; i++) {
        if (!Double.isFinite(last[i])) {
          fail("u[" + i + "] is " + last[i] + " after " + (m + 100) + " steps");
        }
      }
      assertFewRefreshes(gpu, 0, m + 100);
    }
  }

  @Test
  void deviceApiGivesBitwiseTheHostApiResult() {
    int d = 5003;
    int m = 16;
    GpuContext ctx = checkedContext();
    try (GpuDenseMfacPipeline host = new GpuDenseMfacPipeline(ctx, d, m, 1e-3);
        GpuDenseMfacPipeline device = new GpuDenseMfacPipeline(ctx, d, m, 1e-3)) {
      assertDeviceApiMatchesHostApi(ctx, host, device, new GradientSequence(d, SCALE, 5), 2 * m + 3,
          GpuPipelineTesting::assertSameBits);
    }
  }

  @Test
  void undersizedBuffersAreRejected() {
    GpuContext ctx = checkedContext();
    try (GpuDenseMfacPipeline p = new GpuDenseMfacPipeline(ctx, 100, 4, 1e-3)) {
      assertRejectsBadArguments(ctx, p, p::lastInserted);
    }
  }

  /**
   * Runs both pipelines for {@code fill} steps without comparing, then {@code steps} compared steps;
   * {@code refreshEvery} > 0 forces a host refresh that often.
   */
  private static void compareWithCpu(int d, int m, double damping, int fill, int steps, int refreshEvery) {
    GpuContext ctx = checkedContext();
    DirectionPipeline cpu = DirectionPipeline.create(
        OptimizerConfig.builder(Method.DENSE_MFAC, TensorLayout.flat(d)).window(m).damping(damping).build());
    GradientSequence gradients = new GradientSequence(d, SCALE, 17);
    double[] uCpu = new double[d];
    double[] uGpu = new double[d];
    try (GpuDenseMfacPipeline gpu = new GpuDenseMfacPipeline(ctx, d, m, damping)) {
      long window = 4L * m * ((d + 3) / 4 * 4);
      long matrices = 2L * 8 * m * m;
      long scratch = 8L * m * (((d + 3) / 4 + 1023) / 1024 + 16) + 2 * 8L * d;
      assertMemoryBetween(gpu.memoryBytes(), window + matrices, scratch,
          "window " + window + ", m×m " + matrices + ", scratch " + scratch);
      int forced = 0;
      for (int t = 0; t < fill + steps; t++) {
        forced += refreshIfDue(gpu, t, refreshEvery);
        double[] g = gradients.gradient(t);
        cpu.direction(g, uCpu);
        gpu.direction(g, uGpu);
        if (t < fill) {
          continue;
        }
        assertWindowRowIsFloatOf(t, g, gpu.lastInserted());
        assertClose(t, uCpu, uGpu, TOLERANCE);
      }
      assertFewRefreshes(gpu, forced, fill + steps);
    }
  }

  /** {@link GpuStepBench}'s gradients on the device (its {@code GRADIENT_STEPS} of the sequence), used in turn. */
  private static final class BenchmarkGradients implements AutoCloseable {
    private static final int[] STEPS = GpuStepBench.GRADIENT_STEPS;
    private final DeviceBuffer[] buffers = new DeviceBuffer[STEPS.length];

    static BenchmarkGradients upload(GpuContext ctx, int d) {
      GradientSequence sequence = new GradientSequence(d, SCALE, 99);
      BenchmarkGradients g = new BenchmarkGradients();
      try {
        for (int i = 0; i < STEPS.length; i++) {
          g.buffers[i] = ctx.allocate(8L * d);
          g.buffers[i].copyFrom(sequence.gradient(STEPS[i]), 0, d, 0);
        }
      } catch (RuntimeException e) {
        g.close();
        throw e;
      }
      return g;
    }

    /** The gradient of step t. */
    DeviceBuffer at(int t) {
      return buffers[t % buffers.length];
    }

    @Override
    public void close() {
      for (DeviceBuffer b : buffers) {
        if (b != null) {
          b.close();
        }
      }
    }
  }
}
