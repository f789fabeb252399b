package org.efcp.optim;

/**
 * How a preconditioner rotated and rescaled the gradient (paper §6; algorithms doc §8, §13), from the raw
 * gradient g and the final update direction u (after momentum; for SGD with momentum, the momentum buffer):
 * <ul>
 *   <li>{@code cosine = <g,u> / max(‖g‖·‖u‖, 1e-6)} (torch {@code CosineSimilarity(eps=1e-6)});</li>
 *   <li>{@code normRatio = ‖u‖ / ‖g‖}, defined as 0 when both norms are 0;</li>
 *   <li>per-coordinate scaling {@code r_i = |u_i / (g_i + 1e-8)|} (1e-8 added to the signed g_i) summarised by
 *       its quantiles 25/50/75 with numpy's {@code 'midpoint'} rule — N sorted values, {@code h = (N−1)q},
 *       value {@code (x[⌊h⌋] + x[⌈h⌉]) / 2} — and its min, max and mean.</li>
 * </ul>
 * NaN ratios (0/0, only possible where g_i = −1e-8 exactly) order above every number, as in
 * {@link java.util.Arrays#sort(double[])}; a quantile that lands on one is NaN, as is the mean.
 *
 * @param cosine cosine similarity of g and u, in [−1, 1]
 * @param normRatio ‖u‖₂ / ‖g‖₂
 * @param q25 25th percentile of r_i
 * @param q50 median of r_i
 * @param q75 75th percentile of r_i
 * @param min smallest r_i
 * @param max largest r_i
 * @param mean mean of r_i
 */
