package org.efcp.model.gpu;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
import java.util.Random;
import org.efcp.cuda.DeviceBuffer;
import org.efcp.cuda.GpuContext;
import org.efcp.cuda.Kernel;
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

  private static GpuContext gpu() {
    System.setProperty(Kernel.CHECKED_PROPERTY, "true");
    return GpuContext.open(0);
  }

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
    DenseBlock random = randomBlock(700, 30, 6, rnd);
    DenseBlock unweighted = new DenseBlock(700, 30, random.features(), random.labels(), new double[700]);
    try (GpuMultinomialLogisticRegression model = new GpuMultinomialLogisticRegression(gpu(), 30, 6, true);
        GpuBlock b = model.upload(unweighted)) {
      double[] params = gaussian(model.numParameters(), 1.0, rnd);
      double[] grad = gaussian(model.numParameters(), 1.0, rnd);
      double[] before = grad.clone();
      assertEquals(0.0, model.addLossAndGradient(b, params, grad));
      assertArrayEquals(before, grad, "all-zero weights must leave gradAccum unchanged");
    }
  }

  @Test
  @Tag("gpu")
  void deviceResidentFormEqualsHostFormAndRepeatsBitForBit() {
    Random rnd = new Random(25);
    int n = 1500;
    int f = 40;
    int c = 9;
    DenseBlock block = randomBlock(n, f, c, rnd);
    GpuContext ctx = gpu();
    try (GpuMultinomialLogisticRegression model = new GpuMultinomialLogisticRegression(ctx, f, c, true);
        GpuBlock b = model.upload(block);
        DeviceBuffer params32 = ctx.allocate(4L * model.numParameters());
        DeviceBuffer grad64 = ctx.allocate(8L * model.numParameters())) {
      int d = model.numParameters();
      double[] params = gaussian(d, 0.3, rnd);
      double[] hostGrad = new double[d];
      double hostLoss = model.addLossAndGradient(b, params, hostGrad);

      params32.copyFrom(GpuBlock.toFloat(params), 0, d, 0);
      grad64.copyFrom(new double[d], 0, d, 0);
      double deviceLoss = model.addLossAndGradient(b, params32, grad64);
      double[] deviceGrad = new double[d];
      grad64.copyTo(deviceGrad, 0, d, 0);
      assertEquals(hostLoss, deviceLoss, 0.0, "loss");
      assertArrayEquals(hostGrad, deviceGrad, "gradient of the device-resident form");

      // A second call adds the same gradient again: exactly twice the first (x + x is exact).
      assertEquals(deviceLoss, model.addLossAndGradient(b, params32, grad64), 0.0, "repeated loss");
      double[] twice = new double[d];
      grad64.copyTo(twice, 0, d, 0);
      for (int k = 0; k < d; k++) {
        assertEquals(2 * deviceGrad[k], twice[k], 0.0, "gradient[" + k + "] after two calls");
      }
    }
  }

  @Test
  @Tag("gpu")
  void emptyBlockReturnsZeroAndAddsNothing() {
    try (GpuMultinomialLogisticRegression model = new GpuMultinomialLogisticRegression(gpu(), 3, 2, true);
        GpuBlock b = model.upload(new DenseBlock(0, 3, new double[0], new double[0]))) {
      double[] grad = {1, 2, 3, 4, 5, 6, 7, 8};
      assertEquals(0.0, model.addLossAndGradient(b, new double[8], grad));
      assertArrayEquals(new double[] {1, 2, 3, 4, 5, 6, 7, 8}, grad);
    }
  }

  @Test
  @Tag("gpu")
  void uploadAndCallsRejectMismatchedShapes() {
    try (GpuMultinomialLogisticRegression model = new GpuMultinomialLogisticRegression(gpu(), 3, 4, false)) {
      IllegalArgumentException width = assertThrows(IllegalArgumentException.class,
          () -> model.upload(new DenseBlock(1, 2, new double[2], new double[1])));
      assertTrue(width.getMessage().startsWith("features: "), width.getMessage());
      IllegalArgumentException label = assertThrows(IllegalArgumentException.class,
          () -> model.upload(new DenseBlock(1, 3, new double[3], new double[] {4})));
      assertTrue(label.getMessage().startsWith("label: "), label.getMessage());
      try (GpuBlock b = model.upload(new DenseBlock(1, 3, new double[3], new double[] {3}))) {
        IllegalArgumentException params = assertThrows(IllegalArgumentException.class,
            () -> model.addLossAndGradient(b, new double[13], new double[12]));
        assertTrue(params.getMessage().startsWith("params: "), params.getMessage());
      }
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
    assertEquals(64, GpuMultinomialLogisticRegression.columnChunkRows(1));
    assertEquals(64, GpuMultinomialLogisticRegression.columnChunkRows(8192));
    assertEquals(64, GpuMultinomialLogisticRegression.columnChunkRows(64 * 4096));
    assertEquals(65, GpuMultinomialLogisticRegression.columnChunkRows(64 * 4096 + 1));
    for (int n : new int[] {64 * 4096 + 1, 1_000_000, 8_388_480}) {
      int rows = GpuMultinomialLogisticRegression.columnChunkRows(n);
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
    int d = cpu.numParameters();
    double[] params = gaussian(d, paramScale, rnd);
    double[] start = new double[d];
    for (int k = 0; k < d; k++) {
      start[k] = k % 3 - 1;
    }
    double[] gCpu = start.clone();
    double lossCpu = cpu.addLossAndGradient(block, params, gCpu);
    double[] gGpu = start.clone();
    double lossGpu;
    try (GpuMultinomialLogisticRegression model = new GpuMultinomialLogisticRegression(gpu(), f, c, intercept,
        precision);
        GpuBlock b = model.upload(block)) {
      assertEquals(d, model.numParameters());
      lossGpu = model.addLossAndGradient(b, params, gGpu);
    }
    for (int k = 0; k < d; k++) {
      gCpu[k] -= start[k];
      gGpu[k] -= start[k];
    }
    String what = "n=" + n + " F=" + f + " C=" + c + " intercept=" + intercept + " " + precision;
    assertRelativelyClose(what + " loss", lossCpu, lossGpu, tolerance);
    assertNormClose(what + " weight gradient", gCpu, gGpu, 0, c * f, tolerance);
    if (intercept) {
      assertNormClose(what + " bias gradient", gCpu, gGpu, c * f, d, tolerance);
    }
  }

  /** Gaussian features, uniform labels, and weights 0 (every 11th row), 0.3, 0.5, 1 or 2.25. */
  static DenseBlock randomBlock(int n, int f, int c, Random rnd) {
    double[] x = gaussian(n * f, 1.0, rnd);
    double[] y = new double[n];
    for (int i = 0; i < n; i++) {
      y[i] = rnd.nextInt(c);
    }
    return new DenseBlock(n, f, x, y, weights(n, rnd));
  }

  private static double[] weights(int n, Random rnd) {
    double[] choices = {0.3, 0.5, 1, 2.25};
    double[] w = new double[n];
    for (int i = 0; i < n; i++) {
      w[i] = i % 11 == 3 ? 0 : choices[rnd.nextInt(choices.length)];
    }
    return w;
  }

  static double[] gaussian(int count, double scale, Random rnd) {
    double[] v = new double[count];
    for (int k = 0; k < count; k++) {
      v[k] = scale * rnd.nextGaussian();
    }
    return v;
  }

  static void assertRelativelyClose(String what, double expected, double actual, double tolerance) {
    double rel = Math.abs(actual - expected) / Math.abs(expected);
    assertTrue(rel <= tolerance, what + ": GPU " + actual + " vs CPU " + expected + ", relative difference "
        + rel + " > " + tolerance);
  }

  /** ‖actual − expected‖ ≤ tolerance ‖expected‖ over [from, to); the message names the worst entry. */
  static void assertNormClose(String what, double[] expected, double[] actual, int from, int to,
      double tolerance) {
    double diff = 0;
    double norm = 0;
    int worst = from;
    for (int k = from; k < to; k++) {
      double e = actual[k] - expected[k];
      diff += e * e;
      norm += expected[k] * expected[k];
      if (!(Math.abs(e) <= Math.abs(actual[worst] - expected[worst]))) {
        worst = k;
      }
    }
    double rel = Math.sqrt(diff / norm);
    assertTrue(rel <= tolerance, what + ": relative norm difference " + rel + " > " + tolerance
        + "; worst entry " + worst + ": GPU " + actual[worst] + " vs CPU " + expected[worst]
        + " (first entries GPU " + Arrays.toString(Arrays.copyOfRange(actual, from, Math.min(to, from + 4)))
        + ", CPU " + Arrays.toString(Arrays.copyOfRange(expected, from, Math.min(to, from + 4))) + ")");
  }
}
