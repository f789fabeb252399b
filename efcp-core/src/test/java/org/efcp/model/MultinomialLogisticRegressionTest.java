package org.efcp.model;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.ObjectInputStream;
import java.io.ObjectOutputStream;
import java.util.Arrays;
import java.util.Random;
import org.efcp.optim.TensorLayout;
import org.junit.jupiter.api.Test;

class MultinomialLogisticRegressionTest {

  /** Σ_i w_i (logsumexp(z_i) − z_{i,y_i}) with z_i = W x_i + b, by plain loops (no BLAS). */
  static double referenceLoss(DenseBlock block, double[] params, int classes, boolean fitIntercept) {
    int f = block.numFeatures();
    double total = 0;
    for (int i = 0; i < block.numRows(); i++) {
      double[] z = new double[classes];
      for (int c = 0; c < classes; c++) {
        double s = fitIntercept ? params[classes * f + c] : 0;
        for (int j = 0; j < f; j++) {
          s += params[c * f + j] * block.features()[i * f + j];
        }
        z[c] = s;
      }
      total += block.weights()[i] * ModelChecks.crossEntropy(z, (int) block.labels()[i]);
    }
    return total;
  }

  @Test
  void layoutIsWeightMatrixThenBiasLikeNnLinear() {
    MultinomialLogisticRegression model = new MultinomialLogisticRegression(768, 1000, true);
    assertEquals(769_000, model.numParameters());
    assertEquals(TensorLayout.parse("1000x768,1000"), model.layout());
    assertEquals(769_000, model.layout().dimension());
    MultinomialLogisticRegression noBias = new MultinomialLogisticRegression(768, 1000, false);
    assertEquals(768_000, noBias.numParameters());
    assertEquals(TensorLayout.parse("1000x768"), noBias.layout());
  }

  @Test
  void gradientMatchesFiniteDifferencesOfReferenceLossWithAndWithoutIntercept() {
    for (boolean intercept : new boolean[] {true, false}) {
      for (boolean weighted : new boolean[] {false, true}) {
        Random rnd = new Random(intercept ? 11 : 12);
        int f = 6;
        int c = 4;
        MultinomialLogisticRegression model = new MultinomialLogisticRegression(f, c, intercept);
        DenseBlock block = ModelChecks.randomBlock(rnd, 25, f, c, weighted);
        double[] params = ModelChecks.gaussian(rnd, model.numParameters(), 0.7);
        double[] grad = new double[model.numParameters()];
        double loss = model.addLossAndGradient(block, params, grad);
        double[] fd = ModelChecks.finiteDifferenceGradient(p -> referenceLoss(block, p, c, intercept), params, 1e-6);
        assertTrue(ModelChecks.relativeError(grad, fd) <= 1e-6,
            "intercept=" + intercept + " weighted=" + weighted + " err=" + ModelChecks.relativeError(grad, fd));
        assertEquals(referenceLoss(block, params, c, intercept), loss, 1e-12 * Math.abs(loss));
        assertEquals(loss, model.loss(block, params), 1e-12 * Math.abs(loss));
      }
    }
  }

  @Test
  void gradientIsAddedToTheAccumulator() {
    Random rnd = new Random(3);
    MultinomialLogisticRegression model = new MultinomialLogisticRegression(5, 3, true);
    DenseBlock block = ModelChecks.randomBlock(rnd, 10, 5, 3, true);
    double[] params = ModelChecks.gaussian(rnd, model.numParameters(), 1);
    double[] grad = new double[model.numParameters()];
    model.addLossAndGradient(block, params, grad);
    double[] accum = new double[model.numParameters()];
    Arrays.fill(accum, 1.5);
    model.addLossAndGradient(block, params, accum);
    for (int k = 0; k < grad.length; k++) {
      assertEquals(grad[k] + 1.5, accum[k], 1e-15);
    }
  }

  @Test
  void zeroWeightRowsContributeNothing() {
    Random rnd = new Random(4);
    MultinomialLogisticRegression model = new MultinomialLogisticRegression(3, 3, true);
    DenseBlock block = ModelChecks.randomBlock(rnd, 12, 3, 3, false);
    double[] w = block.weights();
    for (int i = 0; i < 12; i += 2) {
      w[i] = 0;
    }
    double[] params = ModelChecks.gaussian(rnd, model.numParameters(), 1);
    double[] grad = new double[model.numParameters()];
    double loss = model.addLossAndGradient(block, params, grad);
    double[][] kept = new double[6][];
    double[] labels = new double[6];
    for (int i = 1, r = 0; i < 12; i += 2, r++) {
      kept[r] = Arrays.copyOfRange(block.features(), 3 * i, 3 * i + 3);
      labels[r] = block.labels()[i];
    }
    DenseBlock odd = DenseBlock.fromRows(3, kept, labels);
    double[] gradOdd = new double[model.numParameters()];
    assertEquals(model.addLossAndGradient(odd, params, gradOdd), loss, 1e-12 * loss);
    assertTrue(ModelChecks.relativeError(grad, gradOdd) < 1e-12);
  }

