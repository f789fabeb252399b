package org.efcp.optim.gpu;

import java.util.Objects;

import org.efcp.cuda.DeviceBuffer;
import org.efcp.cuda.GpuContext;
import org.efcp.cuda.GpuStream;
import org.efcp.optim.Method;
import org.efcp.optim.PipelineState;

/**
 * What every GPU direction pipeline (the windowed ones, {@link GpuWindowedPipeline}, and AdaGrad and SGD) shares: the
 * device, d, the stream, the device buffers it owns, the host-API wrapper around {@link #directionDevice} and the
 * close protocol. A subclass constructor validates its arguments before calling {@code super} (the base touches no
 * device), loads its kernels, then calls {@link #openStream()} and allocates its buffers with {@link #allocate}; if
 * one of those steps fails (out of device memory, say) it calls {@link #abandon} and rethrows, so that a pipeline that
 * was never built holds nothing.
 */
abstract class GpuPipelineBase implements GpuDirectionPipeline {
  final GpuContext context;
  final int d;
  /** Set once by {@link #openStream()}. */
  GpuStream stream;

  private final OwnedDeviceBuffers owned;
  /** Host-API staging for g and u, allocated by {@link #reserveHostStaging} or the first {@link #direction} call. */
  private DeviceBuffer gradientStaging;
  private DeviceBuffer directionStaging;
  private boolean closed;

  /** Stores validated arguments; touches no device. */
  GpuPipelineBase(GpuContext context, int d) {
    this.context = Objects.requireNonNull(context, "context");
    this.d = d;
    this.owned = new OwnedDeviceBuffers(context);
  }

  @Override
  public int dimension() {
    return d;
  }

  /** The stream every step is queued on (blocking with respect to the legacy default stream). */
  @Override
  public GpuStream stream() {
    return stream;
  }

  /**
   * One step from host memory: uploads g, runs {@link #directionDevice} and downloads u (blocks until done).
   *
   * @param g the raw gradient, length d, every entry finite (not modified)
   * @param uOut receives u, length d
   * @throws IllegalArgumentException on a wrong length or a non-finite entry (before any state changes)
   */
  @Override
  public void direction(double[] g, double[] uOut) {
    checkOpen();
    if (g.length != d) {
      throw new IllegalArgumentException("gradient: expected d = " + d + ", got length " + g.length);
    }
    for (int i = 0; i < d; i++) {
      if (!Double.isFinite(g[i])) {
        throw new IllegalArgumentException("gradient: entry " + i + " is " + g[i]);
      }
    }
    if (uOut.length != d) {
      throw new IllegalArgumentException("uOut: expected length " + d + ", got " + uOut.length);
    }
    reserveHostStaging();
    // The synchronous copies run on the legacy default stream, which waits for (and is waited for by) this
    // pipeline's blocking stream.
    gradientStaging.copyFrom(g, 0, d, 0);
    directionDevice(gradientStaging, directionStaging);
    directionStaging.copyTo(uOut, 0, d, 0);
  }

  @Override
  public void reserveHostStaging() {
    checkOpen();
    if (directionStaging == null) {
      // Both or neither: a failed second allocation leaves the first to close() and retries it next time.
      if (gradientStaging == null) {
        gradientStaging = allocate(8L * d);
      }
      directionStaging = allocate(8L * d);
    }
  }

  /**
   * One step on device data, queued on {@link #stream()}: checks the buffers, then {@link #queueDirection} with u cut
   * to exactly d doubles.
   *
   * @param g the raw gradient, d doubles on this device, finite, ready for work queued on {@link #stream()};
   *     not modified
   * @param u receives u (its first d doubles), valid once the stream has passed this step
   * @throws IllegalArgumentException if a buffer holds fewer than d doubles
   */
  @Override
  public final void directionDevice(DeviceBuffer g, DeviceBuffer u) {
    checkOpen();
    requireDoubles("g", g);
    requireDoubles("u", u);
    queueDirection(g, u.bytes() == 8L * d ? u : u.view(0, 8L * d));
  }

  /** Queues one step on {@link #stream()}; {@code u} is exactly d doubles. */
  abstract void queueDirection(DeviceBuffer g, DeviceBuffer u);

  /** Device bytes of the buffers this pipeline allocated (the host-API staging too, once allocated). */
  @Override
  public long memoryBytes() {
    return owned.bytes();
  }

  /** Waits for queued work, then returns every device buffer to the pool and closes the stream. */
  @Override
  public void close() {
    if (closed) {
      return;
    }
    closed = true;
    try {
      stream.synchronize();
    } finally {
      owned.close();
      releaseExtras();
      stream.close();
    }
  }

  /**
   * For a constructor that failed part-way: waits for what it queued, then gives back the buffers, the subclass's
   * extras and the stream, as {@link #close()} does. Failures on the way are added to {@code failure}, which the
   * constructor rethrows.
   */
  final void abandon(Throwable failure) {
    closed = true;
    try {
      if (stream != null) {
        stream.synchronize();
      }
    } catch (RuntimeException e) {
      failure.addSuppressed(e);
    }
    try {
      owned.close();
      releaseExtras();
      if (stream != null) {
        stream.close();
      }
    } catch (RuntimeException e) {
      failure.addSuppressed(e);
    }
  }

  /**
   * Frees what a subclass holds beside its buffers, after them and before the stream (close's hook; also called by
   * {@link #abandon}, so it must cope with a constructor that stopped part-way).
   */
  void releaseExtras() {
  }

  /** Creates this pipeline's stream (constructor step, after the kernels are loaded). */
  void openStream() {
    stream = context.createStream();
  }

  /** Queues the zeroing of every buffer allocated so far on {@link #stream} (constructor step). */
  void zeroBuffers() {
    owned.zero(stream);
  }

  /** A device buffer that {@link #close()} returns and {@link #memoryBytes()} counts. */
  DeviceBuffer allocate(long bytes) {
    return owned.allocate(bytes);
  }

  /** Throws IllegalArgumentException naming {@code name} unless {@code b} holds at least d doubles. */
  void requireDoubles(String name, DeviceBuffer b) {
    Objects.requireNonNull(b, name);
    if (b.bytes() < 8L * d) {
      throw new IllegalArgumentException(name + ": must hold d = " + d + " doubles (" + 8L * d + " bytes), has "
          + b.bytes() + " bytes");
    }
  }

  /**
   * What every {@link #importState} checks first: this pipeline is open and has taken no step, and {@code state}
   * belongs to {@code method} with steps ≥ 0.
   *
   * @throws IllegalArgumentException "state: ..." on a mismatch
   * @throws IllegalStateException if this pipeline is closed or has taken a step
   */
  final void checkImport(PipelineState state, Method method) {
    checkOpen();
    state.checkImportInto(method, stepCount());
  }

  /**
   * {@code part} of an imported state, checked for presence and length.
   *
   * @throws IllegalArgumentException "state: has no NAME" or "state: NAME must hold LENGTH values, got ..."
   */
  static double[] statePart(double[] part, String name, long length) {
    if (PipelineState.present(part, name).length != length) {
      throw new IllegalArgumentException("state: " + name + " must hold " + length + " values, got " + part.length);
    }
    PipelineState.requireFinite(part, "state: " + name);
    return part;
  }

  /** Throws IllegalStateException once the pipeline is closed. */
  void checkOpen() {
    if (closed) {
      throw new IllegalStateException("pipeline: used after close");
    }
  }
}
