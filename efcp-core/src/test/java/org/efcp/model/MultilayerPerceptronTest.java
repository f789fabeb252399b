package org.efcp.model;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
import java.util.Random;
import org.efcp.optim.TensorLayout;
import org.junit.jupiter.api.Test;

class MultilayerPerceptronTest {

  private static double activate(Activation act, double z) {
    return switch (act) {
      case RELU -> z > 0 ? z : 0;
      case SIGMOID -> 1 / (1 + Math.exp(-z));
      case TANH -> Math.tanh(z);
    };
  }

  /**
   * Forward pass of row i by plain loops: returns the logits; {@code minAbsPre[0]} receives the smallest
   * |pre-activation| of the hidden layers (to keep relu away from its kink).
   */
  static double[] referenceLogits(int[] sizes, Activation act, double[] params, DenseBlock block, int i,
      double[] minAbsPre) {
    double[] a = Arrays.copyOfRange(block.features(), i * sizes[0], (i + 1) * sizes[0]);
    int off = 0;
    for (int l = 0; l + 1 < sizes.length; l++) {
      int in = sizes[l];
      int out = sizes[l + 1];
      double[] z = new double[out];
      for (int r = 0; r < out; r++) {
        double s = params[off + out * in + r];
        for (int c = 0; c < in; c++) {
          s += params[off + r * in + c] * a[c];
        }
        z[r] = s;
      }
      off += out * in + out;
      if (l + 2 < sizes.length) {
        for (int r = 0; r < out; r++) {
          minAbsPre[0] = Math.min(minAbsPre[0], Math.abs(z[r]));
          z[r] = activate(act, z[r]);
        }
      }
      a = z;
    }
    return a;
  }

  static double referenceLoss(int[] sizes, Activation act, double[] params, DenseBlock block, double[] minAbsPre) {
    double total = 0;
    for (int i = 0; i < block.numRows(); i++) {
      double[] z = referenceLogits(sizes, act, params, block, i, minAbsPre);
      total += block.weights()[i] * ModelChecks.crossEntropy(z, (int) block.labels()[i]);
    }
    return total;
  }

  @Test
  void layoutIsWeightThenBiasPerLayerLikeStackedNnLinear() {
    MultilayerPerceptron mnist = new MultilayerPerceptron(new int[] {784, 2048, 2048, 10}, Activation.RELU);
    assertEquals(5_824_522, mnist.numParameters());
    assertEquals(TensorLayout.parse("2048x784,2048,2048x2048,2048,10x2048,10"), mnist.layout());
    assertEquals(784, mnist.numFeatures());
    assertEquals(10, mnist.numClasses());
  }

  @Test
  void gradientMatchesFiniteDifferencesForEachActivationWithTwoHiddenLayers() {
    int[] sizes = {4, 6, 5, 3};
    for (Activation act : Activation.values()) {
      for (boolean weighted : new boolean[] {false, true}) {
        Random rnd = new Random(31 + act.ordinal());
        MultilayerPerceptron model = new MultilayerPerceptron(sizes, act);
        DenseBlock block = ModelChecks.randomBlock(rnd, 20, 4, 3, weighted);
        double[] params = ModelChecks.gaussian(rnd, model.numParameters(), 0.6);
        double[] minAbsPre = {Double.POSITIVE_INFINITY};
        double expectedLoss = referenceLoss(sizes, act, params, block, minAbsPre);
        // Steps of 1e-6 move a pre-activation by far less than 1e-3: relu stays off its kink.
        assertTrue(minAbsPre[0] > 1e-3, "kink too close: " + minAbsPre[0]);
        double[] grad = new double[model.numParameters()];
        double loss = model.addLossAndGradient(block, params, grad);
        double[] fd = ModelChecks.finiteDifferenceGradient(
            p -> referenceLoss(sizes, act, p, block, new double[1]), params, 1e-6);
        assertTrue(ModelChecks.relativeError(grad, fd) <= 1e-6,
            act + " weighted=" + weighted + " err=" + ModelChecks.relativeError(grad, fd));
        assertEquals(expectedLoss, loss, 1e-12 * loss);
        assertEquals(loss, model.loss(block, params), 1e-12 * loss);
      }
    }
  }

