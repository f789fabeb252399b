package org.efcp.optim;

/**
 * Rounds each entry to the nearest float32 and returns it as a {@link DenseVector} of float-representable
 * doubles. Dense M-FAC and GGT use it so that their float32 window holds exactly the vector that is
 * preconditioned; under {@link ErrorFeedback} the rounding residual is carried in ξ.
 */
public final class Float32Compressor implements Compressor {
  private static final long serialVersionUID = 1L;

  private final int d;

  /** @param d the vector length (≥ 1) */
  public Float32Compressor(int d) {
    if (d < 1) {
      throw new IllegalArgumentException("d: must be >= 1, got " + d);
    }
    this.d = d;
  }

  /** Returns a new vector with entries {@code (double) (float) a[i]}. */
  @Override
  public DenseVector compress(double[] a) {
    if (a.length != d) {
      throw new IllegalArgumentException("a: length " + a.length + " != d = " + d);
    }
    double[] out = new double[d];
    for (int i = 0; i < d; i++) {
      out[i] = (float) a[i];
    }
    return new DenseVector(out);
  }

  /** Stateless: 0. */
  @Override
  public long memoryBytes() {
    return 0;
  }

  /** Stateless: nothing to forget. */
  @Override
  public void reset() {}
}
