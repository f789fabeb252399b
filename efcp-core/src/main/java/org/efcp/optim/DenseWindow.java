package org.efcp.optim;

import java.util.Arrays;

/**
 * A {@link GradientWindow} of m dense d-vectors stored in float32, one {@code float[d]} row per slot (dense
 * M-FAC and dense GGT).
 *
 * <p>Values are cast to float32 on insert; the optimizer feeds float-representable values, so nothing is lost.
 * Dot products and linear combinations widen to float64 and accumulate there.
 *
 * <p>Memory: {@link #memoryBytes()} = 4·m·d bytes, allocated eagerly at construction so that an oversized
 * window fails at once rather than mid-run (m = 1024, d = 769,000 takes 3.15 GB).
 *
 * <p>Determinism: {@link #dots} gives each slot's dot product to one thread with a fixed summation order, and
 * {@link #addCombination} splits the coordinate range, summing each coordinate over slots in order 0..m−1,
 * so both are bit-identical for any number of threads.
 */
public final class DenseWindow extends RingWindow {
  private static final long serialVersionUID = 1L;
  /** Multiply-adds below which a parallel chunk does not pay for its scheduling. */
  private static final int MIN_WORK_PER_CHUNK = 1 << 16;
  /** Coordinates per cache tile in addCombination: a 16 KiB tile of acc stays in L1 across all slots. */
  private static final int TILE = 2048;

  private final float[][] rows;
  /** Dense copy of a vector that is neither dense nor sparse (e.g. low-rank); per-call scratch. */
  private transient double[] scratch;

  /**
   * m slots of d float32 entries, all zero.
   *
   * @throws IllegalArgumentException if m &lt; 1 or d &lt; 1
   */
  public DenseWindow(int m, int d) {
    super(m, d);
    this.rows = new float[m][d];
  }

  /**
   * Copies {@code c} into the next slot as float32. A {@link SparseVector} is scattered into a zeroed row; any
   * other representation is expanded with {@link CompressedVector#toDense}.
   */
  @Override
  public int insert(CompressedVector c) {
    requireDimension("c", c);
    int slot = nextSlot();
    float[] row = rows[slot];
    if (c instanceof DenseVector dv) {
      double[] v = dv.values();
      for (int i = 0; i < d; i++) {
        row[i] = (float) v[i];
      }
    } else if (c instanceof Float32Vector fv) {
      System.arraycopy(fv.values(), 0, row, 0, d);
    } else if (c instanceof SparseVector sv) {
      Arrays.fill(row, 0f);
      int[] idx = sv.indices();
      float[] val = sv.values();
      for (int q = 0; q < idx.length; q++) {
        row[idx[q]] = val[q];
      }
    } else {
      double[] v = denseScratch();
      c.toDense(v);
      for (int i = 0; i < d; i++) {
        row[i] = (float) v[i];
      }
    }
    return advance();
  }

  /** A copy of slot {@code slot}'s float32 values. */
  @Override
  public Float32Vector stored(int slot) {
    checkSlot(slot);
    return new Float32Vector(rows[slot].clone());
  }

  @Override
  public void dots(CompressedVector v, double[] out) {
    requireDimension("v", v);
    requireLength("out", out, m);
    int n = filled();
    Arrays.fill(out, n, m, 0.0);
    if (v instanceof SparseVector sv) {
      Parallel.forRange(n, Math.max(1, MIN_WORK_PER_CHUNK / Math.max(1, sv.nnz())),
          (from, to) -> dotsRange(sv, out, from, to));
      return;
    }
    double[] dense;
    if (v instanceof DenseVector dv) {
      dense = dv.values();
    } else {
      dense = denseScratch();
      v.toDense(dense);
    }
    Parallel.forRange(n, Math.max(1, MIN_WORK_PER_CHUNK / d), (from, to) -> dotsRange(dense, out, from, to));
  }

  /** {@code out[j] = <x_j, v>} for slots j in [from, to); each row summed by {@link #dot}. */
  void dotsRange(double[] v, double[] out, int from, int to) {
    for (int j = from; j < to; j++) {
      out[j] = dot(rows[j], v);
    }
  }

