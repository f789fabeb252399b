package org.efcp.optim;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** Metrics against a brute-force reference: full sort and numpy's midpoint rule written out. */
class PreconditioningMetricsTest {

  /** numpy quantile(x, q, method='midpoint') by sorting (Arrays.sort puts NaN last). */
  private static double midpoint(double[] sorted, double q) {
    double h = (sorted.length - 1) * q;
    return (sorted[(int) Math.floor(h)] + sorted[(int) Math.ceil(h)]) / 2;
  }

  private static PreconditioningMetrics reference(double[] g, double[] u) {
    int n = g.length;
    double gu = 0;
    double gg = 0;
    double uu = 0;
    double[] r = new double[n];
    double sum = 0;
    for (int i = 0; i < n; i++) {
      gu += g[i] * u[i];
      gg += g[i] * g[i];
      uu += u[i] * u[i];
      r[i] = Math.abs(u[i] / (g[i] + 1e-8));
      sum += r[i];
    }
    Arrays.sort(r);
    double gn = Math.sqrt(gg);
    double un = Math.sqrt(uu);
    return new PreconditioningMetrics(gu / Math.max(gn * un, 1e-6), un == 0 && gn == 0 ? 0 : un / gn,
        midpoint(r, 0.25), midpoint(r, 0.5), midpoint(r, 0.75), r[0], r[n - 1], sum / n);
  }

