package org.efcp.optim.gpu;

import static org.efcp.optim.gpu.EmulationChecks.assertDirection;
import static org.efcp.optim.gpu.EmulationChecks.assertSelection;
import static org.efcp.optim.gpu.EmulationChecks.assertWindowRow;
import static org.efcp.optim.gpu.KernelEmulation.readResult;
import static org.efcp.optim.gpu.KernelEmulation.writeGradients;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.function.IntFunction;

import org.efcp.optim.DirectionPipeline;
import org.efcp.optim.ErrorFeedback;
import org.efcp.optim.Method;
import org.efcp.optim.MfacCholeskyState;
import org.efcp.optim.OptimizerConfig;
import org.efcp.optim.SparseVector;
import org.efcp.optim.TensorLayout;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The real kernel sources (rapids-kernels' topk.cu, sparse_mfac.cu, dense_mfac.cu and mfac_cholesky.cu) run on the
 * CPU through a small CUDA emulation (test resources {@code emulation/}: g++, the blocks of a launch one at a time on
 * 256 threads, barriers for {@code __syncthreads} and the warp shuffles) in the launch order of
 * {@link GpuSparseMfacPipeline#directionDevice} (and {@link GpuDenseMfacPipeline#directionDevice}), against the CPU
 * {@link DirectionPipeline} on the same gradients: every step the selection (indices and float32 values) and the error
 * buffer are bitwise the CPU's and u agrees to 1e-7 (max-norm relative). It checks the kernels' logic (indexing, tie
 * handling, scans, the last-block protocol, the m×m update), not device timing or memory ordering. Skipped only where
 * no g++ is on the PATH.
 */
class KernelEmulationTest {
  @RegisterExtension
  static final KernelEmulation EMULATION = KernelEmulation.of("kernel_harness", "dense_harness");

  @ParameterizedTest(name = "d={0}, m={1}, k={2}, damping={3}")
  @CsvSource({"12011, 5, 150, 1e-5, 12", "4097, 3, 4096, 1e-2, 6", "1, 1, 1, 1e-3, 4", "8192, 5, 1, 1e-3, 7"})
  void emulatedKernelsReproduceTheCpuPipeline(int d, int m, int k, double damping, int steps)
      throws IOException, InterruptedException {
    GradientSequence gradients = new GradientSequence(d, 0.125, 17);
    Path in = writeGradients(EMULATION.file("gradients.bin"), steps, gradients::gradient);
    Path out = EMULATION.file("steps.bin");
    EMULATION.run("kernel_harness", d, m, k, damping, steps, in, out);

    // A value > 1 is a count (1.5 counts as 1: the value 1 itself would be a density of 100 %).
    OptimizerConfig config = OptimizerConfig.builder(Method.SPARSE_MFAC, TensorLayout.flat(d)).window(m)
        .density(k == 1 ? 1.5 : k).damping(damping).build();
    assertEquals(k, config.topK(), "CPU k");
    DirectionPipeline cpu = DirectionPipeline.create(config);
    ErrorFeedback errorFeedback = (ErrorFeedback) cpu.compressor();
    ByteBuffer result = readResult(out);
    assertEquals((long) steps * (8L * k + 16L * d + 8), result.remaining(), "harness output size");
    double[] u = new double[d];
    for (int t = 0; t < steps; t++) {
      cpu.direction(gradients.gradient(t), u);
      assertSelection(t, (SparseVector) cpu.lastCompressed(), errorFeedback.error(), result);
      assertDirection(t, u, result, 1e-7);
      double drift = result.getDouble();
      assertTrue(drift >= 0 && drift <= GpuSparseMfacPipeline.DRIFT_TOLERANCE, "step " + t + ": drift " + drift);
    }
  }

  /**
   * dense_mfac.cu and mfac_cholesky.cu in the launch order of {@link GpuDenseMfacPipeline#directionDevice}: the
   * window row is bitwise (float) g, u agrees with the CPU {@link DirectionPipeline} for dense M-FAC to 1e-7, and the
   * drift of the Cholesky factor stays below {@link MfacCholeskyState#driftTolerance} (no refresh needed). The shapes
   * cover d not a multiple of 4, several d-chunks and row tiles, partly filled tiles, m = 1 and several passes of
   * the ring.
   */
  @ParameterizedTest(name = "d={0}, m={1}, damping={2}")
  @CsvSource({"5001, 6, 1e-5, 14", "8200, 9, 1e-2, 12", "4096, 9, 1e-3, 10", "1, 1, 1e-3, 4", "3, 2, 1e-3, 5"})
  void emulatedDenseKernelsReproduceTheCpuPipeline(int d, int m, double damping, int steps)
      throws IOException, InterruptedException {
    GradientSequence gradients = new GradientSequence(d, 0.125, 23);
    runDense(d, m, damping, steps, gradients::gradient);
  }

  /**
   * A badly conditioned window, as dense gradients make it at the benchmark's size: five heavy-tailed gradients of
   * norm ≈ 40 repeated in turn (so the window holds near-duplicates; ‖g‖²/(mλ) ≈ 1e9), λ = 1e-5, m = 16, 40 steps
   * (the ring wraps twice). The explicit inverse that sparse_mfac.cu's rank-2 update keeps on the same K drifts far
   * past its tolerance (it would need a host refresh at most steps), while the updated Cholesky factor stays within
   * {@link MfacCholeskyState#driftTolerance} at every step and u still agrees with the CPU pipeline to 1e-7.
   */
  @Test
  void emulatedCholeskyUpdateStaysAccurateOnABadlyConditionedWindow() throws IOException, InterruptedException {
    int d = 3000;
    int[] distinct = {2, 3, 5, 6, 8};
    GradientSequence gradients = new GradientSequence(d, 0.125, 31);
    double[] referenceDrift = runDense(d, 16, 1e-5, 40, t -> gradients.gradient(distinct[t % distinct.length]));
    double worst = Arrays.stream(referenceDrift).max().orElseThrow();
    assertTrue(worst > 100 * GpuSparseMfacPipeline.DRIFT_TOLERANCE,
        "the explicit inverse's drift only reached " + worst + ": the case is not badly conditioned");
  }

  /**
   * Runs dense_harness on {@code steps} gradients and checks every step against the CPU pipeline (window row, u,
   * Cholesky drift); returns the explicit-inverse reference drift per step.
   */
  private static double[] runDense(int d, int m, double damping, int steps, IntFunction<double[]> gradient)
      throws IOException, InterruptedException {
    Path in = writeGradients(EMULATION.file("dense_gradients.bin"), steps, gradient);
    Path out = EMULATION.file("dense_steps.bin");
    EMULATION.run("dense_harness", d, m, damping, steps, in, out);

    DirectionPipeline cpu = DirectionPipeline.create(
        OptimizerConfig.builder(Method.DENSE_MFAC, TensorLayout.flat(d)).window(m).damping(damping).build());
    double tolerance = MfacCholeskyState.driftTolerance(m);
    ByteBuffer result = readResult(out);
    assertEquals((long) steps * (12L * d + 16), result.remaining(), "dense harness output size");
    double[] u = new double[d];
    double[] referenceDrift = new double[steps];
    for (int t = 0; t < steps; t++) {
      double[] grad = gradient.apply(t);
      cpu.direction(grad, u);
      assertWindowRow(t, grad, result);
      assertDirection(t, u, result, 1e-7);
      double drift = result.getDouble();
      assertTrue(drift >= 0 && drift <= tolerance, "step " + t + ": Cholesky drift " + drift + " > " + tolerance);
      referenceDrift[t] = result.getDouble();
    }
    return referenceDrift;
  }
}
