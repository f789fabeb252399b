package org.efcp.model.gpu;

import org.efcp.cuda.DeviceBuffer;
import org.efcp.cuda.GpuContext;
import org.efcp.cuda.GpuStream;
import org.efcp.cuda.Kernel;

/**
 * Mini-batches out of a device-resident {@link GpuBlock}: copies the batch's row indices to the device (n int32, the
 * only per-step upload besides θ) and gathers those rows into scratch buffers kept between calls (kernel
 * {@code efcp_gather_rows} of {@code util.cu}). The block it returns is a view of the scratch, valid until the next
 * {@link #gather} or {@link #close()}. Not thread-safe.
 */
public final class GpuRowGather implements AutoCloseable {
  private static final int THREADS = 256;
  private static final int MAX_BLOCKS = 4096;

  private final GpuContext context;
  private final Kernel kernel;
  private final GpuStream stream;
  private DeviceBuffer rowIndices;
  private DeviceBuffer features;
  private DeviceBuffer labels;
  private DeviceBuffer weights;
  private boolean closed;

  public GpuRowGather(GpuContext context) {
    this.context = context;
    this.kernel = context.module("util").kernel("efcp_gather_rows");
    this.stream = context.createStream();
  }

  /**
   * The rows {@code rows[0..n)} of {@code source}, in that order, as a block on the device (waits for the copy).
   *
   * @throws IllegalArgumentException "rows: ..." when n is out of [1, rows.length] or an index is outside the block
   */
  public GpuBlock gather(GpuBlock source, int[] rows, int n) {
    if (closed) {
      throw new IllegalStateException("gather: used after close");
    }
    if (n < 1 || n > rows.length) {
      throw new IllegalArgumentException("rows: n must be in [1, " + rows.length + "], got " + n);
    }
    int sourceRows = source.numRows();
    for (int i = 0; i < n; i++) {
      if (rows[i] < 0 || rows[i] >= sourceRows) {
        throw new IllegalArgumentException("rows: index " + rows[i] + " at " + i + " is outside [0, " + sourceRows
            + ")");
      }
    }
    int f = source.numFeatures();
    rowIndices = grow(rowIndices, 4L * n);
    features = grow(features, 4L * n * Math.max(1, f));
    labels = grow(labels, 4L * n);
    weights = grow(weights, 4L * n);
    rowIndices.copyFrom(rows, 0, n, 0);
    long total = (long) n * Math.max(1, f);
    int blocks = (int) Math.min(MAX_BLOCKS, (total + THREADS - 1) / THREADS);
    kernel.launch(stream, blocks, 1, THREADS, 1, 0, source.features(), source.labels(), source.weights(), f,
        rowIndices, n, features, labels, weights);
    stream.synchronize();
    return GpuBlock.view(n, f, source.numClasses(), features.view(0, 4L * n * f), labels.view(0, 4L * n),
        weights.view(0, 4L * n));
  }

  /** Returns the scratch buffers and the stream; closing twice does nothing. */
  @Override
  public void close() {
    if (closed) {
      return;
    }
    closed = true;
    for (DeviceBuffer b : new DeviceBuffer[] {rowIndices, features, labels, weights}) {
      if (b != null) {
        b.close();
      }
    }
    stream.close();
  }

  /** {@code current} when it holds {@code bytes}, else a new buffer (with 25 % head room; the old one returned). */
  private DeviceBuffer grow(DeviceBuffer current, long bytes) {
    if (current != null && current.bytes() >= bytes) {
      return current;
    }
    if (current != null) {
      current.close();
    }
    return context.allocate(bytes + bytes / 4);
  }
}
