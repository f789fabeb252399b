package org.efcp.optim;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.util.Random;
import org.junit.jupiter.api.Test;

class DiagonalAdagradPreconditionerTest {

  /** Steps of a 6-coordinate vector; coordinate 4 is never non-zero. */
  private static final double[][] STEPS = {
      {0.5, -1.0, 0.0, 2.0, 0.0, 0.25},
      {0.0, 3.0, -0.125, 2.0, 0.0, 0.0},
      {-1.5, 0.0, 0.0, -4.0, 0.0, 1.0},
      {0.75, -0.5, 0.5, 0.0, 0.0, 0.0},
  };

  @Test
  void followsThePerCoordinateRecurrence() {
    double eps = 1e-10;
    int d = STEPS[0].length;
    DiagonalAdagradPreconditioner ada = new DiagonalAdagradPreconditioner(d, eps);
    double[] s = new double[d];
    double[] out = new double[d];
    for (double[] c : STEPS) {
      ada.update(new DenseVector(c), out);
      for (int i = 0; i < d; i++) {
        s[i] = s[i] + c[i] * c[i];
        double expected = c[i] == 0 ? 0 : c[i] / (Math.sqrt(s[i]) + eps);
        assertEquals(expected, out[i], 0.0, "coordinate " + i);
      }
    }
    // By hand: coordinate 1 saw -1, 3, 0, -0.5, so S = 10.25 at the last step; coordinate 4 stays zero.
    assertEquals(-0.5 / (Math.sqrt(10.25) + eps), out[1], 0.0);
    assertEquals(0.0, out[4]);
  }

  @Test
  void firstStepWithoutEpsilonIsTheSign() {
    DiagonalAdagradPreconditioner ada = new DiagonalAdagradPreconditioner(4, 0.0);
    double[] out = new double[4];
    ada.update(new DenseVector(new double[] {3.5, -0.01, 0.0, 1e-200}), out);
    // 1e-200 squared underflows to S = 0: the zero denominator gives 0, not Infinity.
    assertArrayEquals(new double[] {1, -1, 0, 0}, out);
    ada.update(new DenseVector(new double[] {0.0, 0.0, 0.0, 0.0}), out);
    assertArrayEquals(new double[4], out);
    for (double v : out) {
      assertFalse(Double.isNaN(v));
    }
  }

  @Test
  void largeEpsilonApproachesScaledVector() {
    DiagonalAdagradPreconditioner ada = new DiagonalAdagradPreconditioner(2, 1e6);
    double[] out = new double[2];
    ada.update(new DenseVector(new double[] {2, -3}), out);
    assertEquals(2 / (2 + 1e6), out[0], 0.0);
    assertEquals(-3 / (3 + 1e6), out[1], 0.0);
  }

  @Test
  void sparseInputMatchesDenseInputAndLeavesOtherCoordinatesAlone() {
    int d = STEPS[0].length;
    DiagonalAdagradPreconditioner dense = new DiagonalAdagradPreconditioner(d, 1e-10);
    DiagonalAdagradPreconditioner sparse = new DiagonalAdagradPreconditioner(d, 1e-10);
    double[] a = new double[d];
    double[] b = new double[d];
    for (double[] c : STEPS) {
      dense.update(new DenseVector(c), a);
      java.util.Arrays.fill(b, Double.NaN);
      sparse.update(toSparse(c), b);
      assertArrayEquals(a, b);
    }
  }

  private static SparseVector toSparse(double[] v) {
    int[] idx = java.util.stream.IntStream.range(0, v.length).filter(i -> v[i] != 0).toArray();
    float[] val = new float[idx.length];
    for (int q = 0; q < idx.length; q++) {
      val[q] = (float) v[idx[q]];
    }
    return new SparseVector(v.length, idx, val);
  }

  @Test
  void largeDenseVectorsMatchTheRecurrence() {
    int d = 100_003;
    Random rnd = new Random(5);
    DiagonalAdagradPreconditioner ada = new DiagonalAdagradPreconditioner(d, 1e-10);
    double[] s = new double[d];
    double[] out = new double[d];
    for (int t = 0; t < 3; t++) {
      double[] c = new double[d];
      for (int i = 0; i < d; i++) {
        c[i] = rnd.nextInt(4) == 0 ? 0 : (float) rnd.nextGaussian();
      }
      ada.update(new DenseVector(c), out);
      for (int i = 0; i < d; i++) {
        s[i] += c[i] * c[i];
        double expected = c[i] == 0 ? 0 : c[i] / (Math.sqrt(s[i]) + 1e-10);
        if (expected != out[i]) {
          assertEquals(expected, out[i], 0.0, "step " + t + " coordinate " + i);
        }
      }
    }
  }

  @Test
  void savedAndRestoredStateContinuesBitIdentically() throws IOException, ClassNotFoundException {
    int d = STEPS[0].length;
    DiagonalAdagradPreconditioner original = new DiagonalAdagradPreconditioner(d, 1e-10);
    double[] out = new double[d];
    original.update(new DenseVector(STEPS[0]), out);
    original.update(new DenseVector(STEPS[1]), out);
    DiagonalAdagradPreconditioner copy = GgtPreconditionerTest.roundTrip(original);
    double[] a = new double[d];
    double[] b = new double[d];
    for (int t = 2; t < STEPS.length; t++) {
      original.update(new DenseVector(STEPS[t]), a);
      copy.update(new DenseVector(STEPS[t]), b);
      assertArrayEquals(a, b);
    }
  }

  @Test
  void resetForgetsTheSumOfSquares() {
    DiagonalAdagradPreconditioner ada = new DiagonalAdagradPreconditioner(2, 0.0);
    double[] out = new double[2];
    ada.update(new DenseVector(new double[] {3, 4}), out);
    ada.reset();
    ada.update(new DenseVector(new double[] {-2, 5}), out);
    assertArrayEquals(new double[] {-1, 1}, out);
  }

  @Test
  void memoryIsOneDoublePerCoordinate() {
    DiagonalAdagradPreconditioner ada = new DiagonalAdagradPreconditioner(1234, 1e-10);
    assertEquals(8L * 1234, ada.memoryBytes());
    assertEquals(1234, ada.dimension());
  }

  @Test
  void badArgumentsAreRejectedByName() {
    assertTrue(assertThrows(IllegalArgumentException.class, () -> new DiagonalAdagradPreconditioner(0, 1e-10))
        .getMessage().startsWith("d:"));
    assertTrue(assertThrows(IllegalArgumentException.class, () -> new DiagonalAdagradPreconditioner(3, -1e-10))
        .getMessage().startsWith("adagradEpsilon:"));
    assertTrue(assertThrows(IllegalArgumentException.class, () -> new DiagonalAdagradPreconditioner(3, Double.NaN))
        .getMessage().startsWith("adagradEpsilon:"));
    DiagonalAdagradPreconditioner ada = new DiagonalAdagradPreconditioner(3, 1e-10);
    assertTrue(assertThrows(IllegalArgumentException.class, () -> ada.update(new DenseVector(new double[2]), new double[3]))
        .getMessage().startsWith("c:"));
    assertTrue(assertThrows(IllegalArgumentException.class, () -> ada.update(new DenseVector(new double[3]), new double[2]))
        .getMessage().startsWith("out:"));
  }
}
