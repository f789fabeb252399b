package org.efcp.optim;

import java.util.Arrays;

/**
 * Ring buffer of the last m Top-k vectors (sparse M-FAC, algorithms doc §3): per slot up to k (index, value)
 * pairs, int32 indices strictly ascending (as {@link SparseVector} guarantees) and float32 values. Only the
 * first {@code size[slot]} pairs of a slot are used; the rest are zero padding that never contributes.
 *
 * <p>Dot products and linear combinations accumulate in float64 and do not depend on the number of threads:
 * {@link #dots} sums each slot sequentially over its ascending indices, and {@link #addCombination} splits the
 * coordinate range so that every coordinate adds the slots in order 0..m-1.
 *
 * <p>Not thread-safe (shared per-call scratch).
 */
public final class SparseWindow extends RingWindow {
  private static final long serialVersionUID = 1L;

  /** Least coordinates per parallel chunk in {@link #addCombination}. */
  private static final int COMBINATION_MIN_CHUNK = 65_536;
  /** Least stored entries per parallel chunk in {@link #dots}. */
  private static final int DOTS_MIN_ENTRIES_PER_CHUNK = 65_536;

  private final int k;
  private final int[][] indices;
  private final float[][] values;
  private final int[] sizes;

  /** Support bitmap and values of the sparse vector being dotted; all zero between calls. */
  private transient long[] supportBits;
  private transient float[] supportValues;
  /** Dense copy of a vector that is neither sparse nor dense. */
  private transient double[] denseScratch;

  /**
   * @param m number of slots, ≥ 1
   * @param d length of the vectors, ≥ 1
   * @param k most stored entries per vector, 1 ≤ k ≤ d
   */
  public SparseWindow(int m, int d, int k) {
    super(m, d);
    if (k < 1 || k > d) {
      throw new IllegalArgumentException("k: must be in [1, d = " + d + "], got " + k);
    }
    this.k = k;
    this.indices = new int[m][k];
    this.values = new float[m][k];
    this.sizes = new int[m];
  }

  /** k, the most entries a slot stores. */
  public int maxEntries() {
    return k;
  }

  /**
   * Copies the (index, value) pairs of {@code c} into the oldest slot.
   *
   * @throws IllegalArgumentException if {@code c} is not a {@link SparseVector} of dimension d with at most k
   *     entries
   */
  @Override
  public int insert(CompressedVector c) {
    if (!(c instanceof SparseVector sv)) {
      throw new IllegalArgumentException("c: SparseWindow stores SparseVector, got " + c.getClass().getName());
    }
    if (sv.dimension() != d) {
      throw new IllegalArgumentException("c: dimension must be " + d + ", got " + sv.dimension());
    }
    int nnz = sv.nnz();
    if (nnz > k) {
      throw new IllegalArgumentException("c: has " + nnz + " entries, more than k = " + k);
    }
    int slot = nextSlot();
    System.arraycopy(sv.indices(), 0, indices[slot], 0, nnz);
    System.arraycopy(sv.values(), 0, values[slot], 0, nnz);
    if (sizes[slot] > nnz) {
      Arrays.fill(indices[slot], nnz, sizes[slot], 0);
      Arrays.fill(values[slot], nnz, sizes[slot], 0f);
    }
    sizes[slot] = nnz;
    return advance();
  }

  /**
   * {@code out[j] = <x_j, v>} in float64. A {@link SparseVector} is marked in a support bitmap and each slot sums
   * only its entries whose index is in v's support; a {@link DenseVector} (or any other vector, made dense) is
   * gathered. Slots are summed sequentially in ascending index order, in parallel across slots.
   */
  @Override
  public void dots(CompressedVector v, double[] out) {
    if (v.dimension() != d) {
      throw new IllegalArgumentException("v: dimension must be " + d + ", got " + v.dimension());
    }
    if (out.length != m) {
      throw new IllegalArgumentException("out: length must be m = " + m + ", got " + out.length);
    }
    int rowsPerChunk = Math.max(1, DOTS_MIN_ENTRIES_PER_CHUNK / k);
    if (v instanceof SparseVector sv) {
      sparseDots(sv, out, rowsPerChunk);
      return;
    }
    double[] dense;
    if (v instanceof DenseVector dv) {
      dense = dv.values();
    } else {
      if (denseScratch == null) {
        denseScratch = new double[d];
      }
      v.toDense(denseScratch);
      dense = denseScratch;
    }
    Parallel.forRange(m, rowsPerChunk, (from, to) -> {
      for (int j = from; j < to; j++) {
        out[j] = gatherDot(indices[j], values[j], sizes[j], dense);
      }
    });
  }

