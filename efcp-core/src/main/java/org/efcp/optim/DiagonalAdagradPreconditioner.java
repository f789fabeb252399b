package org.efcp.optim;

/** TODO(owner: see helper prompt) — signature contract; replaced by the real implementation. */
public final class DiagonalAdagradPreconditioner implements Preconditioner {
  private static final long serialVersionUID = 1L;
  /** Paper Algorithm 5: S += c^2, u = c / (sqrt(S) + eps). */
  public DiagonalAdagradPreconditioner(int d, double eps) { throw new UnsupportedOperationException(); }
  @Override public int dimension() { throw new UnsupportedOperationException(); }
  @Override public void update(CompressedVector c, double[] out) { throw new UnsupportedOperationException(); }
  @Override public long memoryBytes() { throw new UnsupportedOperationException(); }
  @Override public void reset() { throw new UnsupportedOperationException(); }
}
