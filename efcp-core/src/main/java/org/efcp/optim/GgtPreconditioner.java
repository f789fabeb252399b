package org.efcp.optim;

import dev.ludovic.netlib.lapack.LAPACK;
import java.util.Arrays;
import java.util.Objects;
import org.netlib.util.intW;

/**
 * GGT (paper eq. 6, algorithms doc §4): {@code u = [(G Gᵀ)^{1/2} + ε I]⁻¹ c}, where G is the d×m matrix whose
 * columns are the window vectors x_j. Dense GGT runs over a {@link DenseWindow}, sparse GGT over a
 * {@link SparseWindow}; only the {@link GradientWindow} interface is used.
 *
 * <p>Per step: insert c, then {@code w = Gᵀ c} (the new row and column of the Gram matrix
 * {@code K[i][j] = <x_i, x_j>}, self-dot included), eigendecompose {@code K + ridge·I = V diag(λ) Vᵀ} with
 * LAPACK {@code dsyevd}, and with {@code s_i = sqrt(λ_i)}, {@code h_i = −1/(ε s_i (s_i + ε))}:
 * <pre>  β = V diag(h) Vᵀ w,   u = c/ε + G β.</pre>
 * This equals the authors' {@code U diag(1/(s+ε) − 1/ε) Uᵀ c + c/ε} with {@code U = G V diag(1/s)} without
 * forming the d×m U and without the cancellation inside {@code 1/(s+ε) − 1/ε} (doc §4.1, pitfall P8). All m×m
 * work is float64.
 *
 * <p>Ridge convention (doc §13): {@code ridge > 0} (the authors' code uses 1e-6) keeps every eigenpair; an
 * empty slot has {@code G v = 0} and contributes nothing. {@code ridge = 0} is the paper's exact formula, made a
 * pseudo-inverse by dropping eigenpairs with {@code λ ≤ 1e-12·λ_max} (all of them if {@code λ_max ≤ 0}).
 * Eigenvalues that round to {@code λ ≤ 0} are dropped in either case, so no step divides by zero.
 *
 * <p>Only the leading n×n block of K is decomposed during warm-up (n = vectors seen, at most m): the empty
 * slots' rows and columns are zero, so their eigenpairs contribute nothing to β.
 *
 * <p>Cost per step: two window passes ({@code dots}, {@code addCombination}: O(m·d) dense, O(m·k) sparse) and
 * one m×m eigendecomposition, O(m³) (milliseconds at the paper's m = 100).
 */
public final class GgtPreconditioner implements Preconditioner {
  private static final long serialVersionUID = 1L;
  /** With no ridge, eigenvalues at or below this fraction of the largest count as zero (doc P7). */
  static final double DROP_RELATIVE = 1e-12;

  private final GradientWindow window;
  private final double eps;
  private final double ridge;
  private final int m;
  /** The Gram matrix K = Gᵀ G, m×m column-major (symmetric, both triangles kept). */
  private final double[] gram;

  private transient double[] dots;
  private transient double[] eigvec;
  private transient double[] eigval;
  private transient double[] coef;
  private transient double[] work;
  private transient int[] iwork;

  /**
   * GGT over an empty window.
   *
   * @param window the ring buffer of compressed vectors (dense or sparse), owned by this preconditioner from now
   *     on; it must be empty
   * @param eps the GGT dampening ε (> 0; the paper uses 1e-5)
   * @param ridge added to the Gram matrix diagonal before its eigendecomposition (≥ 0; 1e-6 = the authors'
   *     code, 0 = the paper's exact formula)
   * @throws IllegalArgumentException naming the parameter out of range
   */
  public GgtPreconditioner(GradientWindow window, double eps, double ridge) {
    Objects.requireNonNull(window, "window");
    if (window.insertCount() != 0) {
      throw new IllegalArgumentException("window: must be empty, holds " + window.insertCount() + " inserts");
    }
    if (!(eps > 0) || Double.isInfinite(eps)) {
      throw new IllegalArgumentException("ggtEpsilon: must be > 0 and finite, got " + eps);
    }
    if (!(ridge >= 0) || Double.isInfinite(ridge)) {
      throw new IllegalArgumentException("ridge: must be >= 0 and finite, got " + ridge);
    }
    this.window = window;
    this.eps = eps;
    this.ridge = ridge;
    this.m = window.capacity();
    this.gram = new double[m * m];
  }

