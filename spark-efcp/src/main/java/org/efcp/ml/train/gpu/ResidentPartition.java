package org.efcp.ml.train.gpu;

import org.efcp.cuda.CudaException;
import org.efcp.cuda.GpuContext;
import org.efcp.model.DenseBlock;
import org.efcp.model.DifferentiableModel;

/**
 * One partition's place on an executor's GPU for a fit: its rows kept there ({@link GpuPartitionState}), or the
 * out-of-memory error that kept them off it. Under device=auto the refusal is kept for the rest of the fit, so that
 * under the jobs engine (a new task every step) the partition's later steps go to the CPU at once instead of trying
 * the upload again. Thread-safe.
 */
final class ResidentPartition implements AutoCloseable {
  private GpuPartitionState rows;
  private CudaException refusal;

  private ResidentPartition(GpuPartitionState rows, CudaException refusal) {
    this.rows = rows;
    this.refusal = refusal;
  }

  /**
   * Uploads {@code raw} (features × {@code scale}) for {@code model}; a lack of device memory is kept as the refusal
   * rather than thrown (nothing stays allocated then).
   */
  static ResidentPartition upload(GpuContext context, DifferentiableModel model, DenseBlock raw, double[] scale) {
    try {
      return new ResidentPartition(new GpuPartitionState(context, model, raw, scale), null);
    } catch (CudaException e) {
      if (!e.isOutOfMemory()) {
        throw e;
      }
      return new ResidentPartition(null, e);
    }
  }

  /**
   * Adds the loss gradient of rows {@code batchRows} at θ into {@code gradient} and returns {loss, weight}; or null,
   * with {@code gradient} untouched, when the rows are not on the GPU for lack of memory (also when this batch is the
   * one that ran out: the rows are then freed and the refusal kept).
   */
  synchronized double[] addBatch(int[] batchRows, double[] theta, double[] gradient) {
    if (refusal != null) {
      return null;
    }
    try {
      return rows.addBatch(batchRows, theta, gradient);
    } catch (CudaException e) {
      if (!e.isOutOfMemory()) {
        throw e;
      }
      refusal = e;
      rows.close();
      rows = null;
      return null;
    }
  }

  /** The out-of-memory error that keeps the rows off the GPU, or null while they are on it. */
  synchronized CudaException refusal() {
    return refusal;
  }

  @Override
  public synchronized void close() {
    if (rows != null) {
      rows.close();
      rows = null;
    }
  }
}
