package org.efcp.ml.train;

/**
 * One partition's share of a mini-batch: the summed (not averaged) loss gradient rounded to float32, the
 * precision in which shares travel to the driver under every step engine, and the summed loss, example weight
 * and row count in full precision.
 *
 * @param gradient Σ over the partition's batch rows of w·∇loss, float32, length d
 * @param loss Σ w·loss (natural log)
 * @param weight Σ w
 * @param rows number of batch rows in the partition
 */
public record PartitionShare(float[] gradient, double loss, double weight, long rows) {

  /** This share as the leaf {@code partition} of a fixed-order sum over {@code numPartitions} partitions. */
  public GradientPartial leaf(int partition, int numPartitions) {
    return GradientPartial.leaf(partition, numPartitions, gradient, loss, weight, rows);
  }
}
