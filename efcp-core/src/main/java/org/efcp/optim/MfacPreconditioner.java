package org.efcp.optim;

import java.util.Arrays;
import java.util.Objects;

/**
 * M-FAC (algorithms doc §2 and §3) over any {@link GradientWindow}: with the window's vectors x_j and damping λ,
 * {@code u = F⁻¹ c} for {@code F = λ I + (1/m) Σ_j x_j x_jᵀ} (n = m also during warm-up; empty slots are zero
 * vectors), computed as {@code u = c/λ − Σ_j M_j x_j} with M from {@link MfacCholeskyState}. The window decides
 * the flavour: dense, sparse (Top-k) or low-rank.
 *
 * <p>Each {@link #update} follows pitfall P18: insert c, then dot every slot with c (self-dot included), update the
 * m×m state, then precondition c. Everything after the window's storage is float64. If an update throws (for
 * example on non-finite input) the window and state may disagree; call {@link #reset()} before continuing.
 */
public final class MfacPreconditioner implements Preconditioner {
  private static final long serialVersionUID = 1L;

  private final GradientWindow window;
  private final double damping;
  private final MfacCholeskyState state;

  private transient double[] dots;
  private transient double[] coef;
  private transient long lastWindowUpdateNanos;

  /**
   * M-FAC over an empty window.
   *
   * @param window the ring buffer (empty: no inserts yet); this preconditioner owns it from now on
   * @param damping the paper's λ added to the Fisher, finite and &gt; 0
   */
  public MfacPreconditioner(GradientWindow window, double damping) {
    Objects.requireNonNull(window, "window");
    if (!(damping > 0) || !Double.isFinite(damping)) {
      throw new IllegalArgumentException("damping: must be > 0 and finite, got " + damping);
    }
    if (window.insertCount() != 0) {
      throw new IllegalArgumentException("window: must be empty, holds " + window.insertCount() + " inserts");
    }
    this.window = window;
    this.damping = damping;
    this.state = new MfacCholeskyState(window.capacity(), damping);
  }

  public GradientWindow window() {
    return window;
  }

  public MfacCholeskyState state() {
    return state;
  }

  /** The damping λ. */
  public double damping() {
    return damping;
  }

  /** Wall time of the last m×m window update ({@link MfacCholeskyState#insert}), ns. */
  public long lastWindowUpdateNanos() {
    return lastWindowUpdateNanos;
  }

  @Override
  public int dimension() {
    return window.dimension();
  }

  @Override
  public void update(CompressedVector c, double[] out) {
    int d = window.dimension();
    UpdateArguments.check(d, c, out);
    if (dots == null) {
      dots = new double[window.capacity()];
      coef = new double[window.capacity()];
    }
    int slot = window.insert(c);
    window.dots(c, dots);
    long start = System.nanoTime();
    state.insert(slot, dots);
    lastWindowUpdateNanos = System.nanoTime() - start;
    state.coefficientsForNewest(coef); // = coefficients(dots, coef), reusing the forward solve of the insert
    for (int j = 0; j < coef.length; j++) {
      coef[j] = -coef[j];
    }
    Arrays.fill(out, 0.0);
    window.addCombination(coef, out);
    c.addTo(out, 1.0 / damping);
  }

  /**
   * Fills an empty preconditioner: the window's slots ({@link GradientWindow#restore}) and K, whose factor is then
   * rebuilt from scratch.
   *
   * @param slots min(steps, m) vectors by slot
   * @param steps the inserts they stand for
   * @param gram K, m×m row-major by slot
   * @throws IllegalArgumentException on a mismatch (the preconditioner is then empty again)
   */
  public void restore(CompressedVector[] slots, long steps, double[] gram) {
    window.restore(slots, steps);
    try {
      state.restore(gram, window.nextSlot());
    } catch (RuntimeException e) {
      reset();
      throw e;
    }
  }

  /** Window storage plus the m×m state. */
  @Override
  public long memoryBytes() {
    return window.memoryBytes() + state.memoryBytes();
  }

  @Override
  public void reset() {
    window.reset();
    state.reset();
  }
}
