package org.efcp.optim;

/** TODO(owner: see helper prompt) — signature contract; replaced by the real implementation. */
public final class MfacCholeskyState implements java.io.Serializable {
  private static final long serialVersionUID = 1L;
  /** m slots, damping = the paper's lambda (added to the Fisher), n = m. */
  public MfacCholeskyState(int m, double damping) { throw new UnsupportedOperationException(); }
  /** Row/column slot of K becomes newDots (length m, newDots[slot] = self dot); slot must be the oldest. O(m^2). */
  public void insert(int slot, double[] newDots) { throw new UnsupportedOperationException(); }
  /** outM[j] such that F^{-1} v = v/damping - sum_j outM[j] x_j, given w[j] = <x_j, v>. O(m^2). */
  public void coefficients(double[] w, double[] outM) { throw new UnsupportedOperationException(); }
  /** Rebuilds the factorisation from K with LAPACK (O(m^3)). */
  public void refactorFromScratch() { throw new UnsupportedOperationException(); }
  public long memoryBytes() { throw new UnsupportedOperationException(); }
  public void reset() { throw new UnsupportedOperationException(); }
}
