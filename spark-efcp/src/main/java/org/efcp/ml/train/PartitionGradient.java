package org.efcp.ml.train;

import java.io.Serializable;
import org.efcp.model.DenseBlock;
import org.efcp.model.DifferentiableModel;

/**
 * What every partition computes for a step, whichever engine asks: its rows of mini-batch (epoch, step) (see
 * {@link EfcpTrainer}), standardized by the feature scale, and their loss and gradient at θ. Shipped to the
 * executors once per job (jobs engine: per step; stream engine: once per fit).
 */
public final class PartitionGradient implements Serializable {
  private static final long serialVersionUID = 1L;

  private final DifferentiableModel model;
  private final long[] offsets;
  private final long numRows;
  private final long seed;
  private final int batchSize;

  /**
   * @param model the model whose loss and gradient the rows give
   * @param offsets global index of each partition's first row ({@link DatasetSummary#partitionOffsets()})
   * @param numRows rows of the whole dataset
   * @param seed seed of the per-epoch permutation
   * @param batchSize rows per step over the whole dataset
   */
  public PartitionGradient(DifferentiableModel model, long[] offsets, long numRows, long seed, int batchSize) {
    this.model = model;
    this.offsets = offsets;
    this.numRows = numRows;
    this.seed = seed;
    this.batchSize = batchSize;
  }

  /** The number of parameters d. */
  public int dimension() {
    return model.numParameters();
  }

  /**
   * The share of the blocks of one partition.
   *
   * @param theta θ as shipped (float32), widened into {@code work} (length d, overwritten)
   * @param scale per-feature multipliers, or null
   * @param gradient accumulator of length d, overwritten
   */
  public PartitionShare compute(Iterable<TrainingBlock> blocks, float[] theta, double[] work, double[] scale,
      int epoch, long step, double[] gradient) {
    for (int i = 0; i < theta.length; i++) {
      work[i] = theta[i];
    }
    java.util.Arrays.fill(gradient, 0.0);
    EpochPermutation permutation = new EpochPermutation(numRows, seed, epoch);
    double loss = 0;
    double weight = 0;
    long rows = 0;
    for (TrainingBlock block : blocks) {
      DenseBlock batch = block.batch(permutation, epoch, offsets[block.partition()], step, batchSize, scale);
      if (batch != null) {
        loss += model.addLossAndGradient(batch, work, gradient);
        weight += batch.totalWeight();
        rows += batch.numRows();
      }
    }
    float[] share = new float[gradient.length];
    for (int i = 0; i < share.length; i++) {
      share[i] = (float) gradient[i];
    }
    return new PartitionShare(share, loss, weight, rows);
  }
}
