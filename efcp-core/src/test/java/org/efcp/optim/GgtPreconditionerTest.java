package org.efcp.optim;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ludovic.netlib.lapack.LAPACK;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.ObjectInputStream;
import java.io.ObjectOutputStream;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.netlib.util.intW;

/**
 * Checks GGT against formulas built here from the window's d×m matrix G (test-side ring of the inserted
 * vectors), with LAPACK {@code dsyev}/{@code dposv} (the code under test uses {@code dsyevd} on the m×m Gram
 * matrix and never forms a d×d matrix).
 *
 * <p>Tolerance: the test vectors have norm ≈ 1 and well-separated singular values, so the d×d system
 * (G Gᵀ)^{1/2} + εI has condition number ≈ σ_max/ε ≤ 1e5 and both sides carry errors of order
 * cond · 1e-16 ≈ 1e-11 relative; 1e-8 leaves a wide margin while still catching any wrong term.
 */
class GgtPreconditionerTest {
  private static final double TOL = 1e-8;

  /** Float-representable N(0, 1/d) entries (norm ≈ 1), so the float32 window holds them exactly. */
  private static double[] randomVector(Random rnd, int d) {
    double[] v = new double[d];
    double scale = 1 / Math.sqrt(d);
    for (int i = 0; i < d; i++) {
      v[i] = (float) (scale * rnd.nextGaussian());
    }
    return v;
  }

  /** Test-side ring buffer: the window's vectors as exact doubles, zeros for empty slots. */
  private static final class Ring {
    final double[][] x;
    int t;

    Ring(int m, int d) {
      x = new double[m][d];
    }

    void insert(double[] v) {
      x[t++ % x.length] = v.clone();
    }
  }

  /** The paper's u = ((G Gᵀ)^{1/2} + εI)⁻¹ c with the d×d square root from dsyev and a dgesv solve. */
  static double[] paperFormula(double[][] g, double[] c, double eps) {
    int d = c.length;
    double[] gg = new double[d * d];
    for (double[] x : g) {
      for (int a = 0; a < d; a++) {
        for (int b = 0; b < d; b++) {
          gg[a * d + b] += x[a] * x[b];
        }
      }
    }
    double[] mu = new double[d];
    symmetricEigen(gg, d, mu);
    double[] r = new double[d * d];
    for (int k = 0; k < d; k++) {
      double root = Math.sqrt(Math.max(mu[k], 0));
      for (int a = 0; a < d; a++) {
        for (int b = 0; b < d; b++) {
          r[b * d + a] += gg[k * d + a] * root * gg[k * d + b];
        }
      }
    }
    for (int a = 0; a < d; a++) {
      r[a * d + a] += eps;
    }
    // (G Gᵀ)^{1/2} + εI is symmetric positive definite: Cholesky solve. (dgesv is avoided: OpenBLAS's threaded
    // dgetrf overflows the 1 MiB stack of JVM threads here and crashes the JVM.)
    double[] u = c.clone();
    intW info = new intW(0);
    LAPACK.getInstance().dposv("U", d, 1, r, d, u, d, info);
    assertEquals(0, info.val, "dposv info");
    return u;
  }

  /**
   * The authors' code: (λ, V) = eigh(K + ridge I), s = sqrt(λ), U = G V diag(1/s),
   * u = U diag(1/(s+ε) − 1/ε) Uᵀ c + c/ε, with the full m×m K (empty slots included).
   */
  static double[] authorsFormula(double[][] g, double[] c, double eps, double ridge) {
    int m = g.length;
    int d = c.length;
    double[] k = new double[m * m];
    for (int i = 0; i < m; i++) {
      for (int j = 0; j < m; j++) {
        double s = 0;
        for (int a = 0; a < d; a++) {
          s += g[i][a] * g[j][a];
        }
        k[j * m + i] = s;
      }
      k[i * m + i] += ridge;
    }
    double[] lambda = new double[m];
    symmetricEigen(k, m, lambda);
    double[] u = new double[d];
    for (int a = 0; a < d; a++) {
      u[a] = c[a] / eps;
    }
    for (int i = 0; i < m; i++) {
      double s = Math.sqrt(lambda[i]);
      double[] col = new double[d];
      for (int j = 0; j < m; j++) {
        for (int a = 0; a < d; a++) {
          col[a] += g[j][a] * k[i * m + j] / s;
        }
      }
      double proj = 0;
      for (int a = 0; a < d; a++) {
        proj += col[a] * c[a];
      }
      double diagv = 1 / (s + eps) - 1 / eps;
      for (int a = 0; a < d; a++) {
        u[a] += col[a] * diagv * proj;
      }
    }
    return u;
  }

