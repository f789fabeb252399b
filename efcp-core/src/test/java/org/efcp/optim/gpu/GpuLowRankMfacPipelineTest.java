package org.efcp.optim.gpu;

import static org.efcp.optim.gpu.GpuPipelineTesting.assertClose;
import static org.efcp.optim.gpu.GpuPipelineTesting.assertDeviceApiMatchesHostApi;
import static org.efcp.optim.gpu.GpuPipelineTesting.assertFewRefreshes;
import static org.efcp.optim.gpu.GpuPipelineTesting.assertMemoryBetween;
import static org.efcp.optim.gpu.GpuPipelineTesting.assertRejectsBadArguments;
import static org.efcp.optim.gpu.GpuPipelineTesting.assertRelative;
import static org.efcp.optim.gpu.GpuPipelineTesting.checkedContext;
import static org.efcp.optim.gpu.GpuPipelineTesting.maxAbs;
import static org.efcp.optim.gpu.GpuPipelineTesting.refreshIfDue;
import static org.junit.jupiter.api.Assertions.assertEquals;

import org.efcp.cuda.GpuContext;
import org.efcp.optim.DirectionPipeline;
import org.efcp.optim.ErrorFeedback;
import org.efcp.optim.LowRankVector;
import org.efcp.optim.Method;
import org.efcp.optim.OptimizerConfig;
import org.efcp.optim.TensorLayout;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * The device pipeline against the CPU {@link DirectionPipeline} for low-rank M-FAC on the same gradients
 * ({@link GradientSequence} from its step 2 on: its constant step 0 and zero step 1 leave the warm starts' extra
 * columns at rounding noise, which later steps amplify until not even two CPU runs with a different summation order
 * agree, see {@code LowRankKernelEmulationTest}): every step u
 * agrees to a max-norm relative 1e-5, the error buffer to {@code errorTolerance} of the accumulator's max-norm (its
 * 1-D tensors exactly 0) and the new P and Q of every matrix tensor to {@code factorTolerance} of their max-norm;
 * two device runs give bitwise the same u (no atomics). The m×m step runs with both of {@link MfacCholeskyKernel}'s
 * kernels.
 *
 * <p>The factors and the error buffer are carried from step to step (warm-started power iterations, error feedback),
 * so the rounding differences of two summation orders accumulate over a run. On the emulated driver (these kernels'
 * summation orders, no FMA contraction) the worst differences over the runs below were: 1e-12 (factors) and 5e-14
 * (error) at the linear-probe layout; 3e-9 and 3e-10 with forced refreshes (40 steps); 4e-8 and 1e-8 for
 * 37x19,8x50,30 at rank 2; 3e-6 and 7e-7 for the layouts whose small or 3-D tensors have accumulators of rank near ρ
 * (98 and 50 steps); 3e-9 and 1e-9 at m = 1. The tolerances are 10 to 100 times those (each test prints its worst).
 */
@Tag("gpu")
class GpuLowRankMfacPipelineTest {
  private static final double TOLERANCE = 1e-5;
  private static final double SCALE = 0.125;
  private static final long SEED = 7;

  @ParameterizedTest(name = "layout {0}, m={1}, rank={2}, damping={3}, {6}")
  @CsvSource(delimiter = ';', value = {
      "37x19,8x50,30; 16; 2; 1e-5; 1e-6; 1e-7; ROWS",
      "300x200,64x3x3x3,200,64; 32; 4; 1e-3; 1e-4; 1e-5; ROWS",
      "37x19,8x50,3x2,4x3x5,30; 16; 4; 1e-2; 1e-4; 1e-5; ROWS",
      "2x3,5; 1; 8; 1e-3; 1e-7; 1e-7; ROWS",
      "37x19,8x50,30; 16; 2; 1e-5; 1e-6; 1e-7; WAVEFRONT",
      "300x200,64x3x3x3,200,64; 32; 4; 1e-3; 1e-4; 1e-5; WAVEFRONT",
      "2x3,5; 1; 8; 1e-3; 1e-7; 1e-7; WAVEFRONT"})
  void matchesTheCpuPipelineOverThreePassesOfTheRing(String shapes, int m, int rank, double damping,
      double factorTolerance, double errorTolerance, MfacCholeskyKernel kernel) {
    compareWithCpu(TensorLayout.parse(shapes), m, rank, damping, 3 * m + 2, 0, factorTolerance, errorTolerance,
        kernel);
  }

  @ParameterizedTest(name = "{0}")
  @EnumSource(MfacCholeskyKernel.class)
  void forcedHostRefreshesKeepMatchingTheCpuPipeline(MfacCholeskyKernel kernel) {
    compareWithCpu(TensorLayout.parse("37x19,8x50,30"), 16, 4, 1e-5, 40, 7, 1e-7, 1e-8, kernel);
  }