  @Test
  void extremeLogitsGiveExactFiniteLossesAndGradients() {
    // F = 1, x = 1000, W = (1, −1, 0): logits (1000, −1000, 0).
    MultinomialLogisticRegression model = new MultinomialLogisticRegression(1, 3, false);
    double[] params = {1, -1, 0};
    DenseBlock block = new DenseBlock(3, 1, new double[] {1000, 1000, 1000}, new double[] {0, 1, 2});
    double[] grad = new double[3];
    double loss = model.addLossAndGradient(block, params, grad);
    // Losses: logsumexp = 1000 (to rounding), so 0, 2000 and 1000.
    assertEquals(3000.0, loss, 0.0);
    // Residual rows: (0, 0, 0), (1, −1, 0), (1, 0, −1); gradient = 1000 · their sum.
    assertArrayEquals(new double[] {2000, -1000, -1000}, grad, 0.0);
    double[] probs = new double[9];
    model.predictProbabilities(block, params, probs);
    for (double p : probs) {
      assertTrue(Double.isFinite(p));
    }
    assertEquals(1.0, probs[0], 0.0);
  }

  @Test
  void sumOfBlocksEqualsOneBigBlock() {
    Random rnd = new Random(5);
    MultinomialLogisticRegression model = new MultinomialLogisticRegression(7, 5, true);
    DenseBlock all = ModelChecks.randomBlock(rnd, 90, 7, 5, true);
    double[] params = ModelChecks.gaussian(rnd, model.numParameters(), 0.5);
    double[] whole = new double[model.numParameters()];
    double wholeLoss = model.addLossAndGradient(all, params, whole);
    double[] parts = new double[model.numParameters()];
    double partsLoss = model.addLossAndGradient(ModelChecks.rows(all, 0, 17), params, parts)
        + model.addLossAndGradient(ModelChecks.rows(all, 17, 60), params, parts)
        + model.addLossAndGradient(ModelChecks.rows(all, 60, 90), params, parts);
    assertEquals(wholeLoss, partsLoss, 1e-12 * wholeLoss);
    assertTrue(ModelChecks.relativeError(parts, whole) <= 1e-12);
  }

  @Test
  void chunkingOverRowsGivesTheSameResult() {
    Random rnd = new Random(6);
    DenseBlock block = ModelChecks.randomBlock(rnd, 2500, 4, 3, true);
    MultinomialLogisticRegression chunked = new MultinomialLogisticRegression(4, 3, true);
    MultinomialLogisticRegression single = new MultinomialLogisticRegression(4, 3, true, 4096);
    MultinomialLogisticRegression tiny = new MultinomialLogisticRegression(4, 3, true, 7);
    double[] params = ModelChecks.gaussian(rnd, chunked.numParameters(), 0.5);
    double[] g1 = new double[params.length];
    double[] g2 = new double[params.length];
    double[] g3 = new double[params.length];
    double l1 = chunked.addLossAndGradient(block, params, g1);
    double l2 = single.addLossAndGradient(block, params, g2);
    double l3 = tiny.addLossAndGradient(block, params, g3);
    assertEquals(l2, l1, 1e-12 * l2);
    assertEquals(l2, l3, 1e-12 * l2);
    assertTrue(ModelChecks.relativeError(g1, g2) <= 1e-12);
    assertTrue(ModelChecks.relativeError(g3, g2) <= 1e-12);
    double[] r1 = new double[2500 * 3];
    double[] r2 = new double[2500 * 3];
    chunked.predictRaw(block, params, r1);
    tiny.predictRaw(block, params, r2);
    assertTrue(ModelChecks.relativeError(r1, r2) <= 1e-12);
  }