  /** In-place dsyev: {@code a} (n×n column-major) becomes the eigenvectors, eigenvalues ascending in w. */
  private static void symmetricEigen(double[] a, int n, double[] w) {
    double[] work = new double[Math.max(1, 3 * n * n)];
    intW info = new intW(0);
    LAPACK.getInstance().dsyev("V", "U", n, a, n, w, work, work.length, info);
    assertEquals(0, info.val, "dsyev info");
  }

  private static double relativeError(double[] got, double[] ref) {
    double diff = 0;
    double norm = 0;
    for (int i = 0; i < ref.length; i++) {
      diff += (got[i] - ref[i]) * (got[i] - ref[i]);
      norm += ref[i] * ref[i];
    }
    return Math.sqrt(diff / norm);
  }

  private static void assertPaperFormulaHolds(int d, int m, double eps, boolean sparseInput, long seed) {
    Random rnd = new Random(seed);
    GgtPreconditioner ggt = new GgtPreconditioner(new DenseWindow(m, d), eps, 0.0);
    Ring ring = new Ring(m, d);
    double[] out = new double[d];
    for (int t = 0; t < m + 4; t++) {
      double[] c = randomVector(rnd, d);
      if (sparseInput) {
        for (int i = 0; i < d; i++) {
          if (rnd.nextInt(3) == 0) {
            c[i] = 0;
          }
        }
      }
      ring.insert(c);
      ggt.update(sparseInput ? sparse(c) : new DenseVector(c), out);
      double err = relativeError(out, paperFormula(ring.x, c, eps));
      assertTrue(err <= TOL, "d=" + d + " m=" + m + " eps=" + eps + " step " + t + ": relative error " + err);
    }
  }

  private static SparseVector sparse(double[] v) {
    int[] idx = java.util.stream.IntStream.range(0, v.length).filter(i -> v[i] != 0).toArray();
    float[] val = new float[idx.length];
    for (int q = 0; q < idx.length; q++) {
      val[q] = (float) v[idx[q]];
    }
    return new SparseVector(v.length, idx, val);
  }

  @Test
  void ridgeZeroMatchesTheExplicitSquareRootFormulaWithFewerSlotsThanCoordinates() {
    for (double eps : new double[] {1e-1, 1e-3, 1e-5}) {
      assertPaperFormulaHolds(24, 8, eps, false, 11);
    }
  }

  @Test
  void ridgeZeroMatchesTheExplicitSquareRootFormulaWithMoreSlotsThanCoordinates() {
    for (double eps : new double[] {1e-1, 1e-3, 1e-5}) {
      assertPaperFormulaHolds(10, 16, eps, false, 12);
    }
  }

  @Test
  void sparseInputsGiveThePaperFormulaToo() {
    assertPaperFormulaHolds(20, 6, 1e-4, true, 13);
  }

  @Test
  void firstStepScalesByNormPlusEpsilon() {
    double[] c = randomVector(new Random(4), 15);
    double norm = 0;
    for (double v : c) {
      norm += v * v;
    }
    norm = Math.sqrt(norm);
    double eps = 1e-3;
    double[] out = new double[15];
    new GgtPreconditioner(new DenseWindow(5, 15), eps, 0.0).update(new DenseVector(c), out);
    for (int i = 0; i < 15; i++) {
      assertEquals(c[i] / (norm + eps), out[i], 1e-12);
    }
  }

