package org.efcp.cuda;

import jcuda.Pointer;
import jcuda.driver.CUdeviceptr;
import jcuda.driver.JCudaDriver;

/**
 * A range of device memory: either a pooled block (from {@link GpuContext#allocate}) or a non-owning view
 * into one. All offsets and sizes are in bytes. The synchronous copies run on the legacy default stream and
 * return when the data has arrived; the {@code Async} ones are queued on the given stream (null = the
 * legacy default stream) and need a {@link PinnedBuffer} on the host side.
 */
public final class DeviceBuffer implements AutoCloseable {
  private final GpuContext context;
  private final DeviceBuffer root;
  private final CUdeviceptr pointer;
  private final long bytes;
  private final long sizeClass;
  private boolean closed;

  private DeviceBuffer(GpuContext context, DeviceBuffer root, CUdeviceptr pointer, long bytes, long sizeClass) {
    this.context = context;
    this.root = root == null ? this : root;
    this.pointer = pointer;
    this.bytes = bytes;
    this.sizeClass = sizeClass;
  }

  /** An owning buffer of {@code bytes} on a pooled block of {@code sizeClass} bytes. */
  static DeviceBuffer owning(GpuContext context, CUdeviceptr block, long bytes, long sizeClass) {
    return new DeviceBuffer(context, null, block, bytes, sizeClass);
  }

  /** Size of this buffer (or view) in bytes. */
  public long bytes() {
    return bytes;
  }

  /** The device address of the first byte (a view's pointer carries its offset). */
  public CUdeviceptr pointer() {
    return pointer;
  }

  /**
   * A non-owning view of {@code bytes} bytes starting {@code offsetBytes} into this buffer; it is valid
   * while the owning buffer is open, and closing it does nothing.
   */
  public DeviceBuffer view(long offsetBytes, long bytes) {
    checkRange("offsetBytes", offsetBytes, bytes, this.bytes);
    return new DeviceBuffer(context, root, pointer.withByteOffset(offsetBytes), bytes, 0);
  }

  /** Copies {@code count} floats from {@code src[srcOffset..]} to this buffer at {@code dstByteOffset}. */
  public void copyFrom(float[] src, int srcOffset, int count, long dstByteOffset) {
    checkArray("src", src.length, srcOffset, count);
    copyIn(Pointer.to(src).withByteOffset(4L * srcOffset), 4L * count, dstByteOffset);
  }

  /** Copies {@code count} doubles from {@code src[srcOffset..]} to this buffer at {@code dstByteOffset}. */
  public void copyFrom(double[] src, int srcOffset, int count, long dstByteOffset) {
    checkArray("src", src.length, srcOffset, count);
    copyIn(Pointer.to(src).withByteOffset(8L * srcOffset), 8L * count, dstByteOffset);
  }

  /** Copies {@code count} ints from {@code src[srcOffset..]} to this buffer at {@code dstByteOffset}. */
  public void copyFrom(int[] src, int srcOffset, int count, long dstByteOffset) {
    checkArray("src", src.length, srcOffset, count);
    copyIn(Pointer.to(src).withByteOffset(4L * srcOffset), 4L * count, dstByteOffset);
  }

  /** Copies {@code count} longs from {@code src[srcOffset..]} to this buffer at {@code dstByteOffset}. */
  public void copyFrom(long[] src, int srcOffset, int count, long dstByteOffset) {
    checkArray("src", src.length, srcOffset, count);
    copyIn(Pointer.to(src).withByteOffset(8L * srcOffset), 8L * count, dstByteOffset);
  }

  /** Copies {@code count} floats from this buffer at {@code srcByteOffset} to {@code dst[dstOffset..]}. */
  public void copyTo(float[] dst, int dstOffset, int count, long srcByteOffset) {
    checkArray("dst", dst.length, dstOffset, count);
    copyOut(Pointer.to(dst).withByteOffset(4L * dstOffset), 4L * count, srcByteOffset);
  }

  /** Copies {@code count} doubles from this buffer at {@code srcByteOffset} to {@code dst[dstOffset..]}. */
  public void copyTo(double[] dst, int dstOffset, int count, long srcByteOffset) {
    checkArray("dst", dst.length, dstOffset, count);
    copyOut(Pointer.to(dst).withByteOffset(8L * dstOffset), 8L * count, srcByteOffset);
  }

  /** Copies {@code count} ints from this buffer at {@code srcByteOffset} to {@code dst[dstOffset..]}. */
  public void copyTo(int[] dst, int dstOffset, int count, long srcByteOffset) {
    checkArray("dst", dst.length, dstOffset, count);
    copyOut(Pointer.to(dst).withByteOffset(4L * dstOffset), 4L * count, srcByteOffset);
  }

  /** Copies {@code count} longs from this buffer at {@code srcByteOffset} to {@code dst[dstOffset..]}. */
  public void copyTo(long[] dst, int dstOffset, int count, long srcByteOffset) {
    checkArray("dst", dst.length, dstOffset, count);
    copyOut(Pointer.to(dst).withByteOffset(8L * dstOffset), 8L * count, srcByteOffset);
  }

