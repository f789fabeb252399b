package org.efcp.optim;

/** TODO(owner: see helper prompt) — signature contract; replaced by the real implementation. */
public final class GgtPreconditioner implements Preconditioner {
  private static final long serialVersionUID = 1L;
  /** GGT over a dense or sparse window; eps > 0, ridge >= 0 (1e-6 = authors' code, 0 = paper formula). */
  public GgtPreconditioner(GradientWindow window, double eps, double ridge) { throw new UnsupportedOperationException(); }
  @Override public int dimension() { throw new UnsupportedOperationException(); }
  @Override public void update(CompressedVector c, double[] out) { throw new UnsupportedOperationException(); }
  @Override public long memoryBytes() { throw new UnsupportedOperationException(); }
  @Override public void reset() { throw new UnsupportedOperationException(); }
}