  @Test
  void gradientOfSingleLayerNetworkEqualsMultinomialLogisticRegression() {
    Random rnd = new Random(37);
    DenseBlock block = ModelChecks.randomBlock(rnd, 50, 6, 4, true);
    MultilayerPerceptron mlp = new MultilayerPerceptron(new int[] {6, 4}, Activation.TANH);
    MultinomialLogisticRegression lr = new MultinomialLogisticRegression(6, 4, true);
    double[] params = ModelChecks.gaussian(rnd, lr.numParameters(), 1);
    double[] g1 = new double[params.length];
    double[] g2 = new double[params.length];
    assertEquals(lr.addLossAndGradient(block, params, g2), mlp.addLossAndGradient(block, params, g1), 1e-12);
    assertTrue(ModelChecks.relativeError(g1, g2) <= 1e-13);
  }

  @Test
  void extremeLogitsStayFinite() {
    // One layer: logits (1000, −1000) for x = 1000.
    MultilayerPerceptron model = new MultilayerPerceptron(new int[] {1, 2}, Activation.RELU);
    double[] params = {1, -1, 0, 0};
    DenseBlock block = new DenseBlock(2, 1, new double[] {1000, 1000}, new double[] {0, 1});
    double[] grad = new double[4];
    assertEquals(2000.0, model.addLossAndGradient(block, params, grad), 0.0);
    assertArrayEquals(new double[] {1000, -1000, 1, -1}, grad, 0.0);
  }

  @Test
  void sumOfBlocksAndChunkingGiveTheSameResult() {
    Random rnd = new Random(32);
    int[] sizes = {5, 8, 6, 3};
    DenseBlock block = ModelChecks.randomBlock(rnd, 2300, 5, 3, true);
    MultilayerPerceptron chunked = new MultilayerPerceptron(sizes, Activation.TANH);
    MultilayerPerceptron single = new MultilayerPerceptron(sizes, Activation.TANH, 4096);
    double[] params = chunked.initialParameters(3);
    double[] whole = new double[params.length];
    double wholeLoss = single.addLossAndGradient(block, params, whole);
    double[] chunks = new double[params.length];
    assertEquals(wholeLoss, chunked.addLossAndGradient(block, params, chunks), 1e-12 * wholeLoss);
    assertTrue(ModelChecks.relativeError(chunks, whole) <= 1e-12);
    double[] parts = new double[params.length];
    double partsLoss = chunked.addLossAndGradient(ModelChecks.rows(block, 0, 5), params, parts)
        + chunked.addLossAndGradient(ModelChecks.rows(block, 5, 1500), params, parts)
        + chunked.addLossAndGradient(ModelChecks.rows(block, 1500, 2300), params, parts);
    assertEquals(wholeLoss, partsLoss, 1e-12 * wholeLoss);
    assertTrue(ModelChecks.relativeError(parts, whole) <= 1e-12);
  }

  @Test
  void probabilitiesSumToOneAndRawScoresAreTheLogits() {
    Random rnd = new Random(33);
    int[] sizes = {3, 7, 4};
    MultilayerPerceptron model = new MultilayerPerceptron(sizes, Activation.SIGMOID, 8);
    DenseBlock block = ModelChecks.randomBlock(rnd, 30, 3, 4, false);
    double[] params = ModelChecks.gaussian(rnd, model.numParameters(), 1.5);
    double[] raw = new double[120];
    double[] probs = new double[120];
    model.predictRaw(block, params, raw);
    model.predictProbabilities(block, params, probs);
    for (int i = 0; i < 30; i++) {
      double[] z = referenceLogits(sizes, Activation.SIGMOID, params, block, i, new double[1]);
      double sum = 0;
      int argRaw = 0;
      int argProb = 0;
      for (int c = 0; c < 4; c++) {
        assertEquals(z[c], raw[4 * i + c], 1e-12 * (1 + Math.abs(z[c])));
        sum += probs[4 * i + c];
        argRaw = raw[4 * i + c] > raw[4 * i + argRaw] ? c : argRaw;
        argProb = probs[4 * i + c] > probs[4 * i + argProb] ? c : argProb;
      }
      assertEquals(1.0, sum, 1e-14);
      assertEquals(argRaw, argProb);
    }
  }

