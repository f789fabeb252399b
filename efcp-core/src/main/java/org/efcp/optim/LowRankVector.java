package org.efcp.optim;

import java.util.Objects;

/**
 * A compressed vector in low-rank form over a {@link TensorLayout}: each tensor of two or more dimensions is
 * {@code C_l = P_l Q_lᵀ} with P_l (rows × rank) and Q_l (cols × rank), both row-major float64; each 1-D tensor
 * is stored as its raw values (not compressed).
 */
public final class LowRankVector implements CompressedVector {
  private final TensorLayout layout;
  private final int rank;
  private final double[][] p;
  private final double[][] q;
  private final double[][] raw;

  /**
   * Wraps the arrays without copying. For tensor l: if {@code layout.isMatrix(l)}, {@code p[l]} has
   * rows(l)·rank entries, {@code q[l]} cols(l)·rank and {@code raw[l]} is null; otherwise {@code raw[l]} has
   * size(l) entries and {@code p[l], q[l]} are null.
   */
  public LowRankVector(TensorLayout layout, int rank, double[][] p, double[][] q, double[][] raw) {
    this.layout = Objects.requireNonNull(layout, "layout");
    this.rank = rank;
    this.p = p;
    this.q = q;
    this.raw = raw;
    for (int l = 0; l < layout.numTensors(); l++) {
      boolean ok = layout.isMatrix(l)
          ? p[l] != null && q[l] != null && p[l].length == layout.rows(l) * rank && q[l].length == layout.cols(l) * rank
          : raw[l] != null && raw[l].length == layout.size(l);
      if (!ok) {
        throw new IllegalArgumentException("low-rank factors of tensor " + l + " do not match its shape");
      }
    }
  }

  public TensorLayout layout() {
    return layout;
  }

  public int rank() {
    return rank;
  }

  /** P of tensor l (rows × rank, row-major), or null for a 1-D tensor; do not modify. */
  public double[] p(int l) {
    return p[l];
  }

  /** Q of tensor l (cols × rank, row-major), or null for a 1-D tensor; do not modify. */
  public double[] q(int l) {
    return q[l];
  }

  /** The raw values of 1-D tensor l, or null for a matrix tensor; do not modify. */
  public double[] raw(int l) {
    return raw[l];
  }

  @Override
  public int dimension() {
    return layout.dimension();
  }

  @Override
  public void toDense(double[] out) {
    java.util.Arrays.fill(out, 0.0);
    addTo(out, 1.0);
  }

  @Override
  public void addTo(double[] acc, double alpha) {
    for (int l = 0; l < layout.numTensors(); l++) {
      int off = layout.offset(l);
      if (!layout.isMatrix(l)) {
        double[] v = raw[l];
        for (int i = 0; i < v.length; i++) {
          acc[off + i] += alpha * v[i];
        }
        continue;
      }
      int rows = layout.rows(l);
      int cols = layout.cols(l);
      double[] pl = p[l];
      double[] ql = q[l];
      for (int i = 0; i < rows; i++) {
        int base = off + i * cols;
        for (int j = 0; j < cols; j++) {
          double s = 0;
          for (int r = 0; r < rank; r++) {
            s += pl[i * rank + r] * ql[j * rank + r];
          }
          acc[base + j] += alpha * s;
        }
      }
    }
  }
}
