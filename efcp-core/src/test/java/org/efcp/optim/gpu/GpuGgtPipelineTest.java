package org.efcp.optim.gpu;

import static org.efcp.optim.gpu.GpuPipelineTesting.assertClose;
import static org.efcp.optim.gpu.GpuPipelineTesting.assertDeviceApiMatchesHostApi;
import static org.efcp.optim.gpu.GpuPipelineTesting.assertMemoryBetween;
import static org.efcp.optim.gpu.GpuPipelineTesting.assertRejectsBadArguments;
import static org.efcp.optim.gpu.GpuPipelineTesting.assertSameError;
import static org.efcp.optim.gpu.GpuPipelineTesting.assertSameIndices;
import static org.efcp.optim.gpu.GpuPipelineTesting.assertSameValues;
import static org.efcp.optim.gpu.GpuPipelineTesting.assertWindowRowIsFloatOf;
import static org.efcp.optim.gpu.GpuPipelineTesting.checkedContext;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.function.IntFunction;

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
 * The device GGT pipelines ({@link GpuSparseGgtPipeline}, {@link GpuDenseGgtPipeline}, built through
 * {@link GpuPipelines#create}) against the CPU {@link DirectionPipeline} of the same {@link OptimizerConfig} on the
 * same gradients: every step the sparse Top-k selection, its float32 values and the error buffer (or the dense window
 * row) are bitwise the CPU's, u agrees to a max-norm relative 1e-5, and the Jacobi eigen step converged. Covers
 * warm-up and several passes of the ring, ridge 1e-6 and 0, rank-deficient windows, m = 1 and m = 128, and the
 * logistic-regression size d = 769,000, m = 100, k = 1 %.
 */
@Tag("gpu")
class GpuGgtPipelineTest {
  private static final double TOLERANCE = 1e-5;
  private static final double SCALE = 0.125;

  @ParameterizedTest(name = "ridge {0}")
  @ValueSource(doubles = {1e-6, 0})
  void sparseMatchesTheCpuPipelineOverThreePassesOfTheRing(double ridge) {
    compareSparse(20_011, 64, 200, ridge, 3 * 64, random(20_011));
  }

  @ParameterizedTest(name = "d={0}, m={1}, k={2}")
  @CsvSource({"1, 1, 1", "5, 2, 2", "300, 4, 300", "4097, 3, 4096", "8192, 5, 1", "5000, 128, 50", "3000, 33, 40"})
  void sparseEdgeShapesMatchTheCpuPipeline(int d, int m, int k) {
    compareSparse(d, m, k, 1e-6, 2 * m + 3, random(d));
  }

  @ParameterizedTest(name = "ridge {0}")
  @ValueSource(doubles = {1e-6, 0})
  void sparseRankDeficientWindowsMatchTheCpuPipeline(double ridge) {
    compareSparse(600, 6, 600, ridge, 20, t -> RepeatingGradients.gradient(600, t));
  }

  @Test
  @Tag("device-only")
  void sparseMatchesTheCpuPipelineAtLogisticRegressionSize() {
    compareSparse(769_000, 100, 7690, 1e-6, 110, random(769_000));
  }

  @ParameterizedTest(name = "ridge {0}")
  @ValueSource(doubles = {1e-6, 0})
  void denseMatchesTheCpuPipelineOverThreePassesOfTheRing(double ridge) {
    compareDense(20_011, 64, ridge, 3 * 64, random(20_011));
  }

  @ParameterizedTest(name = "d={0}, m={1}")
  @CsvSource({"1, 1", "2, 2", "5, 3", "4099, 17", "300, 128", "20, 35"})
  void denseEdgeShapesMatchTheCpuPipeline(int d, int m) {
    compareDense(d, m, 0, 2 * m + 3, random(d));
  }

  @ParameterizedTest(name = "ridge {0}")
  @ValueSource(doubles = {1e-6, 0})
  void denseRankDeficientWindowsMatchTheCpuPipeline(double ridge) {
    compareDense(600, 7, ridge, 20, t -> RepeatingGradients.gradient(600, t));
  }

  @Test
  @Tag("device-only")
  void denseMatchesTheCpuPipelineAtLogisticRegressionSize() {
    compareDense(769_000, 100, 1e-6, 110, random(769_000));
  }

  @Test
  void deviceApiGivesTheHostApiResult() {
    int d = 5000;
    int m = 16;
    GpuContext ctx = checkedContext();
    GradientSequence gradients = new GradientSequence(d, SCALE, 5);
    try (GpuSparseGgtPipeline sparseHost = new GpuSparseGgtPipeline(ctx, d, m, 50, 1e-5, 1e-6);
        GpuSparseGgtPipeline sparseDevice = new GpuSparseGgtPipeline(ctx, d, m, 50, 1e-5, 1e-6);
        GpuDenseGgtPipeline denseHost = new GpuDenseGgtPipeline(ctx, d, m, 1e-5, 1e-6);
        GpuDenseGgtPipeline denseDevice = new GpuDenseGgtPipeline(ctx, d, m, 1e-5, 1e-6)) {
      // Only the order of the double atomics in u differs between the two runs (amplified by u's cancellation).
      assertDeviceApiMatchesHostApi(ctx, sparseHost, sparseDevice, gradients, 2 * m + 3,
          (t, uHost, uDevice) -> assertClose(t, uHost, uDevice, 1e-7));
      assertDeviceApiMatchesHostApi(ctx, denseHost, denseDevice, gradients, 2 * m + 3,
          GpuPipelineTesting::assertSameBits);
    }
  }

  @Test
  void undersizedBuffersAreRejected() {
    GpuContext ctx = checkedContext();
    try (GpuSparseGgtPipeline sparse = new GpuSparseGgtPipeline(ctx, 100, 4, 5, 1e-5, 1e-6);
        GpuDenseGgtPipeline dense = new GpuDenseGgtPipeline(ctx, 100, 4, 1e-5, 1e-6)) {
      assertRejectsBadArguments(ctx, sparse, sparse::lastIndices);
      assertRejectsBadArguments(ctx, dense, dense::lastInserted);
    }
  }

  private static IntFunction<double[]> random(int d) {
    GradientSequence gradients = new GradientSequence(d, SCALE, 17);
    return gradients::gradient;
  }

  private static void compareSparse(int d, int m, int k, double ridge, int steps, IntFunction<double[]> gradients) {
    GpuContext ctx = checkedContext();
    // A value > 1 is a count (1.5 counts as 1: the value 1 itself would be a density of 100 %).
    OptimizerConfig config = OptimizerConfig.builder(Method.SPARSE_GGT, TensorLayout.flat(d)).window(m)
        .density(k == 1 ? 1.5 : k).ridge(ridge).build();
    assertEquals(k, config.topK(), "CPU k");
    DirectionPipeline cpu = DirectionPipeline.create(config);
    ErrorFeedback errorFeedback = (ErrorFeedback) cpu.compressor();
    double[] uCpu = new double[d];
    double[] uGpu = new double[d];
    try (GpuSparseGgtPipeline gpu = (GpuSparseGgtPipeline) GpuPipelines.create(ctx, config)) {
      assertEquals(config.ggtEpsilon(), gpu.epsilon());
      assertEquals(ridge, gpu.ridge());
      long window = 8L * m * k;
      long padded = m + (m & 1);
      long matrices = 8L * m * m + 2 * 8L * padded * padded;
      long vectors = 2L * 8 * d;
      assertMemoryBetween(gpu.memoryBytes(), window + matrices + vectors, 2 * vectors + 64L * m,
          "window " + window + ", m×m " + matrices + ", d-vectors " + vectors);
      for (int t = 0; t < steps; t++) {
        double[] g = gradients.apply(t);
        cpu.direction(g, uCpu);
        gpu.direction(g, uGpu);
        SparseVector c = (SparseVector) cpu.lastCompressed();
        assertSameIndices(t, c.indices(), gpu.lastIndices());
        assertSameValues(t, c.values(), gpu.lastValues());
        assertSameError(t, errorFeedback.error(), gpu.errorBuffer());
        assertClose(t, uCpu, uGpu, TOLERANCE);
        assertConverged(t, gpu);
      }
    }
  }

  private static void compareDense(int d, int m, double ridge, int steps, IntFunction<double[]> gradients) {
    GpuContext ctx = checkedContext();
    OptimizerConfig config = OptimizerConfig.builder(Method.DENSE_GGT, TensorLayout.flat(d)).window(m).ridge(ridge)
        .build();
    DirectionPipeline cpu = DirectionPipeline.create(config);
    double[] uCpu = new double[d];
    double[] uGpu = new double[d];
    try (GpuDenseGgtPipeline gpu = (GpuDenseGgtPipeline) GpuPipelines.create(ctx, config)) {
      long window = 4L * m * ((d + 3) / 4 * 4);
      long padded = m + (m & 1);
      long matrices = 8L * m * m + 2 * 8L * padded * padded;
      long scratch = 8L * m * (((d + 3) / 4 + 1023) / 1024 + 16) + 2 * 8L * d;
      assertMemoryBetween(gpu.memoryBytes(), window + matrices, scratch,
          "window " + window + ", m×m " + matrices + ", scratch " + scratch);
      for (int t = 0; t < steps; t++) {
        double[] g = gradients.apply(t);
        cpu.direction(g, uCpu);
        gpu.direction(g, uGpu);
        assertWindowRowIsFloatOf(t, g, gpu.lastInserted());
        assertClose(t, uCpu, uGpu, TOLERANCE);
        assertConverged(t, gpu);
      }
    }
  }

  private static void assertConverged(int t, GpuGgtPipeline gpu) {
    int sweeps = gpu.lastSweeps();
    assertTrue(sweeps >= 0 && sweeps < GpuGgtPipeline.MAX_SWEEPS, "step " + t + ": Jacobi sweeps " + sweeps);
  }
}
