package org.efcp.optim.gpu;

import org.efcp.cuda.DeviceBuffer;
import org.efcp.cuda.GpuStream;

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

  /** Device bytes this pipeline holds. */
  long memoryBytes();

  /** Waits for queued work and returns every device buffer; closing twice does nothing. */
  @Override
  void close();
}
