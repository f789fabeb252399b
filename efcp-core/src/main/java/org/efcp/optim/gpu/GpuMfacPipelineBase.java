package org.efcp.optim.gpu;

import org.efcp.cuda.DeviceBuffer;
import org.efcp.cuda.GpuContext;

/**
 * What the GPU M-FAC pipelines share beyond {@link GpuWindowedPipeline}: the damping, and the device m×m
 * state (of type S: the explicit inverse {@link GpuMfacState} for sparse M-FAC, the Cholesky factor
 * {@link GpuMfacCholeskyState} for dense and low-rank) with its drift check and host refresh. A subclass constructor
 * follows {@link GpuPipelineBase}'s protocol and finally calls {@link #startState()}, which creates the state with
 * {@link #newState()}.
 */
abstract class GpuMfacPipelineBase<S extends GpuMfacStateBase> extends GpuWindowedPipeline {
  final double damping;
  final double invDamping;
  /** The m×m state, its update and the drift check; set once by {@link #startState()}. */
  S state;

  /** Stores validated arguments; touches no device. */
  GpuMfacPipelineBase(GpuContext context, int d, int m, double damping) {
    super(context, d, m);
    this.damping = damping;
    this.invDamping = 1.0 / damping;
  }

  /**
   * Checks a window size against the m×m state's limit.
   *
   * @throws IllegalArgumentException "m: must be in [1, maxWindow], got m"
   */
  static void checkWindow(int m, int maxWindow) {
    if (m < 1 || m > maxWindow) {
      throw new IllegalArgumentException("m: must be in [1, " + maxWindow + "], got " + m);
    }
  }

  /**
   * Checks the damping λ.
   *
   * @throws IllegalArgumentException "damping: must be > 0 and finite, got λ"
   */
  static void checkDamping(double damping) {
    if (!(damping > 0) || !Double.isFinite(damping)) {
      throw new IllegalArgumentException("damping: must be > 0 and finite, got " + damping);
    }
  }

  /** The damping λ. */
  public double damping() {
    return damping;
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
   * The whole step on {@link #stream()}, without waiting (except when a drift read-back lags
   * {@value GpuMfacStateBase#MAX_UNCHECKED_STEPS} steps behind, or the m×m state must be rebuilt on the host).
   */
  @Override
  final void queueDirection(DeviceBuffer g, DeviceBuffer u) {
    state.checkDrift();
    queueStep(g, u, state.ring.slot(), state.ring.filled());
    state.ring.advance();
  }

  /**
   * Queues the step's kernels on {@link #stream}: the new vector into window slot {@code slot}, its dots with the
   * {@code filled} slots, {@code state.update()} with {@code state.queueDriftReadBack()}, and u into {@code u}.
   */
  abstract void queueStep(DeviceBuffer g, DeviceBuffer u, int slot, int filled);

  @Override
  final DeviceBuffer gram() {
    return state.gram();
  }

  @Override
  final RingPosition ring() {
    return state.ring;
  }

  /** Rebuilds the m×m state from the imported K exactly on the host (not counted as a refresh). */
  @Override
  final void rebuildFromGram() {
    state.rebuild();
  }

  /** Device bytes this pipeline holds: the m×m state, the window, scratch and the host-API staging once allocated. */
  @Override
  public long memoryBytes() {
    return state.memoryBytes() + super.memoryBytes();
  }

  /** Frees the m×m state (then whatever a subclass adds, overriding this and calling it first). */
  @Override
  void releaseExtras() {
    if (state != null) {
      state.close();
    }
  }

  /**
   * Rebuilds the m×m state exactly on the host (host LAPACK) from the current K and resets the drift maximum; waits
   * for queued work. Runs by itself when the drift is too large; package-private so that tests can force one.
   */
  void refresh() {
    state.refresh();
  }

  /** Zeroes every buffer allocated so far and creates the m×m state (last constructor step). */
  void startState() {
    zeroBuffers();
    // Waits for the zeroing above, too.
    state = newState();
  }

  /** The empty m×m state on {@link #stream} (called once, by {@link #startState()}). */
  abstract S newState();
}
