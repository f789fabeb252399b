package org.efcp.model.gpu;

import org.efcp.cuda.DeviceBuffer;
import org.efcp.cuda.GpuContext;

/**
 * A device buffer kept between calls and replaced by a larger one only when a call needs more, so calls on blocks
 * no larger than earlier ones allocate nothing. The owner makes sure no queued work still uses the buffer when it
 * grows (the old one is returned at once). Not thread-safe.
 */
final class ScratchBuffer implements AutoCloseable {
  private final GpuContext ctx;
  private DeviceBuffer buffer;

  ScratchBuffer(GpuContext ctx) {
    this.ctx = ctx;
  }

  /** The buffer, replaced by one of exactly {@code bytes} when it holds fewer. */
  DeviceBuffer atLeast(long bytes) {
    return atLeast(bytes, bytes);
  }

  /**
   * The buffer, replaced by one of {@code capacity} bytes (≥ {@code bytes}; more leaves head room for larger calls
   * to come) when it holds fewer than {@code bytes}.
   */
  DeviceBuffer atLeast(long bytes, long capacity) {
    if (buffer == null || buffer.bytes() < bytes) {
      if (buffer != null) {
        buffer.close();
        buffer = null;
      }
      buffer = ctx.allocate(capacity);
    }
    return buffer;
  }

  /** What the last {@link #atLeast} returned (null before the first). */
  DeviceBuffer buffer() {
    return buffer;
  }

  /** Returns the buffer; closing twice does nothing. */
  @Override
  public void close() {
    if (buffer != null) {
      buffer.close();
      buffer = null;
    }
  }
}
