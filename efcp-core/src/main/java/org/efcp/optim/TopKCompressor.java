package org.efcp.optim;

import java.util.Arrays;

/**
 * Exact global Top-k (algorithms doc §1.2, §7 P9, §13): keeps the k entries of largest |a_i|, ties broken by
 * the lower index, so exactly k entries are always kept (zeros too when fewer than k entries are non-zero).
 * Kept values are the signed a_i rounded to float32 (round to nearest); indices come out ascending.
 *
 * <p>Selection is O(d): a radix select on the IEEE-754 bits of |a_i| (with the sign bit cleared, the bit
 * pattern of a non-negative double orders like its value) finds the k-th largest key T in four 16-bit
 * digits, each digit narrowing the candidate set, and a final pass in index order takes every key &gt; T and
 * the lowest-index keys == T until k are taken.
 *
 * <p>The caller guarantees finite input (no NaN, no infinity); NaN keys would sort above +∞ and be selected.
 */
public final class TopKCompressor implements Compressor {
  private static final long serialVersionUID = 1L;

  private static final int DIGIT_BITS = 16;
  private static final int BUCKETS = 1 << DIGIT_BITS;
  private static final long MAGNITUDE_MASK = 0x7FFF_FFFF_FFFF_FFFFL;

  private final int d;
  private final int k;

  /** Per-call scratch: digit histogram and candidate indices, kept across calls. */
  private transient int[] histogram;
  private transient int[] candidates;

  /**
   * @param d the vector length (≥ 1)
   * @param k the number of entries kept, 1 ≤ k ≤ d
   */
  public TopKCompressor(int d, int k) {
    if (d < 1) {
      throw new IllegalArgumentException("d: must be >= 1, got " + d);
    }
    if (k < 1 || k > d) {
      throw new IllegalArgumentException("k: must be in [1, " + d + "], got " + k);
    }
    this.d = d;
    this.k = k;
  }

  /**
   * k from a density or a count (§13): a value ≤ 1 is a density, {@code k = (int)(value * d)} computed in double
   * (so 0.29 · 100 gives 28); a value &gt; 1 is a count, {@code k = (int) value}.
   *
   * @throws IllegalArgumentException (message starts with "density") for NaN, infinite or non-positive values
   *     and whenever k &lt; 1 or k &gt; d
   */
  public static int countFor(double densityOrCount, int d) {
    if (Double.isNaN(densityOrCount) || Double.isInfinite(densityOrCount) || densityOrCount <= 0) {
      throw new IllegalArgumentException("density: must be a finite value > 0, got " + densityOrCount);
    }
    int count = densityOrCount <= 1 ? (int) (densityOrCount * d) : (int) densityOrCount;
    if (count < 1 || count > d) {
      throw new IllegalArgumentException("density: " + densityOrCount + " gives k = " + count
          + " for d = " + d + " (k must be in [1, d])");
    }
    return count;
  }

  /** The number of kept entries. */
  public int k() {
    return k;
  }

  /** The vector length d. */
  public int dimension() {
    return d;
  }

  /** Returns the Top-k of {@code a} (length d, finite entries). */
  @Override
  public SparseVector compress(double[] a) {
    if (a.length != d) {
      throw new IllegalArgumentException("a: length " + a.length + " != d = " + d);
    }
    if (histogram == null) {
      histogram = new int[BUCKETS];
      candidates = new int[d];
    }
    int[] hist = histogram;
    // Digit by digit from the top, find the bucket holding the k-th largest key; `above` counts the keys in
    // higher buckets, `prefix` is the threshold's digits found so far.
    Arrays.fill(hist, 0);
    for (int i = 0; i < d; i++) {
      hist[(int) (magnitudeKey(a[i]) >>> 48)]++;
    }
    long found = locate(hist, k);
    int above = (int) (found >>> DIGIT_BITS);
    long prefix = found & (BUCKETS - 1);
    int n = collect(a, prefix);
    // `shift` is the lowest bit of the digit now histogrammed (bits 47..32, then 31..16, then 15..0).
    for (int shift = 32; ; shift -= DIGIT_BITS) {
      found = locate(hist, k - above);
      above += (int) (found >>> DIGIT_BITS);
      prefix = (prefix << DIGIT_BITS) | (found & (BUCKETS - 1));
      if (shift == 0) {
        break;
      }
      n = narrow(a, n, prefix, shift);
    }
    return take(a, prefix, k - above);
  }

  /** The magnitude key of x: its bits with the sign cleared (orders like |x| for finite x). */
  private static long magnitudeKey(double x) {
    return Double.doubleToRawLongBits(x) & MAGNITUDE_MASK;
  }

  /**
   * Scans the histogram from the top for the bucket that holds the rank-th largest key (1-based); returns
   * {@code (count in higher buckets) << 16 | bucket}.
   */
  private static long locate(int[] hist, int rank) {
    int cumulative = 0;
    for (int b = BUCKETS - 1; b >= 0; b--) {
      int next = cumulative + hist[b];
      if (next >= rank) {
        return ((long) cumulative << DIGIT_BITS) | b;
      }
      cumulative = next;
    }
    throw new IllegalStateException("rank " + rank + " exceeds the histogram total " + cumulative);
  }

  /** Collects the indices whose top digit is {@code top} and histograms their second digit; returns the count. */
  private int collect(double[] a, long top) {
    int[] hist = histogram;
    int[] cand = candidates;
    Arrays.fill(hist, 0);
    int n = 0;
    for (int i = 0; i < d; i++) {
      long key = magnitudeKey(a[i]);
      if ((key >>> 48) == top) {
        cand[n++] = i;
        hist[(int) (key >>> 32) & (BUCKETS - 1)]++;
      }
    }
    return n;
  }

  /**
   * Keeps the candidates whose key above bit {@code shift} equals {@code prefix} (in order) and histograms
   * their next lower digit; returns the new count.
   */
  private int narrow(double[] a, int n, long prefix, int shift) {
    int[] hist = histogram;
    int[] cand = candidates;
    Arrays.fill(hist, 0);
    int nextShift = shift - DIGIT_BITS;
    int kept = 0;
    for (int c = 0; c < n; c++) {
      int i = cand[c];
      long key = magnitudeKey(a[i]);
      if ((key >>> shift) == prefix) {
        cand[kept++] = i;
        hist[(int) (key >>> nextShift) & (BUCKETS - 1)]++;
      }
    }
    return kept;
  }

  /** One pass in index order: every key above the threshold, and the first {@code equal} keys equal to it. */
  private SparseVector take(double[] a, long threshold, int equal) {
    int[] indices = new int[k];
    float[] values = new float[k];
    int taken = 0;
    // Exactly k entries pass: `above` keys are > threshold and `equal` of the keys == threshold.
    for (int i = 0; i < d; i++) {
      long key = magnitudeKey(a[i]);
      if (key >= threshold && (key != threshold || equal-- > 0)) {
        indices[taken] = i;
        values[taken] = (float) a[i];
        taken++;
      }
    }
    return new SparseVector(d, indices, values);
  }

  /** Top-k keeps no state across steps (its scratch buffers are not state): 0. */
  @Override
  public long memoryBytes() {
    return 0;
  }

  /** Stateless: nothing to forget. */
  @Override
  public void reset() {}
}