  @Override
  public int dimension() {
    return window.dimension();
  }

  @Override
  public void update(CompressedVector c, double[] out) {
    int d = window.dimension();
    UpdateArguments.check(d, c, out);
    ensureScratch();
    int s = window.insert(c);
    window.dots(c, dots);
    for (int j = 0; j < m; j++) {
      gram[s * m + j] = dots[j];
      gram[j * m + s] = dots[j];
    }
    computeCoefficients((int) Math.min(window.insertCount(), m));
    c.toDense(out);
    for (int i = 0; i < d; i++) {
      out[i] /= eps;
    }
    window.addCombination(coef, out);
  }

  /** {@code coef = β = V diag(h) Vᵀ w} over the leading n×n block of K + ridge·I; zero for the empty slots. */
  private void computeCoefficients(int n) {
    for (int col = 0; col < n; col++) {
      System.arraycopy(gram, col * m, eigvec, col * n, n);
      eigvec[col * n + col] += ridge;
    }
    intW info = new intW(0);
    LAPACK.getInstance().dsyevd("V", "U", n, eigvec, n, eigval, work, work.length, iwork, iwork.length, info);
    if (info.val != 0) {
      throw new IllegalStateException("dsyevd failed on the " + n + "x" + n + " GGT Gram matrix: info = " + info.val);
    }
    double cutoff = ridge > 0 ? 0.0 : Math.max(0.0, DROP_RELATIVE * eigval[n - 1]);
    Arrays.fill(coef, 0.0);
    for (int i = 0; i < n; i++) {
      double lambda = eigval[i];
      if (!(lambda > cutoff)) {
        continue;
      }
      double si = Math.sqrt(lambda);
      double h = -1.0 / (eps * si * (si + eps));
      int base = i * n;
      double t = 0.0;
      for (int r = 0; r < n; r++) {
        t += eigvec[base + r] * dots[r];
      }
      t *= h;
      for (int r = 0; r < n; r++) {
        coef[r] += eigvec[base + r] * t;
      }
    }
  }

  private void ensureScratch() {
    if (dots != null) {
      return;
    }
    dots = new double[m];
    eigvec = new double[m * m];
    eigval = new double[m];
    coef = new double[m];
    // Workspace query at the full size m; smaller warm-up blocks need less.
    double[] lwork = new double[1];
    int[] liwork = new int[1];
    intW info = new intW(0);
    LAPACK.getInstance().dsyevd("V", "U", m, eigvec, m, eigval, lwork, -1, liwork, -1, info);
    work = new double[Math.max(1 + 6 * m + 2 * m * m, (int) lwork[0])];
    iwork = new int[Math.max(3 + 5 * m, liwork[0])];
  }

  public GradientWindow window() {
    return window;
  }

  /** A copy of K, m×m by slot (symmetric, so row- and column-major alike). */
  public double[] gram() {
    return gram.clone();
  }

  /**
   * Fills an empty preconditioner: the window's slots ({@link GradientWindow#restore}) and K.
   *
   * @param slots min(steps, m) vectors by slot
   * @param steps the inserts they stand for
   * @param gram K, m×m by slot, symmetric, finite
   * @throws IllegalArgumentException on a mismatch (the preconditioner is then empty again)
   */
  public void restore(CompressedVector[] slots, long steps, double[] gram) {
    PipelineState.checkGram(gram, m);
    window.restore(slots, steps);
    System.arraycopy(gram, 0, this.gram, 0, gram.length);
  }

  /** The window's bytes plus the m×m Gram matrix and the m×m eigenvector scratch (16·m² bytes). */
  @Override
  public long memoryBytes() {
    return window.memoryBytes() + 16L * m * m;
  }

  @Override
  public void reset() {
    window.reset();
    Arrays.fill(gram, 0.0);
  }
}
