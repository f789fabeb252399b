package org.efcp.ml.train.gpu;

import org.efcp.cuda.GpuContext;
import org.efcp.model.DenseBlock;
import org.efcp.model.DifferentiableModel;
import org.efcp.model.gpu.GpuBlock;
import org.efcp.model.gpu.GpuModel;
import org.efcp.model.gpu.GpuModels;
import org.efcp.model.gpu.GpuRowGather;

/**
 * One partition's rows resident on a GPU for a fit: standardized once at upload (features × scale, rounded to
 * float32), with the GPU model and the row gather that serve its mini-batches. Per step only θ (float32) and the
 * batch's row indices go to the device and the gradient (float64) comes back.
 */
final class GpuPartitionState implements AutoCloseable {
  private final GpuModel model;
  private final GpuRowGather gather;
  private final GpuBlock rows;
  private final double[] weights;
  private boolean closed;

  /** Uploads {@code raw} (features × {@code scale}; scale null = as they are) for {@code model}. */
  GpuPartitionState(GpuContext context, DifferentiableModel model, DenseBlock raw, double[] scale) {
    GpuModel gpu = GpuModels.create(context, model);
    GpuRowGather g = null;
    try {
      g = new GpuRowGather(context);
      this.rows = gpu.upload(scaled(raw, scale));
    } catch (RuntimeException | Error e) {
      if (g != null) {
        g.close();
      }
      gpu.close();
      throw e;
    }
    this.model = gpu;
    this.gather = g;
    this.weights = raw.weights();
  }

  /**
   * Adds the loss gradient of the rows {@code batchRows} (indices into the partition's rows) at θ into
   * {@code gradient} and returns {loss, weight} of those rows.
   */
  synchronized double[] addBatch(int[] batchRows, double[] theta, double[] gradient) {
    if (closed) {
      throw new IllegalStateException("device-resident partition: used after close");
    }
    GpuBlock batch = gather.gather(rows, batchRows, batchRows.length);
    double loss = model.addLossAndGradient(batch, theta, gradient);
    double weight = 0;
    for (int r : batchRows) {
      weight += weights[r];
    }
    return new double[] {loss, weight};
  }

  @Override
  public synchronized void close() {
    if (closed) {
      return;
    }
    closed = true;
    try {
      rows.close();
      gather.close();
    } finally {
      model.close();
    }
  }

  private static DenseBlock scaled(DenseBlock raw, double[] scale) {
    if (scale == null) {
      return raw;
    }
    int n = raw.numRows();
    int f = raw.numFeatures();
    double[] src = raw.features();
    double[] x = new double[src.length];
    for (int i = 0; i < n; i++) {
      int o = i * f;
      for (int j = 0; j < f; j++) {
        x[o + j] = src[o + j] * scale[j];
      }
    }
    return new DenseBlock(n, f, x, raw.labels(), raw.weights());
  }
}
