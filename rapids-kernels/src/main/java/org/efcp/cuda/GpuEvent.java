package org.efcp.cuda;

import jcuda.driver.CUevent;
import jcuda.driver.CUevent_flags;
import jcuda.driver.CUresult;
import jcuda.driver.JCudaDriver;

/**
 * A CUDA event of a {@link GpuContext}, recorded on a stream: the arrival of an asynchronous read-back or a timestamp
 * between queued kernels. Every driver call makes the context current first and throws {@link CudaException} on
 * failure. Not thread-safe.
 */
public final class GpuEvent implements AutoCloseable {
  private final GpuContext context;
  private final CUevent event = new CUevent();
  private boolean closed;

  GpuEvent(GpuContext context, boolean timing) {
    this.context = context;
    context.makeCurrent();
    Cuda.check("cuEventCreate", () -> JCudaDriver.cuEventCreate(event,
        timing ? CUevent_flags.CU_EVENT_DEFAULT : CUevent_flags.CU_EVENT_DISABLE_TIMING));
    context.countEvent(1);
  }

  /** Records the event at the current end of {@code stream}'s queued work. */
  public void record(GpuStream stream) {
    context.makeCurrent();
    Cuda.check("cuEventRecord", () -> JCudaDriver.cuEventRecord(event, stream.handle()));
  }

  /** Whether the work before the last {@link #record} has finished (does not wait). */
  public boolean hasArrived() {
    context.makeCurrent();
    int result;
    try {
      result = JCudaDriver.cuEventQuery(event);
    } catch (jcuda.CudaException e) {
      // With JCuda's exceptions enabled, "not ready" arrives as an exception.
      if (e.getMessage() != null && e.getMessage().contains("CUDA_ERROR_NOT_READY")) {
        return false;
      }
      throw new CudaException("cuEventQuery: " + e.getMessage(), e);
    }
    if (result == CUresult.CUDA_ERROR_NOT_READY) {
      return false;
    }
    Cuda.check("cuEventQuery", () -> result);
    return true;
  }

  /** Waits until the work before the last {@link #record} has finished. */
  public void synchronize() {
    context.makeCurrent();
    Cuda.check("cuEventSynchronize", () -> JCudaDriver.cuEventSynchronize(event));
  }

  /** Device milliseconds from {@code start} to this event (both recorded with timing, both arrived). */
  public double millisSince(GpuEvent start) {
    context.makeCurrent();
    float[] ms = new float[1];
    Cuda.check("cuEventElapsedTime", () -> JCudaDriver.cuEventElapsedTime(ms, start.event, event));
    return ms[0];
  }

  /** Destroys the event (no waiting); closing twice does nothing. */
  @Override
  public void close() {
    if (!closed) {
      closed = true;
      context.makeCurrent();
      Cuda.check("cuEventDestroy", () -> JCudaDriver.cuEventDestroy(event));
      context.countEvent(-1);
    }
  }
}