  @Test
  void probabilitiesSumToOneAndShareTheArgmaxOfRawScores() {
    Random rnd = new Random(7);
    MultinomialLogisticRegression model = new MultinomialLogisticRegression(5, 4, true);
    DenseBlock block = ModelChecks.randomBlock(rnd, 30, 5, 4, false);
    double[] params = ModelChecks.gaussian(rnd, model.numParameters(), 2);
    double[] raw = new double[120];
    double[] probs = new double[120];
    model.predictRaw(block, params, raw);
    model.predictProbabilities(block, params, probs);
    for (int i = 0; i < 30; i++) {
      double sum = 0;
      int argRaw = 0;
      int argProb = 0;
      for (int c = 0; c < 4; c++) {
        sum += probs[i * 4 + c];
        argRaw = raw[i * 4 + c] > raw[i * 4 + argRaw] ? c : argRaw;
        argProb = probs[i * 4 + c] > probs[i * 4 + argProb] ? c : argProb;
        // Raw scores are the logits W x + b.
        double z = params[20 + c];
        for (int j = 0; j < 5; j++) {
          z += params[c * 5 + j] * block.features()[i * 5 + j];
        }
        assertEquals(z, raw[i * 4 + c], 1e-12 * (1 + Math.abs(z)));
      }
      assertEquals(1.0, sum, 1e-14);
      assertEquals(argRaw, argProb);
    }
  }

  @Test
  void gradientDescentSeparatesGaussianBlobs() {
    Random rnd = new Random(8);
    int n = 300;
    double[][] centres = {{3, 0}, {-3, 0}, {0, 3}};
    double[][] rows = new double[n][];
    double[] labels = new double[n];
    for (int i = 0; i < n; i++) {
      int c = i % 3;
      rows[i] = new double[] {centres[c][0] + 0.5 * rnd.nextGaussian(), centres[c][1] + 0.5 * rnd.nextGaussian()};
      labels[i] = c;
    }
    DenseBlock block = DenseBlock.fromRows(2, rows, labels);
    MultinomialLogisticRegression model = new MultinomialLogisticRegression(2, 3, true);
    double[] start = model.initialParameters(0);
    double lossBefore = model.loss(block, start);
    double[] theta = ModelChecks.gradientDescent(model, block, start, 0.5, 300);
    assertTrue(model.loss(block, theta) < 0.1 * lossBefore);
    assertTrue(ModelChecks.accuracy(model, block, theta) >= 0.98);
  }

  @Test
  void serialisedModelGivesBitIdenticalResults() throws Exception {
    Random rnd = new Random(9);
    MultinomialLogisticRegression model = new MultinomialLogisticRegression(4, 3, true);
    DenseBlock block = ModelChecks.randomBlock(rnd, 20, 4, 3, true);
    double[] params = ModelChecks.gaussian(rnd, model.numParameters(), 1);
    double[] g1 = new double[params.length];
    double l1 = model.addLossAndGradient(block, params, g1);
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    try (ObjectOutputStream out = new ObjectOutputStream(bytes)) {
      out.writeObject(model);
    }
    DifferentiableModel copy;
    try (ObjectInputStream in = new ObjectInputStream(new ByteArrayInputStream(bytes.toByteArray()))) {
      copy = (DifferentiableModel) in.readObject();
    }
    double[] g2 = new double[params.length];
    assertEquals(l1, copy.addLossAndGradient(block, params, g2), 0.0);
    assertArrayEquals(g1, g2, 0.0);
  }

  @Test
  void rejectsBadArgumentsNamingThem() {
    MultinomialLogisticRegression model = new MultinomialLogisticRegression(768, 10, true);
    DenseBlock narrow = new DenseBlock(1, 767, new double[767], new double[] {0});
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> model.validate(narrow));
    assertEquals("features: expected 768 columns, got 767", e.getMessage());
    e = assertThrows(IllegalArgumentException.class,
        () -> model.addLossAndGradient(narrow, new double[model.numParameters()], new double[model.numParameters()]));
    assertEquals("features: expected 768 columns, got 767", e.getMessage());
    DenseBlock ok = new DenseBlock(1, 768, new double[768], new double[] {9});
    e = assertThrows(IllegalArgumentException.class,
        () -> model.addLossAndGradient(ok, new double[5], new double[model.numParameters()]));
    assertTrue(e.getMessage().startsWith("params: expected 7690 values"), e.getMessage());
    e = assertThrows(IllegalArgumentException.class,
        () -> model.addLossAndGradient(ok, new double[model.numParameters()], new double[5]));
    assertTrue(e.getMessage().startsWith("gradAccum: "), e.getMessage());
    e = assertThrows(IllegalArgumentException.class,
        () -> model.predictRaw(ok, new double[model.numParameters()], new double[9]));
    assertTrue(e.getMessage().startsWith("out: expected 10 values"), e.getMessage());
    DenseBlock badLabel = new DenseBlock(1, 768, new double[768], new double[] {10});
    e = assertThrows(IllegalArgumentException.class, () -> model.validate(badLabel));
    assertTrue(e.getMessage().startsWith("label: "), e.getMessage());
    assertThrows(IllegalArgumentException.class, () -> new MultinomialLogisticRegression(0, 3, true));
    assertThrows(IllegalArgumentException.class, () -> new MultinomialLogisticRegression(3, 1, true));
  }
}
