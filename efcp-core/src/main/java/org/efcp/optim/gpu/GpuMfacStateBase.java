package org.efcp.optim.gpu;

import java.nio.LongBuffer;

import org.efcp.cuda.DeviceBuffer;
import org.efcp.cuda.GpuContext;
import org.efcp.cuda.GpuEvent;
import org.efcp.cuda.GpuStream;
import org.efcp.cuda.PinnedBuffer;

/**
 * What the two device-resident m×m M-FAC states share ({@link GpuMfacState}: the explicit inverse, for sparse M-FAC;
 * {@link GpuMfacCholeskyState}: the Cholesky factor, for dense M-FAC): the ring position (step count, slot, filled
 * slots), the device buffers they own, and the drift check: the kernels fold a drift measure into a device maximum
 * (the bits of a non-negative double), which is read back asynchronously through pinned memory and an event; when
 * it exceeds the state's tolerance (or is NaN) the state is rebuilt exactly on the host ({@link #rebuildOnHost()})
 * before the next step. Everything is queued on the owning pipeline's stream. Not thread-safe.
 */
abstract class GpuMfacStateBase implements AutoCloseable {
  /** Steps the drift read-back may lag behind before a step waits for it. */
  static final int MAX_UNCHECKED_STEPS = 8;

  final GpuContext context;
  final GpuStream stream;
  final int m;

  private final double tolerance;
  /** The window's ring position: the slot the current step writes and the slots filled. */
  final RingPosition ring;
  private final OwnedDeviceBuffers owned;
  /** The running drift maximum since the last refresh, as the bits of a non-negative double. */
  private final DeviceBuffer driftMax;
  private final PinnedBuffer driftHost;
  private final LongBuffer driftView;
  private final GpuEvent driftEvent;

  private long refreshes;
  private boolean driftPending;
  private int uncheckedSteps;
  private double lastDrift;

  /**
   * Allocates the drift maximum, its pinned host copy and event; the subclass allocates its buffers, then calls
   * {@link #zeroAndWait()}.
   *
   * @param context the device
   * @param stream the owning pipeline's stream
   * @param m the window size (checked by the caller)
   * @param tolerance the drift above which the state is rebuilt on the host
   */
  GpuMfacStateBase(GpuContext context, GpuStream stream, int m, double tolerance) {
    this.context = context;
    this.stream = stream;
    this.m = m;
    this.tolerance = tolerance;
    this.ring = new RingPosition(m);
    this.owned = new OwnedDeviceBuffers(context);
    PinnedBuffer host = null;
    try {
      this.driftMax = allocate(8L);
      host = context.allocatePinned(8L);
      this.driftView = host.byteBuffer().asLongBuffer();
      this.driftEvent = context.createEvent(false);
    } catch (RuntimeException | Error e) {
      owned.close();
      if (host != null) {
        host.close();
      }
      throw e;
    }
    this.driftHost = host;
  }

  /** Recomputes the m×m state exactly on the host from K (the stream is idle when this runs). */
  abstract void rebuildOnHost();

  /** K, m×m row-major by slot. */
  abstract DeviceBuffer gram();

  /** The running drift maximum the kernels fold into (8 bytes). */
  DeviceBuffer driftMax() {
    return driftMax;
  }

  /** The drift above which the state is rebuilt on the host. */
  double driftTolerance() {
    return tolerance;
  }

  /** How many times the state was rebuilt exactly on the host. */
  long refreshCount() {
    return refreshes;
  }

  /** The last drift value read back (the largest since the last refresh), 0 before any. */
  double lastDrift() {
    return lastDrift;
  }

  /** Device bytes of the m×m state and its scratch. */
  long memoryBytes() {
    return owned.bytes();
  }

  /** Queues the asynchronous read-back of the drift maximum, checked by the next {@link #checkDrift()}. */
  void queueDriftReadBack() {
    driftMax.copyToAsync(driftHost, 0, 8, 0, stream);
    driftEvent.record(stream);
    driftPending = true;
  }

  /** Checks the last drift read-back once it has arrived; rebuilds the state when the drift is too large. */
  void checkDrift() {
    if (!driftPending) {
      return;
    }
    if (!driftEvent.hasArrived()) {
      if (++uncheckedSteps < MAX_UNCHECKED_STEPS) {
        return;
      }
      driftEvent.synchronize();
    }
    driftPending = false;
    uncheckedSteps = 0;
    lastDrift = Double.longBitsToDouble(driftView.get(0));
    if (!(lastDrift <= tolerance)) {
      refresh();
    }
  }

  /** Rebuilds the state exactly on the host ({@link #rebuildOnHost()}) and resets the drift maximum; waits. */
  void refresh() {
    rebuild();
    refreshes++;
  }

  /**
   * {@link #rebuildOnHost()} after queued work, then the drift maximum and its read-back start over; not counted as
   * a refresh (an import calls it after uploading K).
   */
  void rebuild() {
    stream.synchronize();
    rebuildOnHost();
    driftMax.copyFrom(new long[1], 0, 1, 0);
    // The pending read-back (if any) has arrived and describes the state just replaced.
    driftPending = false;
    uncheckedSteps = 0;
  }

  /** Returns the device buffers to the pool, frees the pinned memory and destroys the event (no waiting). */
  @Override
  public void close() {
    owned.close();
    driftHost.close();
    driftEvent.close();
  }

  /**
   * For a subclass constructor that failed part-way: waits for the stream, then frees everything as {@link #close()}
   * does. Failures on the way are added to {@code failure}, which the constructor rethrows.
   */
  final void abandon(Throwable failure) {
    try {
      stream.synchronize();
    } catch (RuntimeException e) {
      failure.addSuppressed(e);
    }
    try {
      close();
    } catch (RuntimeException e) {
      failure.addSuppressed(e);
    }
  }

  /** Zeroes every buffer allocated so far on the stream, then waits for the stream (constructor step). */
  void zeroAndWait() {
    owned.zero(stream);
    stream.synchronize();
  }

  /** A device buffer that {@link #close()} returns and {@link #memoryBytes()} counts. */
  DeviceBuffer allocate(long bytes) {
    return owned.allocate(bytes);
  }
}
