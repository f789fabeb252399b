package org.efcp.optim;

import dev.ludovic.netlib.blas.BLAS;
import java.util.Objects;

/**
 * PowerSGD-style low-rank compressor (algorithms doc §5, §13): each tensor of two or more dimensions, viewed
 * row-major as the matrix A (rows = p1, cols = p2·…·ps), is compressed by one power iteration warm-started
 * from the tensor's persistent Q (cols × rank):
 * <pre>
 *   P = A Q;  P = ORTHO(P)  (modified Gram–Schmidt: col_i /= (‖col_i‖ + 1e-8), col_j −= (col_i·col_j) col_i, j &gt; i)
 *   Q = Aᵀ P                (kept un-normalised as the next warm start)
 *   C = P Qᵀ                (returned as the factors P, Q)
 * </pre>
 * 1-D tensors are copied raw. Q starts from §13's deterministic splitmix64 uniform[−1, 1) values.
 * Error feedback is not inside; wrap in {@link ErrorFeedback} for §5's per-tensor EF. An all-zero
 * accumulator collapses Q to zero for good, as in the authors' code.
 *
 * <p>All arithmetic is float64; products go through BLAS dgemm (row-major data read as its column-major
 * transpose).
 */
public final class LowRankCompressor implements Compressor {
  private static final long serialVersionUID = 1L;

  private static final long GOLDEN = 0x9E3779B97F4A7C15L;
  private static final double GS_EPS = 1e-8;

  private final TensorLayout layout;
  private final int rank;
  private final long seed;
  /** Per matrix tensor, Q stored column-major (cols × rank, column j at j·cols); null for 1-D tensors. */
  private final double[][] q;

  /** Scratch: P of the current tensor, column-major (rows × rank). */
  private transient double[] pScratch;

  /**
   * @param layout the tensor layout of the flat vector
   * @param rank the rank of each P Qᵀ (≥ 1)
   * @param seed the seed of the initial Q (§13)
   */
  public LowRankCompressor(TensorLayout layout, int rank, long seed) {
    this.layout = Objects.requireNonNull(layout, "layout");
    if (rank < 1) {
      throw new IllegalArgumentException("rank: must be >= 1, got " + rank);
    }
    this.rank = rank;
    this.seed = seed;
    this.q = new double[layout.numTensors()][];
    reset();
  }

  public TensorLayout layout() {
    return layout;
  }

  public int rank() {
    return rank;
  }

  /**
   * §13's initial Q0[i][j] (i &lt; cols, j &lt; rank) of tensor {@code l} (0-based over every tensor): a
   * uniform[−1, 1) value from splitmix64 of the seed, the tensor number and the row-major element index.
   */
  public static double initialQ(long seed, int l, int rank, int i, int j) {
    long base = mix64(seed * GOLDEN + (l + 1));
    long n = (long) i * rank + j;
    long z = mix64(base + (n + 1) * GOLDEN);
    return 2 * ((z >>> 11) * 0x1.0p-53) - 1;
  }

  private static long mix64(long z) {
    z ^= z >>> 30;
    z *= 0xBF58476D1CE4E5B9L;
    z ^= z >>> 27;
    z *= 0x94D049BB133111EBL;
    z ^= z >>> 31;
    return z;
  }

  /** The current warm-start Q of matrix tensor {@code l} as a row-major (cols × rank) copy. */
  public double[] warmStart(int l) {
    if (!layout.isMatrix(l)) {
      throw new IllegalArgumentException("l: tensor " + l + " is 1-D and has no Q");
    }
    return toRowMajor(q[l], layout.cols(l));
  }

  /**
   * Replaces the warm-start Q of matrix tensor {@code l}.
   *
   * @param rowMajor (cols × rank) row-major, finite
   * @throws IllegalArgumentException if tensor l is 1-D, the length is not cols·rank or an entry is not finite
   */
  public void restoreWarmStart(int l, double[] rowMajor) {
    if (!layout.isMatrix(l)) {
      throw new IllegalArgumentException("l: tensor " + l + " is 1-D and has no Q");
    }
    int cols = layout.cols(l);
    if (rowMajor.length != cols * rank) {
      throw new IllegalArgumentException("warmStart: tensor " + l + " takes cols*rank = " + cols * rank
          + " values, got " + rowMajor.length);
    }
    PipelineState.requireFinite(rowMajor, "warmStart: tensor " + l);
    double[] ql = q[l];
    for (int r = 0; r < cols; r++) {
      for (int j = 0; j < rank; j++) {
        ql[j * cols + r] = rowMajor[r * rank + j];
      }
    }
  }

