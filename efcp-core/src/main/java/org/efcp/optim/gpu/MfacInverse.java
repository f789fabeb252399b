package org.efcp.optim.gpu;

import dev.ludovic.netlib.lapack.LAPACK;
import org.netlib.util.intW;

/**
 * The exact inverse {@code B = A⁻¹} of the M-FAC matrix {@code A = K/λ + n I} (n = m, algorithms doc §2.4) on the
 * host, in float64, with LAPACK {@code dpotrf} + {@code dpotri}: what {@link GpuSparseMfacPipeline} uploads when the
 * inverse it updates on the device has drifted. A is symmetric positive definite (K is a Gram matrix, every
 * eigenvalue of A is ≥ n), so the Cholesky factorisation cannot fail for a finite K.
 */
final class MfacInverse {
  private MfacInverse() {}

  /**
   * Writes {@code A⁻¹} for {@code A = invDamping · K + m I} into {@code out}, both triangles, so that {@code out} is
   * exactly symmetric. Row-major and column-major coincide for these symmetric matrices.
   *
   * @param dots K, m×m, symmetric (read only)
   * @param m the order, and the shift n
   * @param invDamping 1/λ
   * @param out receives A⁻¹ (m×m); may not alias {@code dots}
   * @throws IllegalArgumentException if the lengths are not m·m
   * @throws IllegalStateException if LAPACK reports a failure (K not finite or not a Gram matrix)
   */
  static void invert(double[] dots, int m, double invDamping, double[] out) {
    int mm = m * m;
    if (dots.length != mm) {
      throw new IllegalArgumentException("dots: length must be m*m = " + mm + ", got " + dots.length);
    }
    if (out.length != mm) {
      throw new IllegalArgumentException("out: length must be m*m = " + mm + ", got " + out.length);
    }
    for (int i = 0; i < mm; i++) {
      out[i] = invDamping * dots[i];
    }
    for (int i = 0; i < m; i++) {
      out[i * m + i] += m;
    }
    intW info = new intW(0);
    LAPACK lapack = LAPACK.getInstance();
    lapack.dpotrf("U", m, out, m, info);
    if (info.val != 0) {
      throw new IllegalStateException("dpotrf failed with info = " + info.val + " (A = K/λ + m I is not positive definite)");
    }
    lapack.dpotri("U", m, out, m, info);
    if (info.val != 0) {
      throw new IllegalStateException("dpotri failed with info = " + info.val);
    }
    // dpotri leaves the upper triangle (column-major: entry (i, j), i <= j, at i + j*m); mirror it.
    for (int j = 0; j < m; j++) {
      for (int i = 0; i < j; i++) {
        out[j + i * m] = out[i + j * m];
      }
    }
  }
}