  @Test
  void ridgePositiveMatchesTheAuthorsFormula() {
    int[][] shapes = {{16, 6}, {8, 12}};
    for (int[] shape : shapes) {
      int d = shape[0];
      int m = shape[1];
      for (double ridge : new double[] {1e-6, 1e-2}) {
        for (double eps : new double[] {1e-2, 1e-5}) {
          Random rnd = new Random(21);
          GgtPreconditioner ggt = new GgtPreconditioner(new DenseWindow(m, d), eps, ridge);
          Ring ring = new Ring(m, d);
          double[] out = new double[d];
          for (int t = 0; t < m + 3; t++) {
            double[] c = randomVector(rnd, d);
            ring.insert(c);
            ggt.update(new DenseVector(c), out);
            double err = relativeError(out, authorsFormula(ring.x, c, eps, ridge));
            assertTrue(err <= TOL, "d=" + d + " m=" + m + " ridge=" + ridge + " eps=" + eps + " step " + t + ": " + err);
          }
        }
      }
    }
  }

  /** Doc §4.1: ridge 1e-6 adds ≈ (r/σ²)/ε ≈ 0.1 per direction at ε = 1e-5 for unit-norm vectors, ≈ 1e-5 at ε = 0.1. */
  @Test
  void ridgeOfOneMillionthMattersOnlyAtSmallEpsilon() {
    int d = 50;
    int m = 10;
    for (double eps : new double[] {1e-5, 1e-1}) {
      Random rnd = new Random(31);
      GgtPreconditioner exact = new GgtPreconditioner(new DenseWindow(m, d), eps, 0.0);
      GgtPreconditioner ridged = new GgtPreconditioner(new DenseWindow(m, d), eps, 1e-6);
      double[] a = new double[d];
      double[] b = new double[d];
      for (int t = 0; t < m + 2; t++) {
        double[] c = randomVector(rnd, d);
        double norm = Math.sqrt(dot(c, c));
        for (int i = 0; i < d; i++) {
          c[i] = (float) (c[i] / norm);
        }
        exact.update(new DenseVector(c), a);
        ridged.update(new DenseVector(c), b);
        double diff = relativeError(b, a);
        if (eps == 1e-5) {
          assertTrue(diff > 0.02, "step " + t + ": relative difference only " + diff);
        } else {
          assertTrue(diff < 1e-4, "step " + t + ": relative difference " + diff);
        }
      }
    }
  }

  private static double dot(double[] x, double[] y) {
    double s = 0;
    for (int i = 0; i < x.length; i++) {
      s += x[i] * y[i];
    }
    return s;
  }

  @Test
  void zeroVectorGivesZeroWithoutNaN() {
    for (double ridge : new double[] {0.0, 1e-6}) {
      GgtPreconditioner ggt = new GgtPreconditioner(new DenseWindow(3, 4), 1e-5, ridge);
      double[] out = new double[4];
      for (int t = 0; t < 4; t++) {
        ggt.update(new DenseVector(new double[4]), out);
        assertArrayEquals(new double[4], out);
      }
      // One unit vector (σ = 1) beside empty slots: doc §4.1's per-direction coefficient.
      ggt.update(new DenseVector(new double[] {1, 0, 0, 0}), out);
      double eps = 1e-5;
      double expected = 1 / eps + (1 / (1 + ridge)) * (1 / (Math.sqrt(1 + ridge) + eps) - 1 / eps);
      assertEquals(expected, out[0], 1e-9 * expected);
      assertArrayEquals(new double[3], java.util.Arrays.copyOfRange(out, 1, 4));
    }
  }

