package org.efcp.optim.gpu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class MfacInverseTest {

  /** K = X Xᵀ for m random rows of length n (a Gram matrix, as the window's dots are). */
  private static double[] gram(int m, int n, double scale, long seed) {
    SplittableRandom random = new SplittableRandom(seed);
    double[] x = new double[m * n];
    for (int i = 0; i < x.length; i++) {
      x[i] = scale * (2 * random.nextDouble() - 1);
    }
    double[] k = new double[m * m];
    for (int i = 0; i < m; i++) {
      for (int j = 0; j < m; j++) {
        double s = 0;
        for (int q = 0; q < n; q++) {
          s += x[i * n + q] * x[j * n + q];
        }
        k[i * m + j] = s;
      }
    }
    return k;
  }

  @Test
  void inverseTimesShiftedGramIsTheIdentity() {
    int m = 9;
    double damping = 1e-3;
    double[] k = gram(m, 4, 1.0, 7);  // rank 4 < m: A is only SPD thanks to the shift m I
    double[] b = new double[m * m];
    MfacInverse.invert(k, m, 1.0 / damping, b);
    double worst = 0;
    for (int i = 0; i < m; i++) {
      for (int j = 0; j < m; j++) {
        double s = 0;
        for (int q = 0; q < m; q++) {
          double a = k[q * m + j] / damping + (q == j ? m : 0.0);
          s += b[i * m + q] * a;
        }
        worst = Math.max(worst, Math.abs(s - (i == j ? 1.0 : 0.0)));
      }
    }
    assertTrue(worst < 1e-10, "max |B A - I| = " + worst);
  }

  @Test
  void resultIsExactlySymmetric() {
    int m = 13;
    double[] k = gram(m, 30, 3.0, 11);
    double[] b = new double[m * m];
    MfacInverse.invert(k, m, 1e4, b);
    for (int i = 0; i < m; i++) {
      for (int j = 0; j < i; j++) {
        assertEquals(b[i * m + j], b[j * m + i], 0.0, "B[" + i + "][" + j + "]");
      }
    }
  }

  @Test
  void emptyWindowGivesTheScaledIdentityWithExactZerosOffTheDiagonal() {
    int m = 6;
    double[] b = new double[m * m];
    MfacInverse.invert(new double[m * m], m, 1e5, b);
    for (int i = 0; i < m; i++) {
      for (int j = 0; j < m; j++) {
        // The diagonal goes through 1/sqrt(m) squared: within a few ulps of 1/m. Exact zeros elsewhere keep the
        // coefficients of empty slots exactly zero.
        assertEquals(i == j ? 1.0 / m : 0.0, b[i * m + j], i == j ? 4 * Math.ulp(1.0 / m) : 0.0,
            "B[" + i + "][" + j + "]");
      }
    }
  }

  @Test
  void wrongLengthsAreRejected() {
    IllegalArgumentException dots = assertThrows(IllegalArgumentException.class,
        () -> MfacInverse.invert(new double[8], 3, 1.0, new double[9]));
    assertTrue(dots.getMessage().startsWith("dots:"), dots.getMessage());
    IllegalArgumentException out = assertThrows(IllegalArgumentException.class,
        () -> MfacInverse.invert(new double[9], 3, 1.0, new double[10]));
    assertTrue(out.getMessage().startsWith("out:"), out.getMessage());
  }
}
