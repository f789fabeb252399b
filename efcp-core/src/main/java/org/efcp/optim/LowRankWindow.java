package org.efcp.optim;

import dev.ludovic.netlib.blas.BLAS;
import java.util.Arrays;
import java.util.Objects;

/**
 * The window of low-rank M-FAC (algorithms doc §5, "Global M-FAC over all tensors"): m slots, each holding
 * per matrix tensor the factors P (rows × rank) and Q (cols × rank) of a {@link LowRankVector} and per 1-D
 * tensor its raw values, all float64 copies. The reconstructed p1 × p2' matrices are never formed.
 *
 * <p>Storage, per matrix tensor l: all slots' P side by side as one column-major (rows × m·rank) matrix and
 * all Q as one column-major (cols × m·rank) matrix (slot j owns columns j·rank … j·rank + rank − 1), so the
 * window combination is a single GEMM per tensor. Empty slots are exact zeros.
 *
 * <p>Determinism: {@link #dots} makes its own two small dgemm calls per slot and {@link #addCombination} splits
 * its GEMM into disjoint output blocks; the netlib Java BLAS computes each output entry in a fixed order over
 * the inner dimension, so results do not depend on the number of threads.
 */
public final class LowRankWindow extends RingWindow {
  private static final long serialVersionUID = 1L;

  private final TensorLayout layout;
  private final int rank;
  /** Per matrix tensor: column-major rows × (m·rank); null for 1-D tensors. */
  private final double[][] pAll;
  /** Per matrix tensor: column-major cols × (m·rank); null for 1-D tensors. */
  private final double[][] qAll;
  /** Per 1-D tensor: m blocks of size(l) values, slot j at j·size(l); null for matrix tensors. */
  private final double[][] rawAll;

  /** Scratch for {@link #dots}: the query's factors column-major; for {@link #addCombination}: scaled factors. */
  private transient double[][] queryP;
  private transient double[][] queryQ;
  private transient double[] scaled;

  /**
   * @param m the number of slots (≥ 1)
   * @param layout the tensor layout of the stored vectors
   * @param rank the rank of the stored factors (≥ 1)
   */
  public LowRankWindow(int m, TensorLayout layout, int rank) {
    super(m, Objects.requireNonNull(layout, "layout").dimension());
    this.layout = layout;
    if (rank < 1) {
      throw new IllegalArgumentException("rank: must be >= 1, got " + rank);
    }
    this.rank = rank;
    int tensors = layout.numTensors();
    pAll = new double[tensors][];
    qAll = new double[tensors][];
    rawAll = new double[tensors][];
    for (int l = 0; l < tensors; l++) {
      if (layout.isMatrix(l)) {
        pAll[l] = new double[Math.multiplyExact(layout.rows(l), m * rank)];
        qAll[l] = new double[Math.multiplyExact(layout.cols(l), m * rank)];
      } else {
        rawAll[l] = new double[Math.multiplyExact(layout.size(l), m)];
      }
    }
  }

  public TensorLayout layout() {
    return layout;
  }

  public int rank() {
    return rank;
  }

  /** Copies the factors of {@code c}, a {@link LowRankVector} of this layout and rank, into the next slot. */
  @Override
  public int insert(CompressedVector c) {
    LowRankVector v = requireMatching(c, "c");
    int slot = nextSlot();
    for (int l = 0; l < layout.numTensors(); l++) {
      if (layout.isMatrix(l)) {
        storeColumns(v.p(l), layout.rows(l), pAll[l], slot);
        storeColumns(v.q(l), layout.cols(l), qAll[l], slot);
      } else {
        int size = layout.size(l);
        System.arraycopy(v.raw(l), 0, rawAll[l], slot * size, size);
      }
    }
    return advance();
  }

  /** Slot {@code slot}'s factors (row-major P and Q per matrix tensor) and raw 1-D tensors. */
  @Override
  public LowRankVector stored(int slot) {
    checkSlot(slot);
    int tensors = layout.numTensors();
    double[][] p = new double[tensors][];
    double[][] q = new double[tensors][];
    double[][] raw = new double[tensors][];
    for (int l = 0; l < tensors; l++) {
      if (layout.isMatrix(l)) {
        p[l] = loadColumns(pAll[l], layout.rows(l), slot);
        q[l] = loadColumns(qAll[l], layout.cols(l), slot);
      } else {
        int size = layout.size(l);
        raw[l] = Arrays.copyOfRange(rawAll[l], slot * size, (slot + 1) * size);
      }
    }
    return new LowRankVector(layout, rank, p, q, raw);
  }

