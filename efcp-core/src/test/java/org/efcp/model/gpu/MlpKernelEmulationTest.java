package org.efcp.model.gpu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Random;
import org.efcp.model.Activation;
import org.efcp.model.DenseBlock;
import org.efcp.model.MultilayerPerceptron;
import org.efcp.optim.gpu.KernelEmulation;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The real kernel sources (rapids-kernels' gemm.cu, lr.cu and mlp.cu) run on the CPU through the CUDA emulation
 * (test resources {@code emulation/mlp_harness.cpp}) in the launch order of
 * {@link GpuMultilayerPerceptron#addLossAndGradient(GpuBlock, org.efcp.cuda.DeviceBuffer,
 * org.efcp.cuda.DeviceBuffer)}, with the grids the Java code computes ({@link SgemmPlan},
 * {@link GpuMultilayerPerceptron#finishBlocks}, {@link GpuMultilayerPerceptron#elementwiseBlocks}).
 *
 * <p>The MLP gradient is compared with the CPU {@link MultilayerPerceptron} in float64 on the same float32-rounded
 * features, weights and parameters: loss and every tensor of the gradient (in the Euclidean norm) agree to a
 * relative 1e-5. What remains is float32 arithmetic inside (activations, products over at most a few hundred k,
 * float32 exp/tanh): about 1e-7; a wrong index, a missing term or a wrong derivative gives differences of order 1.
 * Scratch starts as NaN, so a value read before it is written fails the comparison. The NN product alone is
 * compared entry by entry with a float64 product on ragged shapes. Skipped only where no g++ is on the PATH.
 */
class MlpKernelEmulationTest {
  private static final double TOLERANCE = 1e-5;

  @RegisterExtension
  static final KernelEmulation EMULATION = KernelEmulation.of("mlp_harness");

  /**
   * Two hidden layers for every activation; 600 rows split the weight-gradient products over k (two splits at
   * 132 SMs) and give 10 bias-gradient chunks; a 140-wide layer spans two output tiles in every product; a model
   * without hidden layer is the logistic regression.
   */
  @ParameterizedTest(name = "{0} layers {1}, n={2}")
  @CsvSource({"RELU, 13-17-9-4, 37", "SIGMOID, 13-17-9-4, 37", "TANH, 13-17-9-4, 37", "RELU, 13-17-9-4, 600",
      "TANH, 20-140-3, 50", "SIGMOID, 6-3, 40"})
  void emulatedKernelsReproduceTheCpuModel(Activation activation, String layers, int n)
      throws IOException, InterruptedException {
    int[] sizes = Arrays.stream(layers.split("-")).mapToInt(Integer::parseInt).toArray();
    int multiprocessors = 132;
    int l0 = sizes.length - 1;
    Random rnd = new Random(31L * n + activation.ordinal());
    MultilayerPerceptron cpu = new MultilayerPerceptron(sizes, activation);
    int d = cpu.numParameters();
    int f = sizes[0];
    double[] x = roundedGaussian(n * f, 1.0, rnd);
    double[] y = new double[n];
    double[] w = new double[n];
    double[] choices = {0.3, 0.5, 1, 2.25};
    for (int i = 0; i < n; i++) {
      y[i] = rnd.nextInt(sizes[l0]);
      w[i] = i % 11 == 3 ? 0 : (float) choices[rnd.nextInt(choices.length)];
    }
    double[] params = cpu.initialParameters(7);
    for (int k = 0; k < d; k++) {
      params[k] = (float) (params[k] + 0.1 * rnd.nextGaussian());
    }
    double[] start = new double[d];
    for (int k = 0; k < d; k++) {
      start[k] = k % 3 - 1;
    }

    int chunkRows = GpuMultinomialLogisticRegression.columnChunkRows(n);
    ByteBuffer in = ByteBuffer.allocate(4 * (4 + sizes.length + 15 * l0 + n * f + 2 * n + d) + 8 * d)
        .order(ByteOrder.LITTLE_ENDIAN);
    in.putInt(l0);
    for (int s : sizes) {
      in.putInt(s);
    }
    in.putInt(GpuMultilayerPerceptron.activationCode(activation)).putInt(n).putInt(chunkRows);
    boolean splitK = false;
    for (int l = 0; l < l0; l++) {
      int inW = sizes[l];
      int outW = sizes[l + 1];
      SgemmPlan gradient = SgemmPlan.splitK(outW, inW, n, multiprocessors);
      splitK |= gradient.splits() > 1;
      putPlan(in, SgemmPlan.single(n, outW, inW));
      putPlan(in, gradient);
      putPlan(in, SgemmPlan.single(n, inW, outW));
      in.putInt(GpuMultilayerPerceptron.finishBlocks(outW * inW + outW, multiprocessors));
      in.putInt(GpuMultilayerPerceptron.elementwiseBlocks((long) n * outW));
      in.putInt(GpuMultilayerPerceptron.elementwiseBlocks((long) n * inW));
    }
    assertEquals(n >= 512, splitK, "whether some weight gradient is split over k");
    for (double v : x) {
      in.putFloat((float) v);
    }
    for (double v : y) {
      in.putInt((int) v);
    }
    for (double v : w) {
      in.putFloat((float) v);
    }
    for (double v : params) {
      in.putFloat((float) v);
    }
    for (double v : start) {
      in.putDouble(v);
    }
    Path input = EMULATION.file("mlp_in.bin");
    Path output = EMULATION.file("mlp_out.bin");
    Files.write(input, in.array());
    EMULATION.run("mlp_harness", "mlp", input, output);

    ByteBuffer out = ByteBuffer.wrap(Files.readAllBytes(output)).order(ByteOrder.LITTLE_ENDIAN);
    assertEquals(8L * (1 + d), out.remaining(), "harness output size");
    double lossEmulated = out.getDouble();
    double[] gradEmulated = new double[d];
    for (int k = 0; k < d; k++) {
      gradEmulated[k] = out.getDouble() - start[k];
    }
    double[] gradCpu = new double[d];
    double lossCpu = cpu.addLossAndGradient(new DenseBlock(n, f, x, y, w), params, gradCpu);

    String what = activation + " " + layers + " n=" + n;
    double lossRel = Math.abs(lossEmulated - lossCpu) / Math.abs(lossCpu);
    assertTrue(lossRel <= TOLERANCE, what + ": loss " + lossEmulated + " emulated vs " + lossCpu
        + " on the CPU, relative difference " + lossRel);
    int offset = 0;
    for (int l = 0; l < l0; l++) {
      int weightsEnd = offset + sizes[l + 1] * sizes[l];
      assertNormClose(what + " dW_" + l, gradCpu, gradEmulated, offset, weightsEnd);
      offset = weightsEnd + sizes[l + 1];
      assertNormClose(what + " db_" + l, gradCpu, gradEmulated, weightsEnd, offset);
    }
  }

  /**
   * sgemm_nn alone: every entry of C = A B (all splits summed) within the fp32 bound (kChunk + 2)·2⁻²⁴·Σ_k |a b|
   * of the float64 product. Shapes not multiples of the 128 × 128 × 8 tiling, a padded (odd) leading dimension
   * with operands 4 bytes into their buffers (the scalar path), an aligned shape (the float4 path), k = 0 and a
   * split over k.
   */
  @ParameterizedTest(name = "m={0} n={1} k={2} pad={3} offset={4} splitK={5}")
  @CsvSource({"37, 13, 17, 0, 0, false", "130, 129, 9, 3, 1, false", "64, 256, 64, 0, 0, false",
      "1, 1, 1, 0, 0, false", "5, 7, 0, 0, 0, false", "5, 200, 600, 1, 0, true"})
  void nnProductMatchesFloat64(int m, int n, int k, int pad, int offset, boolean splitK)
      throws IOException, InterruptedException {
    SgemmPlan plan = splitK ? SgemmPlan.splitK(m, n, k, 132) : SgemmPlan.single(m, n, k);
    assertEquals(splitK, plan.splits() > 1, "plan " + plan);
    Random rnd = new Random(m * 1000L + n * 10L + k);
    int lda = Math.max(1, k) + pad;
    int ldb = n + pad;
    int ldc = n + pad;
    float[] a = new float[offset + m * lda];
    float[] b = new float[offset + k * ldb];
    for (int i = 0; i < a.length; i++) {
      a[i] = (float) rnd.nextGaussian();
    }
    for (int i = 0; i < b.length; i++) {
      b[i] = (float) rnd.nextGaussian();
    }
    ByteBuffer in = ByteBuffer.allocate(4 * (11 + a.length + b.length)).order(ByteOrder.LITTLE_ENDIAN);
    in.putInt(m).putInt(n).putInt(k).putInt(lda).putInt(ldb).putInt(ldc).putInt(offset);
    putPlan(in, plan);
    for (float v : a) {
      in.putFloat(v);
    }
    for (float v : b) {
      in.putFloat(v);
    }
    Path input = EMULATION.file("nn_in.bin");
    Path output = EMULATION.file("nn_out.bin");
    Files.write(input, in.array());
    EMULATION.run("mlp_harness", "nn", input, output);
    ByteBuffer out = ByteBuffer.wrap(Files.readAllBytes(output)).order(ByteOrder.LITTLE_ENDIAN);
    int cFloats = plan.splits() * m * ldc;
    assertEquals(4L * cFloats, out.remaining(), "harness output size");
    float[] c = new float[cFloats];
    out.asFloatBuffer().get(c);

    double gamma = (plan.kChunk() + 2) * 0x1p-24;
    for (int i = 0; i < m; i++) {
      for (int j = 0; j < n; j++) {
        double exact = 0;
        double magnitude = 0;
        for (int p = 0; p < k; p++) {
          double term = (double) a[offset + i * lda + p] * b[offset + p * ldb + j];
          exact += term;
          magnitude += Math.abs(term);
        }
        double got = 0;
        for (int s = 0; s < plan.splits(); s++) {
          got += c[s * m * ldc + i * ldc + j];
        }
        double err = Math.abs(got - exact);
        if (!(err <= gamma * magnitude + Float.MIN_NORMAL)) {
          fail("C[" + i + "][" + j + "] = " + got + ", exact " + exact + ", |error| " + err + " > bound "
              + gamma * magnitude + " (" + plan + ")");
        }
      }
    }
  }

  private static void putPlan(ByteBuffer b, SgemmPlan p) {
    b.putInt(p.gridX()).putInt(p.gridY()).putInt(p.splits()).putInt(p.kChunk());
  }

  private static double[] roundedGaussian(int count, double scale, Random rnd) {
    double[] v = new double[count];
    for (int k = 0; k < count; k++) {
      v[k] = (float) (scale * rnd.nextGaussian());
    }
    return v;
  }

  /** ‖actual − expected‖ ≤ TOLERANCE ‖expected‖ over [from, to). */
  private static void assertNormClose(String what, double[] expected, double[] actual, int from, int to) {
    GpuModelAssertions.assertNormClose(what, expected, actual, from, to, TOLERANCE);
  }
}
