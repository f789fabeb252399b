package org.efcp.optim.gpu;

import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

import org.efcp.cuda.DeviceBuffer;
import org.efcp.cuda.GpuContext;
import org.efcp.cuda.GpuStream;

/**
 * What the GPU M-FAC pipelines share: the dimensions, the stream, the device m×m state (of type S: the explicit
 * inverse {@link GpuMfacState} for sparse M-FAC, the Cholesky factor {@link GpuMfacCholeskyState} for dense), the
 * device buffers they own, the host-API wrapper around {@link #directionDevice} and the close protocol. A subclass
 * constructor validates its arguments before calling {@code super} (the base touches no device), loads its kernels,
 * then calls {@link #openStream()}, allocates its buffers with {@link #allocate} and finally {@link #startState()},
 * which creates the state with {@link #newState()}.
 */
abstract class GpuMfacPipelineBase<S extends GpuMfacStateBase> implements GpuDirectionPipeline {
  final GpuContext context;
  final int d;
  final int m;
  final double damping;
  final double invDamping;
  /** Set once by {@link #openStream()}. */
  GpuStream stream;
  /** The m×m state, its update and the drift check; set once by {@link #startState()}. */
  S state;

  private final List<DeviceBuffer> owned = new ArrayList<>();
  /** Host-API staging for g and u, allocated on the first {@link #direction} call. */
  private DeviceBuffer gradientStaging;
  private DeviceBuffer directionStaging;
  private boolean closed;

  /** Stores validated arguments; touches no device. */
  GpuMfacPipelineBase(GpuContext context, int d, int m, double damping) {
    this.context = Objects.requireNonNull(context, "context");
    this.d = d;
    this.m = m;
    this.damping = damping;
    this.invDamping = 1.0 / damping;
  }

  @Override
  public int dimension() {
    return d;
  }

  /** m, the window size. */
  public int window() {
    return m;
  }

  /** The damping λ. */
  public double damping() {
    return damping;
  }

  /** The stream every step is queued on (blocking with respect to the legacy default stream). */
  @Override
  public GpuStream stream() {
    return stream;
  }

  @Override
  public long stepCount() {
    return state.steps();
  }

  /**
   * How many times the m×m state was rebuilt exactly on the host because its drift exceeded
   * {@link #driftTolerance()} (or was forced).
   */
  public long refreshCount() {
    return state.refreshCount();
  }

  /** The drift above which the m×m state is rebuilt exactly on the host (its measure depends on the pipeline). */
  public double driftTolerance() {
    return state.driftTolerance();
  }

  /** The last drift value read back (the largest since the last refresh), 0 before any. */
  public double lastDrift() {
    return state.lastDrift();
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
    if (gradientStaging == null) {
      gradientStaging = allocate(8L * d);
      directionStaging = allocate(8L * d);
    }
    // The synchronous copies run on the legacy default stream, which waits for (and is waited for by) this
    // pipeline's blocking stream.
    gradientStaging.copyFrom(g, 0, d, 0);
    directionDevice(gradientStaging, directionStaging);
    directionStaging.copyTo(uOut, 0, d, 0);
  }

  /**
   * One step on device data: queues the whole step on {@link #stream()} and returns without waiting (except when a
   * drift read-back lags {@value GpuMfacStateBase#MAX_UNCHECKED_STEPS} steps behind, or the m×m state must be rebuilt
   * on the host).
   *
   * @param g the raw gradient, d doubles on this device, finite, ready for work queued on {@link #stream()};
   *     not modified
   * @param u receives u (its first d doubles), valid once the stream has passed this step
   * @throws IllegalArgumentException if a buffer holds fewer than d doubles
   */
  @Override
  public abstract void directionDevice(DeviceBuffer g, DeviceBuffer u);

  /** Device bytes this pipeline holds: the m×m state, the window, scratch and the host-API staging once allocated. */
  @Override
  public long memoryBytes() {
    long sum = state.memoryBytes();
    for (DeviceBuffer b : owned) {
      sum += b.bytes();
    }
    return sum;
  }

  /** Waits for queued work, then returns every device buffer to the pool and frees the pinned memory. */
  @Override
  public void close() {
    if (closed) {
      return;
    }
    closed = true;
    try {
      stream.synchronize();
    } finally {
      for (DeviceBuffer b : owned) {
        b.close();
      }
      owned.clear();
      state.close();
      releaseExtras();
      stream.close();
    }
  }

  /** Frees what a subclass holds beside its buffers, after the state and before the stream (close's hook). */
  void releaseExtras() {
  }

  /**
   * Rebuilds the m×m state exactly on the host (host LAPACK) from the current K and resets the drift maximum; waits
   * for queued work. Runs by itself when the drift is too large; package-private so that tests can force one.
   */
  void refresh() {
    state.refresh();
  }

  /** Creates this pipeline's stream (constructor step, after the kernels are loaded). */
  void openStream() {
    stream = context.createStream();
  }

  /** Zeroes every buffer allocated so far and creates the m×m state (last constructor step). */
  void startState() {
    for (DeviceBuffer b : owned) {
      b.zero(stream);
    }
    // Waits for the zeroing above, too.
    state = newState();
  }

  /** The empty m×m state on {@link #stream} (called once, by {@link #startState()}). */
  abstract S newState();

  /** A device buffer that {@link #close()} returns and {@link #memoryBytes()} counts. */
  DeviceBuffer allocate(long bytes) {
    DeviceBuffer b = context.allocate(bytes);
    owned.add(b);
    return b;
  }

  void requireDoubles(String name, DeviceBuffer b) {
    Objects.requireNonNull(b, name);
    if (b.bytes() < 8L * d) {
      throw new IllegalArgumentException(name + ": must hold d = " + d + " doubles (" + 8L * d + " bytes), has "
          + b.bytes() + " bytes");
    }
  }

  void checkOpen() {
    if (closed) {
      throw new IllegalStateException("pipeline: used after close");
    }
  }
}
