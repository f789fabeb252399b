package org.efcp.optim;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Random;
import java.util.function.BiFunction;
import org.junit.jupiter.api.Test;

class MfacCholeskyStateTest {
  private static final double EPS = Math.ulp(1.0);

  /** Drives a state with test-held float64 vectors and checks it against from-scratch LAPACK solves. */
  private static final class Driver {
    final int m;
    final double damping;
    final MfacCholeskyState state;
    final double[][] vectors;
    long steps;
    double worstResidual;
    double worstForwardOverBound;
    double worstCondition;
    double worstCheck;

    Driver(int m, int d, double damping) {
      this.m = m;
      this.damping = damping;
      this.state = new MfacCholeskyState(m, damping);
      this.vectors = new double[m][d];
    }

    double[] insert(double[] x) {
      int slot = (int) (steps % m);
      vectors[slot] = x;
      double[] w = new double[m];
      for (int j = 0; j < m; j++) {
        w[j] = MfacReference.dot(vectors[j], x);
      }
      state.insert(slot, w);
      worstCheck = Math.max(worstCheck, state.lastCheckError());
      steps++;
      return w;
    }

    /** Compares the coefficients for w (and for the newest vector when w is its K row) with LAPACK solves. */
    void verify(double[] w, boolean newest) {
      double[] got = new double[m];
      state.coefficients(w, got);
      compare(w, got);
      if (newest) {
        double[] fast = new double[m];
        state.coefficientsForNewest(fast);
        compare(w, fast);
      }
    }

    /** Tracks the backward error, and the forward error over its bound, of coefficients {@code got} for w. */
    void compare(double[] w, double[] got) {
      if (MfacReference.norm(w) == 0.0) {
        assertArrayEquals(new double[m], got, 0.0);
        return;
      }
      double[] a = MfacReference.woodburyMatrix(vectors, damping);
      double[] eig = MfacReference.eigenvalues(a, m);
      double normA = eig[m - 1];
      double cond = eig[0] > 0 ? normA / eig[0] : Double.POSITIVE_INFINITY; // ≤ 0: numerically singular
      double scale = damping * damping;
      double[] z = new double[m];
      for (int j = 0; j < m; j++) {
        z[j] = got[j] * scale;
      }
      // Backward error ‖A z − w‖ / (‖A‖₂ ‖z‖): independent of cond(A); a backward-stable solve gives O(m ε).
      double[] res = new double[m];
      for (int i = 0; i < m; i++) {
        double s = -w[i];
        for (int j = 0; j < m; j++) {
          s += a[i * m + j] * z[j];
        }
        res[i] = s;
      }
      double backward = MfacReference.norm(res) / (normA * MfacReference.norm(z));
      double bound = cond * (m + 1) * EPS;
      worstResidual = Math.max(worstResidual, backward / ((m + 1) * EPS));
      if (bound < 1e-2) { // otherwise A is numerically singular and the forward error says nothing
        double forward = MfacReference.relativeError(z, MfacReference.solve(a, w, m));
        worstForwardOverBound = Math.max(worstForwardOverBound, forward / bound);
      }
      worstCondition = Math.max(worstCondition, cond);
    }
  }

  private static void run(Driver driver, int steps, BiFunction<Random, Long, double[]> source, long seed) {
    Random rnd = new Random(seed);
    for (int i = 0; i < steps; i++) {
      double[] w = driver.insert(source.apply(rnd, driver.steps));
      driver.verify(w, true);
      if (i % 5 == 0) {
        driver.verify(MfacReference.gaussian(rnd, driver.m, 1.0), false);
      }
    }
  }

