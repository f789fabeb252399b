package org.efcp.optim;

import dev.ludovic.netlib.lapack.LAPACK;
import java.util.Random;
import org.netlib.util.intW;

/** Independent float64 reference computations for the M-FAC tests (explicit matrices, LAPACK solves). */
final class MfacReference {
  private MfacReference() {}

  /**
   * Solves the general system {@code a x = b} (a row-major n×n, not modified) by LU with partial pivoting
   * (LAPACK dgetrf + dgetrs; OpenBLAS 0.3.21's threaded dgesv crashes the JVM here).
   */
  static double[] solve(double[] a, double[] b, int n) {
    double[] lu = transpose(a, n);
    double[] x = b.clone();
    int[] pivots = new int[n];
    intW info = new intW(0);
    LAPACK.getInstance().dgetrf(n, n, lu, n, pivots, info);
    if (info.val != 0) {
      throw new IllegalStateException("dgetrf info " + info.val);
    }
    LAPACK.getInstance().dgetrs("N", n, 1, lu, n, pivots, x, n, info);
    if (info.val != 0) {
      throw new IllegalStateException("dgetrs info " + info.val);
    }
    return x;
  }

  /** Solves the SPD system {@code a x = b} (a symmetric n×n, not modified) with LAPACK dposv. */
  static double[] solveSpd(double[] a, double[] b, int n) {
    double[] f = a.clone();
    double[] x = b.clone();
    intW info = new intW(0);
    LAPACK.getInstance().dposv("U", n, 1, f, n, x, n, info);
    if (info.val != 0) {
      throw new IllegalStateException("dposv info " + info.val);
    }
    return x;
  }

  /** Eigenvalues (ascending) of a symmetric n×n matrix, from LAPACK dsyev. */
  static double[] eigenvalues(double[] a, int n) {
    double[] f = a.clone();
    double[] w = new double[n];
    double[] work = new double[Math.max(1, 3 * n)];
    intW info = new intW(0);
    LAPACK.getInstance().dsyev("N", "U", n, f, n, w, work, work.length, info);
    if (info.val != 0) {
      throw new IllegalStateException("dsyev info " + info.val);
    }
    return w;
  }

  /** A = (1/λ) K + m I from the stored vectors (row-major, slot order). */
  static double[] woodburyMatrix(double[][] vectors, double damping) {
    int m = vectors.length;
    double[] a = new double[m * m];
    for (int i = 0; i < m; i++) {
      for (int j = 0; j < m; j++) {
        a[i * m + j] = dot(vectors[i], vectors[j]) / damping + (i == j ? m : 0.0);
      }
    }
    return a;
  }

  /** u = (λ I + (1/m) Σ_j x_j x_jᵀ)⁻¹ v via an explicit d×d matrix and an LU solve. */
  static double[] explicitMfac(double[][] vectors, double damping, double[] v) {
    int d = v.length;
    int m = vectors.length;
    double[] f = new double[d * d];
    for (int i = 0; i < d; i++) {
      f[i * d + i] = damping;
    }
    for (double[] x : vectors) {
      for (int i = 0; i < d; i++) {
        for (int j = 0; j < d; j++) {
          f[i * d + j] += x[i] * x[j] / m;
        }
      }
    }
    return solve(f, v, d);
  }

  static double dot(double[] a, double[] b) {
    double s = 0.0;
    for (int i = 0; i < a.length; i++) {
      s += a[i] * b[i];
    }
    return s;
  }

  static double norm(double[] a) {
    return Math.sqrt(dot(a, a));
  }

  /** ‖a − b‖ / ‖b‖. */
  static double relativeError(double[] a, double[] b) {
    double num = 0.0;
    for (int i = 0; i < a.length; i++) {
      num += (a[i] - b[i]) * (a[i] - b[i]);
    }
    return Math.sqrt(num) / norm(b);
  }

  static double[] gaussian(Random rnd, int d, double scale) {
    double[] x = new double[d];
    for (int i = 0; i < d; i++) {
      x[i] = scale * rnd.nextGaussian();
    }
    return x;
  }

  /** A random sparse vector: k distinct indices (ascending) with Gaussian float32 values times {@code scale}. */
  static SparseVector randomSparse(Random rnd, int d, int k, double scale) {
    int[] idx = rnd.ints(0, d).distinct().limit(k).sorted().toArray();
    float[] val = new float[k];
    for (int q = 0; q < k; q++) {
      val[q] = (float) (scale * rnd.nextGaussian());
    }
    return new SparseVector(d, idx, val);
  }

  /** The full-support sparse vector holding {@code x} rounded to float32. */
  static SparseVector fullSupport(double[] x) {
    int[] idx = new int[x.length];
    float[] val = new float[x.length];
    for (int i = 0; i < x.length; i++) {
      idx[i] = i;
      val[i] = (float) x[i];
    }
    return new SparseVector(x.length, idx, val);
  }

  static double[] toDense(CompressedVector c) {
    double[] out = new double[c.dimension()];
    c.toDense(out);
    return out;
  }

  private static double[] transpose(double[] a, int n) {
    double[] t = new double[n * n];
    for (int i = 0; i < n; i++) {
      for (int j = 0; j < n; j++) {
        t[j * n + i] = a[i * n + j];
      }
    }
    return t;
  }
}
