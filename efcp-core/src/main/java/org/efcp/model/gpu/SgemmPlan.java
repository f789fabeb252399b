package org.efcp.model.gpu;

/**
 * The launch configuration of one {@link Sgemm} call (rapids-kernels {@code gemm.cu}, {@code gemm_tf32.cu}):
 * 256-thread blocks, each computing a {@value #TILE} × {@value #TILE} tile of the M × N output, the grid
 * {@code gridX} = ⌈N / 128⌉ column tiles by {@code gridY} = ⌈M / 128⌉ · {@code splits} (row tile, k split)
 * blocks. Split-K cuts the K dimension into {@code splits} ranges of {@code kChunk} (a multiple of
 * {@value #SLICE}) so that a product with few output tiles but a long K still fills the GPU; each split
 * writes its own partial M × N result, which the caller sums.
 *
 * @param gridX column tiles
 * @param gridY row tiles times splits (≤ {@value #MAX_GRID_Y})
 * @param splits number of k ranges (≥ 1), none of them empty
 * @param kChunk k indices per split (a multiple of {@value #SLICE}, ≥ {@value #SLICE})
 */
record SgemmPlan(int gridX, int gridY, int splits, int kChunk) {
  /** Output rows and columns per block. */
  static final int TILE = 128;
  /** k indices per shared-memory slice; split boundaries are multiples of it (float4 alignment). */
  static final int SLICE = 8;
  /** Threads per block. */
  static final int THREADS = 256;
  /** The driver's limit on gridDim.y. */
  static final int MAX_GRID_Y = 65_535;
  /** A split gets at least this many k indices, so its partial result is worth writing and reading back. */
  static final int MIN_SPLIT_K = 256;

  /** One k range: the whole product in a single pass. */
  static SgemmPlan single(int m, int n, int k) {
    return make(m, n, k, 1);
  }

  /**
   * Enough k splits that the blocks fill about two waves of {@code multiprocessors} SMs at two resident
   * blocks each (4 blocks per SM), but no split shorter than {@value #MIN_SPLIT_K} k indices.
   */
  static SgemmPlan splitK(int m, int n, int k, int multiprocessors) {
    if (multiprocessors < 1) {
      throw new IllegalArgumentException("multiprocessors: must be >= 1, got " + multiprocessors);
    }
    checkDims(m, n, k);
    long tiles = tiles(m) * tiles(n);
    long target = 4L * multiprocessors;
    long wanted = (target + tiles - 1) / tiles;
    int splits = (int) Math.max(1, Math.min(wanted, k / MIN_SPLIT_K));
    return make(m, n, k, splits);
  }

  private static SgemmPlan make(int m, int n, int k, int requestedSplits) {
    checkDims(m, n, k);
    int kChunk = roundUp(Math.max(1, ceilDiv(k, requestedSplits)), SLICE);
    int splits = k == 0 ? 1 : ceilDiv(k, kChunk);
    long gridY = tiles(m) * splits;
    if (gridY > MAX_GRID_Y) {
      throw new IllegalArgumentException("m: " + m + " rows in " + splits + " split(s) need " + gridY
          + " row blocks, more than the grid limit " + MAX_GRID_Y);
    }
    return new SgemmPlan((int) tiles(n), (int) gridY, splits, kChunk);
  }

  private static void checkDims(int m, int n, int k) {
    if (m < 1) {
      throw new IllegalArgumentException("m: must be >= 1, got " + m);
    }
    if (n < 1) {
      throw new IllegalArgumentException("n: must be >= 1, got " + n);
    }
    if (k < 0) {
      throw new IllegalArgumentException("k: must be >= 0, got " + k);
    }
  }

  private static long tiles(int size) {
    return (size + (long) TILE - 1) / TILE;
  }

  /** ⌈a / b⌉ for a ≥ 0, b ≥ 1, without overflow (the grids of this package's kernels). */
  static int ceilDiv(int a, int b) {
    return (int) ((a + (long) b - 1) / b);
  }

  private static int roundUp(int a, int multiple) {
    return ceilDiv(a, multiple) * multiple;
  }
}
