package org.efcp.model.gpu;

import static org.efcp.model.gpu.GpuModelAssertions.assertNormClose;
import static org.efcp.model.gpu.GpuModelAssertions.assertRelativelyClose;
import static org.efcp.model.gpu.GpuModelFixtures.gaussian;
import static org.efcp.model.gpu.GpuModelFixtures.gpu;
import static org.efcp.model.gpu.GpuModelFixtures.randomBlock;
import static org.efcp.model.gpu.GpuModelFixtures.weights;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Random;
import org.efcp.cuda.GpuContext;
import org.efcp.model.DenseBlock;
import org.efcp.model.MultinomialLogisticRegression;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * The GPU loss and gradient against the CPU model ({@link MultinomialLogisticRegression}, float64) on the same
 * blocks and parameters. Methods tagged gpu launch kernels; the others check pure-Java logic.
 *
 * <p>Tolerance 1e-4 (relative; gradients compared in the Euclidean norm): the GPU rounds features, weights
 * and parameters to float32 (relative 6e-8 each), accumulates each logit over F products and each gradient
 * entry over a split's rows in float32 (error ≈ √K·2⁻²⁴ relative to Σ|terms|, below 1e-5 for K ≤ 8192 even
 * with the sums' cancellation at random parameters), and exponentiates in float32 (a few ulps). Expected
 * differences are near 1e-6; 1e-4 leaves a wide margin while any wrong index, layout or missing term
 * (differences of order 1) fails.
 */
class GpuMultinomialLogisticRegressionTest {
  private static final double TOLERANCE = 1e-4;

  @Test
  @Tag("gpu")
  void smallBlockMatchesCpuModelWithAndWithoutIntercept() {
    for (boolean intercept : new boolean[] {true, false}) {
      compareWithCpu(3000, 50, 7, intercept, 0.3, 21);
    }
  }

  @Test
  @Tag("gpu")
  void benchmarkSizedBlockMatchesCpuModelWithAndWithoutIntercept() {
    for (boolean intercept : new boolean[] {true, false}) {
      compareWithCpu(8192, 768, 1000, intercept, 0.05, 22);
    }
  }

  /** TF32 products round their operands to 10 mantissa bits: differences near 1e-3, tolerance 1e-2. */
  @Test
  @Tag("gpu")
  void benchmarkSizedBlockWithTf32MatchesCpuModelLoosely() {
    compareWithCpu(8192, 768, 1000, true, 0.05, 22, SgemmPrecision.TF32, 1e-2);
  }

  @Test
  @Tag("gpu")
  void extremeLogitsOfPlusMinus1000StayFiniteAndMatchCpu() {
    // Features ±1 and weights ±250 over 4 features give logits in {−1000, −500, 0, 500, 1000}; the bias adds ±1000.
    int n = 512;
    int f = 4;
    int c = 5;
    Random rnd = new Random(23);
    double[] x = new double[n * f];
    for (int k = 0; k < x.length; k++) {
      x[k] = rnd.nextBoolean() ? 1 : -1;
    }
    double[] y = new double[n];
    for (int i = 0; i < n; i++) {
      y[i] = rnd.nextInt(c);
    }
    DenseBlock block = new DenseBlock(n, f, x, y, weights(n, rnd));
    for (boolean intercept : new boolean[] {true, false}) {
      MultinomialLogisticRegression cpu = new MultinomialLogisticRegression(f, c, intercept);
      double[] params = new double[cpu.numParameters()];
      for (int k = 0; k < c * f; k++) {
        params[k] = rnd.nextBoolean() ? 250 : -250;
      }
      if (intercept) {
        for (int j = 0; j < c; j++) {
          params[c * f + j] = j % 2 == 0 ? 1000 : -1000;
        }
      }
      double[] gCpu = new double[params.length];
      double lossCpu = cpu.addLossAndGradient(block, params, gCpu);
      double[] gGpu = new double[params.length];
      double lossGpu;
      try (GpuMultinomialLogisticRegression model = new GpuMultinomialLogisticRegression(gpu(), f, c, intercept);
          GpuBlock b = model.upload(block)) {
        lossGpu = model.addLossAndGradient(b, params, gGpu);
      }
      String what = "extreme logits, intercept=" + intercept;
      assertTrue(Double.isFinite(lossGpu), what + ": loss " + lossGpu);
      for (int k = 0; k < gGpu.length; k++) {
        assertTrue(Double.isFinite(gGpu[k]), what + ": gradient[" + k + "] = " + gGpu[k]);
      }
      assertTrue(lossCpu > 1000, what + ": the CPU loss " + lossCpu + " should be dominated by ±1000 logits");
      assertRelativelyClose(what + " loss", lossCpu, lossGpu, TOLERANCE);
      assertNormClose(what + " gradient", gCpu, gGpu, 0, gCpu.length, TOLERANCE);
    }
  }

