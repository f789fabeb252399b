package org.efcp.model;

import java.util.Arrays;

/**
 * Softmax and its cross-entropy on one row of C logits, with the max subtracted before exponentiating so that
 * logits of any finite size neither overflow nor lose the loss to rounding.
 */
final class SoftmaxCrossEntropy {
  private SoftmaxCrossEntropy() {}

  /**
   * Σ w_i ℓ_i over rows {@code from .. from+rows−1} of {@code block}, whose logits are the rows of {@code z}
   * (row-major rows × c, row 0 = block row {@code from}); weight-0 rows contribute nothing.
   */
  static double rowsLoss(double[] z, int c, DenseBlock block, int from, int rows) {
    double[] labels = block.labels();
    double[] weights = block.weights();
    double loss = 0;
    for (int i = 0; i < rows; i++) {
      double w = weights[from + i];
      if (w != 0) {
        loss += w * loss(z, i * c, c, (int) labels[from + i]);
      }
    }
    return loss;
  }

  /** As {@link #rowsLoss}, and overwrites each row of {@code z} with its residual w_i (softmax − onehot). */
  static double rowsLossAndResidual(double[] z, int c, DenseBlock block, int from, int rows) {
    double[] labels = block.labels();
    double[] weights = block.weights();
    double loss = 0;
    for (int i = 0; i < rows; i++) {
      loss += lossAndResidual(z, i * c, c, (int) labels[from + i], weights[from + i]);
    }
    return loss;
  }

  /** −log softmax(z)_label for z = {@code z[off .. off + c)}. */
  static double loss(double[] z, int off, int c, int label) {
    double max = max(z, off, c);
    double sum = 0;
    for (int j = 0; j < c; j++) {
      sum += Math.exp(z[off + j] - max);
    }
    return Math.log(sum) - (z[off + label] - max);
  }

  /**
   * Returns w·(−log softmax(z)_label) and overwrites z with the residual w·(softmax(z) − e_label), the gradient
   * of that weighted loss with respect to z. A weight of 0 gives a zero row and a zero loss.
   */
  static double lossAndResidual(double[] z, int off, int c, int label, double weight) {
    if (weight == 0) {
      Arrays.fill(z, off, off + c, 0.0);
      return 0;
    }
    double max = max(z, off, c);
    double shiftedLabel = z[off + label] - max;
    double sum = 0;
    for (int j = 0; j < c; j++) {
      double e = Math.exp(z[off + j] - max);
      z[off + j] = e;
      sum += e;
    }
    double scale = weight / sum;
    for (int j = 0; j < c; j++) {
      z[off + j] *= scale;
    }
    z[off + label] -= weight;
    return weight * (Math.log(sum) - shiftedLabel);
  }

  /** Overwrites z with softmax(z). */
  static void softmax(double[] z, int off, int c) {
    double max = max(z, off, c);
    double sum = 0;
    for (int j = 0; j < c; j++) {
      double e = Math.exp(z[off + j] - max);
      z[off + j] = e;
      sum += e;
    }
    double inv = 1.0 / sum;
    for (int j = 0; j < c; j++) {
      z[off + j] *= inv;
    }
  }

  private static double max(double[] z, int off, int c) {
    double max = z[off];
    for (int j = 1; j < c; j++) {
      max = Math.max(max, z[off + j]);
    }
    return max;
  }
}
