package org.efcp.model;

import java.util.Arrays;
import java.util.Random;
import java.util.function.ToDoubleFunction;

/** Test support: random blocks, central finite differences and relative errors. */
final class ModelChecks {
  private ModelChecks() {}

  /** A block of Gaussian features, uniform labels in [0, classes) and weights in [0, 2) with every 5th weight 0. */
  static DenseBlock randomBlock(Random rnd, int rows, int features, int classes, boolean weighted) {
    double[] x = new double[rows * features];
    for (int k = 0; k < x.length; k++) {
      x[k] = rnd.nextGaussian();
    }
    double[] y = new double[rows];
    double[] w = new double[rows];
    for (int i = 0; i < rows; i++) {
      y[i] = rnd.nextInt(classes);
      w[i] = !weighted ? 1.0 : i % 5 == 4 ? 0.0 : 2 * rnd.nextDouble();
    }
    return new DenseBlock(rows, features, x, y, w);
  }

  /** −log softmax(z)[label] by plain loops (log-sum-exp with the maximum subtracted): the tests' reference. */
  static double crossEntropy(double[] z, int label) {
    double max = Double.NEGATIVE_INFINITY;
    for (double v : z) {
      max = Math.max(max, v);
    }
    double sum = 0;
    for (double v : z) {
      sum += Math.exp(v - max);
    }
    return max + Math.log(sum) - z[label];
  }

  static double[] gaussian(Random rnd, int n, double scale) {
    double[] v = new double[n];
    for (int k = 0; k < n; k++) {
      v[k] = scale * rnd.nextGaussian();
    }
    return v;
  }

  /** Central differences (f(θ + h e_k) − f(θ − h e_k)) / 2h of {@code f} at {@code params}. */
  static double[] finiteDifferenceGradient(ToDoubleFunction<double[]> f, double[] params, double h) {
    double[] g = new double[params.length];
    double[] p = params.clone();
    for (int k = 0; k < p.length; k++) {
      p[k] = params[k] + h;
      double plus = f.applyAsDouble(p);
      p[k] = params[k] - h;
      double minus = f.applyAsDouble(p);
      p[k] = params[k];
      g[k] = (plus - minus) / (2 * h);
    }
    return g;
  }

  /** ‖a − b‖ / ‖b‖ (‖a‖ when b is 0). */
  static double relativeError(double[] a, double[] b) {
    double diff = 0;
    double norm = 0;
    for (int k = 0; k < a.length; k++) {
      diff += (a[k] - b[k]) * (a[k] - b[k]);
      norm += b[k] * b[k];
    }
    return Math.sqrt(diff) / (norm > 0 ? Math.sqrt(norm) : 1.0);
  }

  static double relativeError(double a, double b) {
    return Math.abs(a - b) / Math.max(Math.abs(b), Double.MIN_NORMAL);
  }

  /** Rows [from, to) of {@code block} as a new block. */
  static DenseBlock rows(DenseBlock block, int from, int to) {
    int f = block.numFeatures();
    return new DenseBlock(to - from, f,
        Arrays.copyOfRange(block.features(), from * f, to * f),
        Arrays.copyOfRange(block.labels(), from, to),
        Arrays.copyOfRange(block.weights(), from, to));
  }

  /** Fraction of rows whose largest raw score is at the label. */
  static double accuracy(DifferentiableModel model, DenseBlock block, double[] params) {
    int c = model.numClasses();
    double[] raw = new double[block.numRows() * c];
    model.predictRaw(block, params, raw);
    int correct = 0;
    for (int i = 0; i < block.numRows(); i++) {
      int best = 0;
      for (int j = 1; j < c; j++) {
        if (raw[i * c + j] > raw[i * c + best]) {
          best = j;
        }
      }
      correct += best == (int) block.labels()[i] ? 1 : 0;
    }
    return (double) correct / block.numRows();
  }

  /** {@code steps} of θ ← θ − lr·(mean gradient) from {@code params}; returns the final θ. */
  static double[] gradientDescent(DifferentiableModel model, DenseBlock block, double[] params, double lr, int steps) {
    double[] theta = params.clone();
    double[] grad = new double[theta.length];
    double total = block.totalWeight();
    for (int t = 0; t < steps; t++) {
      Arrays.fill(grad, 0.0);
      model.addLossAndGradient(block, theta, grad);
      for (int k = 0; k < theta.length; k++) {
        theta[k] -= lr * grad[k] / total;
      }
    }
    return theta;
  }
}
