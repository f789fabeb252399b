package org.efcp.optim;

import dev.ludovic.netlib.lapack.LAPACK;
import java.io.Serializable;
import java.util.Arrays;
import org.netlib.util.intW;

/**
 * The m×m part of M-FAC (algorithms doc §2.4, Woodbury form): with window vectors x_0..x_{m-1} (slot order,
 * empty slots are zero vectors), {@code K[i][j] = <x_i, x_j>}, n = m and damping λ,
 *
 * <pre>
 *   F = λ I + (1/n) Σ_j x_j x_jᵀ,    A = (1/λ) K + n I,    F⁻¹ v = v/λ − Σ_j M_j x_j,   M = (1/λ)² A⁻¹ w
 * </pre>
 *
 * where {@code w_j = <x_j, v>}. A is symmetric positive definite with every Schur complement ≥ n (pitfall P6).
 *
 * <p>State: K (m×m by slot) and the upper Cholesky factor R of A ({@code RᵀR = A}) in <em>chronological</em>
 * order (oldest vector first), stored by physical slot with a rotating head: logical position p is slot
 * {@code (head + p) mod m}, and head is the oldest slot, i.e. the next one to overwrite. Entry (p, q) of R lives
 * at {@code r[slot(p) * m + slot(q)]}; entries below the logical diagonal are kept at exactly zero.
 *
 * <p>{@link #insert} replaces the oldest vector in O(m²): deleting the first logical row is a rank-1
 * <em>update</em> of the trailing factor (Givens rotations, backward stable; no downdates), and appending the new
 * vector as the last logical position is one forward substitution; both run fused in one pass over the rows of R.
 * Before that, the column of RᵀR of the vector leaving (so the column checked rotates through all slots) is
 * compared with A, and R is refactored from scratch with LAPACK {@code dpotrf} when the scaled residual exceeds
 * {@link #driftTolerance(int)}.
 *
 * <p>All arithmetic is float64. Not thread-safe.
 */
public final class MfacCholeskyState implements Serializable {
  private static final long serialVersionUID = 1L;

  /** Attempts at a from-scratch factorisation with a growing diagonal shift before giving up. */
  private static final int MAX_SHIFTED_ATTEMPTS = 40;

  private final int m;
  private final double damping;
  private final double invDamping;
  private final double n;
  private final double tolerance;
  /** K by slot, row-major, symmetric. */
  private final double[] dots;
  /** Upper Cholesky factor of A in logical order, stored by slot (see class comment). */
  private final double[] factor;
  private int head;
  private long refreshCount;
  private double lastCheckError;

  /** Per-step scratch: the rank-1 update vector and the right-hand side of the new column. */
  private transient double[] update;
  private transient double[] rhs;

  /**
   * An empty window: K = 0, R = sqrt(n) I, head = 0 (all m slots count as present zero vectors).
   *
   * @param m the window size (number of slots), n = m
   * @param damping the paper's λ (added to the Fisher), finite and &gt; 0
   */
  public MfacCholeskyState(int m, double damping) {
    if (m < 1) {
      throw new IllegalArgumentException("m: must be >= 1, got " + m);
    }
    if (!(damping > 0) || !Double.isFinite(damping)) {
      throw new IllegalArgumentException("damping: must be > 0 and finite, got " + damping);
    }
    if ((long) m * m > Integer.MAX_VALUE - 8) {
      throw new IllegalArgumentException("m: m*m must fit in a Java array, got m = " + m);
    }
    this.m = m;
    this.damping = damping;
    this.invDamping = 1.0 / damping;
    this.n = m;
    this.tolerance = driftTolerance(m);
    this.dots = new double[m * m];
    this.factor = new double[m * m];
    reset();
  }

  /**
   * The bound on the scaled residual {@code max_i |(RᵀR − A)_ij| / sqrt(A_ii A_jj)} of a checked column j above
   * which the factor is rebuilt: {@code 32 (m+1) ε}. A from-scratch Cholesky guarantees
   * {@code |RᵀR − A| ≤ γ_{m+1} |Rᵀ||R|} (Higham, Thm 10.3) and {@code (|Rᵀ||R|)_ij ≤ sqrt(A_ii A_jj)}, i.e. a
   * scaled residual ≤ (m+1)ε; an error in the factor only lives while both of its vectors are in the window (at
   * most m steps), so the updated factor stays within a small multiple of that and refreshes are rare.
   */
  public static double driftTolerance(int m) {
    return 32.0 * (m + 1) * Math.ulp(1.0);
  }

  /** m, the number of slots. */
  public int capacity() {
    return m;
  }

  /** The damping λ. */
  public double damping() {
    return damping;
  }

  /** The oldest slot, which the next {@link #insert} must name. */
  public int head() {
    return head;
  }

  /** How many from-scratch factorisations ran (drift-check failures, failed appends and explicit calls). */
  public long refreshCount() {
    return refreshCount;
  }

  /** The scaled residual found by the last drift check (see {@link #driftTolerance}). */
  public double lastCheckError() {
    return lastCheckError;
  }

