package org.efcp.model.gpu;

import static org.efcp.model.gpu.GpuModelFixtures.gaussian;
import static org.efcp.model.gpu.GpuModelFixtures.gpu;
import static org.efcp.model.gpu.GpuModelFixtures.randomBlock;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Random;
import java.util.Set;
import org.efcp.cuda.GpuContext;
import org.efcp.model.Activation;
import org.efcp.model.DenseBlock;
import org.efcp.model.MultilayerPerceptron;
import org.efcp.model.MultinomialLogisticRegression;
import org.efcp.optim.TensorLayout;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * The GPU MLP loss and gradient against the CPU model ({@link MultilayerPerceptron}, float64) on the same blocks
 * and parameters. Methods tagged gpu launch kernels; the others check pure-Java logic.
 *
 * <p>Tolerance at FP32 1e-4 (relative; each tensor of the gradient compared in the Euclidean norm): the GPU rounds
 * features, weights, parameters and every activation to float32 and accumulates each product over its k
 * (≤ 8192) in float32, errors near 1e-6; any wrong index, layout, derivative or missing term gives differences of
 * order 1. At TF32 every product's operands are rounded to 10 mantissa bits (about 5e-4 of each term). The first
 * layer's gradient sums one term per row (n = 8192) and the terms partly cancel: its norm is well below the sum of
 * the terms' norms, so its relative error is larger than a term's, 1.2e-2 measured at n = 8192, [784, 512, 10],
 * RELU on an H200. Tolerance 5e-2: still far below the differences of order 1 that a wrong index, layout or
 * derivative gives.
 */
class GpuMultilayerPerceptronTest {
  private static final double FP32_TOLERANCE = 1e-4;
  private static final double TF32_TOLERANCE = 5e-2;

  @Test
  @Tag("gpu")
  void smallBlockMatchesCpuModelForEveryActivation() {
    for (Activation a : Activation.values()) {
      compareWithCpu(new int[] {50, 64, 33, 7}, a, 3000, SgemmPrecision.FP32, FP32_TOLERANCE, 31);
    }
  }

  @Test
  @Tag("gpu")
  @Tag("device-only")
  void mnistSizedBlockMatchesCpuModelWithTf32OffAndOn() {
    compareWithCpu(new int[] {784, 512, 10}, Activation.RELU, 8192, SgemmPrecision.FP32, FP32_TOLERANCE, 32);
    compareWithCpu(new int[] {784, 512, 10}, Activation.RELU, 8192, SgemmPrecision.TF32, TF32_TOLERANCE, 32);
    compareWithCpu(new int[] {784, 512, 256, 10}, Activation.TANH, 8192, SgemmPrecision.TF32, TF32_TOLERANCE, 33);
  }

  @Test
  @Tag("gpu")
  void wideLayersAndRaggedShapesMatchCpuModel() {
    compareWithCpu(new int[] {3, 300, 129, 2}, Activation.SIGMOID, 1000, SgemmPrecision.FP32, FP32_TOLERANCE, 34);
    compareWithCpu(new int[] {200, 5}, Activation.RELU, 777, SgemmPrecision.FP32, FP32_TOLERANCE, 35);
  }

  /** Without hidden layers the MLP launches exactly the logistic regression's kernels: the results are equal. */
  @Test
  @Tag("gpu")
  void withoutHiddenLayersEqualsTheGpuLogisticRegressionBitForBit() {
    Random rnd = new Random(36);
    DenseBlock block = randomBlock(1500, 40, 9, rnd);
    GpuContext ctx = gpu();
    try (GpuMultilayerPerceptron mlp = new GpuMultilayerPerceptron(ctx, new int[] {40, 9}, Activation.TANH);
        GpuMultinomialLogisticRegression lr = new GpuMultinomialLogisticRegression(ctx, 40, 9, true);
        GpuBlock b = mlp.upload(block)) {
      assertEquals(lr.numParameters(), mlp.numParameters());
      double[] params = gaussian(mlp.numParameters(), 0.3, rnd);
      double[] gMlp = new double[params.length];
      double[] gLr = new double[params.length];
      assertEquals(lr.addLossAndGradient(b, params, gLr), mlp.addLossAndGradient(b, params, gMlp), 0.0, "loss");
      assertArrayEquals(gLr, gMlp, "gradient");
    }
  }

