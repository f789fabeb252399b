package org.efcp.optim.gpu;

import java.util.Arrays;
import java.util.SplittableRandom;

/**
 * Deterministic test gradients for the sparse M-FAC pipelines, built to stress the Top-k tie rule and the m×m
 * algebra: step 0 is constant (every |a| ties, so the lowest indices win), step 1 is zero (a = ξ: the tied leftovers
 * of step 0), every 9th step from 4 is zero, every 9th from 7 is quantised to multiples of scale/4 (mass ties,
 * zeros included), and the other steps are heavy-tailed (a normal times a log-normal) with 10 % exact zeros and
 * 5 % exactly ±scale/2.
 */
final class GradientSequence {
  private final int d;
  private final double scale;
  private final long seed;

  /**
   * @param d the gradient length
   * @param scale the typical magnitude; a power of two keeps the quantised and tied values exact
   * @param seed the random seed
   */
  GradientSequence(int d, double scale, long seed) {
    this.d = d;
    this.scale = scale;
    this.seed = seed;
  }

  /** The gradient of step {@code t} (0-based); the same (d, scale, seed, t) always gives the same vector. */
  double[] gradient(int t) {
    double[] g = new double[d];
    if (t == 0) {
      Arrays.fill(g, scale);
      return g;
    }
    if (t == 1 || t % 9 == 4) {
      return g;
    }
    SplittableRandom random = new SplittableRandom(seed * 0x9E3779B97F4A7C15L + t);
    if (t % 9 == 7) {
      for (int i = 0; i < d; i++) {
        g[i] = scale * (random.nextInt(7) - 3) * 0.25;
      }
      return g;
    }
    for (int i = 0; i < d; i++) {
      double u = random.nextDouble();
      if (u < 0.10) {
        g[i] = 0.0;
      } else if (u < 0.15) {
        g[i] = u < 0.125 ? 0.5 * scale : -0.5 * scale;
      } else {
        g[i] = scale * gaussian(random) * Math.exp(gaussian(random));
      }
    }
    return g;
  }

  private static double gaussian(SplittableRandom random) {
    // Marsaglia polar method.
    while (true) {
      double x = 2 * random.nextDouble() - 1;
      double y = 2 * random.nextDouble() - 1;
      double s = x * x + y * y;
      if (s > 0 && s < 1) {
        return x * Math.sqrt(-2 * Math.log(s) / s);
      }
    }
  }
}
