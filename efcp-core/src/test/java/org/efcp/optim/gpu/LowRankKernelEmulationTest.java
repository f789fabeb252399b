package org.efcp.optim.gpu;

import static org.efcp.optim.gpu.EmulationChecks.assertDirection;
import static org.efcp.optim.gpu.GpuPipelineTesting.assertRelative;
import static org.efcp.optim.gpu.GpuPipelineTesting.maxAbs;
import static org.efcp.optim.gpu.KernelEmulation.nextDoubles;
import static org.efcp.optim.gpu.KernelEmulation.readResult;
import static org.efcp.optim.gpu.KernelEmulation.writeDoubles;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import org.efcp.optim.DirectionPipeline;
import org.efcp.optim.ErrorFeedback;
import org.efcp.optim.LowRankCompressor;
import org.efcp.optim.LowRankVector;
import org.efcp.optim.MfacCholeskyState;
import org.efcp.optim.Method;
import org.efcp.optim.OptimizerConfig;
import org.efcp.optim.TensorLayout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The real kernel sources (rapids-kernels' lowrank.cu, with dense_mfac.cu's and sparse_mfac.cu's m×m kernels) run on
 * the CPU CUDA emulation in the launch order of {@link GpuLowRankMfacPipeline#directionDevice}, against the CPU
 * {@link DirectionPipeline} for low-rank M-FAC on the same gradients ({@link GradientSequence}: a constant step, zero
 * steps, quantised and heavy-tailed ones). Every step: the new slot's P and Q of every matrix tensor agree with the
 * CPU {@code ErrorFeedback ∘ LowRankCompressor}'s to 1e-9 of their max-norm, the error buffer to 1e-9 of the
 * accumulator's max-norm (its 1-D tensors exactly 0), u to 1e-7 (max-norm relative), and the drift stays below the
 * refresh tolerance. The layouts have matrix tensors with rank above min(p1, p2'), a 3-D tensor, 1-D tensors and
 * several row chunks and output tiles; the runs wrap around the ring. Skipped only where no g++ is on the PATH.
 */
class LowRankKernelEmulationTest {
  private static final double U_TOLERANCE = 1e-7;
  /**
   * The first {@link GradientSequence} step used. Its step 0 is constant (a rank-1 accumulator) and step 1 zero, after
   * which the warm starts' extra columns are rounding noise that the next power iterations amplify by up to 1/1e-8
   * (the Gram–Schmidt floor): there the CPU pipeline itself moves by O(1) when g moves by 1e-14, so no two summation
   * orders can agree. Later zero and quantised steps are harmless and included.
   */
  private static final int FIRST_STEP = 2;

  @RegisterExtension
  static final KernelEmulation EMULATION = KernelEmulation.of("lowrank_harness");

  /**
   * The first two layouts are well conditioned (every matrix tensor keeps rank ≥ ρ, so the factors are smooth
   * functions of the input): factors and error buffer agree to 1e-9. The last two compress tensors whose accumulator
   * has rank below ρ (ρ above min(p1, p2'), or ρ = p1 = 4 in a 4 × 15 tensor, whose E is then the 1e-8 remainder): the extra
   * columns of P are rounding noise scaled by 1/(‖·‖ + 1e-8), and the CPU pipeline itself moves its P by up to 1e-7
   * and its error buffer by 1e-8 when g moves by 2e-16 relative; there the factors are held to 1e-5 and the error
   * buffer to 1e-7, while u keeps the 1e-7 of every case.
   */
  @ParameterizedTest(name = "layout {0}, m={1}, rank={2}, damping={3}")
  @CsvSource(delimiter = ';', value = {
      "37x19,8x50,30; 4; 2; 1e-5; 11; 1e-9; 1e-9",
      "70x66,40x3x5,7; 3; 4; 1e-2; 6; 1e-9; 1e-9",
      "8x50,3x2,4x3x5,30; 4; 4; 1e-3; 9; 1e-5; 1e-7",
      "2x3,5; 1; 8; 1e-3; 5; 1e-5; 1e-7"})
  void emulatedKernelsReproduceTheCpuPipeline(String shapes, int m, int rank, double damping, int steps,
      double factorTolerance, double errorTolerance) throws IOException, InterruptedException {
    TensorLayout layout = TensorLayout.parse(shapes);
    int d = layout.dimension();
    long seed = 11;
    GradientSequence gradients = new GradientSequence(d, 0.125, 29);
    int factors = 0;
    List<double[]> input = new ArrayList<>();
    for (int l = 0; l < layout.numTensors(); l++) {
      if (layout.isMatrix(l)) {
        factors += (layout.rows(l) + layout.cols(l)) * rank;
        double[] q0 = new double[layout.cols(l) * rank];
        for (int i = 0; i < layout.cols(l); i++) {
          for (int j = 0; j < rank; j++) {
            q0[i * rank + j] = LowRankCompressor.initialQ(seed, l, rank, i, j);
          }
        }
        input.add(q0);
      }
    }
    for (int t = 0; t < steps; t++) {
      input.add(gradients.gradient(FIRST_STEP + t));
    }
    Path in = writeDoubles(EMULATION.file("lowrank_input.bin"), input);
    Path out = EMULATION.file("lowrank_steps.bin");
    EMULATION.run("lowrank_harness", m, rank, damping, steps, shapes, in, out);

    DirectionPipeline cpu = DirectionPipeline.create(OptimizerConfig.builder(Method.LOWRANK_MFAC, layout).window(m)
        .rank(rank).seed(seed).damping(damping).build());
    double[] error = ((ErrorFeedback) cpu.compressor()).error();
    ByteBuffer result = readResult(out);
    assertEquals((long) steps * (16L * d + 8L * factors + 8), result.remaining(), "harness output size");
    double[] u = new double[d];
    double[] accumulator = new double[d];
    for (int t = 0; t < steps; t++) {
      double[] g = gradients.gradient(FIRST_STEP + t);
      for (int i = 0; i < d; i++) {
        accumulator[i] = error[i] + g[i];
      }
      cpu.direction(g, u);
      assertDirection(t, u, result, U_TOLERANCE);
      double[] emulatedError = nextDoubles(result, d);
      assertRelative(t, "error buffer", error, emulatedError, errorTolerance, maxAbs(accumulator));
      LowRankVector c = (LowRankVector) cpu.lastCompressed();
      for (int l = 0; l < layout.numTensors(); l++) {
        if (layout.isMatrix(l)) {
          assertRelative(t, "P of tensor " + l, c.p(l), nextDoubles(result, layout.rows(l) * rank),
              factorTolerance, maxAbs(c.p(l)));
          assertRelative(t, "Q of tensor " + l, c.q(l), nextDoubles(result, layout.cols(l) * rank),
              factorTolerance, maxAbs(c.q(l)));
        } else {
          for (int i = layout.offset(l); i < layout.offset(l) + layout.size(l); i++) {
            assertEquals(0.0, emulatedError[i], "step " + t + ": error of 1-D tensor " + l + " at " + i);
          }
        }
      }
      double drift = result.getDouble();
      assertTrue(drift >= 0 && drift <= MfacCholeskyState.driftTolerance(m), "step " + t + ": drift " + drift);
    }
  }
}