  @Test
  @Tag("gpu")
  void zeroWeightRowsContributeExactlyNothing() {
    Random rnd = new Random(37);
    DenseBlock block = randomBlock(700, 30, 6, rnd);
    try (GpuMultilayerPerceptron model = new GpuMultilayerPerceptron(gpu(), new int[] {30, 20, 6}, Activation.RELU)) {
      GpuModelContract.assertZeroWeightRowsAddNothing(model, block, rnd);
    }
  }

  @Test
  @Tag("gpu")
  void deviceResidentFormEqualsHostFormAndRepeatsBitForBit() {
    Random rnd = new Random(38);
    DenseBlock block = randomBlock(1500, 40, 9, rnd);
    GpuContext ctx = gpu();
    try (GpuMultilayerPerceptron model = new GpuMultilayerPerceptron(ctx, new int[] {40, 70, 30, 9},
        Activation.SIGMOID)) {
      GpuModelContract.assertDeviceFormEqualsHostFormAndRepeats(ctx, model, block, rnd);
    }
  }

  /** A smaller block after a larger one reuses the grown scratch and still matches a fresh instance. */
  @Test
  @Tag("gpu")
  void scratchGrownForALargeBlockServesASmallerOne() {
    Random rnd = new Random(39);
    int[] sizes = {25, 40, 4};
    DenseBlock large = randomBlock(2000, 25, 4, rnd);
    DenseBlock small = randomBlock(90, 25, 4, rnd);
    GpuContext ctx = gpu();
    try (GpuMultilayerPerceptron reused = new GpuMultilayerPerceptron(ctx, sizes, Activation.TANH);
        GpuMultilayerPerceptron fresh = new GpuMultilayerPerceptron(ctx, sizes, Activation.TANH);
        GpuBlock bl = reused.upload(large);
        GpuBlock bs = reused.upload(small)) {
      double[] params = gaussian(reused.numParameters(), 0.3, rnd);
      reused.addLossAndGradient(bl, params, new double[params.length]);
      double[] gReused = new double[params.length];
      double[] gFresh = new double[params.length];
      assertEquals(fresh.addLossAndGradient(bs, params, gFresh), reused.addLossAndGradient(bs, params, gReused), 0.0,
          "loss");
      assertArrayEquals(gFresh, gReused, "gradient");
    }
  }

  @Test
  @Tag("gpu")
  void emptyBlockReturnsZeroAndAddsNothing() {
    try (GpuMultilayerPerceptron model = new GpuMultilayerPerceptron(gpu(), new int[] {3, 2, 2}, Activation.RELU)) {
      GpuModelContract.assertEmptyBlockAddsNothing(model, 3);
    }
  }

  @Test
  @Tag("gpu")
  void uploadAndCallsRejectMismatchedShapes() {
    GpuContext ctx = gpu();
    try (GpuMultilayerPerceptron model = new GpuMultilayerPerceptron(ctx, new int[] {3, 5, 4}, Activation.RELU);
        GpuMultilayerPerceptron other = new GpuMultilayerPerceptron(ctx, new int[] {3, 5, 6}, Activation.RELU)) {
      GpuModelContract.assertRejectsMismatchedShapes(model, 3, 4);
      int d = model.numParameters();
      try (GpuBlock foreign = other.upload(new DenseBlock(1, 3, new double[3], new double[] {5}))) {
        IllegalArgumentException block = assertThrows(IllegalArgumentException.class,
            () -> model.addLossAndGradient(foreign, new double[d], new double[d]));
        assertTrue(block.getMessage().startsWith("block: "), block.getMessage());
      }
    }
  }