  /**
   * Replaces the oldest vector: row/column {@code slot} of K becomes {@code newDots} (length m,
   * {@code newDots[slot]} = the new vector's squared norm, the others its dots with the vectors in the other
   * slots). O(m²).
   *
   * @throws IllegalArgumentException if {@code slot != head()}, the length is not m, or an entry is not finite
   */
  public void insert(int slot, double[] newDots) {
    if (slot != head) {
      throw new IllegalArgumentException("slot: must be the oldest slot " + head + ", got " + slot);
    }
    if (newDots.length != m) {
      throw new IllegalArgumentException("newDots: length must be m = " + m + ", got " + newDots.length);
    }
    for (double v : newDots) {
      if (!Double.isFinite(v)) {
        throw new IllegalArgumentException("newDots: entries must be finite, got " + v);
      }
    }
    ensureScratch();
    final double[] r = factor;
    final double[] x = update;
    final double[] a = rhs;
    final int old = head;
    final int oldRow = old * m;
    double error = oldestColumnError(old);

    // Logical row 0 (the vector leaving): its off-diagonal part is the rank-1 update vector.
    System.arraycopy(r, oldRow, x, 0, m);
    x[old] = 0.0;
    for (int q = 0; q < m; q++) {
      a[q] = invDamping * newDots[q];
    }

    // Logical rows 1..m-1 (they move up by one): rotate x in (Givens), then use the final row for the forward
    // substitution Rᵀ y = a of the new last column, which is stored in physical column `old`.
    double yy = 0.0;
    for (int p = 1; p < m; p++) {
      int sp = old + p < m ? old + p : old + p - m;
      int off = sp * m;
      double rpp = r[off + sp];
      double xp = x[sp];
      double rr = Math.sqrt(rpp * rpp + xp * xp);
      double c = rpp / rr;
      double s = xp / rr;
      double yp = a[sp] / rr;
      yy += yp * yp;
      if (sp > old) {
        rotateSolve(r, off, x, a, sp + 1, m, c, s, yp);
        rotateSolve(r, off, x, a, 0, old, c, s, yp);
      } else {
        rotateSolve(r, off, x, a, sp + 1, old, c, s, yp);
      }
      r[off + sp] = rr;
      r[off + old] = yp;
    }

    System.arraycopy(newDots, 0, dots, oldRow, m);
    for (int q = 0; q < m; q++) {
      dots[q * m + old] = newDots[q];
    }
    Arrays.fill(r, oldRow, oldRow + m, 0.0);
    head = old + 1 < m ? old + 1 : 0;
    lastCheckError = error;

    // Exact Schur complement ≥ n; a shortfall within rounding of alpha is clamped, a larger one is drift.
    double alpha = a[old] + n;
    double schur = alpha - yy;
    boolean appended = true;
    if (schur >= n) {
      r[oldRow + old] = Math.sqrt(schur);
    } else if (n - schur <= tolerance * alpha) {
      r[oldRow + old] = Math.sqrt(n);
    } else {
      appended = false;
    }
    if (!appended || !(error <= tolerance)) {
      refactorFromScratch();
    }
  }

  /** Row p of the Givens rank-1 update fused with the forward-substitution step of the new column. */
  private static void rotateSolve(double[] r, int off, double[] x, double[] a, int from, int to,
      double c, double s, double yp) {
    for (int q = from; q < to; q++) {
      double rq = r[off + q];
      double xq = x[q];
      double nr = c * rq + s * xq;
      r[off + q] = nr;
      x[q] = c * xq - s * rq;
      a[q] -= nr * yp;
    }
  }

  /**
   * Drift check of the column of the oldest vector (slot {@code old}, logical position 0): that column of RᵀR is
   * {@code R_00 R_0q}, so it costs O(m). As head rotates, every slot's column is checked once per lifetime, at
   * its last step, when the rounding accumulated in its row and column of RᵀR − A is largest; every entry of
   * RᵀR − A is thus checked before it leaves. Returns {@code max_q |(RᵀR − A)_q0| / sqrt(A_qq A_00)}.
   */
  private double oldestColumnError(int old) {
    int row = old * m;
    double r00 = factor[row + old];
    double a00 = invDamping * dots[row + old] + n;
    double worst = 0.0;
    for (int q = 0; q < m; q++) {
      double aq0 = invDamping * dots[row + q] + (q == old ? n : 0.0);
      double aqq = invDamping * dots[q * m + q] + n;
      double e = Math.abs(r00 * factor[row + q] - aq0) / Math.sqrt(aqq * a00);
      if (!(e <= worst)) {
        worst = e; // NaN propagates and fails the check
      }
    }
    return worst;
  }

