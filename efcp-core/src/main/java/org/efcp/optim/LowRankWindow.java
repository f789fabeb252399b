package org.efcp.optim;

/** TODO(owner: see helper prompt) — signature contract; replaced by the real implementation. */
public final class LowRankWindow implements GradientWindow {
  private static final long serialVersionUID = 1L;
  /** m slots of per-tensor (P, Q) factors of the given rank over layout (1-D tensors stored raw). */
  public LowRankWindow(int m, TensorLayout layout, int rank) { throw new UnsupportedOperationException(); }
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
