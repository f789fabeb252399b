package org.efcp.optim;

/** TODO(owner: see helper prompt) — signature contract; replaced by the real implementation. */
public final class DenseWindow implements GradientWindow {
  private static final long serialVersionUID = 1L;
  /** m slots of d float32 entries. */
  public DenseWindow(int m, int d) { throw new UnsupportedOperationException(); }
  @Override public int capacity() { throw new UnsupportedOperationException(); }
  @Override public int dimension() { throw new UnsupportedOperationException(); }
  @Override public int nextSlot() { throw new UnsupportedOperationException(); }
  @Override public long insertCount() { throw new UnsupportedOperationException(); }
  @Override public int insert(CompressedVector c) { throw new UnsupportedOperationException(); }
  @Override public void dots(CompressedVector v, double[] out) { throw new UnsupportedOperationException(); }
  @Override public void addCombination(double[] coef, double[] acc) { throw new UnsupportedOperationException(); }
  @Override public long memoryBytes() { throw new UnsupportedOperationException(); }
  @Override public void reset() { throw new UnsupportedOperationException(); }
}
