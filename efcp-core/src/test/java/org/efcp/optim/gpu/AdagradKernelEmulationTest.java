package org.efcp.optim.gpu;

import static org.efcp.optim.gpu.EmulationChecks.assertSelection;
import static org.efcp.optim.gpu.KernelEmulation.readResult;
import static org.efcp.optim.gpu.KernelEmulation.writeGradients;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.fail;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Path;

import org.efcp.optim.DirectionPipeline;
import org.efcp.optim.ErrorFeedback;
import org.efcp.optim.Method;
import org.efcp.optim.OptimizerConfig;
import org.efcp.optim.SparseVector;
import org.efcp.optim.TensorLayout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * adagrad.cu (with topk.cu) on the CPU emulation in the launch order of {@link GpuAdagradEfPipeline#directionDevice},
 * against the CPU {@link DirectionPipeline} for {@code ADAGRAD_EF}: every step the selection, ξ, the sum of squares S
 * (recomputed here from the CPU's selections) and u are bitwise the CPU's, with ε = 1e-10 and ε = 0 (where selected
 * zeros give a zero denominator and u = 0). The gradient sequence includes constant, zero and quantised steps.
 */
class AdagradKernelEmulationTest {
  @RegisterExtension
  static final KernelEmulation EMULATION = KernelEmulation.of("adagrad_harness");

  @ParameterizedTest(name = "d={0}, k={1}, eps={2}")
  @CsvSource({"12011, 150, 1e-10, 9", "5000, 4999, 0, 6", "1, 1, 1e-10, 3", "9000, 1, 0, 5"})
  void emulatedKernelsReproduceTheCpuPipelineBitForBit(int d, int k, double eps, int steps)
      throws IOException, InterruptedException {
    GradientSequence gradients = new GradientSequence(d, 0.125, 29);
    Path in = writeGradients(EMULATION.file("gradients.bin"), steps, gradients::gradient);
    Path out = EMULATION.file("steps.bin");
    EMULATION.run("adagrad_harness", d, k, eps, steps, in, out);

    // A value > 1 is a count (1.5 counts as 1: the value 1 itself would be a density of 100 %).
    OptimizerConfig config = OptimizerConfig.builder(Method.ADAGRAD_EF, TensorLayout.flat(d))
        .density(k == 1 ? 1.5 : k).adagradEpsilon(eps).build();
    assertEquals(k, config.topK(), "CPU k");
    DirectionPipeline cpu = DirectionPipeline.create(config);
    ErrorFeedback errorFeedback = (ErrorFeedback) cpu.compressor();
    ByteBuffer result = readResult(out);
    assertEquals((long) steps * (8L * k + 24L * d), result.remaining(), "harness output size");
    double[] u = new double[d];
    double[] sumSquares = new double[d];
    for (int t = 0; t < steps; t++) {
      cpu.direction(gradients.gradient(t), u);
      SparseVector c = (SparseVector) cpu.lastCompressed();
      assertSelection(t, c, errorFeedback.error(), result);
      for (int q = 0; q < c.nnz(); q++) {
        double v = c.values()[q];
        sumSquares[c.indices()[q]] += v * v;
      }
      assertBitwise(t, "S", sumSquares, result);
      assertBitwise(t, "u", u, result);
    }
  }

  private static void assertBitwise(int step, String what, double[] expected, ByteBuffer result) {
    for (int i = 0; i < expected.length; i++) {
      double x = result.getDouble();
      if (Double.doubleToRawLongBits(x) != Double.doubleToRawLongBits(expected[i])) {
        fail("step " + step + ": " + what + "[" + i + "] is " + x + " emulated, " + expected[i] + " on the CPU");
      }
    }
  }
}