  /** The linear-probe layout of the benchmark (d = 769,000) with a shorter window. */
  @Test
  void matchesTheCpuPipelineAtLinearProbeLayout() {
    compareWithCpu(TensorLayout.parse("1000x768,1000"), 64, 4, 1e-4, 80, 0, 1e-10, 1e-12, MfacCholeskyKernel.ROWS);
  }

  @Test
  void deviceApiGivesBitwiseTheHostApiResult() {
    TensorLayout layout = TensorLayout.parse("130x70,40x3x5,7");
    int d = layout.dimension();
    int m = 8;
    GpuContext ctx = checkedContext();
    try (GpuLowRankMfacPipeline host = new GpuLowRankMfacPipeline(ctx, layout, m, 4, SEED, 1e-3);
        GpuLowRankMfacPipeline device = new GpuLowRankMfacPipeline(ctx, layout, m, 4, SEED, 1e-3)) {
      assertDeviceApiMatchesHostApi(ctx, host, device, new GradientSequence(d, SCALE, 5), 2 * m + 3,
          GpuPipelineTesting::assertSameBits);
    }
  }

  @Test
  void undersizedBuffersAreRejected() {
    GpuContext ctx = checkedContext();
    try (GpuLowRankMfacPipeline p = new GpuLowRankMfacPipeline(ctx, TensorLayout.parse("10x9,10"), 4, 2, SEED,
        1e-3)) {
      assertRejectsBadArguments(ctx, p, () -> p.lastP(0));
    }
  }

  /**
   * Runs both pipelines for {@code steps} compared steps; {@code refreshEvery} > 0 forces a host refresh that often.
   */
  private static void compareWithCpu(TensorLayout layout, int m, int rank, double damping, int steps,
      int refreshEvery, double factorTolerance, double errorTolerance, MfacCholeskyKernel kernel) {
    GpuContext ctx = checkedContext();
    int d = layout.dimension();
    DirectionPipeline cpu = DirectionPipeline.create(OptimizerConfig.builder(Method.LOWRANK_MFAC, layout).window(m)
        .rank(rank).seed(SEED).damping(damping).build());
    double[] cpuError = ((ErrorFeedback) cpu.compressor()).error();
    GradientSequence gradients = new GradientSequence(d, SCALE, 17);
    double[] uCpu = new double[d];
    double[] uGpu = new double[d];
    double[] accumulator = new double[d];
    try (GpuLowRankMfacPipeline gpu = new GpuLowRankMfacPipeline(ctx, layout, m, rank, SEED, damping, kernel)) {
      long window = 0;
      long scratch = 0;
      long partials = 0;
      for (int l = 0; l < layout.numTensors(); l++) {
        if (layout.isMatrix(l)) {
          window += 8L * m * rank * (layout.rows(l) + layout.cols(l));
          scratch += 8L * rank * layout.cols(l);
          partials = Math.max(partials, 8L * rank * layout.cols(l) * ((layout.rows(l) + 63) / 64));
        } else {
          window += 8L * m * layout.size(l);
        }
      }
      long fixed = window + 8L * d + 2L * 8 * m * m;
      scratch += partials + 8L * m * (layout.numTensors() + 8) + 64;
      assertMemoryBetween(gpu.memoryBytes(), fixed, scratch,
          "window " + window + ", error and m×m " + (fixed - window) + ", scratch " + scratch);
      int forced = 0;
      double worstFactor = 0;
      double worstError = 0;
      for (int t = 0; t < steps; t++) {
        forced += refreshIfDue(gpu, t, refreshEvery);
        double[] g = gradients.gradient(t + 2);
        for (int i = 0; i < d; i++) {
          accumulator[i] = cpuError[i] + g[i];
        }
        cpu.direction(g, uCpu);
        gpu.direction(g, uGpu);
        assertClose(t, uCpu, uGpu, TOLERANCE);
        double[] gpuError = gpu.errorBuffer();
        worstError = Math.max(worstError,
            assertRelative(t, "error buffer", cpuError, gpuError, errorTolerance, maxAbs(accumulator)));
        LowRankVector c = (LowRankVector) cpu.lastCompressed();
        for (int l = 0; l < layout.numTensors(); l++) {
          if (layout.isMatrix(l)) {
            worstFactor = Math.max(worstFactor,
                assertRelative(t, "P of tensor " + l, c.p(l), gpu.lastP(l), factorTolerance, maxAbs(c.p(l))));
            worstFactor = Math.max(worstFactor,
                assertRelative(t, "Q of tensor " + l, c.q(l), gpu.lastQ(l), factorTolerance, maxAbs(c.q(l))));
          } else {
            for (int i = layout.offset(l); i < layout.offset(l) + layout.size(l); i++) {
              assertEquals(0.0, gpuError[i], "step " + t + ": error of 1-D tensor " + l + " at " + i);
            }
          }
        }
      }
      System.out.println("low-rank " + layout + ", m = " + m + ", rank " + rank + ", " + kernel + ": worst relative"
          + " difference over " + steps + " steps: factors " + worstFactor + ", error buffer " + worstError);
      assertFewRefreshes(gpu, forced, steps);
    }
  }
}
