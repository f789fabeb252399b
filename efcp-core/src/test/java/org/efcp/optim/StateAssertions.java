package org.efcp.optim;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.fail;

/** Bitwise comparisons of exported {@link PipelineState}s, for the CPU ({@code PipelineStateTest}) and GPU tests. */
public final class StateAssertions {
  private StateAssertions() {
  }

  /** Fails unless the two states are the same, every array bitwise. */
  public static void assertSameState(String what, PipelineState expected, PipelineState actual) {
    assertEquals(expected.method(), actual.method(), what + ": method");
    assertEquals(expected.steps(), actual.steps(), what + ": steps");
    assertBitwise(what + ": error", expected.error(), actual.error());
    assertBitwise(what + ": gram", expected.gram(), actual.gram());
    assertBitwise(what + ": sumSquares", expected.sumSquares(), actual.sumSquares());
    if (expected.warmStart() == null || actual.warmStart() == null) {
      assertEquals(expected.warmStart() == null, actual.warmStart() == null, what + ": warmStart");
    } else {
      assertEquals(expected.warmStart().length, actual.warmStart().length, what + ": warmStart");
      for (int l = 0; l < expected.warmStart().length; l++) {
        assertBitwise(what + ": warmStart " + l, expected.warmStart()[l], actual.warmStart()[l]);
      }
    }
    if (expected.slots() == null || actual.slots() == null) {
      assertEquals(expected.slots() == null, actual.slots() == null, what + ": slots");
      return;
    }
    assertEquals(expected.slots().length, actual.slots().length, what + ": slots");
    for (int s = 0; s < expected.slots().length; s++) {
      assertSameVector(what + ": slot " + s, expected.slots()[s], actual.slots()[s]);
    }
  }

  private static void assertSameVector(String what, CompressedVector expected, CompressedVector actual) {
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
        assertBitwise(what + ": P of tensor " + l, e.p(l), a.p(l));
        assertBitwise(what + ": Q of tensor " + l, e.q(l), a.q(l));
        assertBitwise(what + ": raw tensor " + l, e.raw(l), a.raw(l));
      }
    } else {
      fail(what + ": unexpected vector type " + expected.getClass());
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
