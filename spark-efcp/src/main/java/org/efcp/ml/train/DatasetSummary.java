package org.efcp.ml.train;

import java.io.Serializable;
import java.util.Arrays;

/**
 * What the one summarizer pass learned about the training rows.
 *
 * @param numRows rows (weight-0 rows included)
 * @param numFeatures length of every feature vector
 * @param weightSum Σ w_i
 * @param classWeights Σ w_i per label value 0 … maxLabel
 * @param classCounts row count per label value 0 … maxLabel
 * @param mean weighted feature means
 * @param std weighted unbiased feature standard deviations (MLlib's Summarizer convention:
 *     var = Σw(x − mean)² / (Σw − Σw²/Σw); 0 for a single distinct weight-bearing row)
 * @param partitionRows rows per partition, in partition order
 */
public record DatasetSummary(
    long numRows, int numFeatures, double weightSum, double[] classWeights, long[] classCounts, double[] mean,
    double[] std, long[] partitionRows) implements Serializable {

  /** Largest label value seen + 1. */
  public int labelCount() {
    return classCounts.length;
  }

  /** Global index of the first row of each partition. */
  public long[] partitionOffsets() {
    long[] offsets = new long[partitionRows.length];
    long sum = 0;
    for (int p = 0; p < offsets.length; p++) {
      offsets[p] = sum;
      sum += partitionRows[p];
    }
    return offsets;
  }

  /**
   * Merges the partitions' statistics in partition order.
   *
   * @param featuresName how errors name the features column, e.g. "featuresCol 'features'"
   * @throws IllegalArgumentException when partitions hold vectors of different sizes
   */
  static DatasetSummary of(PartitionStats[] perPartition, String featuresName) {
    PartitionStats all = new PartitionStats(-1);
    long[] partitionRows = new long[perPartition.length];
    int numFeatures = -1;
    for (PartitionStats s : perPartition) {
      partitionRows[s.partition] = s.rows;
      if (s.rows > 0 && numFeatures >= 0 && s.numFeatures != numFeatures) {
        throw new IllegalArgumentException(featuresName + ": vectors have different sizes (" + numFeatures + " and "
            + s.numFeatures + " in partition " + s.partition + ")");
      }
      if (s.rows > 0) {
        numFeatures = s.numFeatures;
      }
      all.merge(s);
    }
    double[] std = new double[Math.max(numFeatures, 0)];
    double denominator = all.weightSum - all.weightSquareSum / all.weightSum;
    for (int j = 0; j < std.length; j++) {
      double var = denominator > 0 ? all.m2[j] / denominator : 0;
      std[j] = var > 0 ? Math.sqrt(var) : 0;
    }
    int labels = all.maxLabel + 1;
    return new DatasetSummary(all.rows, numFeatures, all.weightSum, Arrays.copyOf(all.classWeights, labels),
        Arrays.copyOf(all.classCounts, labels),
        all.mean == null ? new double[0] : all.mean, std, partitionRows);
  }
}
