package org.efcp.optim;

/** TODO(owner: see helper prompt) — signature contract; replaced by the real implementation. */
public final class IdentityPreconditioner implements Preconditioner {
  private static final long serialVersionUID = 1L;
  /** u = c (plain SGD). */
  public IdentityPreconditioner(int d) { throw new UnsupportedOperationException(); }
  @Override public int dimension() { throw new UnsupportedOperationException(); }
  @Override public void update(CompressedVector c, double[] out) { throw new UnsupportedOperationException(); }
  @Override public long memoryBytes() { throw new UnsupportedOperationException(); }
  @Override public void reset() { throw new UnsupportedOperationException(); }
}