  /** Compresses {@code a} (length d) tensor by tensor and advances every warm-start Q. */
  @Override
  public LowRankVector compress(double[] a) {
    if (a.length != layout.dimension()) {
      throw new IllegalArgumentException("a: length " + a.length + " != d = " + layout.dimension());
    }
    int tensors = layout.numTensors();
    double[][] pOut = new double[tensors][];
    double[][] qOut = new double[tensors][];
    double[][] rawOut = new double[tensors][];
    BLAS blas = BLAS.getInstance();
    for (int l = 0; l < tensors; l++) {
      int off = layout.offset(l);
      if (!layout.isMatrix(l)) {
        rawOut[l] = java.util.Arrays.copyOfRange(a, off, off + layout.size(l));
        continue;
      }
      int rows = layout.rows(l);
      int cols = layout.cols(l);
      double[] ql = q[l];
      if (pScratch == null || pScratch.length < rows * rank) {
        pScratch = new double[maxRows() * rank];
      }
      double[] p = pScratch;
      // Row-major A is the column-major (cols × rows) Aᵀ with leading dimension cols.
      // P = A Q: (rows × rank) = op(Aᵀ)=A · Q.
      blas.dgemm("T", "N", rows, rank, cols, 1.0, a, off, cols, ql, 0, cols, 0.0, p, 0, rows);
      orthonormalise(p, rows);
      // Q = Aᵀ P: (cols × rank) = Aᵀ · P.
      blas.dgemm("N", "N", cols, rank, rows, 1.0, a, off, cols, p, 0, rows, 0.0, ql, 0, cols);
      pOut[l] = toRowMajor(p, rows);
      qOut[l] = toRowMajor(ql, cols);
    }
    return new LowRankVector(layout, rank, pOut, qOut, rawOut);
  }

  /** Modified Gram–Schmidt in place on the column-major (rows × rank) P, with the authors' 1e-8. */
  private void orthonormalise(double[] p, int rows) {
    for (int i = 0; i < rank; i++) {
      int ci = i * rows;
      double sq = 0;
      for (int r = 0; r < rows; r++) {
        sq += p[ci + r] * p[ci + r];
      }
      double denom = Math.sqrt(sq) + GS_EPS;
      for (int r = 0; r < rows; r++) {
        p[ci + r] /= denom;
      }
      for (int j = i + 1; j < rank; j++) {
        int cj = j * rows;
        double dot = 0;
        for (int r = 0; r < rows; r++) {
          dot += p[ci + r] * p[cj + r];
        }
        for (int r = 0; r < rows; r++) {
          p[cj + r] -= dot * p[ci + r];
        }
      }
    }
  }

  /** A row-major (n × rank) copy of the column-major (n × rank) {@code x}. */
  private double[] toRowMajor(double[] x, int n) {
    double[] out = new double[n * rank];
    for (int j = 0; j < rank; j++) {
      int cj = j * n;
      for (int r = 0; r < n; r++) {
        out[r * rank + j] = x[cj + r];
      }
    }
    return out;
  }

  private int maxRows() {
    int max = 0;
    for (int l = 0; l < layout.numTensors(); l++) {
      if (layout.isMatrix(l)) {
        max = Math.max(max, layout.rows(l));
      }
    }
    return max;
  }

  /** The warm-start Qs: 8 bytes per entry of every matrix tensor's (cols × rank) Q. */
  @Override
  public long memoryBytes() {
    long bytes = 0;
    for (double[] ql : q) {
      if (ql != null) {
        bytes += 8L * ql.length;
      }
    }
    return bytes;
  }

  /** Restores every Q to §13's initial Q0. */
  @Override
  public void reset() {
    for (int l = 0; l < layout.numTensors(); l++) {
      if (!layout.isMatrix(l)) {
        continue;
      }
      int cols = layout.cols(l);
      double[] ql = q[l] != null ? q[l] : new double[cols * rank];
      for (int i = 0; i < cols; i++) {
        for (int j = 0; j < rank; j++) {
          ql[j * cols + i] = initialQ(seed, l, rank, i, j);
        }
      }
      q[l] = ql;
    }
  }
}