  private void sparseDots(SparseVector v, double[] out, int rowsPerChunk) {
    if (supportBits == null) {
      supportBits = new long[(d + 63) >>> 6];
      supportValues = new float[d];
    }
    long[] bits = supportBits;
    float[] vals = supportValues;
    int[] vi = v.indices();
    float[] vv = v.values();
    for (int q = 0; q < vi.length; q++) {
      int i = vi[q];
      bits[i >>> 6] |= 1L << i;
      vals[i] = vv[q];
    }
    try {
      Parallel.forRange(m, rowsPerChunk, (from, to) -> {
        for (int j = from; j < to; j++) {
          out[j] = supportDot(indices[j], values[j], sizes[j], bits, vals);
        }
      });
    } finally {
      for (int i : vi) {
        bits[i >>> 6] = 0L;
        vals[i] = 0f;
      }
    }
  }

  private static double supportDot(int[] ind, float[] val, int size, long[] bits, float[] vals) {
    double s = 0.0;
    for (int q = 0; q < size; q++) {
      int i = ind[q];
      if ((bits[i >>> 6] & (1L << i)) != 0) {
        s += (double) val[q] * vals[i];
      }
    }
    return s;
  }

  private static double gatherDot(int[] ind, float[] val, int size, double[] dense) {
    double s = 0.0;
    for (int q = 0; q < size; q++) {
      s += val[q] * dense[ind[q]];
    }
    return s;
  }

  /**
   * {@code acc[i] += coef[j] * x_j[i]} for every slot j in order 0..m-1 (slots with coefficient 0 skipped),
   * in float64, in parallel over coordinate ranges.
   */
  @Override
  public void addCombination(double[] coef, double[] acc) {
    if (coef.length != m) {
      throw new IllegalArgumentException("coef: length must be m = " + m + ", got " + coef.length);
    }
    if (acc.length != d) {
      throw new IllegalArgumentException("acc: length must be d = " + d + ", got " + acc.length);
    }
    Parallel.forRange(d, COMBINATION_MIN_CHUNK, (from, to) -> addCombinationRange(coef, acc, from, to));
  }

  /**
   * {@link #addCombination} restricted to coordinates {@code [from, to)}: every slot in order 0..m-1 adds its
   * entries in that range, so any split of {@code [0, d)} gives bit-identical results.
   */
  void addCombinationRange(double[] coef, double[] acc, int from, int to) {
    for (int j = 0; j < m; j++) {
      double c = coef[j];
      if (c != 0.0) {
        int[] ind = indices[j];
        float[] val = values[j];
        int size = sizes[j];
        int q = from == 0 ? 0 : lowerBound(ind, size, from);
        while (q < size && ind[q] < to) {
          acc[ind[q]] += c * val[q];
          q++;
        }
      }
    }
  }

  /** First position in {@code ind[0, size)} whose index is ≥ {@code key}. */
  private static int lowerBound(int[] ind, int size, int key) {
    int lo = 0;
    int hi = size;
    while (lo < hi) {
      int mid = (lo + hi) >>> 1;
      if (ind[mid] < key) {
        lo = mid + 1;
      } else {
        hi = mid;
      }
    }
    return lo;
  }

  /** m·k·(4 + 4) bytes: float32 values and int32 indices. */
  @Override
  public long memoryBytes() {
    return (long) m * k * (Float.BYTES + Integer.BYTES);
  }

  @Override
  public void reset() {
    for (int j = 0; j < m; j++) {
      Arrays.fill(indices[j], 0);
      Arrays.fill(values[j], 0f);
    }
    Arrays.fill(sizes, 0);
    forgetInserts();
  }
}
