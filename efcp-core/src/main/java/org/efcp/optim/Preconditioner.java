package org.efcp.optim;

import java.io.Serializable;

/**
 * A preconditioner A over a ring buffer of the last m compressed vectors (paper Algorithm 1, line
 * {@code u_t = A(c_t)}). Each call inserts {@code c} into the window (slot {@code t mod m}, the oldest) and
 * then preconditions {@code c} itself with the updated window.
 *
 * <p>Numerics: window vectors may be stored in float32; every dot product, every m×m quantity and the final
 * linear combination accumulate in float64.
 */
public interface Preconditioner extends Serializable {

  /** The length d of the vectors this preconditioner accepts. */
  int dimension();

  /**
   * Inserts {@code c} and writes the update direction {@code u = A(c)} into {@code out} (length d, every entry
   * overwritten).
   */
  void update(CompressedVector c, double[] out);

  /** Persistent state bytes: window, m×m state, per-coordinate accumulators (not per-step scratch). */
  long memoryBytes();

  /** Forgets the window and all state, as if freshly constructed. */
  void reset();
}