  @Test
  void initialParametersAreDeterministicUniformWithinTheLimitsAndZeroBiases() {
    int[] sizes = {300, 200, 100};
    MultilayerPerceptron relu = new MultilayerPerceptron(sizes, Activation.RELU);
    double[] p = relu.initialParameters(42);
    assertArrayEquals(p, relu.initialParameters(42), 0.0);
    assertFalse(Arrays.equals(p, relu.initialParameters(43)));
    // Layer 0 feeds relu: He-uniform limit sqrt(6/300); layer 1 is the output: Glorot sqrt(6/300).
    checkUniform(p, 0, 200 * 300, Math.sqrt(6.0 / 300));
    checkZero(p, 60_000, 200);
    checkUniform(p, 60_200, 100 * 200, Math.sqrt(6.0 / 300));
    checkZero(p, 80_200, 100);
    double[] t = new MultilayerPerceptron(sizes, Activation.TANH).initialParameters(42);
    checkUniform(t, 0, 200 * 300, Math.sqrt(6.0 / 500));
  }

  private static void checkUniform(double[] p, int off, int n, double limit) {
    double sum = 0;
    double sumSq = 0;
    double maxAbs = 0;
    for (int k = off; k < off + n; k++) {
      sum += p[k];
      sumSq += p[k] * p[k];
      maxAbs = Math.max(maxAbs, Math.abs(p[k]));
    }
    assertTrue(maxAbs <= limit && maxAbs > 0.99 * limit, "max " + maxAbs + " limit " + limit);
    assertEquals(0.0, sum / n, 0.02 * limit);
    assertEquals(limit * limit / 3, sumSq / n, 0.03 * limit * limit);
  }

  private static void checkZero(double[] p, int off, int n) {
    for (int k = off; k < off + n; k++) {
      assertEquals(0.0, p[k], 0.0);
    }
  }

  @Test
  void learnsXorWhichLogisticRegressionCannot() {
    Random rnd = new Random(34);
    int n = 400;
    double[][] rows = new double[n][];
    double[] labels = new double[n];
    for (int i = 0; i < n; ) {
      double a = 2 * rnd.nextDouble() - 1;
      double b = 2 * rnd.nextDouble() - 1;
      if (Math.abs(a) > 0.1 && Math.abs(b) > 0.1) {
        rows[i] = new double[] {a, b};
        labels[i++] = a * b > 0 ? 1 : 0;
      }
    }
    DenseBlock block = DenseBlock.fromRows(2, rows, labels);
    BinomialLogisticRegression lr = new BinomialLogisticRegression(2, true);
    double[] lrTheta = ModelChecks.gradientDescent(lr, block, lr.initialParameters(0), 1.0, 500);
    assertTrue(ModelChecks.accuracy(lr, block, lrTheta) <= 0.75);
    MultilayerPerceptron mlp = new MultilayerPerceptron(new int[] {2, 16, 2}, Activation.TANH);
    double[] mlpTheta = ModelChecks.gradientDescent(mlp, block, mlp.initialParameters(7), 1.0, 1000);
    assertTrue(ModelChecks.accuracy(mlp, block, mlpTheta) >= 0.95,
        "accuracy " + ModelChecks.accuracy(mlp, block, mlpTheta));
  }

  @Test
  void rejectsBadShapes() {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> new MultilayerPerceptron(new int[] {4}, Activation.RELU));
    assertTrue(e.getMessage().startsWith("layerSizes: "));
    e = assertThrows(IllegalArgumentException.class,
        () -> new MultilayerPerceptron(new int[] {4, 0, 3}, Activation.RELU));
    assertEquals("layerSizes: entry 1 is 0 (must be >= 1)", e.getMessage());
    e = assertThrows(IllegalArgumentException.class,
        () -> new MultilayerPerceptron(new int[] {4, 1}, Activation.RELU));
    assertTrue(e.getMessage().startsWith("layerSizes: "));
    MultilayerPerceptron model = new MultilayerPerceptron(new int[] {4, 3, 2}, Activation.RELU);
    e = assertThrows(IllegalArgumentException.class,
        () -> model.validate(new DenseBlock(1, 4, new double[4], new double[] {0.5})));
    assertTrue(e.getMessage().startsWith("label: "));
  }
}
