package org.efcp.ml.train;

import java.io.Serializable;
import org.efcp.cuda.DevicePreference;
import org.efcp.ml.train.gpu.DeviceGradients;
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
  private final DevicePreference device;
  private final String fit;

  /** Gradients on the CPU; see {@link #PartitionGradient(DifferentiableModel, long[], long, long, int,
   * DevicePreference, String)}. */
  public PartitionGradient(DifferentiableModel model, long[] offsets, long numRows, long seed, int batchSize) {
    this(model, offsets, numRows, seed, batchSize, DevicePreference.CPU, "");
  }

  /**
   * @param model the model whose loss and gradient the rows give
   * @param offsets global index of each partition's first row ({@link DatasetSummary#partitionOffsets()})
   * @param numRows rows of the whole dataset
   * @param seed seed of the per-epoch permutation
   * @param batchSize rows per step over the whole dataset
   * @param device where tasks compute: {@code cpu}; {@code auto} = the task's GPU when it has a usable one and the
   *     model a GPU gradient, else the CPU; {@code gpu} = the task's GPU or a task failure
   * @param fit a key unique to the fit, which scopes the rows executors keep on their GPUs
   */
  public PartitionGradient(DifferentiableModel model, long[] offsets, long numRows, long seed, int batchSize,
      DevicePreference device, String fit) {
    this.model = model;
    this.offsets = offsets;
    this.numRows = numRows;
    this.seed = seed;
    this.batchSize = batchSize;
    this.device = DeviceGradients.supports(model) ? device : DevicePreference.CPU;
    this.fit = fit;
  }

  /** The number of parameters d. */
  public int dimension() {
    return model.numParameters();
  }

  /** Frees the rows of {@code blocks} that this executor keeps on its GPU for this fit (nothing on the CPU). */
  public void release(Iterable<TrainingBlock> blocks) {
    if (device != DevicePreference.CPU) {
      for (TrainingBlock block : blocks) {
        DeviceGradients.releasePartition(fit, block.partition());
      }
    }
  }

  /**
   * The loss gradient of one partition's rows of mini-batch (epoch, step), summed (not averaged) in double and
   * added into {@code gradient} (length d, zero on entry: the caller clears it, e.g. in the pass that rounds the
   * previous step's values to float32 for the trip to the driver).
   *
   * @param theta θ as shipped: float32 values widened to double, length d
   * @param scale per-feature multipliers, or null
   * @return the batch totals of these rows
   */
  public BatchTotals compute(Iterable<TrainingBlock> blocks, double[] theta, double[] scale, int epoch, long step,
      double[] gradient) {
    EpochPermutation permutation = new EpochPermutation(numRows, seed, epoch);
    double loss = 0;
    double weight = 0;
    long rows = 0;
    for (TrainingBlock block : blocks) {
      if (device != DevicePreference.CPU) {
        long firstRow = offsets[block.partition()];
        int[] batchRows = block.batchRows(permutation, epoch, firstRow, step, batchSize);
        if (batchRows == null) {
          continue;
        }
        double[] lossWeight = DeviceGradients.addBatch(device, fit, block.partition(), model, block.rows(), scale,
            batchRows, theta, gradient);
        if (lossWeight != null) {
          loss += lossWeight[0];
          weight += lossWeight[1];
          rows += batchRows.length;
          continue;
        }
      }
      DenseBlock batch = block.batch(permutation, epoch, offsets[block.partition()], step, batchSize, scale);
      if (batch != null) {
        loss += model.addLossAndGradient(batch, theta, gradient);
        weight += batch.totalWeight();
        rows += batch.numRows();
      }
    }
    return new BatchTotals(loss, weight, rows);
  }
}