public record PreconditioningMetrics(
    double cosine, double normRatio, double q25, double q50, double q75, double min, double max, double mean) {

  /** The 1e-6 floor on ‖g‖·‖u‖ in the cosine. */
  public static final double COSINE_EPS = 1e-6;
  /** The shift added to the signed g_i in r_i. */
  public static final double RATIO_SHIFT = 1e-8;

  private static final double[] QUANTILES = {0.25, 0.50, 0.75};

  /**
   * The angle the paper's code logs: cosine ∈ [−1, 1] mapped linearly onto [180°, 0°] (not arccos).
   */
  public double angleDegrees() {
    return 90.0 * (1.0 - cosine);
  }

  /** Computes the metrics; allocates one scratch array of length d (see {@link #compute(double[], double[], double[])}). */
  public static PreconditioningMetrics compute(double[] g, double[] u) {
    return compute(g, u, new double[g.length]);
  }

  /**
   * Computes the metrics in O(d) (selection, no sort) using {@code scratch} (length ≥ d, overwritten).
   *
   * @throws IllegalArgumentException if g is empty or the lengths do not match
   */
  public static PreconditioningMetrics compute(double[] g, double[] u, double[] scratch) {
    int n = g.length;
    if (n == 0) {
      throw new IllegalArgumentException("g: must not be empty");
    }
    if (u.length != n) {
      throw new IllegalArgumentException("u: expected length " + n + ", got " + u.length);
    }
    if (scratch.length < n) {
      throw new IllegalArgumentException("scratch: expected length >= " + n + ", got " + scratch.length);
    }
    double gu = 0;
    double gg = 0;
    double uu = 0;
    for (int i = 0; i < n; i++) {
      gu += g[i] * u[i];
      gg += g[i] * g[i];
      uu += u[i] * u[i];
    }
    double gNorm = Math.sqrt(gg);
    double uNorm = Math.sqrt(uu);
    double cosine = gu / Math.max(gNorm * uNorm, COSINE_EPS);
    double normRatio = uNorm == 0 ? 0 : uNorm / gNorm;

    double sum = 0;
    for (int i = 0; i < n; i++) {
      double r = Math.abs(u[i] / (g[i] + RATIO_SHIFT));
      scratch[i] = r;
      sum += r;
    }
    double mean = sum / n;
    // NaNs go to the end (they sort last), the numbers before them are selected with plain comparisons.
    int numeric = moveNaNsToEnd(scratch, n);
    double[] q = midpointQuantiles(scratch, n, numeric);
    double min = numeric > 0 ? minOf(scratch, 0, numeric) : Double.NaN;
    double max = numeric < n ? Double.NaN : maxOf(scratch, 0, n);
    return new PreconditioningMetrics(cosine, normRatio, q[0], q[1], q[2], min, max, mean);
  }

  /**
   * numpy {@code quantile(x, [0.25, 0.5, 0.75], method='midpoint')} of the n values in {@code x[0, n)}, whose
   * first {@code numeric} entries are numbers and the rest NaN. Reorders {@code x}.
   */
  private static double[] midpointQuantiles(double[] x, int n, int numeric) {
    double[] out = new double[QUANTILES.length];
    // Ranks ascend, so each selection only searches what lies at or after the previous rank.
    int from = 0;
    for (int j = 0; j < QUANTILES.length; j++) {
      double h = (n - 1) * QUANTILES[j];
      int lo = (int) Math.floor(h);
      int hi = (int) Math.ceil(h);
      if (hi >= numeric) {
        out[j] = Double.NaN;
        continue;
      }
      double a = select(x, from, numeric, lo);
      // After selecting rank lo, x[lo+1, numeric) holds exactly the larger ranks: rank lo+1 is their minimum.
      double b = hi == lo ? a : minOf(x, lo + 1, numeric);
      out[j] = (a + b) / 2;
      from = lo;
    }
    return out;
  }

  /** Moves the NaNs of x[0, n) behind the numbers; returns the count of numbers. */
  private static int moveNaNsToEnd(double[] x, int n) {
    int end = n;
    int i = 0;
    while (i < end) {
      if (Double.isNaN(x[i])) {
        end--;
        x[i] = x[end];
        x[end] = Double.NaN;
      } else {
        i++;
      }
    }
    return end;
  }

  /**
   * Quickselect (Hoare partition, median-of-three pivot): rearranges x[from, to) so that x[k] holds the value
   * that would be at index k if that range were sorted, with x[from, k) ≤ x[k] ≤ x(k, to). Expected
   * O(to − from); the range has no NaNs.
   */
  static double select(double[] x, int from, int to, int k) {
    int lo = from;
    int hi = to - 1;
    while (hi > lo) {
      int mid = (lo + hi) >>> 1;
      // Order x[lo] <= x[mid] <= x[hi] so the pivot is a median of three and both ends act as sentinels.
      if (x[mid] < x[lo]) {
        swap(x, mid, lo);
      }
      if (x[hi] < x[lo]) {
        swap(x, hi, lo);
      }
      if (x[hi] < x[mid]) {
        swap(x, hi, mid);
      }
      double pivot = x[mid];
      int i = lo;
      int j = hi;
      while (i <= j) {
        while (x[i] < pivot) {
          i++;
        }
        while (x[j] > pivot) {
          j--;
        }
        if (i <= j) {
          swap(x, i, j);
          i++;
          j--;
        }
      }
      // Now x[lo, j] <= pivot <= x[i, hi] and every entry strictly between j and i equals the pivot.
      if (k <= j) {
        hi = j;
      } else if (k >= i) {
        lo = i;
      } else {
        return x[k];
      }
    }
    return x[k];
  }

  private static void swap(double[] x, int a, int b) {
    double t = x[a];
    x[a] = x[b];
    x[b] = t;
  }

  private static double minOf(double[] x, int from, int to) {
    double m = x[from];
    for (int i = from + 1; i < to; i++) {
      if (x[i] < m) {
        m = x[i];
      }
    }
    return m;
  }

  private static double maxOf(double[] x, int from, int to) {
    double m = x[from];
    for (int i = from + 1; i < to; i++) {
      if (x[i] > m) {
        m = x[i];
      }
    }
    return m;
  }
}
