package org.efcp.optim;

import java.util.Arrays;

/**
 * Ring buffer of the last m Top-k vectors (sparse M-FAC, algorithms doc §3): per slot up to k (index, value)
 * pairs with strictly ascending indices (as {@link SparseVector} guarantees) and float32 values.
 *
 * <p>Indices are stored in 16 bits to halve their memory traffic: the coordinate range is cut into blocks of
 * 65,536 ({@code block = index >>> 16}); a slot keeps each entry's low 16 bits as a char and, per block, the
 * position of its first entry (entries of block b are {@code [blockStart[b], blockStart[b + 1])}). Decoding
 * is {@code index = (b << 16) | low}, with no dependency between entries, and it is lossless for any index.
 *
 * <p>Dot products and linear combinations accumulate in float64 and do not depend on the number of threads:
 * {@link #dots} sums each slot sequentially over its ascending indices, and {@link #addCombination} splits the
 * coordinate range so that every coordinate adds the slots in order 0..m-1.
 *
 * <p>Not thread-safe (shared per-call scratch).
 */
public final class SparseWindow extends RingWindow {
  private static final long serialVersionUID = 1L;

  /** log2 of the coordinates per block. */
  private static final int BLOCK_BITS = 16;
  /** Least coordinates per parallel chunk in {@link #addCombination}. */
  private static final int COMBINATION_MIN_CHUNK = 65_536;
  /** Least stored entries per parallel chunk in {@link #dots}. */
  private static final int DOTS_MIN_ENTRIES_PER_CHUNK = 65_536;

  private final int k;
  /** Number of blocks, ceil(d / 65,536). */
  private final int blocks;
  /** Per slot: the low 16 bits of the indices of its first {@code sizes[slot]} entries. */
  private final char[][] lows;
  /** Per slot: {@code blocks + 1} entry positions; block b's entries are {@code [starts[b], starts[b + 1])}. */
  private final int[][] blockStarts;
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
    this.blocks = (int) (((long) d + (1 << BLOCK_BITS) - 1) >>> BLOCK_BITS);
    this.lows = new char[m][k];
    this.blockStarts = new int[m][blocks + 1];
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
    int[] ind = sv.indices();
    char[] low = lows[slot];
    int[] starts = blockStarts[slot];
    int b = 0; // starts[0..b] are written
    starts[0] = 0;
    for (int q = 0; q < nnz; q++) {
      int i = ind[q];
      while (b < (i >>> BLOCK_BITS)) {
        starts[++b] = q;
      }
      low[q] = (char) i;
    }
    while (b < blocks) {
      starts[++b] = nnz;
    }
    System.arraycopy(sv.values(), 0, values[slot], 0, nnz);
    sizes[slot] = nnz;
    return advance();
  }

  /** Slot {@code slot}'s entries, indices ascending (none for an empty slot). */
  @Override
  public SparseVector stored(int slot) {
    checkSlot(slot);
    int nnz = sizes[slot];
    int[] indices = new int[nnz];
    char[] low = lows[slot];
    int[] starts = blockStarts[slot];
    for (int b = 0; b < blocks; b++) {
      for (int q = starts[b], end = starts[b + 1]; q < end; q++) {
        indices[q] = (b << BLOCK_BITS) | low[q];
      }
    }
    return new SparseVector(d, indices, Arrays.copyOf(values[slot], nnz));
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
        out[j] = gatherDot(lows[j], blockStarts[j], values[j], dense);
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
          out[j] = supportDot(lows[j], blockStarts[j], values[j], bits, vals);
        }
      });
    } finally {
      for (int i : vi) {
        bits[i >>> 6] = 0L;
        vals[i] = 0f;
      }
    }
  }

  private double supportDot(char[] low, int[] starts, float[] val, long[] bits, float[] vals) {
    double s = 0.0;
    for (int b = 0; b < blocks; b++) {
      int base = b << BLOCK_BITS;
      for (int q = starts[b], end = starts[b + 1]; q < end; q++) {
        int i = base | low[q];
        if ((bits[i >>> 6] & (1L << i)) != 0) {
          s += (double) val[q] * vals[i];
        }
      }
    }
    return s;
  }

  private double gatherDot(char[] low, int[] starts, float[] val, double[] dense) {
    double s = 0.0;
    for (int b = 0; b < blocks; b++) {
      int base = b << BLOCK_BITS;
      for (int q = starts[b], end = starts[b + 1]; q < end; q++) {
        s += val[q] * dense[base | low[q]];
      }
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
    if (from >= to) {
      return;
    }
    int firstBlock = from >>> BLOCK_BITS;
    int lastBlock = (to - 1) >>> BLOCK_BITS;
    for (int j = 0; j < m; j++) {
      double c = coef[j];
      if (c != 0.0) {
        char[] low = lows[j];
        int[] starts = blockStarts[j];
        float[] val = values[j];
        for (int b = firstBlock; b <= lastBlock; b++) {
          int base = b << BLOCK_BITS;
          int q = starts[b];
          int end = starts[b + 1];
          if (b == firstBlock) {
            q = lowerBound(low, q, end, from - base);
          }
          if (b == lastBlock) {
            end = lowerBound(low, q, end, to - base);
          }
          for (; q < end; q++) {
            acc[base | low[q]] += c * val[q];
          }
        }
      }
    }
  }

  /** First position in {@code low[lo, hi)} (ascending) whose value is ≥ {@code key}. */
  private static int lowerBound(char[] low, int lo, int hi, int key) {
    while (lo < hi) {
      int mid = (lo + hi) >>> 1;
      if (low[mid] < key) {
        lo = mid + 1;
      } else {
        hi = mid;
      }
    }
    return lo;
  }

  /**
   * The bytes held: per slot k chars of low index bits (2 bytes each), k float32 values (4 bytes each) and
   * ceil(d / 65,536) + 1 int32 block starts.
   */
  @Override
  public long memoryBytes() {
    return (long) m * (k * (Character.BYTES + Float.BYTES) + (blocks + 1L) * Integer.BYTES);
  }

  @Override
  public void reset() {
    for (int j = 0; j < m; j++) {
      Arrays.fill(lows[j], (char) 0);
      Arrays.fill(values[j], 0f);
      Arrays.fill(blockStarts[j], 0);
    }
    Arrays.fill(sizes, 0);
    forgetInserts();
  }
}
