package org.efcp.optim;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.ObjectInputStream;
import java.io.ObjectOutputStream;
import java.util.Random;
import org.junit.jupiter.api.Test;

class MfacPreconditionerTest {

  /**
   * Dense M-FAC (a full-support sparse window, k = d) against u = (λ I + (1/m) Σ_j x_j x_jᵀ)⁻¹ c solved as an
   * explicit d×d system, at every step from the first (warm-up, empty slots) through several wrap-arounds.
   */
  private static void assertMatchesExplicitFormula(int m, int d, double damping, long seed) {
    Random rnd = new Random(seed);
    MfacPreconditioner mfac = new MfacPreconditioner(new SparseWindow(m, d, d), damping);
    double[][] window = new double[m][d];
    double[] u = new double[d];
    for (int t = 0; t < 2 * m + 5; t++) {
      SparseVector c = MfacReference.fullSupport(MfacReference.gaussian(rnd, d, 0.5 + rnd.nextDouble()));
      mfac.update(c, u);
      double[] x = MfacReference.toDense(c);
      window[t % m] = x;
      double[] expected = MfacReference.explicitMfac(window, damping, x);
      double err = MfacReference.relativeError(u, expected);
      assertTrue(err <= 1e-9, "m=" + m + " d=" + d + " damping=" + damping + " step " + t + ": " + err);
    }
  }

  @Test
  void matchesExplicitInverseOfDampedEmpiricalFisherWithFewerSlotsThanDimensions() {
    for (double damping : new double[] {0.05, 1.0, 10.0}) {
      assertMatchesExplicitFormula(6, 40, damping, 1);
      assertMatchesExplicitFormula(13, 25, damping, 2);
    }
  }

  @Test
  void matchesExplicitInverseOfDampedEmpiricalFisherWithMoreSlotsThanDimensions() {
    for (double damping : new double[] {0.05, 1.0, 10.0}) {
      assertMatchesExplicitFormula(30, 12, damping, 3);
    }
  }

  @Test
  void firstStepIsGradientOverDampingPlusSquaredNormOverM() {
    int m = 16;
    double damping = 0.02;
    Random rnd = new Random(4);
    SparseVector g = MfacReference.randomSparse(rnd, 100, 30, 1.0);
    MfacPreconditioner mfac = new MfacPreconditioner(new SparseWindow(m, 100, 30), damping);
    double[] u = new double[100];
    mfac.update(g, u);
    double[] gd = MfacReference.toDense(g);
    double scale = damping + MfacReference.dot(gd, gd) / m;
    for (int i = 0; i < 100; i++) {
      assertEquals(gd[i] / scale, u[i], 1e-12 * Math.abs(gd[i] / scale));
    }
    assertTrue(mfac.lastWindowUpdateNanos() > 0);

    mfac.reset(); // as if freshly constructed: the first-step formula again
    double[] again = new double[100];
    mfac.update(g, again);
    assertArrayEquals(u, again);
  }

  @Test
  void updateIsZeroOutsideTheUnionOfTheLastMSupports() {
    int m = 6;
    int d = 5000;
    Random rnd = new Random(5);
    MfacPreconditioner mfac = new MfacPreconditioner(new SparseWindow(m, d, 20), 1e-3);
    int[][] supports = new int[m][0];
    double[] u = new double[d];
    for (int t = 0; t < 25; t++) {
      SparseVector c = MfacReference.randomSparse(rnd, d, 5 + rnd.nextInt(16), 3.0);
      supports[t % m] = c.indices();
      mfac.update(c, u);
      boolean[] union = new boolean[d];
      for (int[] s : supports) {
        for (int i : s) {
          union[i] = true;
        }
      }
      int nonZeroInside = 0;
      for (int i = 0; i < d; i++) {
        if (!union[i]) {
          assertEquals(0.0, u[i], "step " + t + " coordinate " + i);
        } else if (u[i] != 0.0) {
          nonZeroInside++;
        }
      }
      assertTrue(nonZeroInside >= c.nnz(), "the current support is updated");
    }
  }

  @Test
  void serializedMidRunContinuesBitIdentically() throws IOException, ClassNotFoundException {
    Random rnd = new Random(6);
    int d = 500;
    MfacPreconditioner original = new MfacPreconditioner(new SparseWindow(8, d, 50), 0.01);
    double[] u = new double[d];
    for (int t = 0; t < 13; t++) {
      original.update(MfacReference.randomSparse(rnd, d, 50, 1.0), u);
    }
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    try (ObjectOutputStream out = new ObjectOutputStream(bytes)) {
      out.writeObject(original);
    }
    MfacPreconditioner copy;
    try (ObjectInputStream in = new ObjectInputStream(new ByteArrayInputStream(bytes.toByteArray()))) {
      copy = (MfacPreconditioner) in.readObject();
    }
    assertEquals(original.state().head(), copy.state().head());
    double[] uCopy = new double[d];
    for (int t = 0; t < 10; t++) {
      SparseVector c = MfacReference.randomSparse(rnd, d, 50, 1.0);
      original.update(c, u);
      copy.update(c, uCopy);
      assertArrayEquals(u, uCopy, "step " + t);
    }
  }

  @Test
  void memoryIsWindowPlusState() {
    MfacPreconditioner mfac = new MfacPreconditioner(new SparseWindow(32, 1000, 10), 0.1);
    // window: 32 slots × (10 float32 values + 10 chars of low index bits + 2 int32 starts of the single block)
    assertEquals(32L * (10 * 6 + 2 * 4) + (2L * 32 * 32 + 2L * 32) * 8, mfac.memoryBytes());
    assertEquals(1000, mfac.dimension());
    assertEquals(0.1, mfac.damping());
    assertEquals(32, mfac.state().capacity());
  }

  @Test
  void rejectsBadDampingForeignWindowsAndMismatchedVectors() {
    for (double bad : new double[] {0.0, -1.0, Double.NaN, Double.POSITIVE_INFINITY}) {
      IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
          () -> new MfacPreconditioner(new SparseWindow(4, 10, 2), bad));
      assertTrue(e.getMessage().startsWith("damping"), e.getMessage());
    }
    SparseWindow used = new SparseWindow(4, 10, 2);
    used.insert(new SparseVector(10, new int[] {1}, new float[] {1}));
    assertTrue(assertThrows(IllegalArgumentException.class, () -> new MfacPreconditioner(used, 1.0)).getMessage()
        .startsWith("window"));
    MfacPreconditioner mfac = new MfacPreconditioner(new SparseWindow(4, 10, 2), 1.0);
    SparseVector c = new SparseVector(10, new int[] {1}, new float[] {1});
    assertTrue(assertThrows(IllegalArgumentException.class, () -> mfac.update(c, new double[9])).getMessage()
        .startsWith("out"));
    assertTrue(assertThrows(IllegalArgumentException.class,
        () -> mfac.update(new SparseVector(11, new int[] {1}, new float[] {1}), new double[10])).getMessage()
        .startsWith("c"));
    assertEquals(0, mfac.window().insertCount());
    double[] u = new double[10];
    mfac.update(c, u);
    assertNotEquals(0.0, u[1]);
  }
}