  /** The row-major (n × rank) factor stored as columns slot·rank … of the column-major {@code all}. */
  private double[] loadColumns(double[] all, int n, int slot) {
    double[] x = new double[n * rank];
    int base = slot * rank * n;
    for (int j = 0; j < rank; j++) {
      int cj = base + j * n;
      for (int r = 0; r < n; r++) {
        x[r * rank + j] = all[cj + r];
      }
    }
    return x;
  }

  /** Writes the row-major (n × rank) {@code x} as columns slot·rank … of the column-major {@code all}. */
  private void storeColumns(double[] x, int n, double[] all, int slot) {
    int base = slot * rank * n;
    for (int j = 0; j < rank; j++) {
      int cj = base + j * n;
      for (int r = 0; r < n; r++) {
        all[cj + r] = x[r * rank + j];
      }
    }
  }

  /**
   * {@code out[j] = <x_j, v>} for a {@link LowRankVector} v: per matrix tensor Σ_{a,b} (P_jᵀ P_v)_{ab}
   * (Q_jᵀ Q_v)_{ab}, per 1-D tensor a plain dot product, summed over tensors in layout order (float64).
   */
  @Override
  public void dots(CompressedVector v, double[] out) {
    LowRankVector lv = requireMatching(v, "v");
    if (out.length != m) {
      throw new IllegalArgumentException("out: length " + out.length + " != m = " + m);
    }
    int tensors = layout.numTensors();
    if (queryP == null) {
      queryP = new double[tensors][];
      queryQ = new double[tensors][];
    }
    for (int l = 0; l < tensors; l++) {
      if (layout.isMatrix(l)) {
        queryP[l] = columnMajor(lv.p(l), layout.rows(l), queryP[l]);
        queryQ[l] = columnMajor(lv.q(l), layout.cols(l), queryQ[l]);
      }
    }
    long work = 0;
    for (int l = 0; l < tensors; l++) {
      work += layout.isMatrix(l) ? (long) rank * rank * (layout.rows(l) + layout.cols(l)) : layout.size(l);
    }
    // Enough slots per chunk that a chunk is worth a fork (about 32k multiply-adds).
    int minSlots = (int) Math.max(1, Math.min(m, 32_768 / Math.max(1, work)));
    int filled = filled();
    Arrays.fill(out, filled, m, 0.0);
    Parallel.forRange(filled, minSlots, (from, to) -> {
      double[] grams = new double[2 * rank * rank];
      for (int j = from; j < to; j++) {
        out[j] = slotDot(j, lv, grams);
      }
    });
  }

  /** {@code <x_slot, v>}; {@code grams} (2·rank² doubles) is scratch for P_slotᵀ P_v and Q_slotᵀ Q_v. */
  private double slotDot(int slot, LowRankVector v, double[] grams) {
    BLAS blas = BLAS.getInstance();
    double total = 0;
    for (int l = 0; l < layout.numTensors(); l++) {
      if (!layout.isMatrix(l)) {
        int size = layout.size(l);
        double[] raw = rawAll[l];
        double[] x = v.raw(l);
        int base = slot * size;
        double s = 0;
        for (int i = 0; i < size; i++) {
          s += raw[base + i] * x[i];
        }
        total += s;
        continue;
      }
      int rows = layout.rows(l);
      int cols = layout.cols(l);
      double[] p = pAll[l];
      double[] q = qAll[l];
      double[] pv = queryP[l];
      double[] qv = queryQ[l];
      // One dgemm per Gram product, slot by slot, so the result does not depend on how slots are split.
      int rr = rank * rank;
      blas.dgemm("T", "N", rank, rank, rows, 1.0, p, slot * rank * rows, rows, pv, 0, rows, 0.0, grams, 0, rank);
      blas.dgemm("T", "N", rank, rank, cols, 1.0, q, slot * rank * cols, cols, qv, 0, cols, 0.0, grams, rr, rank);
      double s = 0;
      for (int i = 0; i < rr; i++) {
        s += grams[i] * grams[rr + i];
      }
      total += s;
    }
    return total;
  }

  /** The column-major copy of the row-major (n × rank) {@code x}, reusing {@code buf} when it fits. */
  private double[] columnMajor(double[] x, int n, double[] buf) {
    double[] out = buf != null && buf.length == n * rank ? buf : new double[n * rank];
    for (int j = 0; j < rank; j++) {
      for (int r = 0; r < n; r++) {
        out[j * n + r] = x[r * rank + j];
      }
    }
    return out;
  }

