package org.efcp.optim.gpu;

import org.efcp.optim.ErrorFeedback;
import org.efcp.optim.SparseVector;
import org.efcp.optim.TopKCompressor;

/**
 * A plain-Java mirror of the arithmetic that {@link GpuSparseMfacPipeline}'s kernels run (sparse_mfac.cu), step for
 * step, for CPU tests of the algorithm itself: the rank-2 update of B ≈ A⁻¹ that replaces slot s (remove it by a
 * Schur complement, then border with the new column), one step of iterative refinement, the drift check of column s
 * and the exact host refresh
 * ({@link MfacInverse}) when the drift of the previous step exceeded {@link GpuSparseMfacPipeline#DRIFT_TOLERANCE}.
 * The selection comes from the CPU's error feedback + Top-k, which the device reproduces bitwise.
 */
final class DeviceAlgorithmModel {
  private final int d;
  private final int m;
  private final double invDamping;
  private final ErrorFeedback compressor;
  private final int[][] indices;
  private final float[][] values;
  private final double[] gram;
  private final double[] inverse;
  private final double[] support;
  private long steps;
  private long refreshes;
  private double driftMax;
  private SparseVector last;

  DeviceAlgorithmModel(int d, int m, int k, double damping) {
    this.d = d;
    this.m = m;
    this.invDamping = 1.0 / damping;
    this.compressor = new ErrorFeedback(new TopKCompressor(d, k), d);
    this.indices = new int[m][k];
    this.values = new float[m][k];
    this.gram = new double[m * m];
    this.inverse = new double[m * m];
    this.support = new double[d];
    for (int i = 0; i < m; i++) {
      inverse[i * m + i] = 1.0 / m;
    }
  }

  long refreshCount() {
    return refreshes;
  }

  SparseVector lastCompressed() {
    return last;
  }

  /** What the pipeline does on the host when the drift is too large: B = A⁻¹ exactly from K. */
  void refresh() {
    MfacInverse.invert(gram, m, invDamping, inverse);
    driftMax = 0;
    refreshes++;
  }

  void direction(double[] g, double[] u) {
    if (!(driftMax <= GpuSparseMfacPipeline.DRIFT_TOLERANCE)) {
      refresh();
    }
    SparseVector c = (SparseVector) compressor.compress(g);
    last = c;
    int slot = (int) (steps % m);
    int filled = (int) Math.min(steps + 1, m);
    System.arraycopy(c.indices(), 0, indices[slot], 0, c.nnz());
    System.arraycopy(c.values(), 0, values[slot], 0, c.nnz());

    // mfac_dots
    for (int q = 0; q < c.nnz(); q++) {
      support[c.indices()[q]] = c.values()[q];
    }
    double[] w = new double[m];
    double[] a = new double[m];
    for (int j = 0; j < filled; j++) {
      double acc = 0;
      for (int q = 0; q < indices[j].length; q++) {
        acc += values[j][q] * support[indices[j][q]];
      }
      w[j] = acc;
      a[j] = acc * invDamping + (j == slot ? m : 0.0);
      gram[j * m + slot] = acc;
      gram[slot * m + j] = acc;
    }
    // mfac_insert_p: P = B_{:,-s} a_{-s}, bs = B e_s; then v = P - bs (P_s / B_ss) off s, gamma = a_s - a_{-s}.v
    double[] p = new double[m];
    double[] bs = new double[m];
    for (int i = 0; i < m; i++) {
      double acc = 0;
      for (int j = 0; j < m; j++) {
        if (j != slot) {
          acc += inverse[i * m + j] * a[j];
        }
      }
      p[i] = acc;
      bs[i] = inverse[i * m + slot];
    }
    double ratio = p[slot] / bs[slot];
    double[] v = new double[m];
    double av = 0;
    for (int i = 0; i < m; i++) {
      if (i != slot) {
        v[i] = p[i] - bs[i] * ratio;
        av += a[i] * v[i];
      }
    }
    double rb = 1.0 / bs[slot];
    double rg = 1.0 / (a[slot] - av);
    // mfac_insert_update: remove slot s (Schur complement), then border with the new column; M0 = B' w
    double[] m0 = new double[m];
    for (int i = 0; i < m; i++) {
      double acc = 0;
      for (int j = 0; j < m; j++) {
        double b;
        if (i == slot) {
          b = j == slot ? rg : -v[j] * rg;
        } else if (j == slot) {
          b = -v[i] * rg;
        } else {
          b = inverse[i * m + j] - bs[i] * bs[j] * rb + v[i] * v[j] * rg;
        }
        inverse[i * m + j] = b;
        acc += b * w[j];
      }
      m0[i] = acc;
    }
    // mfac_residual
    double[] r = new double[m];
    for (int i = 0; i < m; i++) {
      double t1 = 0;
      double t2 = 0;
      for (int j = 0; j < m; j++) {
        t1 += gram[i * m + j] * m0[j];
        t2 += gram[i * m + j] * inverse[slot * m + j];
      }
      r[i] = w[i] - (t1 * invDamping + m * m0[i]);
      double e = Math.abs(t2 * invDamping + m * inverse[slot * m + i] - (i == slot ? 1.0 : 0.0));
      driftMax = Double.isNaN(e) || e > driftMax ? e : driftMax;
    }
    // mfac_scatter
    java.util.Arrays.fill(u, 0.0);
    for (int j = 0; j < filled; j++) {
      double acc = 0;
      for (int l = 0; l < m; l++) {
        acc += inverse[j * m + l] * r[l];
      }
      double mj = (m0[j] + acc) * (invDamping * invDamping);
      double coef = j == slot ? invDamping - mj : -mj;
      for (int q = 0; q < indices[j].length; q++) {
        u[indices[j][q]] += coef * values[j][q];
      }
    }
    for (int q = 0; q < c.nnz(); q++) {
      support[c.indices()[q]] = 0.0;
    }
    steps++;
  }

  int dimension() {
    return d;
  }
}
