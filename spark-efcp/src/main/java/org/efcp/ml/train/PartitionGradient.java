package org.efcp.ml.train;

import java.io.Serializable;
import org.efcp.cuda.DevicePreference;
import org.efcp.cuda.GpuContext;
import org.efcp.ml.train.gpu.DeviceGradients;
import org.efcp.ml.train.gpu.ExecutorDeviceRows;
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
  /** The fit's rows on executor GPUs; null for device=cpu. */
  private final ExecutorDeviceRows deviceRows;
  /** This task's GPU, or null for the CPU: decided once per deserialized copy, i.e. per task. */
  private transient GpuContext gpu;
  private transient boolean placed;

  /** Gradients on the CPU; see {@link #PartitionGradient(DifferentiableModel, long[], long, long, int,
   * DevicePreference, ExecutorDeviceRows)}. */
  public PartitionGradient(DifferentiableModel model, long[] offsets, long numRows, long seed, int batchSize) {
    this(model, offsets, numRows, seed, batchSize, DevicePreference.CPU, null);
  }

  /**
   * @param model the model whose loss and gradient the rows give
   * @param offsets global index of each partition's first row ({@link DatasetSummary#partitionOffsets()})
   * @param numRows rows of the whole dataset
   * @param seed seed of the per-epoch permutation
   * @param batchSize rows per step over the whole dataset
   * @param device where tasks compute: {@code cpu}; {@code auto} = the task's GPU when it has a usable one, else the
   *     CPU; {@code gpu} = the task's GPU or a task failure (not cpu only for a model with a GPU gradient: see
   *     {@code EfcpTrainer.executorDevice})
   * @param deviceRows the fit's rows on executor GPUs (its key and GPU step count); may be null for {@code cpu}
   */
  public PartitionGradient(DifferentiableModel model, long[] offsets, long numRows, long seed, int batchSize,
      DevicePreference device, ExecutorDeviceRows deviceRows) {
    this.model = model;
    this.offsets = offsets;
    this.numRows = numRows;
    this.seed = seed;
    this.batchSize = batchSize;
    if (device != DevicePreference.CPU && !DeviceGradients.supports(model)) {
      throw new IllegalArgumentException("device: " + model.getClass().getSimpleName() + " has no GPU gradient");
    }
    if (device != DevicePreference.CPU && deviceRows == null) {
      throw new IllegalArgumentException("deviceRows: required for device=" + device);
    }
    this.device = device;
    this.deviceRows = deviceRows;
  }

  /** The number of parameters d. */
  public int dimension() {
    return model.numParameters();
  }

  /** The calling task's GPU, or null for the CPU (see {@link DeviceGradients#taskGpu}), looked up once. */
  private GpuContext taskGpu() {
    if (!placed) {
      gpu = device == DevicePreference.CPU ? null : DeviceGradients.taskGpu(device);
      placed = true;
    }
    return gpu;
  }

  /** Frees the rows of {@code blocks} that this executor keeps on its GPU for this fit (nothing on the CPU). */
  public void release(Iterable<TrainingBlock> blocks) {
    if (device != DevicePreference.CPU) {
      for (TrainingBlock block : blocks) {
        DeviceGradients.releasePartition(deviceRows.fit(), block.partition());
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
    GpuContext context = taskGpu();
    for (TrainingBlock block : blocks) {
      int[] batchRows = block.batchRows(permutation, epoch, offsets[block.partition()], step, batchSize);
      if (batchRows == null) {
        continue;
      }
      double[] lossWeight = context == null ? null : gpuBatch(context, block, batchRows, theta, scale, gradient);
      if (lossWeight != null) {
        loss += lossWeight[0];
        weight += lossWeight[1];
      } else {
        context = null;
        DenseBlock batch = block.gather(batchRows, scale);
        loss += model.addLossAndGradient(batch, theta, gradient);
        weight += batch.totalWeight();
      }
      rows += batchRows.length;
    }
    return new BatchTotals(loss, weight, rows);
  }

  /**
   * {loss, weight} of the batch computed on {@code context}, added into {@code gradient}; or null, with
   * {@code gradient} untouched, when device=auto and the partition's rows do not fit in the GPU's memory: this task
   * then computes on the CPU ({@link DeviceGradients#addBatch}).
   */
  private double[] gpuBatch(GpuContext context, TrainingBlock block, int[] batchRows, double[] theta, double[] scale,
      double[] gradient) {
    double[] lossWeight = DeviceGradients.addBatch(context, device, deviceRows.fit(), block.partition(), model,
        block.rows(), scale, batchRows, theta, gradient);
    if (lossWeight == null) {
      gpu = null;
    } else {
      deviceRows.countGpuStep();
    }
    return lossWeight;
  }
}