  @Test
  void constructorChecksArgumentsBeforeTheContext() {
    String[][] cases = {{"layerSizes: ", "[5]", "RELU", "FP32"}, {"layerSizes: ", "[5, 0, 3]", "RELU", "FP32"},
        {"layerSizes: ", "[5, 1]", "RELU", "FP32"}, {"activation: ", "[5, 3]", null, "FP32"},
        {"precision: ", "[5, 3]", "RELU", null}, {"ctx: ", "[5, 4, 3]", "TANH", "TF32"}};
    for (String[] c : cases) {
      int[] sizes = Arrays.stream(c[1].substring(1, c[1].length() - 1).split(", ")).mapToInt(Integer::parseInt)
          .toArray();
      Activation a = c[2] == null ? null : Activation.valueOf(c[2]);
      SgemmPrecision p = c[3] == null ? null : SgemmPrecision.valueOf(c[3]);
      IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
          () -> new GpuMultilayerPerceptron(null, sizes, a, p), Arrays.toString(c));
      assertTrue(e.getMessage().startsWith(c[0]), Arrays.toString(c) + ": " + e.getMessage());
    }
  }

  @Test
  void weightOffsetsFollowTheCpuModelsLayout() {
    int[] sizes = {13, 17, 9, 4};
    TensorLayout layout = new MultilayerPerceptron(sizes, Activation.RELU).layout();
    int[] offsets = GpuMultilayerPerceptron.weightOffsets(sizes);
    assertEquals(2 * offsets.length, layout.numTensors());
    for (int l = 0; l < offsets.length; l++) {
      assertEquals(layout.offset(2 * l), offsets[l], "W_" + l);
      assertEquals(layout.offset(2 * l + 1), offsets[l] + sizes[l + 1] * sizes[l], "b_" + l);
    }
  }

  @Test
  void everyActivationHasItsOwnKernelCode() {
    Set<Integer> codes = new HashSet<>();
    for (Activation a : Activation.values()) {
      assertTrue(codes.add(GpuMultilayerPerceptron.activationCode(a)), a + " shares a code");
    }
    assertEquals(Set.of(0, 1, 2), codes, "mlp.cu knows 0 relu, 1 sigmoid, 2 tanh");
    assertEquals(0, GpuMultilayerPerceptron.activationCode(Activation.RELU));
    assertEquals(1, GpuMultilayerPerceptron.activationCode(Activation.SIGMOID));
    assertEquals(2, GpuMultilayerPerceptron.activationCode(Activation.TANH));
  }

  @Test
  void gridsCoverTheirWorkWithinTheLimits() {
    assertEquals(1, GpuMultilayerPerceptron.elementwiseBlocks(0));
    assertEquals(1, GpuMultilayerPerceptron.elementwiseBlocks(256));
    assertEquals(2, GpuMultilayerPerceptron.elementwiseBlocks(257));
    assertEquals(65_535, GpuMultilayerPerceptron.elementwiseBlocks(8_388_480L * 512));
    assertEquals(1, GpuMultilayerPerceptron.finishBlocks(10, 132));
    assertEquals(8 * 132, GpuMultilayerPerceptron.finishBlocks(784 * 512 + 512, 132));
  }

  @Test
  void gpuModelsSupportsAndBuildsBothModels() {
    assertTrue(GpuModels.supports(new MultilayerPerceptron(new int[] {4, 3}, Activation.RELU)));
    assertTrue(GpuModels.supports(new MultinomialLogisticRegression(4, 3, true)));
    // With no context the constructors reject the null ctx (after the shape checks): create reached them.
    for (SgemmPrecision p : List.of(SgemmPrecision.FP32, SgemmPrecision.TF32)) {
      IllegalArgumentException mlp = assertThrows(IllegalArgumentException.class,
          () -> GpuModels.create(null, new MultilayerPerceptron(new int[] {4, 3}, Activation.RELU), p));
      assertTrue(mlp.getMessage().startsWith("ctx: "), mlp.getMessage());
      IllegalArgumentException lr = assertThrows(IllegalArgumentException.class,
          () -> GpuModels.create(null, new MultinomialLogisticRegression(4, 3, true), p));
      assertTrue(lr.getMessage().startsWith("ctx: "), lr.getMessage());
    }
  }

  /** Runs both models on one random block from the same non-zero gradAccum and compares what they add. */
  private static void compareWithCpu(int[] sizes, Activation activation, int n, SgemmPrecision precision,
      double tolerance, long seed) {
    Random rnd = new Random(seed);
    DenseBlock block = randomBlock(n, sizes[0], sizes[sizes.length - 1], rnd);
    MultilayerPerceptron cpu = new MultilayerPerceptron(sizes, activation);
    double[] params = cpu.initialParameters(seed);
    for (int k = 0; k < params.length; k++) {
      params[k] += 0.05 * rnd.nextGaussian();
    }
    try (GpuMultilayerPerceptron model = new GpuMultilayerPerceptron(gpu(), sizes, activation, precision)) {
      GpuModelContract.assertMatchesCpu("n=" + n + " layers=" + Arrays.toString(sizes) + " " + activation + " "
          + precision, cpu, model, block, params, tolerance);
    }
  }
}
