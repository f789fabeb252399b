package org.efcp.optim;

/** TODO(owner: see helper prompt) — signature contract; replaced by the real implementation. */
public final class MfacPreconditioner implements Preconditioner {
  private static final long serialVersionUID = 1L;
  /** M-FAC over any window (dense, sparse or low-rank); damping = lambda > 0. */
  public MfacPreconditioner(GradientWindow window, double damping) { throw new UnsupportedOperationException(); }
  public GradientWindow window() { throw new UnsupportedOperationException(); }
  public MfacCholeskyState state() { throw new UnsupportedOperationException(); }
  /** Wall time of the last m×m window update (MfacCholeskyState.insert), ns. */
  public long lastWindowUpdateNanos() { throw new UnsupportedOperationException(); }
  @Override public int dimension() { throw new UnsupportedOperationException(); }
  @Override public void update(CompressedVector c, double[] out) { throw new UnsupportedOperationException(); }
  @Override public long memoryBytes() { throw new UnsupportedOperationException(); }
  @Override public void reset() { throw new UnsupportedOperationException(); }
}
