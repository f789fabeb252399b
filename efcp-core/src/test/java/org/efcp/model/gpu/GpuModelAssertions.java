package org.efcp.model.gpu;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;

/** Relative comparisons of GPU (or emulated) results with float64 references, with a tolerance. */
final class GpuModelAssertions {
  private GpuModelAssertions() {
  }

  /** |actual − expected| ≤ tolerance |expected|. */
  static void assertRelativelyClose(String what, double expected, double actual, double tolerance) {
    double rel = Math.abs(actual - expected) / Math.abs(expected);
    assertTrue(rel <= tolerance, what + ": " + actual + " vs expected " + expected + ", relative difference "
        + rel + " > " + tolerance);
  }

  /**
   * ‖actual − expected‖ ≤ tolerance ‖expected‖ over [from, to) (so a zero or empty {@code expected} fails); the
   * message names the worst entry.
   */
  static void assertNormClose(String what, double[] expected, double[] actual, int from, int to,
      double tolerance) {
    double diff = 0;
    double norm = 0;
    int worst = from;
    for (int k = from; k < to; k++) {
      double e = actual[k] - expected[k];
      diff += e * e;
      norm += expected[k] * expected[k];
      if (!(Math.abs(e) <= Math.abs(actual[worst] - expected[worst]))) {
        worst = k;
      }
    }
    double rel = Math.sqrt(diff / norm);
    assertTrue(norm > 0 && rel <= tolerance, what + ": relative norm difference " + rel + " > " + tolerance
        + "; worst entry " + worst + ": " + actual[worst] + " vs expected " + expected[worst]
        + " (first entries " + Arrays.toString(Arrays.copyOfRange(actual, from, Math.min(to, from + 4)))
        + ", expected " + Arrays.toString(Arrays.copyOfRange(expected, from, Math.min(to, from + 4))) + ")");
  }
}
