package org.efcp.optim;

/** TODO(owner: see helper prompt) — signature contract; replaced by the real implementation. */
public final class ErrorFeedback implements Compressor {
  private static final long serialVersionUID = 1L;
  /** a = xi + g; c = inner(a); xi = a - c. */
  public ErrorFeedback(Compressor inner, int d) { throw new UnsupportedOperationException(); }
  public Compressor inner() { throw new UnsupportedOperationException(); }
  /** The error buffer xi (live array; do not modify). */
  public double[] error() { throw new UnsupportedOperationException(); }
  @Override public CompressedVector compress(double[] g) { throw new UnsupportedOperationException(); }
  @Override public long memoryBytes() { throw new UnsupportedOperationException(); }
  @Override public void reset() { throw new UnsupportedOperationException(); }
}
