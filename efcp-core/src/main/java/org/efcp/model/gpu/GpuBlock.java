package org.efcp.model.gpu;

import org.efcp.cuda.DeviceBuffer;
import org.efcp.cuda.GpuContext;
import org.efcp.model.DenseBlock;

/**
 * A {@link DenseBlock} copied to the device once, so a partition's rows can stay there across optimizer
 * steps: features as row-major n × f float32, labels as int32 class indices (checked to lie in
 * [0, numClasses) at upload, since the kernels index with them), weights as float32. Made by
 * {@link GpuModel#upload}; owns its device buffers until {@link #close()}.
 */
public final class GpuBlock implements AutoCloseable {
  private final int numRows;
  private final int numFeatures;
  private final int numClasses;
  private final DeviceBuffer features;
  private final DeviceBuffer labels;
  private final DeviceBuffer weights;
  private boolean closed;

  private GpuBlock(int numRows, int numFeatures, int numClasses, DeviceBuffer features, DeviceBuffer labels,
      DeviceBuffer weights) {
    this.numRows = numRows;
    this.numFeatures = numFeatures;
    this.numClasses = numClasses;
    this.features = features;
    this.labels = labels;
    this.weights = weights;
  }

  /** Copies {@code block} to {@code ctx}'s device; its labels must be integers in [0, numClasses). */
  static GpuBlock upload(GpuContext ctx, DenseBlock block, int numClasses) {
    int n = block.numRows();
    int f = block.numFeatures();
    int[] y = labelsToInt(block.labels(), numClasses);
    float[] x = toFloat(block.features());
    float[] w = toFloat(block.weights());
    // Zero-row blocks still get (1-float) buffers, so every buffer is a real allocation.
    DeviceBuffer dx = ctx.allocate(4L * Math.max(1, x.length));
    DeviceBuffer dy = null;
    DeviceBuffer dw = null;
    try {
      dy = ctx.allocate(4L * Math.max(1, n));
      dw = ctx.allocate(4L * Math.max(1, n));
      dx.copyFrom(x, 0, x.length, 0);
      dy.copyFrom(y, 0, n, 0);
      dw.copyFrom(w, 0, n, 0);
      return new GpuBlock(n, f, numClasses, dx, dy, dw);
    } catch (RuntimeException e) {
      dx.close();
      if (dy != null) {
        dy.close();
      }
      if (dw != null) {
        dw.close();
      }
      throw e;
    }
  }

  /**
   * A block over buffers owned elsewhere (views: closing the block returns nothing), e.g. a gathered mini-batch.
   */
  static GpuBlock view(int numRows, int numFeatures, int numClasses, DeviceBuffer features, DeviceBuffer labels,
      DeviceBuffer weights) {
    return new GpuBlock(numRows, numFeatures, numClasses, features, labels, weights);
  }

  /**
   * The labels as int32 class indices.
   *
   * @throws IllegalArgumentException "label: ..." for a label that is not an integer in [0, numClasses)
   */
  static int[] labelsToInt(double[] labels, int numClasses) {
    int[] out = new int[labels.length];
    for (int i = 0; i < labels.length; i++) {
      double y = labels[i];
      if (!(y >= 0 && y < numClasses && y == Math.rint(y))) {
        throw new IllegalArgumentException(
            "label: row " + i + " is " + y + " (must be an integer in [0, " + numClasses + "))");
      }
      out[i] = (int) y;
    }
    return out;
  }

  /** Rounds every value to the nearest float32. */
  static float[] toFloat(double[] values) {
    float[] out = new float[values.length];
    for (int i = 0; i < values.length; i++) {
      out[i] = (float) values[i];
    }
    return out;
  }

  /** n, the number of rows. */
  public int numRows() {
    return numRows;
  }

  /** f, the number of features per row. */
  public int numFeatures() {
    return numFeatures;
  }

  /** The class count the labels were checked against. */
  public int numClasses() {
    return numClasses;
  }

  /** Row-major n × f float32 features. */
  DeviceBuffer features() {
    checkOpen();
    return features;
  }

  /** n int32 labels. */
  DeviceBuffer labels() {
    checkOpen();
    return labels;
  }

  /** n float32 weights. */
  DeviceBuffer weights() {
    checkOpen();
    return weights;
  }

  /** Returns the device buffers to the pool; closing twice does nothing. */
  @Override
  public synchronized void close() {
    if (!closed) {
      closed = true;
      features.close();
      labels.close();
      weights.close();
    }
  }

  private synchronized void checkOpen() {
    if (closed) {
      throw new IllegalStateException("block: used after close");
    }
  }
}
