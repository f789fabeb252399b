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

  private final Kernel kernel;
  private final GpuStream stream;
  private final ScratchBuffer rowIndices;
  private final ScratchBuffer features;
  private final ScratchBuffer labels;
  private final ScratchBuffer weights;
  private boolean closed;

  public GpuRowGather(GpuContext context) {
    this.kernel = context.module("util").kernel("efcp_gather_rows");
    this.stream = context.createStream();
    this.rowIndices = new ScratchBuffer(context);
    this.features = new ScratchBuffer(context);
    this.labels = new ScratchBuffer(context);
    this.weights = new ScratchBuffer(context);
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
    DeviceBuffer indices = grow(rowIndices, 4L * n);
    DeviceBuffer x = grow(features, 4L * n * Math.max(1, f));
    DeviceBuffer y = grow(labels, 4L * n);
    DeviceBuffer w = grow(weights, 4L * n);
    indices.copyFrom(rows, 0, n, 0);
    long total = (long) n * Math.max(1, f);
    int blocks = (int) Math.min(MAX_BLOCKS, (total + THREADS - 1) / THREADS);
    kernel.launch(stream, blocks, 1, THREADS, 1, 0, source.features(), source.labels(), source.weights(), f,
        indices, n, x, y, w);
    stream.synchronize();
    return GpuBlock.view(n, f, source.numClasses(), x.view(0, 4L * n * f), y.view(0, 4L * n), w.view(0, 4L * n));
  }

  /** Returns the scratch buffers and the stream; closing twice does nothing. */
  @Override
  public void close() {
    if (closed) {
      return;
    }
    closed = true;
    for (ScratchBuffer b : new ScratchBuffer[] {rowIndices, features, labels, weights}) {
      b.close();
    }
    stream.close();
  }

  /** {@code scratch} grown, when it holds fewer than {@code bytes}, with 25 % head room for the batches to come. */
  private static DeviceBuffer grow(ScratchBuffer scratch, long bytes) {
    return scratch.atLeast(bytes, bytes + bytes / 4);
  }
}
