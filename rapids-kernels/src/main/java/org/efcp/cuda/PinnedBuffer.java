package org.efcp.cuda;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.DoubleBuffer;
import java.nio.FloatBuffer;
import java.nio.IntBuffer;

import jcuda.Pointer;
import jcuda.driver.JCudaDriver;

/**
 * Page-locked host memory ({@code cuMemAllocHost}) for asynchronous copies, readable and writable from Java
 * through native-order NIO views. Views are limited to 2 GiB (NIO's limit).
 */
public final class PinnedBuffer implements AutoCloseable {
  private final GpuContext context;
  private final Pointer pointer;
  private final long bytes;
  private ByteBuffer buffer;
  private boolean closed;

  PinnedBuffer(GpuContext context, long bytes) {
    if (bytes <= 0) {
      throw new IllegalArgumentException("bytes: must be > 0, got " + bytes);
    }
    this.context = context;
    this.bytes = bytes;
    this.pointer = new Pointer();
    context.makeCurrent();
    Cuda.check("cuMemAllocHost(" + bytes + " bytes)", () -> JCudaDriver.cuMemAllocHost(pointer, bytes));
    context.countPinned(bytes);
  }

  /** Size in bytes. */
  public long bytes() {
    return bytes;
  }

  /** The host address, for calls this layer does not wrap. */
  public Pointer pointer() {
    return pointer;
  }

  /** The whole buffer as a native-order {@link ByteBuffer} (position 0, limit {@link #bytes()}). */
  public synchronized ByteBuffer byteBuffer() {
    if (closed) {
      throw new IllegalStateException("buffer: used after close");
    }
    if (buffer == null) {
      if (bytes > Integer.MAX_VALUE) {
        throw new IllegalStateException("buffer: " + bytes + " bytes do not fit a ByteBuffer");
      }
      buffer = pointer.getByteBuffer(0, bytes).order(ByteOrder.nativeOrder());
    }
    return buffer.duplicate().order(ByteOrder.nativeOrder());
  }

  /** A float view of the whole buffer (element i at byte 4i). */
  public FloatBuffer floats() {
    return byteBuffer().asFloatBuffer();
  }

  /** A double view of the whole buffer (element i at byte 8i). */
  public DoubleBuffer doubles() {
    return byteBuffer().asDoubleBuffer();
  }

  /** An int view of the whole buffer (element i at byte 4i). */
  public IntBuffer ints() {
    return byteBuffer().asIntBuffer();
  }

  /** Frees the memory with {@code cuMemFreeHost}; views obtained before must not be used afterwards. */
  @Override
  public synchronized void close() {
    if (!closed) {
      closed = true;
      buffer = null;
      context.makeCurrent();
      Cuda.check("cuMemFreeHost", () -> JCudaDriver.cuMemFreeHost(pointer));
      context.countPinned(-bytes);
    }
  }
}