  /**
   * {@code acc += Σ_j coef[j] x_j}: per matrix tensor one GEMM [P_0 … P_{m−1}] diag(coef ⊗ 1_rank)
   * [Q_0 … Q_{m−1}]ᵀ added to the tensor's segment (the smaller factor side is the one scaled; slots never
   * written are skipped; the GEMM is split into disjoint output blocks across threads), per 1-D tensor a sum
   * in slot order 0..m−1 (float64).
   */
  @Override
  public void addCombination(double[] coef, double[] acc) {
    if (coef.length != m) {
      throw new IllegalArgumentException("coef: length " + coef.length + " != m = " + m);
    }
    if (acc.length != layout.dimension()) {
      throw new IllegalArgumentException("acc: length " + acc.length + " != d = " + layout.dimension());
    }
    // Slots 0 .. filled-1 are the ones ever written; the rest are exact zeros.
    int filled = filled();
    if (filled == 0) {
      return;
    }
    int width = filled * rank;
    for (int l = 0; l < layout.numTensors(); l++) {
      int off = layout.offset(l);
      if (!layout.isMatrix(l)) {
        int size = layout.size(l);
        double[] raw = rawAll[l];
        for (int j = 0; j < filled; j++) {
          double cj = coef[j];
          int base = j * size;
          for (int i = 0; i < size; i++) {
            acc[off + i] += cj * raw[base + i];
          }
        }
        continue;
      }
      int rows = layout.rows(l);
      int cols = layout.cols(l);
      // Row-major acc segment = column-major (cols × rows) Cᵀ; Cᵀ += Qall · diag · Pallᵀ.
      double[] qf = qAll[l];
      double[] pf = pAll[l];
      if (rows <= cols) {
        pf = scaledCopy(pf, rows, coef, filled);
      } else {
        qf = scaledCopy(qf, cols, coef, filled);
      }
      combineInChunks(qf, pf, rows, cols, width, acc, off);
    }
  }

  /**
   * {@code C += A Bᵀ} for column-major C (cols × rows, at {@code acc[off]}), A (cols × width), B (rows × width),
   * split over the larger of cols and rows into dgemm calls on disjoint blocks of C. BLAS computes each entry
   * of C from its own row of A and row of B in a fixed order over width, so the split does not change it.
   */
  private static void combineInChunks(double[] a, double[] b, int rows, int cols, int width, double[] acc, int off) {
    BLAS blas = BLAS.getInstance();
    boolean splitCols = cols >= rows;
    int other = splitCols ? rows : cols;
    int minPerChunk = (int) Math.max(1, 65_536L / ((long) other * width));
    Parallel.forRange(splitCols ? cols : rows, minPerChunk, (from, to) -> {
      if (splitCols) {
        blas.dgemm("N", "T", to - from, rows, width, 1.0, a, from, cols, b, 0, rows, 1.0, acc, off + from, cols);
      } else {
        blas.dgemm("N", "T", cols, to - from, width, 1.0, a, 0, cols, b, from, rows, 1.0, acc, off + from * cols, cols);
      }
    });
  }

  /** Columns of the first {@code filled} slots of {@code all} (n rows), slot j's columns scaled by coef[j]. */
  private double[] scaledCopy(double[] all, int n, double[] coef, int filled) {
    int block = n * rank;
    int len = block * filled;
    if (scaled == null || scaled.length < len) {
      scaled = new double[maxScaledLength()];
    }
    double[] out = scaled;
    for (int j = 0; j < filled; j++) {
      double cj = coef[j];
      int base = j * block;
      for (int i = 0; i < block; i++) {
        out[base + i] = cj * all[base + i];
      }
    }
    return out;
  }

  private int maxScaledLength() {
    int max = 0;
    for (int l = 0; l < layout.numTensors(); l++) {
      if (layout.isMatrix(l)) {
        max = Math.max(max, Math.min(layout.rows(l), layout.cols(l)) * rank * m);
      }
    }
    return max;
  }

  private LowRankVector requireMatching(CompressedVector c, String name) {
    if (!(c instanceof LowRankVector v)) {
      throw new IllegalArgumentException(name + ": expected a LowRankVector, got "
          + (c == null ? "null" : c.getClass().getSimpleName()));
    }
    if (!v.layout().equals(layout) || v.rank() != rank) {
      throw new IllegalArgumentException(name + ": layout " + v.layout() + " rank " + v.rank()
          + " does not match the window's " + layout + " rank " + rank);
    }
    return v;
  }

  /** 8 bytes per stored double: m·(Σ matrix rank·(rows + cols) + Σ 1-D sizes), empty slots included. */
  @Override
  public long memoryBytes() {
    long doubles = 0;
    for (int l = 0; l < layout.numTensors(); l++) {
      doubles += layout.isMatrix(l) ? (long) pAll[l].length + qAll[l].length : rawAll[l].length;
    }
    return 8 * doubles;
  }

  @Override
  public void reset() {
    for (int l = 0; l < layout.numTensors(); l++) {
      if (layout.isMatrix(l)) {
        Arrays.fill(pAll[l], 0.0);
        Arrays.fill(qAll[l], 0.0);
      } else {
        Arrays.fill(rawAll[l], 0.0);
      }
    }
    forgetInserts();
  }
}