  @Test
  void coefficientsMatchFromScratchSolvesOverTenThousandStepsIncludingIllConditionedWindows() {
    Driver wellConditioned = new Driver(24, 40, 1.0);
    run(wellConditioned, 2500, (rnd, t) -> MfacReference.gaussian(rnd, 40, 1.0), 1);

    Driver moreSlotsThanDimensions = new Driver(32, 12, 1e-3);
    run(moreSlotsThanDimensions, 2500, (rnd, t) -> MfacReference.gaussian(rnd, 12, 10.0), 2);

    double[] base = MfacReference.gaussian(new Random(3), 20, 1.0);
    double[][] previous = {base};
    Driver collinearTinyDamping = new Driver(16, 20, 1e-9);
    run(collinearTinyDamping, 2500, (rnd, t) -> {
      if (t % 11 == 5) {
        return new double[20];
      }
      if (t % 7 == 3) {
        return previous[0].clone();
      }
      double[] x = new double[20];
      double s = 10.0 * (0.5 + rnd.nextDouble());
      for (int i = 0; i < 20; i++) {
        x[i] = s * (base[i] + 1e-6 * rnd.nextGaussian());
      }
      previous[0] = x;
      return x;
    }, 4);

    Driver largeNorms = new Driver(20, 30, 1e-6);
    double[][] groups = {MfacReference.gaussian(new Random(5), 30, 1.0), MfacReference.gaussian(new Random(6), 30, 1.0)};
    run(largeNorms, 2500, (rnd, t) -> {
      if (t % 13 == 0) {
        return new double[30];
      }
      double[] g = groups[(int) (t % 2)];
      double[] x = new double[30];
      double s = 1e3 * rnd.nextGaussian();
      for (int i = 0; i < 30; i++) {
        x[i] = s * g[i] + 1e-2 * rnd.nextGaussian();
      }
      return x;
    }, 7);

    Driver beyondDoublePrecision = new Driver(16, 8, 1e-12);
    double[] dir = MfacReference.gaussian(new Random(8), 8, 1.0);
    run(beyondDoublePrecision, 500, (rnd, t) -> {
      if (t % 3 == 0) {
        return dir.clone();
      }
      double[] x = MfacReference.gaussian(rnd, 8, 1e3);
      if (t % 3 == 1) {
        for (int i = 0; i < 8; i++) {
          x[i] = 1e3 * dir[i] + 1e-9 * x[i];
        }
      }
      return x;
    }, 9);

    // Bounds, relative to what a from-scratch Cholesky solve guarantees (Higham Thm 10.3/10.4, up to its small
    // constants): backward error ‖A z − w‖ / (‖A‖₂ ‖z‖) ≤ (m+1) ε and forward error ≤ cond₂(A) (m+1) ε.
    for (Driver dr : new Driver[] {wellConditioned, moreSlotsThanDimensions, collinearTinyDamping, largeNorms,
        beyondDoublePrecision}) {
      String name = "m=" + dr.m + " damping=" + dr.damping + " cond<=" + dr.worstCondition;
      assertTrue(dr.worstResidual <= 1.0, name + ": backward error / ((m+1) eps) = " + dr.worstResidual);
      assertTrue(dr.worstForwardOverBound <= 1.0, name + ": forward error / (cond (m+1) eps) = " + dr.worstForwardOverBound);
    }
    // Well-posed windows (cond(A) up to about 5e13) never need a from-scratch refresh.
    for (Driver dr : new Driver[] {wellConditioned, moreSlotsThanDimensions, collinearTinyDamping, largeNorms}) {
      assertEquals(0, dr.state.refreshCount(), "refreshes at m=" + dr.m + " damping=" + dr.damping);
      assertTrue(dr.worstCheck <= MfacCholeskyState.driftTolerance(dr.m), "drift " + dr.worstCheck);
    }
    assertTrue(wellConditioned.worstCondition < 10 && largeNorms.worstCondition > 1e13, "scenarios cover the range");
    assertTrue(Double.isInfinite(beyondDoublePrecision.worstCondition), "a numerically singular window is included");
  }