  /** Queues setting every byte of this buffer (or view) to zero on {@code s}. */
  public void zero(GpuStream s) {
    checkOpen();
    if (bytes == 0) {
      return;
    }
    context.makeCurrent();
    Cuda.check("cuMemsetD8Async",
        () -> JCudaDriver.cuMemsetD8Async(pointer, (byte) 0, bytes, GpuStream.handleOf(s)));
  }

  /**
   * Queues a copy of {@code bytes} bytes from {@code src} at {@code srcByteOffset} to this buffer at
   * {@code dstByteOffset} on {@code s}; {@code src} must stay unchanged until the stream passes the copy.
   */
  public void copyFromAsync(PinnedBuffer src, long srcByteOffset, long bytes, long dstByteOffset, GpuStream s) {
    checkOpen();
    checkRange("srcByteOffset", srcByteOffset, bytes, src.bytes());
    checkRange("dstByteOffset", dstByteOffset, bytes, this.bytes);
    if (bytes == 0) {
      return;
    }
    context.makeCurrent();
    Cuda.check("cuMemcpyHtoDAsync", () -> JCudaDriver.cuMemcpyHtoDAsync(pointer.withByteOffset(dstByteOffset),
        src.pointer().withByteOffset(srcByteOffset), bytes, GpuStream.handleOf(s)));
  }

  /**
   * Queues a copy of {@code bytes} bytes from this buffer at {@code srcByteOffset} into {@code dst} at
   * {@code dstByteOffset} on {@code s}; read {@code dst} only after synchronising the stream.
   */
  public void copyToAsync(PinnedBuffer dst, long dstByteOffset, long bytes, long srcByteOffset, GpuStream s) {
    checkOpen();
    checkRange("dstByteOffset", dstByteOffset, bytes, dst.bytes());
    checkRange("srcByteOffset", srcByteOffset, bytes, this.bytes);
    if (bytes == 0) {
      return;
    }
    context.makeCurrent();
    Cuda.check("cuMemcpyDtoHAsync", () -> JCudaDriver.cuMemcpyDtoHAsync(dst.pointer().withByteOffset(dstByteOffset),
        pointer.withByteOffset(srcByteOffset), bytes, GpuStream.handleOf(s)));
  }

  /**
   * Queues a device-to-device copy of {@code bytes} bytes from {@code src} at {@code srcByteOffset} to this
   * buffer at {@code dstByteOffset} on {@code s}.
   */
  public void copyFromAsync(DeviceBuffer src, long srcByteOffset, long bytes, long dstByteOffset, GpuStream s) {
    checkOpen();
    src.checkOpen();
    checkRange("srcByteOffset", srcByteOffset, bytes, src.bytes);
    checkRange("dstByteOffset", dstByteOffset, bytes, this.bytes);
    if (bytes == 0) {
      return;
    }
    context.makeCurrent();
    Cuda.check("cuMemcpyDtoDAsync", () -> JCudaDriver.cuMemcpyDtoDAsync(pointer.withByteOffset(dstByteOffset),
        src.pointer.withByteOffset(srcByteOffset), bytes, GpuStream.handleOf(s)));
  }

  /**
   * Returns an owning buffer's block to the context's pool (see {@link GpuContext#allocate} for when that is
   * safe); closing a view, or closing twice, does nothing.
   */
  @Override
  public void close() {
    if (root != this) {
      return;
    }
    synchronized (this) {
      if (closed) {
        return;
      }
      closed = true;
    }
    context.pool().release(pointer, sizeClass);
  }

  private void copyIn(Pointer host, long n, long dstByteOffset) {
    checkOpen();
    checkRange("dstByteOffset", dstByteOffset, n, bytes);
    if (n == 0) {
      return;
    }
    context.makeCurrent();
    Cuda.check("cuMemcpyHtoD", () -> JCudaDriver.cuMemcpyHtoD(pointer.withByteOffset(dstByteOffset), host, n));
  }

  private void copyOut(Pointer host, long n, long srcByteOffset) {
    checkOpen();
    checkRange("srcByteOffset", srcByteOffset, n, bytes);
    if (n == 0) {
      return;
    }
    context.makeCurrent();
    Cuda.check("cuMemcpyDtoH", () -> JCudaDriver.cuMemcpyDtoH(host, pointer.withByteOffset(srcByteOffset), n));
  }

  private void checkOpen() {
    boolean rootClosed;
    synchronized (root) {
      rootClosed = root.closed;
    }
    if (rootClosed) {
      throw new IllegalStateException("buffer: used after close");
    }
  }

  static void checkArray(String name, int length, int offset, int count) {
    if (offset < 0 || count < 0 || offset > length - count) {
      throw new IllegalArgumentException(name + ": range [" + offset + ", " + offset + " + " + count
          + ") is outside an array of length " + length);
    }
  }

  static void checkRange(String name, long offset, long count, long size) {
    if (offset < 0 || count < 0 || offset > size - count) {
      throw new IllegalArgumentException(name + ": byte range [" + offset + ", " + offset + " + " + count
          + ") is outside a buffer of " + size + " bytes");
    }
  }
}
