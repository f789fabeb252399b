package org.efcp.optim;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ludovic.netlib.lapack.LAPACK;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.netlib.util.intW;

/**
 * The compressed methods are the dense methods run on the compressed sequence c_t (algorithms doc §3, §4.2,
 * §5): the window representation changes memory and cost, never the operator.
 */
class WindowEquivalenceTest {

  private static double[] gaussian(Random rnd, int d, double scale) {
    double[] g = new double[d];
    for (int i = 0; i < d; i++) {
      g[i] = scale * rnd.nextGaussian();
    }
    return g;
  }

  private static double maxAbs(double[] v) {
    double m = 0;
    for (double x : v) {
      m = Math.max(m, Math.abs(x));
    }
    return m;
  }

  /** (λI + (1/m) Σ_j c_j c_jᵀ)⁻¹ v by a d×d Cholesky solve (LAPACK dposv), the explicit M-FAC formula. */
  private static double[] explicitMfac(double[][] window, int count, int m, double damping, double[] v) {
    int d = v.length;
    double[] f = new double[d * d];
    for (int i = 0; i < d; i++) {
      f[i + i * d] = damping;
    }
    for (int j = 0; j < count; j++) {
      double[] x = window[j];
      for (int a = 0; a < d; a++) {
        for (int b = 0; b < d; b++) {
          f[a + b * d] += x[a] * x[b] / m;
        }
      }
    }
    double[] u = v.clone();
    intW info = new intW(0);
    LAPACK.getInstance().dposv("U", d, 1, f, d, u, d, info);
    assertEquals(0, info.val, "dposv info");
    return u;
  }

  @Test
  void lowRankMfacEqualsDenseMfacOnTheReconstructedVectors() {
    TensorLayout layout = TensorLayout.parse("6x5,4,3x2x2");
    int d = layout.dimension();
    int m = 8;
    double damping = 1e-2;
    ErrorFeedback ef = new ErrorFeedback(new LowRankCompressor(layout, 2, 5), d);
    MfacPreconditioner lowRank = new MfacPreconditioner(new LowRankWindow(m, layout, 2), damping);
    Random rnd = new Random(42);
    double[][] ring = new double[m][];
    double[] u = new double[d];
    for (int t = 0; t < 3 * m; t++) {
      CompressedVector c = ef.compress(gaussian(rnd, d, 1.0));
      lowRank.update(c, u);
      double[] dense = new double[d];
      c.toDense(dense);
      ring[t % m] = dense;
      double[] expected = explicitMfac(ring, Math.min(t + 1, m), m, damping, dense);
      double scale = maxAbs(expected);
      for (int i = 0; i < d; i++) {
        assertEquals(expected[i], u[i], 1e-9 * scale, "step " + t + " entry " + i);
      }
    }
  }

  @Test
  void sparseWindowsGiveTheDenseWindowsOperatorsOnTheSameCompressedSequence() {
    int d = 300;
    int m = 12;
    ErrorFeedback ef = new ErrorFeedback(new TopKCompressor(d, 15), d);
    int k = 15;
    Preconditioner sparseMfac = new MfacPreconditioner(new SparseWindow(m, d, k), 1e-3);
    Preconditioner denseMfac = new MfacPreconditioner(new DenseWindow(m, d), 1e-3);
    Preconditioner sparseGgt = new GgtPreconditioner(new SparseWindow(m, d, k), 1e-4, 1e-6);
    Preconditioner denseGgt = new GgtPreconditioner(new DenseWindow(m, d), 1e-4, 1e-6);
    Random rnd = new Random(7);
    double[] us = new double[d];
    double[] ud = new double[d];
    for (int t = 0; t < 40; t++) {
      SparseVector c = (SparseVector) ef.compress(gaussian(rnd, d, 3.0));
      double[] dense = new double[d];
      c.toDense(dense); // float32 values: the dense float32 window stores them exactly
      sparseMfac.update(c, us);
      denseMfac.update(new DenseVector(dense), ud);
      assertClose(ud, us, 1e-10, "M-FAC step " + t);
      sparseGgt.update(c, us);
      denseGgt.update(new DenseVector(dense), ud);
      assertClose(ud, us, 1e-9, "GGT step " + t);
    }
  }

  private static void assertClose(double[] expected, double[] actual, double rel, String what) {
    double scale = maxAbs(expected);
    assertTrue(scale > 0, what + ": zero reference");
    for (int i = 0; i < expected.length; i++) {
      assertEquals(expected[i], actual[i], rel * scale, what + " entry " + i);
    }
  }
}