  /** Runs a well-conditioned window, corrupts one factor entry and expects the drift check to repair it. */
  private static void assertCorruptionIsRepaired(int logicalRow, int logicalColumn) {
    int m = 16;
    Driver dr = new Driver(m, 20, 0.1);
    Random rnd = new Random(11);
    for (int i = 0; i < 40; i++) {
      dr.insert(MfacReference.gaussian(rnd, 20, 1.0));
    }
    MfacCholeskyState state = dr.state;
    assertEquals(0, state.refreshCount());
    int head = state.head();
    int row = (head + logicalRow) % m;
    int col = (head + logicalColumn) % m;
    state.factorForTesting()[row][col] *= 1.0 + 1e-6;
    double[] w = MfacReference.gaussian(rnd, m, 1.0);
    assertTrue(coefficientError(dr, w) > 1e-9, "the corruption changes the coefficients");

    // The column of the vector in logical row `logicalRow` is checked when that vector is the oldest.
    for (int i = 0; i < logicalRow; i++) {
      dr.insert(MfacReference.gaussian(rnd, 20, 1.0));
      assertEquals(0, state.refreshCount(), "no refresh before the corrupted column is checked");
    }
    dr.insert(MfacReference.gaussian(rnd, 20, 1.0));
    assertEquals(1, state.refreshCount(), "the drift check refreshes the factor");
    assertTrue(state.lastCheckError() > MfacCholeskyState.driftTolerance(m));
    assertTrue(coefficientError(dr, w) < 1e-13, "repaired: " + coefficientError(dr, w));
  }

  private static double coefficientError(Driver dr, double[] w) {
    double[] got = new double[dr.m];
    dr.state.coefficients(w, got);
    double[] ref = MfacReference.solveSpd(MfacReference.woodburyMatrix(dr.vectors, dr.damping), w, dr.m);
    for (int j = 0; j < dr.m; j++) {
      ref[j] /= dr.damping * dr.damping;
    }
    return MfacReference.relativeError(got, ref);
  }

  @Test
  void driftCheckRefactorsACorruptedDiagonalEntry() {
    assertCorruptionIsRepaired(15, 15);
  }

  @Test
  void driftCheckRefactorsACorruptedOffDiagonalEntry() {
    assertCorruptionIsRepaired(3, 10);
  }

  @Test
  void refactorFromScratchAgreesWithTheUpdatedFactor() {
    Driver dr = new Driver(12, 9, 0.05);
    Random rnd = new Random(12);
    for (int i = 0; i < 29; i++) {
      dr.insert(MfacReference.gaussian(rnd, 9, 2.0));
    }
    double[] w = MfacReference.gaussian(rnd, 12, 1.0);
    double[] before = new double[12];
    dr.state.coefficients(w, before);
    dr.state.refactorFromScratch();
    assertEquals(1, dr.state.refreshCount());
    double[] after = new double[12];
    dr.state.coefficients(w, after);
    assertTrue(MfacReference.relativeError(before, after) < 1e-12);
    assertTrue(coefficientError(dr, w) < 1e-12);
  }

  /**
   * The static factorisation the GPU state's host refresh uses: RᵀR = K/λ + m I in the logical order of the head
   * (position p = slot (head + p) mod m), exactly zero below the logical diagonal, positive diagonal.
   */
  @Test
  void factorFromScratchFactorsAInTheLogicalOrderOfTheHead() {
    int m = 7;
    int head = 4;
    double damping = 0.02;
    Random rnd = new Random(7);
    double[][] x = new double[m][];
    for (int j = 0; j < m; j++) {
      x[j] = MfacReference.gaussian(rnd, 5, 1.5);
    }
    double[] k = new double[m * m];
    for (int i = 0; i < m; i++) {
      for (int j = 0; j < m; j++) {
        k[i * m + j] = MfacReference.dot(x[i], x[j]);
      }
    }
    double[] r = new double[m * m];
    MfacCholeskyState.factorFromScratch(k, m, head, damping, r);
    for (int p = 0; p < m; p++) {
      int sp = (head + p) % m;
      assertTrue(r[sp * m + sp] > 0, "diagonal " + p);
      for (int q = 0; q < p; q++) {
        assertEquals(0.0, r[sp * m + (head + q) % m], "below the diagonal (" + p + ", " + q + ")");
      }
    }
    for (int i = 0; i < m; i++) {
      for (int j = 0; j < m; j++) {
        double rtr = 0;
        for (int s = 0; s < m; s++) {
          rtr += r[s * m + i] * r[s * m + j];
        }
        double a = k[i * m + j] / damping + (i == j ? m : 0);
        assertEquals(a, rtr, 1e-12 * Math.abs(k[i * m + i] / damping + m), "(RᵀR)[" + i + "][" + j + "]");
      }
    }
    double[] inPlace = k.clone();
    MfacCholeskyState.factorFromScratch(inPlace, m, head, damping, inPlace);
    assertArrayEquals(r, inPlace, 0.0);
    assertThrows(IllegalArgumentException.class, () -> MfacCholeskyState.factorFromScratch(k, m, m, damping, r));
    assertThrows(IllegalArgumentException.class, () -> MfacCholeskyState.factorFromScratch(k, m, 0, 0.0, r));
    assertThrows(IllegalArgumentException.class,
        () -> MfacCholeskyState.factorFromScratch(k, m, 0, damping, new double[m]));
  }

