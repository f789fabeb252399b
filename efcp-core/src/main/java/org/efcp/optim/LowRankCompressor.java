package org.efcp.optim;

/** TODO(owner: see helper prompt) — signature contract; replaced by the real implementation. */
public final class LowRankCompressor implements Compressor {
  private static final long serialVersionUID = 1L;
  /** One warm-started power iteration per matrix tensor (algorithms doc §5, §13); 1-D tensors raw. */
  public LowRankCompressor(TensorLayout layout, int rank, long seed) { throw new UnsupportedOperationException(); }
  @Override public LowRankVector compress(double[] a) { throw new UnsupportedOperationException(); }
  @Override public long memoryBytes() { throw new UnsupportedOperationException(); }
  @Override public void reset() { throw new UnsupportedOperationException(); }
}