  @Test
  @Tag("gpu")
  void zeroWeightRowsContributeExactlyNothing() {
    Random rnd = new Random(24);
    DenseBlock block = randomBlock(700, 30, 6, rnd);
    try (GpuMultinomialLogisticRegression model = new GpuMultinomialLogisticRegression(gpu(), 30, 6, true)) {
      GpuModelContract.assertZeroWeightRowsAddNothing(model, block, rnd);
    }
  }

  @Test
  @Tag("gpu")
  void deviceResidentFormEqualsHostFormAndRepeatsBitForBit() {
    Random rnd = new Random(25);
    DenseBlock block = randomBlock(1500, 40, 9, rnd);
    GpuContext ctx = gpu();
    try (GpuMultinomialLogisticRegression model = new GpuMultinomialLogisticRegression(ctx, 40, 9, true)) {
      GpuModelContract.assertDeviceFormEqualsHostFormAndRepeats(ctx, model, block, rnd);
    }
  }

  @Test
  @Tag("gpu")
  void emptyBlockReturnsZeroAndAddsNothing() {
    try (GpuMultinomialLogisticRegression model = new GpuMultinomialLogisticRegression(gpu(), 3, 2, true)) {
      GpuModelContract.assertEmptyBlockAddsNothing(model, 3);
    }
  }

  @Test
  @Tag("gpu")
  void uploadAndCallsRejectMismatchedShapes() {
    try (GpuMultinomialLogisticRegression model = new GpuMultinomialLogisticRegression(gpu(), 3, 4, false)) {
      GpuModelContract.assertRejectsMismatchedShapes(model, 3, 4);
    }
  }

  @Test
  void constructorChecksShapeBeforeTheContext() {
    IllegalArgumentException f = assertThrows(IllegalArgumentException.class,
        () -> new GpuMultinomialLogisticRegression(null, 0, 3, true));
    assertTrue(f.getMessage().startsWith("numFeatures: "), f.getMessage());
    IllegalArgumentException c = assertThrows(IllegalArgumentException.class,
        () -> new GpuMultinomialLogisticRegression(null, 5, 1, true));
    assertTrue(c.getMessage().startsWith("numClasses: "), c.getMessage());
    IllegalArgumentException big = assertThrows(IllegalArgumentException.class,
        () -> new GpuMultinomialLogisticRegression(null, 1 << 16, 1 << 16, true));
    assertTrue(big.getMessage().startsWith("numClasses: "), big.getMessage());
    IllegalArgumentException ctx = assertThrows(IllegalArgumentException.class,
        () -> new GpuMultinomialLogisticRegression(null, 5, 3, true));
    assertTrue(ctx.getMessage().startsWith("ctx: "), ctx.getMessage());
    IllegalArgumentException precision = assertThrows(IllegalArgumentException.class,
        () -> new GpuMultinomialLogisticRegression(null, 5, 3, true, null));
    assertTrue(precision.getMessage().startsWith("precision: "), precision.getMessage());
  }

  @Test
  void biasGradientIsSummedIn64RowChunksAndAtMost4096Chunks() {
    assertEquals(64, GpuSoftmaxModel.columnChunkRows(1));
    assertEquals(64, GpuSoftmaxModel.columnChunkRows(8192));
    assertEquals(64, GpuSoftmaxModel.columnChunkRows(64 * 4096));
    assertEquals(65, GpuSoftmaxModel.columnChunkRows(64 * 4096 + 1));
    for (int n : new int[] {64 * 4096 + 1, 1_000_000, 8_388_480}) {
      int rows = GpuSoftmaxModel.columnChunkRows(n);
      assertTrue((n + rows - 1) / rows <= 4096, n + " rows in chunks of " + rows);
    }
  }

  /** Runs both models on one random block from the same non-zero gradAccum and compares what they add. */
  private static void compareWithCpu(int n, int f, int c, boolean intercept, double paramScale, long seed) {
    compareWithCpu(n, f, c, intercept, paramScale, seed, SgemmPrecision.FP32, TOLERANCE);
  }

  private static void compareWithCpu(int n, int f, int c, boolean intercept, double paramScale, long seed,
      SgemmPrecision precision, double tolerance) {
    Random rnd = new Random(seed);
    DenseBlock block = randomBlock(n, f, c, rnd);
    MultinomialLogisticRegression cpu = new MultinomialLogisticRegression(f, c, intercept);
    double[] params = gaussian(cpu.numParameters(), paramScale, rnd);
    try (GpuMultinomialLogisticRegression model = new GpuMultinomialLogisticRegression(gpu(), f, c, intercept,
        precision)) {
      GpuModelContract.assertMatchesCpu("n=" + n + " F=" + f + " C=" + c + " intercept=" + intercept + " "
          + precision, cpu, model, block, params, tolerance);
    }
  }
}
