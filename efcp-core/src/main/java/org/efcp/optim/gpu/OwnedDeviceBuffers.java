package org.efcp.optim.gpu;

import java.util.ArrayList;
import java.util.List;

import org.efcp.cuda.DeviceBuffer;
import org.efcp.cuda.GpuContext;
import org.efcp.cuda.GpuStream;

/**
 * The device buffers one owner (a pipeline, an m×m state) allocates and returns together: counted by
 * {@link #bytes()}, zeroed by {@link #zero(GpuStream)}, returned to the pool by {@link #close()}. Not thread-safe.
 */
final class OwnedDeviceBuffers implements AutoCloseable {
  private final GpuContext context;
  private final List<DeviceBuffer> buffers = new ArrayList<>();

  OwnedDeviceBuffers(GpuContext context) {
    this.context = context;
  }

  /** A new buffer of {@code bytes} bytes, owned from now on. */
  DeviceBuffer allocate(long bytes) {
    DeviceBuffer b = context.allocate(bytes);
    buffers.add(b);
    return b;
  }

  /** Device bytes of every buffer allocated so far (and not yet returned). */
  long bytes() {
    long sum = 0;
    for (DeviceBuffer b : buffers) {
      sum += b.bytes();
    }
    return sum;
  }

  /** Queues the zeroing of every buffer allocated so far on {@code stream}. */
  void zero(GpuStream stream) {
    for (DeviceBuffer b : buffers) {
      b.zero(stream);
    }
  }

  /** Returns every buffer to the pool (no waiting); later calls do nothing until more are allocated. */
  @Override
  public void close() {
    for (DeviceBuffer b : buffers) {
      b.close();
    }
    buffers.clear();
  }
}
