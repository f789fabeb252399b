package org.efcp.model;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Random;
import org.efcp.optim.TensorLayout;
import org.junit.jupiter.api.Test;

class BinomialLogisticRegressionTest {

  /** Σ_i w_i log(1 + exp(−s_i z_i)), s_i = ±1 for label 1 / 0, by plain loops in the form z + log(1 + e^−z). */
  static double referenceLoss(DenseBlock block, double[] params, boolean fitIntercept) {
    int f = block.numFeatures();
    double total = 0;
    for (int i = 0; i < block.numRows(); i++) {
      double z = fitIntercept ? params[f] : 0;
      for (int j = 0; j < f; j++) {
        z += params[j] * block.features()[i * f + j];
      }
      double m = block.labels()[i] == 1 ? -z : z; // the loss is log(1 + e^m)
      double loss = m > 0 ? m + Math.log(1 + Math.exp(-m)) : Math.log(1 + Math.exp(m));
      total += block.weights()[i] * loss;
    }
    return total;
  }

  @Test
  void layoutIsWeightVectorThenScalarBias() {
    assertEquals(TensorLayout.parse("768,1"), new BinomialLogisticRegression(768, true).layout());
    assertEquals(TensorLayout.parse("768"), new BinomialLogisticRegression(768, false).layout());
    assertEquals(769, new BinomialLogisticRegression(768, true).numParameters());
    assertEquals(2, new BinomialLogisticRegression(768, true).numClasses());
  }

  @Test
  void gradientMatchesFiniteDifferencesOfReferenceLossWithAndWithoutIntercept() {
    for (boolean intercept : new boolean[] {true, false}) {
      for (boolean weighted : new boolean[] {false, true}) {
        Random rnd = new Random(intercept ? 21 : 22);
        BinomialLogisticRegression model = new BinomialLogisticRegression(8, intercept);
        DenseBlock block = ModelChecks.randomBlock(rnd, 30, 8, 2, weighted);
        double[] params = ModelChecks.gaussian(rnd, model.numParameters(), 0.8);
        double[] grad = new double[model.numParameters()];
        double loss = model.addLossAndGradient(block, params, grad);
        double[] fd = ModelChecks.finiteDifferenceGradient(p -> referenceLoss(block, p, intercept), params, 1e-6);
        assertTrue(ModelChecks.relativeError(grad, fd) <= 1e-6,
            "intercept=" + intercept + " weighted=" + weighted + " err=" + ModelChecks.relativeError(grad, fd));
        assertEquals(referenceLoss(block, params, intercept), loss, 1e-12 * loss);
        assertEquals(loss, model.loss(block, params), 1e-12 * loss);
      }
    }
  }

  @Test
  void extremeLogitsGiveExactFiniteLossesAndGradients() {
    BinomialLogisticRegression model = new BinomialLogisticRegression(1, false);
    double[] params = {1};
    // z = 1000, 1000, −1000, −1000 with labels 1, 0, 1, 0: losses 0, 1000, 1000, 0.
    DenseBlock block = new DenseBlock(4, 1, new double[] {1000, 1000, -1000, -1000}, new double[] {1, 0, 1, 0});
    double[] grad = new double[1];
    assertEquals(2000.0, model.addLossAndGradient(block, params, grad), 0.0);
    // Residuals σ(z) − y: 0, 1, −1, 0; gradient Σ r_i x_i = 1000 + 1000.
    assertArrayEquals(new double[] {2000}, grad, 0.0);
    double[] probs = new double[8];
    model.predictProbabilities(block, params, probs);
    assertArrayEquals(new double[] {0, 1, 0, 1, 1, 0, 1, 0}, probs, 0.0);
  }

