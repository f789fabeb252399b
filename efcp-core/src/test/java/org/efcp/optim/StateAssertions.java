package org.efcp.optim;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * Comparisons of exported {@link PipelineState}s, for the CPU ({@code PipelineStateTest}) and GPU tests: bitwise, or
 * part by part within a relative tolerance.
 */
public final class StateAssertions {
  private StateAssertions() {
  }

  /**
   * How closely two states must agree, part by part, relative to the expected part's max-norm; 0 means bitwise.
   * AdaGrad's S, the Top-k and dense slots and the raw (1-D) tensors of a low-rank slot are always compared bitwise.
   *
   * @param error for ξ
   * @param gram for K
   * @param factors for the warm starts and the factors P, Q of a low-rank slot
   */
  public record Tolerance(double error, double gram, double factors) {
    /** Every array bitwise. */
    public static final Tolerance EXACT = new Tolerance(0, 0, 0);
  }

  /** Fails unless the two states are the same, every array bitwise. */
  public static void assertSameState(String what, PipelineState expected, PipelineState actual) {
    assertStateAgrees(what, expected, actual, Tolerance.EXACT);
  }

  /** Fails unless the two states have the same method, steps and shapes, and their arrays agree to {@code tol}. */
  public static void assertStateAgrees(String what, PipelineState expected, PipelineState actual, Tolerance tol) {
    assertEquals(expected.method(), actual.method(), what + ": method");
    assertEquals(expected.steps(), actual.steps(), what + ": steps");
    assertAgrees(what + ": error", expected.error(), actual.error(), tol.error());
    assertAgrees(what + ": gram", expected.gram(), actual.gram(), tol.gram());
    assertBitwise(what + ": sumSquares", expected.sumSquares(), actual.sumSquares());
    if (expected.warmStart() == null || actual.warmStart() == null) {
      assertEquals(expected.warmStart() == null, actual.warmStart() == null, what + ": warmStart");
    } else {
      assertEquals(expected.warmStart().length, actual.warmStart().length, what + ": warmStart");
      for (int l = 0; l < expected.warmStart().length; l++) {
        assertAgrees(what + ": warmStart " + l, expected.warmStart()[l], actual.warmStart()[l], tol.factors());
      }
    }
    if (expected.slots() == null || actual.slots() == null) {
      assertEquals(expected.slots() == null, actual.slots() == null, what + ": slots");
      return;
    }
    assertEquals(expected.slots().length, actual.slots().length, what + ": slots");
    for (int s = 0; s < expected.slots().length; s++) {
      assertSameVector(what + ": slot " + s, expected.slots()[s], actual.slots()[s], tol.factors());
    }
  }

  private static void assertSameVector(String what, CompressedVector expected, CompressedVector actual,
      double factors) {
    assertEquals(expected.getClass(), actual.getClass(), what);
    assertEquals(expected.dimension(), actual.dimension(), what);
    if (expected instanceof SparseVector e && actual instanceof SparseVector a) {
      assertArrayEquals(e.indices(), a.indices(), what + ": indices");
      assertArrayEquals(e.values(), a.values(), what + ": values");
    } else if (expected instanceof Float32Vector e && actual instanceof Float32Vector a) {
      assertArrayEquals(e.values(), a.values(), what + ": values");
    } else if (expected instanceof LowRankVector e && actual instanceof LowRankVector a) {
      assertEquals(e.rank(), a.rank(), what + ": rank");
      assertEquals(e.layout(), a.layout(), what + ": layout");
      for (int l = 0; l < e.layout().numTensors(); l++) {
        assertAgrees(what + ": P of tensor " + l, e.p(l), a.p(l), factors);
        assertAgrees(what + ": Q of tensor " + l, e.q(l), a.q(l), factors);
        assertBitwise(what + ": raw tensor " + l, e.raw(l), a.raw(l));
      }
    } else {
      fail(what + ": unexpected vector type " + expected.getClass());
    }
  }

  /**
   * Fails unless both are null, or {@code actual} is bitwise {@code expected} (tolerance 0), or of its length with
   * max_i |actual_i − expected_i| ≤ tolerance · max_i |expected_i| (a NaN fails).
   */
  public static void assertAgrees(String what, double[] expected, double[] actual, double tolerance) {
    if (tolerance == 0 || expected == null || actual == null) {
      assertBitwise(what, expected, actual);
      return;
    }
    assertEquals(expected.length, actual.length, what + ": length");
    double scale = 0;
    double diff = 0;
    int worst = 0;
    for (int i = 0; i < expected.length; i++) {
      scale = Math.max(scale, Math.abs(expected[i]));
      double e = Math.abs(expected[i] - actual[i]);
      if (!(e <= diff)) {
        diff = Double.isNaN(e) ? Double.POSITIVE_INFINITY : e;
        worst = i;
      }
    }
    if (!(diff <= tolerance * scale)) {
      fail(what + ": max |difference| " + diff + " at " + worst + " (" + actual[worst] + " vs " + expected[worst]
          + "), relative " + diff / scale + " > " + tolerance);
    }
  }

  /** Fails unless both are null or of the same length with the same bits everywhere. */
  public static void assertBitwise(String what, double[] expected, double[] actual) {
    if (expected == null || actual == null) {
      assertEquals(expected == null, actual == null, what + ": present");
      return;
    }
    assertEquals(expected.length, actual.length, what + ": length");
    for (int i = 0; i < expected.length; i++) {
      if (Double.doubleToRawLongBits(expected[i]) != Double.doubleToRawLongBits(actual[i])) {
        fail(what + ": entry " + i + " is " + actual[i] + ", expected bitwise " + expected[i]);
      }
    }
  }
}
