package org.efcp.optim;

/** TODO(owner: see helper prompt) — signature contract; replaced by the real implementation. */
public final class TopKCompressor implements Compressor {
  private static final long serialVersionUID = 1L;
  /** Keeps the k entries of largest |a_i| (ties: lower index), values rounded to float32, indices ascending. */
  public TopKCompressor(int d, int k) { throw new UnsupportedOperationException(); }
  /** k from a density (<= 1: (int)(density*d) in double) or a count (> 1: (int)value); rejects k < 1 or k > d. */
  public static int countFor(double densityOrCount, int d) { throw new UnsupportedOperationException(); }
  public int k() { throw new UnsupportedOperationException(); }
  @Override public SparseVector compress(double[] a) { throw new UnsupportedOperationException(); }
  @Override public long memoryBytes() { throw new UnsupportedOperationException(); }
  @Override public void reset() { throw new UnsupportedOperationException(); }
}