  /**
   * {@code outM[j]} (slot order) such that {@code F⁻¹ v = v/λ − Σ_j outM[j] x_j}, given {@code w[j] = <x_j, v>}:
   * two triangular solves with R, then the factor (1/λ)². O(m²). {@code outM} may be {@code w} itself.
   */
  public void coefficients(double[] w, double[] outM) {
    if (w.length != m) {
      throw new IllegalArgumentException("w: length must be m = " + m + ", got " + w.length);
    }
    if (outM.length != m) {
      throw new IllegalArgumentException("outM: length must be m = " + m + ", got " + outM.length);
    }
    final double[] r = factor;
    final double[] z = outM;
    System.arraycopy(w, 0, z, 0, m);
    // Rᵀ z = w, row-oriented (right-looking).
    for (int p = 0; p < m; p++) {
      int sp = head + p < m ? head + p : head + p - m;
      int off = sp * m;
      double zp = z[sp] / r[off + sp];
      z[sp] = zp;
      if (sp >= head) {
        axpy(-zp, r, off, z, sp + 1, m);
        axpy(-zp, r, off, z, 0, head);
      } else {
        axpy(-zp, r, off, z, sp + 1, head);
      }
    }
    // R M = z, row dot products.
    for (int p = m - 1; p >= 0; p--) {
      int sp = head + p < m ? head + p : head + p - m;
      int off = sp * m;
      double sum = sp >= head
          ? dot(r, off, z, sp + 1, m) + dot(r, off, z, 0, head)
          : dot(r, off, z, sp + 1, head);
      z[sp] = (z[sp] - sum) / r[off + sp];
    }
    double scale = invDamping * invDamping;
    for (int j = 0; j < m; j++) {
      z[j] *= scale;
    }
  }

  private static void axpy(double alpha, double[] r, int off, double[] y, int from, int to) {
    for (int q = from; q < to; q++) {
      y[q] += alpha * r[off + q];
    }
  }

  /** Dot product with four interleaved accumulators (fixed order, so deterministic). */
  private static double dot(double[] r, int off, double[] y, int from, int to) {
    double s0 = 0.0;
    double s1 = 0.0;
    double s2 = 0.0;
    double s3 = 0.0;
    int q = from;
    for (; q + 3 < to; q += 4) {
      s0 += r[off + q] * y[q];
      s1 += r[off + q + 1] * y[q + 1];
      s2 += r[off + q + 2] * y[q + 2];
      s3 += r[off + q + 3] * y[q + 3];
    }
    for (; q < to; q++) {
      s0 += r[off + q] * y[q];
    }
    return (s0 + s1) + (s2 + s3);
  }

  /**
   * Rebuilds R from K with LAPACK {@code dpotrf} (upper, column-major, logical order). O(m³). Should A not be
   * numerically positive definite (cond(A) beyond 1/ε), each diagonal entry is raised by the relative amount
   * {@code (m+1) ε 2^a} (attempt a = 0, 1, ...): a perturbation the size of the factorisation's own backward
   * error, scaled per entry so that the drift check (also scaled per entry) accepts it.
   *
   * @throws IllegalStateException if no shifted factorisation succeeds (K not finite)
   */
  public void refactorFromScratch() {
    double[] a = new double[m * m];
    LAPACK lapack = LAPACK.getInstance();
    double relativeShift = 0.0;
    for (int attempt = 0; ; attempt++) {
      fillLogicalUpper(a, relativeShift);
      intW info = new intW(0);
      lapack.dpotrf("U", m, a, m, info);
      if (info.val == 0) {
        break;
      }
      if (info.val < 0 || attempt == MAX_SHIFTED_ATTEMPTS) {
        throw new IllegalStateException("dpotrf failed (info = " + info.val + ") for m = " + m);
      }
      relativeShift = (m + 1) * Math.ulp(1.0) * Math.scalb(1.0, attempt);
    }
    for (int q = 0; q < m; q++) {
      int sq = slot(q);
      for (int p = 0; p < m; p++) {
        factor[slot(p) * m + sq] = p <= q ? a[p + q * m] : 0.0;
      }
    }
    refreshCount++;
  }

  /** Upper triangle of A, diagonal times (1 + relativeShift), in logical order, column-major. */
  private void fillLogicalUpper(double[] a, double relativeShift) {
    for (int q = 0; q < m; q++) {
      int rowQ = slot(q) * m;
      int col = q * m;
      for (int p = 0; p < q; p++) {
        a[col + p] = invDamping * dots[rowQ + slot(p)];
      }
      a[col + q] = (invDamping * dots[rowQ + slot(q)] + n) * (1.0 + relativeShift);
    }
  }

  private int slot(int logical) {
    int s = head + logical;
    return s < m ? s : s - m;
  }

  /** K (m×m by slot, float64) + R (m×m) + two length-m scratch vectors, in bytes. */
  public long memoryBytes() {
    return (2L * m * m + 2L * m) * Double.BYTES;
  }

  /** Forgets all vectors: K = 0, R = sqrt(n) I, head = 0, counters zero. */
  public void reset() {
    Arrays.fill(dots, 0.0);
    Arrays.fill(factor, 0.0);
    double root = Math.sqrt(n);
    for (int j = 0; j < m; j++) {
      factor[j * m + j] = root;
    }
    head = 0;
    refreshCount = 0;
    lastCheckError = 0.0;
  }

  /** The factor storage itself, for tests that corrupt it on purpose. */
  double[] factorForTesting() {
    return factor;
  }

  private void ensureScratch() {
    if (update == null) {
      update = new double[m];
      rhs = new double[m];
    }
  }
}
