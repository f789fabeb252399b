package org.efcp.optim.gpu;

import java.util.SplittableRandom;

/**
 * Test gradients that make a rank-deficient GGT window: b0, b1, b0 + b1, 0, b0, … (period 4) with entries that are
 * multiples of 2^-10 below 1 in magnitude, so every vector and sum is exact in float32. Dense windows then hold exact
 * repeats (K has rank ≤ 2); so do sparse ones with k = d, whose error buffer stays 0.
 */
final class RepeatingGradients {
  private RepeatingGradients() {
  }

  /** The gradient of step {@code t} (0-based), length d. */
  static double[] gradient(int d, int t) {
    double[] g = new double[d];
    int phase = t % 4;
    if (phase == 3) {
      return g;
    }
    SplittableRandom b0 = new SplittableRandom(101);
    SplittableRandom b1 = new SplittableRandom(202);
    for (int i = 0; i < d; i++) {
      double x0 = (b0.nextInt(1023) - 511) / 1024.0;
      double x1 = (b1.nextInt(1023) - 511) / 1024.0;
      g[i] = phase == 0 ? x0 : phase == 1 ? x1 : x0 + x1;
    }
    return g;
  }
}
