package org.efcp.optim.gpu;

import org.efcp.cuda.DeviceBuffer;
import org.efcp.cuda.GpuStream;
import org.efcp.optim.PipelineState;

/**
 * A {@code DirectionPipeline} (error feedback ∘ compression → preconditioning, learning rate 1) whose state lives
 * on one GPU: the same contract per step as the CPU pipeline of the same {@code OptimizerConfig} (u agrees to a
 * relative 1e-5, Top-k selections are identical), built by {@link GpuPipelines#create}. Not thread-safe; not
 * serialisable (the state is in device memory).
 */
public interface GpuDirectionPipeline extends AutoCloseable {

  /** d, the gradient length. */
  int dimension();

  /**
   * One step from host memory: uploads g, runs {@link #directionDevice} and downloads u (blocks until done).
   *
   * @param g the raw gradient, length d, every entry finite (not modified)
   * @param uOut receives u, length d
   * @throws IllegalArgumentException on a wrong length or a non-finite entry (before any state changes)
   */
  void direction(double[] g, double[] uOut);

  /**
   * Allocates the device buffers that {@link #direction} stages g and u in now, rather than on its first call, so
   * that a device without room for them says so at once. Does nothing when they exist.
   */
  void reserveHostStaging();

  /**
   * One step on device data, queued on {@link #stream()}; returns without waiting for the device.
   *
   * @param g the raw gradient, d doubles on this device, finite; not modified
   * @param u receives u (its first d doubles), valid once the stream has passed this step
   * @throws IllegalArgumentException if a buffer holds fewer than d doubles
   */
  void directionDevice(DeviceBuffer g, DeviceBuffer u);

  /** The stream every step is queued on. */
  GpuStream stream();

  /** Steps taken so far. */
  long stepCount();

  /**
   * A host copy of this pipeline's state, waiting for queued work: ξ, the window's slots and K, AdaGrad's S or the
   * low-rank warm starts, as the CPU pipeline of the same configuration would hold them after the same steps (the
   * window and ξ bitwise where the CPU's are, K to rounding).
   */
  PipelineState exportState();

  /**
   * Takes over {@code state} (exported by a CPU or GPU pipeline of the same configuration); this pipeline must not
   * have taken a step. The m×m state is rebuilt exactly on the host from K, so steps continue as the exporting
   * pipeline's would, up to rounding.
   *
   * @throws IllegalArgumentException "state: ..." if it belongs to another method or size, or an array does not fit,
   *     checked before the device is touched
   * @throws IllegalStateException if this pipeline has taken a step or is closed, or if K cannot be factored (not
   *     positive semidefinite, so no window can have produced it; the pipeline is then unusable: close it)
   */
  void importState(PipelineState state);

  /** Device bytes this pipeline holds. */
  long memoryBytes();

  /** Waits for queued work and returns every device buffer; closing twice does nothing. */
  @Override
  void close();
}
