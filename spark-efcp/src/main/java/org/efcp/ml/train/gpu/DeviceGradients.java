package org.efcp.ml.train.gpu;

import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;

import org.apache.logging.log4j.LogManager;
import org.apache.logging.log4j.Logger;
import org.apache.spark.SparkEnv;
import org.efcp.cuda.CudaException;
import org.efcp.cuda.DevicePreference;
import org.efcp.cuda.GpuContext;
import org.efcp.model.DenseBlock;
import org.efcp.model.DifferentiableModel;
import org.efcp.model.gpu.GpuModels;

/**
 * Partition gradients on the task's GPU ({@link TaskDevice}) over device-resident rows: a partition's rows are
 * uploaded on its first step of a fit and stay on that executor's GPU across steps (or, when they do not fit, the
 * refusal stays: {@link ResidentPartition}) (an executor-wide cache scoped to
 * the fit: freed by {@link #releaseFit}, which the driver's release job runs at the fit's end
 * ({@link ExecutorDeviceRows#release}), by {@link #releasePartition} when a long-lived stream task ends, or else
 * once {@value #FITS_KEPT} more recently used fits have rows in this JVM).
 */
public final class DeviceGradients {
  /**
   * Fits whose rows an executor keeps at most. Fits free their rows when they end, so this only bounds what a missed
   * release leaves behind; it is above 1 so that concurrent fits (a CrossValidator with parallelism) do not evict
   * each other's rows and upload them again every step.
   */
  static final int FITS_KEPT = 8;
  private static final FitScopedCache<ResidentPartition> CACHE = new FitScopedCache<>(FITS_KEPT);
  private static final Logger LOG = LogManager.getLogger(DeviceGradients.class);
  private static final AtomicBoolean REPORTED_FULL = new AtomicBoolean();
  private static final AtomicLong REFUSED_UPLOADS = new AtomicLong();

  private DeviceGradients() {
  }

  /** Whether {@code model} has a GPU gradient. */
  public static boolean supports(DifferentiableModel model) {
    return GpuModels.supports(model);
  }

  /**
   * The calling task's GPU for {@code device}: its assigned GPU, or null for the CPU ({@code auto} without a usable
   * GPU).
   *
   * @throws IllegalStateException for {@code device=gpu} when this task cannot use its GPU
   */
  public static GpuContext taskGpu(DevicePreference device) {
    return TaskDevice.forCurrentTask(device);
  }

  /**
   * Adds the loss gradient of rows {@code batchRows} of a partition's rows at θ into {@code gradient} on
   * {@code context} (the task's GPU), uploading the partition first if this executor has not kept it for {@code fit}.
   * When the rows do not fit in the GPU's memory (at the upload, or at a later batch), device=auto computes the
   * partition on the CPU (logged once per executor) and this executor remembers the refusal for the rest of the fit;
   * device=gpu fails.
   *
   * @param device the fit's device preference: auto or gpu
   * @param raw the partition's rows (unstandardized); {@code scale} multiplies their features (null = none)
   * @return {loss, weight} of those rows; or null, with {@code gradient} untouched, when device=auto and the rows are
   *     not on the GPU for lack of memory (the caller computes them on the CPU)
   * @throws IllegalStateException for device=gpu when the rows do not fit, with the reason
   */
  public static double[] addBatch(GpuContext context, DevicePreference device, String fit, int partition,
      DifferentiableModel model, DenseBlock raw, double[] scale, int[] batchRows, double[] theta, double[] gradient) {
    try (FitScopedCache.Lease<ResidentPartition> lease = CACHE.acquire(fit, partition, () -> {
      ResidentPartition p = ResidentPartition.upload(context, model, raw, scale);
      if (p.refusal() != null) {
        REFUSED_UPLOADS.incrementAndGet();
      }
      return p;
    })) {
      double[] lossWeight = lease.value().addBatch(batchRows, theta, gradient);
      if (lossWeight == null) {
        if (device == DevicePreference.GPU) {
          // The fit fails here. Keeping the refusal would make a retried stream stage fail at once, before its other
          // tasks, whose "driver closed the connection" then becomes the failure Spark reports instead of this one.
          CACHE.release(fit, partition);
        }
        refused(device, partition, lease.value().refusal());
      }
      return lossWeight;
    }
  }

  /**
   * How many partition uploads in this JVM ran out of device memory: each partition of a fit at most once, however
   * many steps it takes.
   */
  public static long refusedUploads() {
    return REFUSED_UPLOADS.get();
  }

  /**
   * A partition's rows are not on its task's GPU for lack of memory ({@code e}): for device=auto the task computes on
   * the CPU instead (logged once per executor).
   *
   * @throws IllegalStateException for device=gpu, with the reason
   */
  private static void refused(DevicePreference device, int partition, CudaException e) {
    String executor = SparkEnv.get() == null ? "driver" : SparkEnv.get().executorId();
    String why = "partition " + partition + "'s rows do not fit in executor " + executor + "'s GPU (" + e.getMessage()
        + ")";
    if (device == DevicePreference.GPU) {
      throw new IllegalStateException("device: gpu: " + why + "; use more partitions, or device=auto or cpu", e);
    }
    if (REPORTED_FULL.compareAndSet(false, true)) {
      LOG.warn("EFCP device=auto: {}; computing on the CPU", why);
    }
  }

  /** Frees this JVM's device-resident rows of one partition of {@code fit} (once no task uses them). */
  public static void releasePartition(String fit, int partition) {
    CACHE.release(fit, partition);
  }

  /** Frees this JVM's device-resident rows of {@code fit} (once no task uses them). */
  public static void releaseFit(String fit) {
    CACHE.releaseFit(fit);
  }
}