  @Test
  void rawScoresAreMinusAndPlusTheMarginAndProbabilitiesAgree() {
    Random rnd = new Random(23);
    BinomialLogisticRegression model = new BinomialLogisticRegression(3, true);
    DenseBlock block = ModelChecks.randomBlock(rnd, 40, 3, 2, false);
    double[] params = ModelChecks.gaussian(rnd, 4, 2);
    double[] raw = new double[80];
    double[] probs = new double[80];
    model.predictRaw(block, params, raw);
    model.predictProbabilities(block, params, probs);
    for (int i = 0; i < 40; i++) {
      double z = params[3];
      for (int j = 0; j < 3; j++) {
        z += params[j] * block.features()[3 * i + j];
      }
      assertEquals(-z, raw[2 * i], 1e-12 * (1 + Math.abs(z)));
      assertEquals(z, raw[2 * i + 1], 1e-12 * (1 + Math.abs(z)));
      assertEquals(1 / (1 + Math.exp(-z)), probs[2 * i + 1], 1e-15);
      assertEquals(1.0, probs[2 * i] + probs[2 * i + 1], 1e-15);
      assertEquals(raw[2 * i + 1] > raw[2 * i], probs[2 * i + 1] > probs[2 * i]);
    }
  }

  @Test
  void sumOfBlocksAndChunkingGiveTheSameResult() {
    Random rnd = new Random(24);
    DenseBlock block = ModelChecks.randomBlock(rnd, 2100, 5, 2, true);
    BinomialLogisticRegression chunked = new BinomialLogisticRegression(5, true);
    BinomialLogisticRegression single = new BinomialLogisticRegression(5, true, 4096);
    double[] params = ModelChecks.gaussian(rnd, 6, 0.5);
    double[] whole = new double[6];
    double wholeLoss = single.addLossAndGradient(block, params, whole);
    double[] chunks = new double[6];
    assertEquals(wholeLoss, chunked.addLossAndGradient(block, params, chunks), 1e-12 * wholeLoss);
    assertTrue(ModelChecks.relativeError(chunks, whole) <= 1e-12);
    double[] parts = new double[6];
    double partsLoss = chunked.addLossAndGradient(ModelChecks.rows(block, 0, 1000), params, parts)
        + chunked.addLossAndGradient(ModelChecks.rows(block, 1000, 1001), params, parts)
        + chunked.addLossAndGradient(ModelChecks.rows(block, 1001, 2100), params, parts);
    assertEquals(wholeLoss, partsLoss, 1e-12 * wholeLoss);
    assertTrue(ModelChecks.relativeError(parts, whole) <= 1e-12);
    double[] r1 = new double[4200];
    double[] r2 = new double[4200];
    chunked.predictRaw(block, params, r1);
    new BinomialLogisticRegression(5, true, 3).predictRaw(block, params, r2);
    assertTrue(ModelChecks.relativeError(r1, r2) <= 1e-12);
  }

  @Test
  void gradientDescentSeparatesLinearlySeparableData() {
    Random rnd = new Random(25);
    int n = 400;
    double[] truth = {1.5, -2, 0.5, 1};
    double[][] rows = new double[n][];
    double[] labels = new double[n];
    for (int i = 0; i < n; ) {
      double[] x = ModelChecks.gaussian(rnd, 4, 1);
      double m = 0.3;
      for (int j = 0; j < 4; j++) {
        m += truth[j] * x[j];
      }
      if (Math.abs(m) > 0.5) { // a margin keeps the problem cleanly separable
        rows[i] = x;
        labels[i++] = m > 0 ? 1 : 0;
      }
    }
    DenseBlock block = DenseBlock.fromRows(4, rows, labels);
    BinomialLogisticRegression model = new BinomialLogisticRegression(4, true);
    double[] theta = ModelChecks.gradientDescent(model, block, model.initialParameters(0), 1.0, 300);
    assertTrue(ModelChecks.accuracy(model, block, theta) >= 0.98);
  }

  @Test
  void validationNamesTheBadValue() {
    BinomialLogisticRegression model = new BinomialLogisticRegression(2, true);
    DenseBlock three = new DenseBlock(1, 2, new double[2], new double[] {2});
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> model.validate(three));
    assertEquals("label: row 0 is 2.0 (must be an integer in [0, 2))", e.getMessage());
    model.validate(new DenseBlock(2, 2, new double[4], new double[] {0, 1}));
  }
}