  @Test
  void savedAndRestoredStateContinuesBitIdentically() throws IOException, ClassNotFoundException {
    int d = 30;
    int m = 4;
    Random rnd = new Random(41);
    GgtPreconditioner original = new GgtPreconditioner(new DenseWindow(m, d), 1e-3, 1e-6);
    double[] out = new double[d];
    for (int t = 0; t < 6; t++) {
      original.update(new DenseVector(randomVector(rnd, d)), out);
    }
    GgtPreconditioner copy = roundTrip(original);
    double[] a = new double[d];
    double[] b = new double[d];
    for (int t = 0; t < 7; t++) {
      double[] c = randomVector(rnd, d);
      original.update(new DenseVector(c), a);
      copy.update(new DenseVector(c), b);
      assertArrayEquals(a, b, "step " + t);
    }
  }

  @SuppressWarnings("unchecked")
  static <T> T roundTrip(T object) throws IOException, ClassNotFoundException {
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    try (ObjectOutputStream out = new ObjectOutputStream(bytes)) {
      out.writeObject(object);
    }
    try (ObjectInputStream in = new ObjectInputStream(new ByteArrayInputStream(bytes.toByteArray()))) {
      return (T) in.readObject();
    }
  }

  @Test
  void resetBehavesLikeAFreshInstance() {
    int d = 12;
    int m = 3;
    Random rnd = new Random(51);
    double[][] cs = new double[5][];
    for (int t = 0; t < cs.length; t++) {
      cs[t] = randomVector(rnd, d);
    }
    GgtPreconditioner used = new GgtPreconditioner(new DenseWindow(m, d), 1e-4, 0.0);
    double[] out = new double[d];
    for (double[] c : cs) {
      used.update(new DenseVector(c), out);
    }
    used.reset();
    GgtPreconditioner fresh = new GgtPreconditioner(new DenseWindow(m, d), 1e-4, 0.0);
    double[] a = new double[d];
    double[] b = new double[d];
    for (int t = cs.length - 1; t >= 0; t--) {
      used.update(new DenseVector(cs[t]), a);
      fresh.update(new DenseVector(cs[t]), b);
      assertArrayEquals(b, a);
    }
  }

  @Test
  void memoryCountsWindowGramAndEigenvectors() {
    GgtPreconditioner ggt = new GgtPreconditioner(new DenseWindow(10, 1000), 1e-5, 1e-6);
    assertEquals(4L * 10 * 1000 + 16L * 10 * 10, ggt.memoryBytes());
    assertEquals(1000, ggt.dimension());
  }

  @Test
  void badArgumentsAreRejectedByName() {
    assertTrue(assertThrows(IllegalArgumentException.class, () -> new GgtPreconditioner(new DenseWindow(2, 3), 0, 0))
        .getMessage().startsWith("ggtEpsilon:"));
    assertTrue(assertThrows(IllegalArgumentException.class,
        () -> new GgtPreconditioner(new DenseWindow(2, 3), Double.NaN, 0)).getMessage().startsWith("ggtEpsilon:"));
    assertTrue(assertThrows(IllegalArgumentException.class, () -> new GgtPreconditioner(new DenseWindow(2, 3), 1e-5, -1))
        .getMessage().startsWith("ridge:"));
    DenseWindow used = new DenseWindow(2, 3);
    used.insert(new DenseVector(new double[3]));
    assertTrue(assertThrows(IllegalArgumentException.class, () -> new GgtPreconditioner(used, 1e-5, 0))
        .getMessage().startsWith("window:"));
    GgtPreconditioner ggt = new GgtPreconditioner(new DenseWindow(2, 3), 1e-5, 0);
    assertTrue(assertThrows(IllegalArgumentException.class, () -> ggt.update(new DenseVector(new double[4]), new double[4]))
        .getMessage().startsWith("c:"));
    assertTrue(assertThrows(IllegalArgumentException.class, () -> ggt.update(new DenseVector(new double[3]), new double[4]))
        .getMessage().startsWith("out:"));
  }
}
