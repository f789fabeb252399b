package org.efcp.optim.gpu;

import jcuda.driver.CUevent;
import jcuda.driver.CUevent_flags;
import jcuda.driver.CUresult;
import jcuda.driver.JCudaDriver;
import org.efcp.cuda.CudaException;
import org.efcp.cuda.GpuContext;
import org.efcp.cuda.GpuStream;

/**
 * A CUDA event of one context, recorded on a stream: the arrival of an asynchronous read-back (the m×m states' drift)
 * or a timestamp between the stages of a step ({@code GpuStepBench}). Every driver call makes the context current
 * first and throws {@link CudaException} on failure. Not thread-safe.
 */
final class GpuEvent implements AutoCloseable {
  private final GpuContext context;
  private final CUevent event = new CUevent();

  /**
   * @param context the device
   * @param timing whether {@link #millisSince} may read it (an event without timing is cheaper to record and wait for)
   */
  GpuEvent(GpuContext context, boolean timing) {
    this.context = context;
    context.makeCurrent();
    check("cuEventCreate", JCudaDriver.cuEventCreate(event,
        timing ? CUevent_flags.CU_EVENT_DEFAULT : CUevent_flags.CU_EVENT_DISABLE_TIMING));
  }

  /** Records the event at the current end of {@code stream}'s queued work. */
  void record(GpuStream stream) {
    context.makeCurrent();
    check("cuEventRecord", JCudaDriver.cuEventRecord(event, stream.handle()));
  }

  /** Whether the work before the last {@link #record} has finished (does not wait). */
  boolean hasArrived() {
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
    check("cuEventQuery", result);
    return true;
  }

  /** Waits until the work before the last {@link #record} has finished. */
  void synchronize() {
    context.makeCurrent();
    check("cuEventSynchronize", JCudaDriver.cuEventSynchronize(event));
  }

  /** Device milliseconds from {@code start} to this event (both recorded with timing, both arrived). */
  double millisSince(GpuEvent start) {
    context.makeCurrent();
    float[] ms = new float[1];
    check("cuEventElapsedTime", JCudaDriver.cuEventElapsedTime(ms, start.event, event));
    return ms[0];
  }

  /** Destroys the event (no waiting). */
  @Override
  public void close() {
    context.makeCurrent();
    check("cuEventDestroy", JCudaDriver.cuEventDestroy(event));
  }

  /** Throws {@link CudaException} unless {@code result} is CUDA_SUCCESS. */
  private static void check(String call, int result) {
    if (result != CUresult.CUDA_SUCCESS) {
      throw new CudaException(call + ": " + CUresult.stringFor(result));
    }
  }
}