  @Test
  void matchesSortAndMidpointOnRandomVectorsOfOddAndEvenLength() {
    Random rnd = new Random(42);
    int[] sizes = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 99, 100, 101, 1000, 1001, 4096, 10_007};
    for (int n : sizes) {
      for (int rep = 0; rep < 5; rep++) {
        double[] g = new double[n];
        double[] u = new double[n];
        for (int i = 0; i < n; i++) {
          g[i] = rnd.nextGaussian();
          u[i] = rnd.nextGaussian() * Math.exp(3 * rnd.nextGaussian());
        }
        assertEquals(reference(g, u), PreconditioningMetrics.compute(g, u), "n = " + n);
      }
    }
  }

  @Test
  void handlesHeavyTies() {
    Random rnd = new Random(7);
    for (int n : new int[] {2, 3, 10, 11, 64, 257, 5000}) {
      for (int levels : new int[] {1, 2, 3, 10}) {
        double[] g = new double[n];
        double[] u = new double[n];
        for (int i = 0; i < n; i++) {
          g[i] = 1.0; // r_i = |u_i| / (1 + 1e-8): the ties of u carry over to r
          u[i] = rnd.nextInt(levels) - levels / 2;
        }
        assertEquals(reference(g, u), PreconditioningMetrics.compute(g, u), "n = " + n + ", levels " + levels);
      }
    }
  }

  @Test
  void zerosInTheGradientUseTheShiftOnTheSignedValue() {
    double[] g = {0, 0, -1e-8, 2e-8, 1};
    double[] u = {3, -2, 5, 1, 0};
    // r = |3/1e-8|, |-2/1e-8|, |5/0| = inf, |1/3e-8|, 0
    PreconditioningMetrics m = PreconditioningMetrics.compute(g, u);
    assertEquals(reference(g, u), m);
    assertEquals(Double.POSITIVE_INFINITY, m.max());
    assertEquals(0.0, m.min());
    assertEquals(3e8, m.q75(), 3e8 * 1e-15); // sorted: 0, 3.3e7, 2e8, 3e8, inf; h = 3
    assertEquals(2e8, m.q50(), 2e8 * 1e-15);
    // The shift is added to the signed g: g = -1e-8 + 1e-8 = 0 but |g| + 1e-8 would be 2e-8.
    double[] g2 = {-2e-8};
    double[] u2 = {1};
    assertEquals(1e8, PreconditioningMetrics.compute(g2, u2).q50(), 1e-7);
  }

  @Test
  void zeroOverZeroRatiosSortLastAsNaN() {
    double[] g = {-1e-8, 1, 1, 1};
    double[] u = {0, 1, 2, 3};
    PreconditioningMetrics m = PreconditioningMetrics.compute(g, u);
    assertEquals(reference(g, u), m);
    assertTrue(Double.isNaN(m.q75()) && Double.isNaN(m.max()) && Double.isNaN(m.mean()));
    assertEquals(1 / (1 + 1e-8), m.min(), 0);
  }

  @Test
  void quantilesFollowNumpyMidpointOnAHandExample() {
    // numpy.quantile([1, 2, 3, 4], [.25, .5, .75], method='midpoint') = [1.5, 2.5, 3.5]
    double[] g = {1, 1, 1, 1};
    double[] u = {4e0, 1e0, 3e0, 2e0};
    PreconditioningMetrics m = PreconditioningMetrics.compute(g, u);
    double s = 1 / (1 + 1e-8);
    assertEquals(1.5 * s, m.q25(), 1e-15);
    assertEquals(2.5 * s, m.q50(), 1e-15);
    assertEquals(3.5 * s, m.q75(), 1e-15);
    assertEquals(2.5 * s, m.mean(), 1e-15);
    // N = 5: h = 1, 2, 3 → exact order statistics 2, 3, 4.
    PreconditioningMetrics m5 = PreconditioningMetrics.compute(new double[] {1, 1, 1, 1, 1},
        new double[] {5, 4, 3, 2, 1});
    assertEquals(2 * s, m5.q25(), 1e-15);
    assertEquals(3 * s, m5.q50(), 1e-15);
    assertEquals(4 * s, m5.q75(), 1e-15);
  }

  @Test
  void cosineAndNormRatioEdgeCases() {
    double[] g = {3, 4};
    assertEquals(1.0, PreconditioningMetrics.compute(g, new double[] {6, 8}).cosine(), 1e-15);
    assertEquals(2.0, PreconditioningMetrics.compute(g, new double[] {6, 8}).normRatio(), 1e-15);
    assertEquals(-1.0, PreconditioningMetrics.compute(g, new double[] {-3, -4}).cosine(), 1e-15);
    assertEquals(0.0, PreconditioningMetrics.compute(g, new double[] {-4, 3}).cosine(), 0);
    PreconditioningMetrics zeroU = PreconditioningMetrics.compute(g, new double[] {0, 0});
    assertEquals(0.0, zeroU.cosine(), 0);
    assertEquals(0.0, zeroU.normRatio(), 0);
    PreconditioningMetrics bothZero = PreconditioningMetrics.compute(new double[2], new double[2]);
    assertEquals(0.0, bothZero.cosine(), 0);
    assertEquals(0.0, bothZero.normRatio(), 0);
    assertEquals(Double.POSITIVE_INFINITY, PreconditioningMetrics.compute(new double[2], g).normRatio());
    // Tiny norms: ‖g‖‖u‖ = 1e-8 < 1e-6, so cos = g·u / 1e-6 = 1e-2.
    PreconditioningMetrics tiny = PreconditioningMetrics.compute(new double[] {1e-4, 0}, new double[] {1e-4, 0});
    assertEquals(1e-2, tiny.cosine(), 1e-17);
    assertEquals(90.0, PreconditioningMetrics.compute(g, new double[] {-4, 3}).angleDegrees(), 1e-12);
    assertEquals(180.0, PreconditioningMetrics.compute(g, new double[] {-3, -4}).angleDegrees(), 1e-12);
  }

  @Test
  void selectFindsEveryRankLikeASort() {
    Random rnd = new Random(3);
    for (int n : new int[] {1, 2, 3, 17, 100, 1001}) {
      double[] x = new double[n];
      for (int i = 0; i < n; i++) {
        x[i] = rnd.nextInt(Math.max(1, n / 4)); // plenty of ties
      }
      double[] sorted = x.clone();
      Arrays.sort(sorted);
      for (int k = 0; k < n; k++) {
        double[] work = x.clone();
        assertEquals(sorted[k], PreconditioningMetrics.select(work, 0, n, k), "n = " + n + ", k = " + k);
        for (int i = 0; i < n; i++) {
          assertTrue(i < k ? work[i] <= work[k] : work[i] >= work[k], "partitioned around k");
        }
        // A second selection restricted to the part at or after k sees exactly the larger ranks.
        int k2 = (k + n) / 2;
        assertEquals(sorted[k2], PreconditioningMetrics.select(work, k, n, k2), "n = " + n + ", k2 = " + k2);
      }
    }
  }

  @Test
  void rejectsMismatchedLengths() {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> PreconditioningMetrics.compute(new double[3], new double[2]));
    assertTrue(e.getMessage().startsWith("u:"), e.getMessage());
    IllegalArgumentException e2 = assertThrows(IllegalArgumentException.class,
        () -> PreconditioningMetrics.compute(new double[0], new double[0]));
    assertTrue(e2.getMessage().startsWith("g:"), e2.getMessage());
  }
}
