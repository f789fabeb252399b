package org.efcp.ml.train;

/**
 * One partition's share of a mini-batch: the summed (not averaged) loss gradient rounded to float32, the
 * precision in which shares travel to the driver under every step engine, and the batch totals in full
 * precision.
 *
 * @param gradient Σ over the partition's batch rows of w·∇loss, float32, length d
 * @param totals the partition's loss, weight and row sums
 */
public record PartitionShare(float[] gradient, BatchTotals totals) {

  /** {@code gradient} rounded to float32. */
  public static PartitionShare of(double[] gradient, BatchTotals totals) {
    float[] share = new float[gradient.length];
    for (int i = 0; i < share.length; i++) {
      share[i] = (float) gradient[i];
    }
    return new PartitionShare(share, totals);
  }

  /** This share as the leaf {@code partition} of a fixed-order sum over {@code numPartitions} partitions. */
  public GradientPartial leaf(int partition, int numPartitions) {
    return GradientPartial.leaf(partition, numPartitions, gradient, totals.loss(), totals.weight(), totals.rows());
  }
}
