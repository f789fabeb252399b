package org.efcp.optim;

import java.util.Arrays;

/**
 * Diagonal AdaGrad on compressed vectors (paper Algorithm 5, algorithms doc §1.3): per coordinate
 * <pre>  S_i += c_i²,   u_i = c_i / (sqrt(S_i) + ε)</pre>
 * with S starting at zero (the project's ε is 1e-10, doc §13). No window: the state is S alone, in float64.
 *
 * <p>A coordinate whose denominator is zero (ε = 0 and S_i = 0, so c_i² is zero) gets u_i = 0 rather than NaN.
 * Coordinates never selected keep S_i = 0 and u_i = 0. A {@link SparseVector} touches only its support.
 */
public final class DiagonalAdagradPreconditioner implements Preconditioner {
  private static final long serialVersionUID = 1L;
  /** Coordinates below which a parallel chunk does not pay for its scheduling. */
  private static final int MIN_PER_CHUNK = 1 << 15;

  private final int d;
  private final double eps;
  /** The running sum of squares S (length d). */
  private final double[] sumSquares;
  /** Dense copy of a vector that is neither dense nor sparse (e.g. low-rank); per-call scratch. */
  private transient double[] scratch;

  /**
   * Paper Algorithm 5: S += c², u = c / (sqrt(S) + eps).
   *
   * @param d the vector length (≥ 1)
   * @param eps added to sqrt(S) in the denominator (≥ 0 and finite)
   * @throws IllegalArgumentException naming the parameter out of range
   */
  public DiagonalAdagradPreconditioner(int d, double eps) {
    if (d < 1) {
      throw new IllegalArgumentException("d: must be >= 1, got " + d);
    }
    if (!(eps >= 0) || Double.isInfinite(eps)) {
      throw new IllegalArgumentException("adagradEpsilon: must be >= 0 and finite, got " + eps);
    }
    this.d = d;
    this.eps = eps;
    this.sumSquares = new double[d];
  }

  @Override
  public int dimension() {
    return d;
  }

  @Override
  public void update(CompressedVector c, double[] out) {
    UpdateArguments.check(d, c, out);
    if (c instanceof SparseVector sv) {
      Arrays.fill(out, 0.0);
      int[] idx = sv.indices();
      float[] val = sv.values();
      for (int q = 0; q < idx.length; q++) {
        int i = idx[q];
        double ci = val[q];
        sumSquares[i] += ci * ci;
        out[i] = ratio(ci, Math.sqrt(sumSquares[i]) + eps);
      }
      return;
    }
    double[] v;
    if (c instanceof DenseVector dv) {
      v = dv.values();
    } else {
      if (scratch == null) {
        scratch = new double[d];
      }
      v = scratch;
      c.toDense(v);
    }
    Parallel.forRange(d, MIN_PER_CHUNK, (from, to) -> denseRange(v, out, from, to));
  }

  private void denseRange(double[] c, double[] out, int from, int to) {
    double[] s = sumSquares;
    if (eps > 0) {
      // The denominator is at least eps: no zero check, so the loop stays branch-free.
      for (int i = from; i < to; i++) {
        s[i] += c[i] * c[i];
        out[i] = c[i] / (Math.sqrt(s[i]) + eps);
      }
    } else {
      for (int i = from; i < to; i++) {
        s[i] += c[i] * c[i];
        out[i] = ratio(c[i], Math.sqrt(s[i]));
      }
    }
  }

  /** c / denominator, or 0 when the denominator is 0 (then c² was 0 too). */
  private static double ratio(double c, double denominator) {
    return denominator == 0.0 ? 0.0 : c / denominator;
  }

  /** A copy of the running sum of squares S. */
  public double[] sumSquares() {
    return sumSquares.clone();
  }

  /**
   * Replaces S.
   *
   * @throws IllegalArgumentException if the length is not d or an entry is negative or not finite
   */
  public void restore(double[] sumSquares) {
    if (sumSquares.length != d) {
      throw new IllegalArgumentException("sumSquares: length must be d = " + d + ", got " + sumSquares.length);
    }
    for (int i = 0; i < d; i++) {
      if (!(sumSquares[i] >= 0) || Double.isInfinite(sumSquares[i])) {
        throw new IllegalArgumentException("sumSquares: entry " + i + " is " + sumSquares[i]);
      }
    }
    System.arraycopy(sumSquares, 0, this.sumSquares, 0, d);
  }

  /** 8·d bytes: the sum of squares S. */
  @Override
  public long memoryBytes() {
    return 8L * d;
  }

  @Override
  public void reset() {
    Arrays.fill(sumSquares, 0.0);
  }
}
