package org.efcp.optim.gpu;

import static org.efcp.optim.gpu.GpuPipelineTesting.assertClose;
import static org.efcp.optim.gpu.GpuPipelineTesting.assertDeviceApiMatchesHostApi;
import static org.efcp.optim.gpu.GpuPipelineTesting.assertFewRefreshes;
import static org.efcp.optim.gpu.GpuPipelineTesting.assertRejectsBadArguments;
import static org.efcp.optim.gpu.GpuPipelineTesting.assertSameError;
import static org.efcp.optim.gpu.GpuPipelineTesting.assertSameIndices;
import static org.efcp.optim.gpu.GpuPipelineTesting.assertSameValues;
import static org.efcp.optim.gpu.GpuPipelineTesting.checkedContext;
import static org.efcp.optim.gpu.GpuPipelineTesting.refreshIfDue;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.efcp.cuda.GpuContext;
import org.efcp.optim.DirectionPipeline;
import org.efcp.optim.ErrorFeedback;
import org.efcp.optim.Method;
import org.efcp.optim.OptimizerConfig;
import org.efcp.optim.SparseVector;
import org.efcp.optim.TensorLayout;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The device pipeline against the CPU {@link DirectionPipeline} for sparse M-FAC on the same gradients (ties,
 * zeros and heavy tails, see {@link GradientSequence}): every step the Top-k selection (indices and float32
 * values) and the error buffer are bitwise the CPU's, and u agrees to a max-norm relative 1e-5.
 */
@Tag("gpu")
class GpuSparseMfacPipelineTest {
  private static final double TOLERANCE = 1e-5;
  /** Gradient scale: up to ‖c‖²/(mλ) ≈ 3e6 at λ = 1e-5, where both sides still agree to about 1e-9. */
  private static final double SCALE = 0.125;

  @ParameterizedTest(name = "damping {0}")
  @ValueSource(doubles = {1e-5, 1e-3, 1e-2})
  void matchesTheCpuPipelineOverThreePassesOfTheRing(double damping) {
    compareWithCpu(20_011, 64, 200, damping, 3 * 64, 0);
  }

  @Test
  void forcedHostRefreshesKeepMatchingTheCpuPipeline() {
    compareWithCpu(20_011, 64, 200, 1e-5, 2 * 64, 37);
  }

  @ParameterizedTest(name = "d={0}, m={1}, k={2}")
  @CsvSource({"1, 1, 1", "5, 2, 2", "300, 4, 300", "4097, 3, 4096", "8192, 5, 1"})
  void edgeShapesMatchTheCpuPipeline(int d, int m, int k) {
    compareWithCpu(d, m, k, 1e-3, 3 * m + 4, 0);
  }

  @Test
  @Tag("device-only")
  void matchesTheCpuPipelineAtLogisticRegressionSize() {
    compareWithCpu(769_000, 1024, 7690, 1e-4, 40, 0);
  }

  @Test
  void deviceApiGivesTheHostApiResult() {
    int d = 5000;
    int m = 16;
    int k = 50;
    GpuContext ctx = checkedContext();
    try (GpuSparseMfacPipeline host = new GpuSparseMfacPipeline(ctx, d, m, k, 1e-3);
        GpuSparseMfacPipeline device = new GpuSparseMfacPipeline(ctx, d, m, k, 1e-3)) {
      assertDeviceApiMatchesHostApi(ctx, host, device, new GradientSequence(d, SCALE, 5), 2 * m + 3,
          (t, uHost, uDevice) -> {
            assertSameIndices(t, host.lastIndices(), device.lastIndices());
            // Only the order of the double atomics in u differs between the two runs.
            assertClose(t, uHost, uDevice, 1e-8);
          });
    }
  }

  @Test
  void undersizedBuffersAreRejected() {
    GpuContext ctx = checkedContext();
    try (GpuSparseMfacPipeline p = new GpuSparseMfacPipeline(ctx, 100, 4, 5, 1e-3)) {
      assertRejectsBadArguments(ctx, p, p::lastIndices);
    }
  }

  /** Runs both pipelines for {@code steps} steps; {@code refreshEvery} > 0 forces a host refresh that often. */
  private static void compareWithCpu(int d, int m, int k, double damping, int steps, int refreshEvery) {
    GpuContext ctx = checkedContext();
    // A value > 1 is a count (1.5 counts as 1: the value 1 itself would be a density of 100 %).
    OptimizerConfig config = OptimizerConfig.builder(Method.SPARSE_MFAC, TensorLayout.flat(d))
        .window(m).density(k == 1 ? 1.5 : k).damping(damping).build();
    assertEquals(k, config.topK(), "CPU k");
    DirectionPipeline cpu = DirectionPipeline.create(config);
    ErrorFeedback errorFeedback = (ErrorFeedback) cpu.compressor();
    GradientSequence gradients = new GradientSequence(d, SCALE, 17);
    double[] uCpu = new double[d];
    double[] uGpu = new double[d];
    try (GpuSparseMfacPipeline gpu = new GpuSparseMfacPipeline(ctx, d, m, k, damping)) {
      long window = 8L * m * k;
      long matrices = 2L * 8 * m * m;
      long vectors = 2L * 8 * d;
      long memory = gpu.memoryBytes();
      assertTrue(memory >= window + matrices + vectors && memory <= window + matrices + 3 * vectors + 64L * m + (1 << 16),
          "memoryBytes " + memory + " for window " + window + ", m×m " + matrices + ", d-vectors " + vectors);
      int forced = 0;
      for (int t = 0; t < steps; t++) {
        forced += refreshIfDue(gpu, t, refreshEvery);
        double[] g = gradients.gradient(t);
        cpu.direction(g, uCpu);
        gpu.direction(g, uGpu);
        SparseVector c = (SparseVector) cpu.lastCompressed();
        assertSameIndices(t, c.indices(), gpu.lastIndices());
        assertSameValues(t, c.values(), gpu.lastValues());
        assertSameError(t, errorFeedback.error(), gpu.errorBuffer());
        assertClose(t, uCpu, uGpu, TOLERANCE);
      }
      // driftTolerance() is GpuSparseMfacPipeline.DRIFT_TOLERANCE.
      assertFewRefreshes(gpu, forced, steps);
    }
  }
}
