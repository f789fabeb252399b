package org.efcp.ml.train;

import java.io.Serializable;
import java.util.Arrays;

/**
 * Per-partition statistics gathered while a partition's rows are stacked into a block: row count, weight sums,
 * per-class weights and weighted feature means and squared deviations (West's weighted Welford update, merged
 * with Chan's formula). Merged on the driver in partition order, so the result does not depend on which task
 * finished first.
 */
final class PartitionStats implements Serializable {
  private static final long serialVersionUID = 1L;

  final int partition;
  long rows;
  double weightSum;
  double weightSquareSum;
  int numFeatures = -1;
  double[] mean;
  double[] m2;
  double[] classWeights = new double[0];
  long[] classCounts = new long[0];
  /** Largest label seen, −1 before the first row; the class arrays grow by doubling beyond it. */
  int maxLabel = -1;

  PartitionStats(int partition) {
    this.partition = partition;
  }

  /** Adds one validated row (label a non-negative integer, weight finite and ≥ 0). */
  void add(double[] x, int label, double w) {
    rows++;
    if (label >= classWeights.length) {
      int n = Math.max(label + 1, 2 * classWeights.length);
      classWeights = Arrays.copyOf(classWeights, n);
      classCounts = Arrays.copyOf(classCounts, n);
    }
    maxLabel = Math.max(maxLabel, label);
    classWeights[label] += w;
    classCounts[label]++;
    if (mean == null) {
      mean = new double[x.length];
      m2 = new double[x.length];
    }
    if (w == 0) {
      return;
    }
    weightSum += w;
    weightSquareSum += w * w;
    double f = w / weightSum;
    for (int j = 0; j < x.length; j++) {
      double delta = x[j] - mean[j];
      mean[j] += f * delta;
      m2[j] += w * delta * (x[j] - mean[j]);
    }
  }

  /** Folds {@code other} (the next partition) into this one. */
  void merge(PartitionStats other) {
    if (other.rows == 0) {
      return;
    }
    if (mean == null) {
      mean = new double[other.mean.length];
      m2 = new double[other.m2.length];
    }
    double total = weightSum + other.weightSum;
    if (other.weightSum > 0) {
      for (int j = 0; j < mean.length; j++) {
        double delta = other.mean[j] - mean[j];
        mean[j] += delta * (other.weightSum / total);
        m2[j] += other.m2[j] + delta * delta * (weightSum * other.weightSum / total);
      }
    }
    rows += other.rows;
    maxLabel = Math.max(maxLabel, other.maxLabel);
    weightSum = total;
    weightSquareSum += other.weightSquareSum;
    int n = Math.max(classWeights.length, other.classWeights.length);
    classWeights = Arrays.copyOf(classWeights, n);
    classCounts = Arrays.copyOf(classCounts, n);
    for (int c = 0; c < other.classWeights.length; c++) {
      classWeights[c] += other.classWeights[c];
      classCounts[c] += other.classCounts[c];
    }
  }
}
