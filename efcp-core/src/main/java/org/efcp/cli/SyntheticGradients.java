package org.efcp.cli;

import org.efcp.optim.Parallel;

/**
 * Deterministic synthetic gradients for benchmarks: step t gives {@code g_i = s_i · z_{t,i}} with standard
 * Gaussian z and a per-coordinate scale {@code s_i = exp(σ · z_{0,i})} (log-normal, σ = 1) drawn once, so
 * magnitudes are heavy-tailed and Top-k is far from uniform. Every value is a pure function of (seed, step,
 * index) — a splitmix64 hash of a counter fed to Marsaglia's polar method — so the output does not depend on
 * the number of threads that fill it.
 */
final class SyntheticGradients {
  private static final long GOLDEN = 0x9E3779B97F4A7C15L;
  /** Odd constant that separates the rejection attempts of one pair from other pairs' counters. */
  private static final long ATTEMPT_STRIDE = 0x632BE59BD9B4E019L;
  private static final double LOG_SCALE_SIGMA = 1.0;
  private static final int MIN_PAIRS_PER_CHUNK = 1 << 14;

  private final long seed;
  private final double[] scale;
  private long step;

  SyntheticGradients(int d, long seed) {
    this.seed = seed;
    this.scale = new double[d];
    gaussians(streamBase(0), null, scale);
    for (int i = 0; i < d; i++) {
      scale[i] = Math.exp(LOG_SCALE_SIGMA * scale[i]);
    }
  }

  /** Writes the next step's gradient into {@code g} (length d). */
  void next(double[] g) {
    if (g.length != scale.length) {
      throw new IllegalArgumentException("g: length " + g.length + " != d " + scale.length);
    }
    gaussians(streamBase(++step), scale, g);
  }

  private long streamBase(long stream) {
    return mix64(seed * GOLDEN + stream);
  }

  /** out[i] = (scale == null ? 1 : scale[i]) · z_i with z_i from the counter stream starting at base. */
  private static void gaussians(long base, double[] scale, double[] out) {
    int n = out.length;
    Parallel.forRange((n + 1) / 2, MIN_PAIRS_PER_CHUNK, (from, to) -> {
      for (int p = from; p < to; p++) {
        // Marsaglia's polar method (no sin/cos); attempt a of pair p hashes its own counter.
        long counter = base + 2L * p * GOLDEN;
        double x;
        double y;
        double s;
        long attempt = 0;
        do {
          long z = mix64(counter + ++attempt * ATTEMPT_STRIDE);
          x = (z >> 32) * 0x1.0p-31; // high and low 32 bits, each uniform in [-1, 1)
          y = (int) z * 0x1.0p-31;
          s = x * x + y * y;
        } while (s >= 1 || s == 0);
        double f = Math.sqrt(-2 * Math.log(s) / s);
        int i = 2 * p;
        out[i] = x * f * (scale == null ? 1 : scale[i]);
        if (i + 1 < n) {
          out[i + 1] = y * f * (scale == null ? 1 : scale[i + 1]);
        }
      }
    });
  }

  /** splitmix64's finaliser (the same mix64 as algorithms doc §13). */
  static long mix64(long z) {
    z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
    z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
    return z ^ (z >>> 31);
  }
}
