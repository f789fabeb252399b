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
 * at {@code r[slot(p)][slot(q)]}; entries below the logical diagonal are kept at exactly zero. Rows are separate
 * arrays so that the inner loops index R, x and a alike, which C2 vectorises.
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
  /** K by slot, symmetric. */
  private final double[][] dots;
  /** Upper Cholesky factor of A in logical order, stored by slot (see class comment). */
  private final double[][] factor;
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
      throw new IllegalArgumentException("m: the m×m LAPACK work matrix must fit in a Java array, got m = " + m);
    }
    this.m = m;
    this.damping = damping;
    this.invDamping = 1.0 / damping;
    this.n = m;
    this.tolerance = driftTolerance(m);
    this.dots = new double[m][m];
    this.factor = new double[m][m];
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
    final double[] x = update;
    final double[] a = rhs;
    final int old = head;
    final double[] oldRow = factor[old];
    double error = oldestColumnError(old);

    // Logical row 0 (the vector leaving): its off-diagonal part is the rank-1 update vector.
    System.arraycopy(oldRow, 0, x, 0, m);
    x[old] = 0.0;
    for (int q = 0; q < m; q++) {
      a[q] = invDamping * newDots[q];
    }

    // Logical rows 1..m-1 (they move up by one): rotate x in (Givens), then use the final row for the forward
    // substitution Rᵀ y = a of the new last column, which is stored in physical column `old`. Rows go in pairs
    // (two memory streams at once; R is usually not in cache) with the arithmetic of one row at a time.
    double yy = 0.0;
    int p = 1;
    for (; p + 1 < m; p += 2) {
      int s1 = old + p < m ? old + p : old + p - m;
      int s2 = s1 + 1 < m ? s1 + 1 : 0;
      double[] row1 = factor[s1];
      double[] row2 = factor[s2];
      double r11 = row1[s1];
      double x1 = x[s1];
      double rr1 = Math.sqrt(r11 * r11 + x1 * x1);
      double c1 = r11 / rr1;
      double t1 = x1 / rr1;
      double y1 = a[s1] / rr1;
      double r12 = row1[s2];
      double x2 = x[s2];
      double n12 = c1 * r12 + t1 * x2;
      x2 = c1 * x2 - t1 * r12;
      double a2 = a[s2] - n12 * y1;
      double r22 = row2[s2];
      double rr2 = Math.sqrt(r22 * r22 + x2 * x2);
      double c2 = r22 / rr2;
      double t2 = x2 / rr2;
      double y2 = a2 / rr2;
      yy += y1 * y1;
      yy += y2 * y2;
      if (s2 > old) {
        rotateSolvePair(row1, row2, x, a, s2 + 1, m, c1, t1, y1, c2, t2, y2);
        rotateSolvePair(row1, row2, x, a, 0, old, c1, t1, y1, c2, t2, y2);
      } else {
        rotateSolvePair(row1, row2, x, a, s2 + 1, old, c1, t1, y1, c2, t2, y2);
      }
      row1[s1] = rr1;
      row1[s2] = n12;
      row1[old] = y1;
      row2[s2] = rr2;
      row2[old] = y2;
    }
    if (p < m) {
      int sp = old + p < m ? old + p : old + p - m;
      double[] row = factor[sp];
      double rpp = row[sp];
      double xp = x[sp];
      double rr = Math.sqrt(rpp * rpp + xp * xp);
      double c = rpp / rr;
      double s = xp / rr;
      double yp = a[sp] / rr;
      yy += yp * yp;
      if (sp > old) {
        rotateSolve(row, x, a, sp + 1, m, c, s, yp);
        rotateSolve(row, x, a, 0, old, c, s, yp);
      } else {
        rotateSolve(row, x, a, sp + 1, old, c, s, yp);
      }
      row[sp] = rr;
      row[old] = yp;
    }

    System.arraycopy(newDots, 0, dots[old], 0, m);
    for (int q = 0; q < m; q++) {
      dots[q][old] = newDots[q];
    }
    Arrays.fill(oldRow, 0.0);
    head = old + 1 < m ? old + 1 : 0;
    lastCheckError = error;

    // Exact Schur complement ≥ n; a shortfall within rounding of alpha is clamped, a larger one is drift.
    double alpha = a[old] + n;
    double schur = alpha - yy;
    boolean appended = true;
    if (schur >= n) {
      oldRow[old] = Math.sqrt(schur);
    } else if (n - schur <= tolerance * alpha) {
      oldRow[old] = Math.sqrt(n);
    } else {
      appended = false;
    }
    if (!appended || !(error <= tolerance)) {
      refactorFromScratch();
    }
  }

  /** Row p of the Givens rank-1 update fused with the forward-substitution step of the new column. */
  private static void rotateSolve(double[] row, double[] x, double[] a, int from, int to,
      double c, double s, double yp) {
    for (int q = from; q < to; q++) {
      double rq = row[q];
      double xq = x[q];
      double nr = c * rq + s * xq;
      row[q] = nr;
      x[q] = c * xq - s * rq;
      a[q] -= nr * yp;
    }
  }

  /** {@link #rotateSolve} for two consecutive rows: row 1's rotation reaches x before row 2's, as one at a time. */
  private static void rotateSolvePair(double[] row1, double[] row2, double[] x, double[] a, int from, int to,
      double c1, double t1, double y1, double c2, double t2, double y2) {
    for (int q = from; q < to; q++) {
      double rq1 = row1[q];
      double xq = x[q];
      double n1 = c1 * rq1 + t1 * xq;
      row1[q] = n1;
      double xq1 = c1 * xq - t1 * rq1;
      double rq2 = row2[q];
      double n2 = c2 * rq2 + t2 * xq1;
      row2[q] = n2;
      x[q] = c2 * xq1 - t2 * rq2;
      a[q] = (a[q] - n1 * y1) - n2 * y2;
    }
  }

  /**
   * Drift check of the column of the oldest vector (slot {@code old}, logical position 0): that column of RᵀR is
   * {@code R_00 R_0q}, so it costs O(m). As head rotates, every slot's column is checked once per lifetime, at
   * its last step, when the rounding accumulated in its row and column of RᵀR − A is largest; every entry of
   * RᵀR − A is thus checked before it leaves. Returns {@code max_q |(RᵀR − A)_q0| / sqrt(A_qq A_00)}.
   */
  private double oldestColumnError(int old) {
    double[] r0 = factor[old];
    double[] k0 = dots[old];
    double a00 = invDamping * k0[old] + n;
    double worst = 0.0;
    for (int q = 0; q < m; q++) {
      double aq0 = invDamping * k0[q] + (q == old ? n : 0.0);
      double aqq = invDamping * dots[q][q] + n;
      double e = Math.abs(r0[old] * r0[q] - aq0) / Math.sqrt(aqq * a00);
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
    final double[] z = outM;
    System.arraycopy(w, 0, z, 0, m);
    // Rᵀ z = w, row-oriented (right-looking).
    for (int p = 0; p < m; p++) {
      int sp = head + p < m ? head + p : head + p - m;
      double[] row = factor[sp];
      double zp = z[sp] / row[sp];
      z[sp] = zp;
      if (sp >= head) {
        axpy(-zp, row, z, sp + 1, m);
        axpy(-zp, row, z, 0, head);
      } else {
        axpy(-zp, row, z, sp + 1, head);
      }
    }
    backSubstituteAndScale(z);
  }

  /**
   * {@link #coefficients} for {@code w} = the K row of the vector inserted last, i.e. preconditioning that vector
   * (the optimizer's case), at half the cost: the forward solve {@code Rᵀ z = w} is already done, since R's last
   * logical column is {@code R⁻ᵀ (w/λ)} over the other positions, so {@code z = λ ·} that column, and only the
   * last entry and the backward solve remain. Equals {@code coefficients(K row of slot head()-1 mod m, outM)} up to
   * rounding.
   */
  public void coefficientsForNewest(double[] outM) {
    if (outM.length != m) {
      throw new IllegalArgumentException("outM: length must be m = " + m + ", got " + outM.length);
    }
    int s = head == 0 ? m - 1 : head - 1;
    double[] z = outM;
    double sum = 0.0;
    for (int p = 0; p < m - 1; p++) {
      int sp = head + p < m ? head + p : head + p - m;
      double rps = factor[sp][s];
      double zp = damping * rps;
      z[sp] = zp;
      sum += rps * zp;
    }
    z[s] = (dots[s][s] - sum) / factor[s][s];
    backSubstituteAndScale(z);
  }

  /** Solves R M = z in place (row dot products, last logical row first), then scales by (1/λ)². */
  private void backSubstituteAndScale(double[] z) {
    for (int p = m - 1; p >= 0; p--) {
      int sp = head + p < m ? head + p : head + p - m;
      double[] row = factor[sp];
      double sum = sp >= head
          ? dot(row, z, sp + 1, m) + dot(row, z, 0, head)
          : dot(row, z, sp + 1, head);
      z[sp] = (z[sp] - sum) / row[sp];
    }
    double scale = invDamping * invDamping;
    for (int j = 0; j < m; j++) {
      z[j] *= scale;
    }
  }

  private static void axpy(double alpha, double[] row, double[] y, int from, int to) {
    for (int q = from; q < to; q++) {
      y[q] += alpha * row[q];
    }
  }

  /** Dot product with eight interleaved accumulators (C2 does not vectorise it; fixed order, so deterministic). */
  private static double dot(double[] row, double[] y, int from, int to) {
    double s0 = 0.0;
    double s1 = 0.0;
    double s2 = 0.0;
    double s3 = 0.0;
    double s4 = 0.0;
    double s5 = 0.0;
    double s6 = 0.0;
    double s7 = 0.0;
    int q = from;
    for (; q + 7 < to; q += 8) {
      s0 += row[q] * y[q];
      s1 += row[q + 1] * y[q + 1];
      s2 += row[q + 2] * y[q + 2];
      s3 += row[q + 3] * y[q + 3];
      s4 += row[q + 4] * y[q + 4];
      s5 += row[q + 5] * y[q + 5];
      s6 += row[q + 6] * y[q + 6];
      s7 += row[q + 7] * y[q + 7];
    }
    for (; q < to; q++) {
      s0 += row[q] * y[q];
    }
    return ((s0 + s1) + (s2 + s3)) + ((s4 + s5) + (s6 + s7));
  }

  /**
   * Rebuilds R from K with LAPACK {@code dpotrf} ({@link #factorFromScratch}). O(m³).
   *
   * @throws IllegalStateException if no shifted factorisation succeeds (K not finite)
   */
  public void refactorFromScratch() {
    factorDots();
    refreshCount++;
  }

  /** R from K and the head, from scratch ({@link #factorFromScratch}); not counted. */
  private void factorDots() {
    double[] flat = new double[m * m];
    for (int j = 0; j < m; j++) {
      System.arraycopy(dots[j], 0, flat, j * m, m);
    }
    factorFromScratch(flat, m, head, damping, flat);
    for (int j = 0; j < m; j++) {
      System.arraycopy(flat, j * m, factor[j], 0, m);
    }
  }

  /**
   * The factor of a state with Gram matrix K and head {@code head}, from scratch: the upper Cholesky factor R of
   * {@code A = K/λ + n I} (n = m) in logical order (position p is slot {@code (head + p) mod m}) with LAPACK
   * {@code dpotrf}, written by slot as the state stores it (entry (p, q) at {@code out[slot(p)·m + slot(q)]}, zero
   * below the logical diagonal). O(m³). Should A not be numerically positive definite (cond(A) beyond 1/ε), each
   * diagonal entry is raised by the relative amount {@code (m+1) ε 2^a} (attempt a = 0, 1, ...): a perturbation the
   * size of the factorisation's own backward error, scaled per entry so that the drift check (also scaled per entry)
   * accepts it. The GPU dense M-FAC state rebuilds its device factor with this, too.
   *
   * @param dots K, m×m row-major by slot, symmetric (one triangle is read)
   * @param m the window size, ≥ 1
   * @param head the oldest slot, in [0, m)
   * @param damping λ, finite and &gt; 0
   * @param out receives R, m×m row-major by slot; may be {@code dots} itself (it is read completely first)
   * @throws IllegalArgumentException if a length is not m·m, or m, head or damping is out of range
   * @throws IllegalStateException if no shifted factorisation succeeds (K not finite)
   */
  public static void factorFromScratch(double[] dots, int m, int head, double damping, double[] out) {
    if (m < 1 || (long) m * m > Integer.MAX_VALUE - 8) {
      throw new IllegalArgumentException("m: must be in [1, 46340], got " + m);
    }
    if (dots.length != m * m) {
      throw new IllegalArgumentException("dots: length must be m*m = " + m * m + ", got " + dots.length);
    }
    if (out.length != m * m) {
      throw new IllegalArgumentException("out: length must be m*m = " + m * m + ", got " + out.length);
    }
    if (head < 0 || head >= m) {
      throw new IllegalArgumentException("head: must be in [0, " + m + "), got " + head);
    }
    if (!(damping > 0) || !Double.isFinite(damping)) {
      throw new IllegalArgumentException("damping: must be > 0 and finite, got " + damping);
    }
    double[] a = new double[m * m];
    LAPACK lapack = LAPACK.getInstance();
    double invDamping = 1.0 / damping;
    double relativeShift = 0.0;
    for (int attempt = 0; ; attempt++) {
      fillLogicalUpper(dots, m, head, invDamping, relativeShift, a);
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
      int sq = slot(head, q, m);
      for (int p = 0; p < m; p++) {
        out[slot(head, p, m) * m + sq] = p <= q ? a[p + q * m] : 0.0;
      }
    }
  }

  /** Upper triangle of A, diagonal times (1 + relativeShift), in logical order, column-major, from K by slot. */
  private static void fillLogicalUpper(double[] dots, int m, int head, double invDamping, double relativeShift,
      double[] a) {
    double n = m;
    for (int q = 0; q < m; q++) {
      int kq = slot(head, q, m) * m;
      int col = q * m;
      for (int p = 0; p < q; p++) {
        a[col + p] = invDamping * dots[kq + slot(head, p, m)];
      }
      a[col + q] = (invDamping * dots[kq + slot(head, q, m)] + n) * (1.0 + relativeShift);
    }
  }

  private static int slot(int head, int logical, int m) {
    int s = head + logical;
    return s < m ? s : s - m;
  }

  /** K (m×m by slot, float64) + R (m×m) + two length-m scratch vectors, in bytes. */
  public long memoryBytes() {
    return (2L * m * m + 2L * m) * Double.BYTES;
  }

  /** Forgets all vectors: K = 0, R = sqrt(n) I, head = 0, counters zero. */
  public void reset() {
    double root = Math.sqrt(n);
    for (int j = 0; j < m; j++) {
      Arrays.fill(dots[j], 0.0);
      Arrays.fill(factor[j], 0.0);
      factor[j][j] = root;
    }
    head = 0;
    refreshCount = 0;
    lastCheckError = 0.0;
  }

  /** A copy of K, m×m row-major by slot. */
  public double[] gram() {
    double[] out = new double[m * m];
    for (int j = 0; j < m; j++) {
      System.arraycopy(dots[j], 0, out, j * m, m);
    }
    return out;
  }

  /**
   * Takes over the state of a window with Gram matrix {@code gram} whose oldest slot is {@code head}, and factors
   * it from scratch ({@link #factorFromScratch}); the counters start at zero.
   *
   * @param gram K, m×m row-major by slot, symmetric, finite
   * @param head the oldest slot (t mod m after t inserts)
   * @throws IllegalArgumentException if a length or head is out of range, or an entry is not finite
   */
  public void restore(double[] gram, int head) {
    PipelineState.checkGram(gram, m);
    if (head < 0 || head >= m) {
      throw new IllegalArgumentException("head: must be in [0, " + m + "), got " + head);
    }
    for (int j = 0; j < m; j++) {
      System.arraycopy(gram, j * m, dots[j], 0, m);
    }
    this.head = head;
    factorDots();
    refreshCount = 0;
    lastCheckError = 0.0;
  }

  /** The factor storage itself, for tests that corrupt it on purpose. */
  double[][] factorForTesting() {
    return factor;
  }

  private void ensureScratch() {
    if (update == null) {
      update = new double[m];
      rhs = new double[m];
    }
  }
}