  @Test
  void firstInsertGivesTheRankOneWoodburyCoefficient() {
    int m = 8;
    double damping = 0.3;
    MfacCholeskyState state = new MfacCholeskyState(m, damping);
    double sq = 2.7; // ‖x‖²
    double[] w = new double[m];
    w[0] = sq;
    state.insert(0, w);
    double[] got = new double[m];
    state.coefficients(w, got);
    // u = x/λ − M_0 x = x / (λ + ‖x‖²/m)  ⇔  M_0 = 1/λ − 1/(λ + ‖x‖²/m)
    double expected = 1 / damping - 1 / (damping + sq / m);
    assertEquals(expected, got[0], 1e-12 * expected);
    for (int j = 1; j < m; j++) {
      assertEquals(0.0, got[j]);
    }
    assertEquals(1, state.head());
  }

  @Test
  void emptyStateAndResetGiveTheDampedIdentity() {
    int m = 5;
    double damping = 0.5;
    MfacCholeskyState state = new MfacCholeskyState(m, damping);
    double[] w = {1, -2, 3, 0.5, 4};
    double[] fresh = new double[m];
    state.coefficients(w, fresh);
    for (int j = 0; j < m; j++) {
      assertEquals(w[j] / (m * damping * damping), fresh[j], 1e-15 * Math.abs(fresh[j]));
    }
    state.insert(0, new double[] {4, 1, 0, 0, 0});
    state.insert(1, new double[] {1, 3, 0, 0, 0});
    state.refactorFromScratch();
    state.reset();
    assertEquals(0, state.head());
    assertEquals(0, state.refreshCount());
    double[] again = new double[m];
    state.coefficients(w, again);
    assertArrayEquals(fresh, again, 0.0);
    assertEquals((2L * m * m + 2L * m) * 8, state.memoryBytes());
  }

  @Test
  void rejectsBadArguments() {
    assertTrue(assertThrows(IllegalArgumentException.class, () -> new MfacCholeskyState(4, 0.0))
        .getMessage().startsWith("damping"));
    assertTrue(assertThrows(IllegalArgumentException.class, () -> new MfacCholeskyState(4, Double.NaN))
        .getMessage().startsWith("damping"));
    assertTrue(assertThrows(IllegalArgumentException.class, () -> new MfacCholeskyState(0, 1.0))
        .getMessage().startsWith("m"));
    MfacCholeskyState state = new MfacCholeskyState(4, 1.0);
    assertTrue(assertThrows(IllegalArgumentException.class, () -> state.insert(1, new double[4]))
        .getMessage().startsWith("slot"));
    assertTrue(assertThrows(IllegalArgumentException.class, () -> state.insert(0, new double[3]))
        .getMessage().startsWith("newDots"));
    assertTrue(assertThrows(IllegalArgumentException.class, () -> state.insert(0, new double[] {1, Double.NaN, 0, 0}))
        .getMessage().startsWith("newDots"));
    assertTrue(assertThrows(IllegalArgumentException.class, () -> state.coefficients(new double[3], new double[4]))
        .getMessage().startsWith("w"));
  }
}
