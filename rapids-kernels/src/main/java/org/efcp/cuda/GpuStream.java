package org.efcp.cuda;

import jcuda.driver.CUstream;
import jcuda.driver.CUstream_flags;
import jcuda.driver.JCudaDriver;

/**
 * A CUDA stream of a {@link GpuContext}. Streams are created blocking ({@code CU_STREAM_DEFAULT}), so the
 * synchronous copies of {@link DeviceBuffer} (which run on the legacy default stream) wait for work queued
 * on them before: a {@code copyTo} right after a launch sees the launch's result.
 */
public final class GpuStream implements AutoCloseable {
  private final GpuContext context;
  private final CUstream handle;
  private boolean closed;

  GpuStream(GpuContext context) {
    this.context = context;
    this.handle = new CUstream();
    context.makeCurrent();
    Cuda.check("cuStreamCreate", () -> JCudaDriver.cuStreamCreate(handle, CUstream_flags.CU_STREAM_DEFAULT));
    context.countStream(1);
  }

  /** Blocks until all work queued on this stream has finished; throws {@link CudaException} if any failed. */
  public void synchronize() {
    context.makeCurrent();
    Cuda.check("cuStreamSynchronize", () -> JCudaDriver.cuStreamSynchronize(handle));
  }

  /** The driver handle, for calls this layer does not wrap. */
  public CUstream handle() {
    return handle;
  }

  /** The handle of {@code stream}, or null (the legacy default stream) when {@code stream} is null. */
  static CUstream handleOf(GpuStream stream) {
    return stream == null ? null : stream.handle;
  }

  /** Destroys the stream (queued work still completes); closing twice does nothing. */
  @Override
  public synchronized void close() {
    if (!closed) {
      closed = true;
      context.makeCurrent();
      Cuda.check("cuStreamDestroy", () -> JCudaDriver.cuStreamDestroy(handle));
      context.countStream(-1);
    }
  }
}