  /** {@code out[j] = <x_j, v>} for slots j in [from, to), gathering x_j at v's support in index order. */
  void dotsRange(SparseVector v, double[] out, int from, int to) {
    int[] idx = v.indices();
    float[] val = v.values();
    for (int j = from; j < to; j++) {
      float[] row = rows[j];
      double s = 0.0;
      for (int q = 0; q < idx.length; q++) {
        s += (double) row[idx[q]] * val[q];
      }
      out[j] = s;
    }
  }

  /** Float64 dot product with four independent accumulators (pipelining), combined as (s0 + s1) + (s2 + s3). */
  static double dot(float[] x, double[] v) {
    int n = x.length;
    double s0 = 0.0;
    double s1 = 0.0;
    double s2 = 0.0;
    double s3 = 0.0;
    int i = 0;
    for (; i <= n - 4; i += 4) {
      s0 += x[i] * v[i];
      s1 += x[i + 1] * v[i + 1];
      s2 += x[i + 2] * v[i + 2];
      s3 += x[i + 3] * v[i + 3];
    }
    for (; i < n; i++) {
      s0 += x[i] * v[i];
    }
    return (s0 + s1) + (s2 + s3);
  }

  /** Slots with a zero coefficient, and empty slots, are skipped. */
  @Override
  public void addCombination(double[] coef, double[] acc) {
    requireLength("coef", coef, m);
    requireLength("acc", acc, d);
    int active = activeSlots(coef, new int[filled()]);
    if (active == 0) {
      return;
    }
    Parallel.forRange(d, Math.max(TILE, MIN_WORK_PER_CHUNK / active), (from, to) -> combineRange(coef, acc, from, to));
  }

  /**
   * {@code acc[i] += sum_j coef[j] x_j[i]} for coordinates i in [from, to), skipping zero coefficients and empty
   * slots. Each coordinate is summed one slot at a time in slot order, whatever the range, so any split of
   * [0, d) gives bit-identical results.
   */
  void combineRange(double[] coef, double[] acc, int from, int to) {
    int[] slots = new int[filled()];
    int active = activeSlots(coef, slots);
    for (int t0 = from; t0 < to; t0 += TILE) {
      int t1 = Math.min(to, t0 + TILE);
      int p = 0;
      // Four slots per pass: Java's left-to-right evaluation keeps the per-coordinate order of one-at-a-time adds.
      for (; p + 4 <= active; p += 4) {
        double c0 = coef[slots[p]];
        double c1 = coef[slots[p + 1]];
        double c2 = coef[slots[p + 2]];
        double c3 = coef[slots[p + 3]];
        float[] x0 = rows[slots[p]];
        float[] x1 = rows[slots[p + 1]];
        float[] x2 = rows[slots[p + 2]];
        float[] x3 = rows[slots[p + 3]];
        for (int i = t0; i < t1; i++) {
          acc[i] = acc[i] + c0 * x0[i] + c1 * x1[i] + c2 * x2[i] + c3 * x3[i];
        }
      }
      for (; p < active; p++) {
        double c0 = coef[slots[p]];
        float[] x0 = rows[slots[p]];
        for (int i = t0; i < t1; i++) {
          acc[i] = acc[i] + c0 * x0[i];
        }
      }
    }
  }

  /** Writes the filled slots with a non-zero coefficient, ascending, into {@code slots}; returns how many. */
  private static int activeSlots(double[] coef, int[] slots) {
    int active = 0;
    for (int j = 0; j < slots.length; j++) {
      if (coef[j] != 0.0) {
        slots[active++] = j;
      }
    }
    return active;
  }

  /** 4·m·d bytes (every row is allocated at construction). */
  @Override
  public long memoryBytes() {
    return 4L * m * d;
  }

  @Override
  public void reset() {
    for (int j = 0; j < filled(); j++) {
      Arrays.fill(rows[j], 0f);
    }
    forgetInserts();
  }

  private double[] denseScratch() {
    if (scratch == null) {
      scratch = new double[d];
    }
    return scratch;
  }

  private void requireDimension(String name, CompressedVector v) {
    if (v.dimension() != d) {
      throw new IllegalArgumentException(name + ": dimension must be " + d + ", got " + v.dimension());
    }
  }

  private static void requireLength(String name, double[] a, int expected) {
    if (a.length != expected) {
      throw new IllegalArgumentException(name + ": length must be " + expected + ", got " + a.length);
    }
  }
}
