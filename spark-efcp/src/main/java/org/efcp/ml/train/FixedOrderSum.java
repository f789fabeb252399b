package org.efcp.ml.train;

/**
 * The sum of P float32 gradient shares along the canonical tree of {@link GradientPartial} (node [lo, hi) =
 * [lo, mid) + [mid, hi), mid = (lo + hi) >>> 1, leaves widened to double), computed block by block into a
 * caller's array: bit-identical to merging {@code GradientPartial} leaves, without allocating d-sized arrays.
 */
public final class FixedOrderSum {
  private static final int BLOCK = 2048;

  private final int numPartitions;
  private final double[][] levels;

  /** A summer for {@code numPartitions} shares. */
  public FixedOrderSum(int numPartitions) {
    if (numPartitions < 1) {
      throw new IllegalArgumentException("numPartitions must be at least 1, got " + numPartitions);
    }
    this.numPartitions = numPartitions;
    int depth = 33 - Integer.numberOfLeadingZeros(numPartitions);
    this.levels = new double[depth][BLOCK];
  }

  /** {@code out} = the tree sum of {@code shares[0..P)}, each of length {@code out.length}. */
  public void sum(float[][] shares, double[] out) {
    if (shares.length != numPartitions) {
      throw new IllegalArgumentException("expected " + numPartitions + " shares, got " + shares.length);
    }
    for (int b = 0; b < out.length; b += BLOCK) {
      node(shares, 0, numPartitions, out, b, 1, b, Math.min(BLOCK, out.length - b));
    }
  }

  /** The tree sum of {@code values[0..P)} (loss, weight), in the same order. */
  public double sum(double[] values) {
    return scalar(values, 0, numPartitions);
  }

  private static double scalar(double[] v, int lo, int hi) {
    if (hi - lo == 1) {
      return v[lo];
    }
    int mid = (lo + hi) >>> 1;
    return scalar(v, lo, mid) + scalar(v, mid, hi);
  }

  /**
   * Node [lo, hi) over elements [b, b + n) into {@code dst} from {@code at}; right children use
   * {@code levels[level]}. Two leaves are summed in one pass; the arithmetic is the tree's either way.
   */
  private void node(float[][] shares, int lo, int hi, double[] dst, int at, int level, int b, int n) {
    if (hi - lo == 1) {
      float[] s = shares[lo];
      for (int j = 0; j < n; j++) {
        dst[at + j] = s[b + j];
      }
      return;
    }
    if (hi - lo == 2) {
      float[] l = shares[lo];
      float[] r = shares[lo + 1];
      for (int j = 0; j < n; j++) {
        dst[at + j] = (double) l[b + j] + (double) r[b + j];
      }
      return;
    }
    int mid = (lo + hi) >>> 1;
    node(shares, lo, mid, dst, at, level + 1, b, n);
    double[] right = levels[level];
    node(shares, mid, hi, right, 0, level + 1, b, n);
    for (int j = 0; j < n; j++) {
      dst[at + j] += right[j];
    }
  }
}
