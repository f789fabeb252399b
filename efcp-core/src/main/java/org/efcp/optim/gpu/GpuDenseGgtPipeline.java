package org.efcp.optim.gpu;

import org.efcp.cuda.DeviceBuffer;
import org.efcp.cuda.GpuContext;
import org.efcp.cuda.Kernel;
import org.efcp.cuda.KernelModule;

/**
 * Dense GGT on one GPU (round g to float32, no error feedback, then GGT over a dense float32 window, learning rate
 * 1): the same contract as the CPU {@code DirectionPipeline} for {@code Method.DENSE_GGT} (algorithms doc §4). Per
 * step, on this pipeline's stream, with the window kernels of dense M-FAC ({@code dense_mfac.cu}, unchanged):
 * x = (float) g into window slot {@code t mod m} ({@code dmfac_insert}); w = (⟨x_j, x⟩)_j ({@code dmfac_dots},
 * {@code dmfac_dots_finish}) and K's new row and column ({@code ggt_gram_row}); the eigen step
 * ({@link GpuGgtPipeline}); u = x/ε − Σ_j M_j x_j (M = −β) in float64 ({@code dmfac_combine} with 1/ε for 1/λ: each
 * thread owns four coordinates and walks the rows, no atomics, so u is deterministic).
 *
 * <p>The window is m rows of ld float32 values (ld = d rounded up to a multiple of 4): 4·m·ld bytes, 308 MB at
 * d = 769,000, m = 100. Requires the {@code dense_mfac} and {@code ggt} fatbins.
 */
public final class GpuDenseGgtPipeline extends GpuGgtPipeline {
  /** Window rows per dots tile (DM_ROWS in dense_mfac.cu). */
  private static final int TILE_ROWS = 8;
  /** float4s per d-chunk of a dots tile (DM_CHUNK4 in dense_mfac.cu). */
  private static final int CHUNK4 = 1024;
  /** Rows per block of dmfac_dots_finish (DM_ROWS_PER_BLOCK in dense_mfac.cu). */
  private static final int ROWS_PER_BLOCK = 8;

  /** The window's row stride in floats: d rounded up to a multiple of 4. */
  private final int ld;
  private final int chunks;
  private final Kernel insert;
  private final Kernel dotsKernel;
  private final Kernel dotsFinish;
  private final Kernel combineKernel;
  private final Kernel gramRow;
  /** The window, m rows of ld floats. */
  private final DeviceBuffer window;
  /** Per (row, chunk) partial dots, m × chunks doubles. */
  private final DeviceBuffer partials;

  /**
   * An empty pipeline (every slot a zero vector, K = 0) on its own stream of {@code context}.
   *
   * @param context the device
   * @param d the gradient length, 1 ≤ d ≤ 2^31 − 4
   * @param m the window size (slots), 1 ≤ m ≤ {@value GpuGgtPipeline#MAX_WINDOW}
   * @param epsilon the GGT dampening ε, finite and &gt; 0 (the paper uses 1e-5)
   * @param ridge added to K's diagonal before the eigendecomposition, finite and ≥ 0 (1e-6 = the authors' code,
   *     0 = the paper's formula with near-zero eigenpairs dropped)
   * @throws IllegalArgumentException on a bad argument (message starts with its name; checked before the device is
   *     touched)
   */
  public GpuDenseGgtPipeline(GpuContext context, int d, int m, double epsilon, double ridge) {
    super(checkArguments(context, d, m, epsilon, ridge), d, m, epsilon, ridge);
    this.ld = (d + 3) / 4 * 4;
    this.chunks = (int) (((d + 3L) / 4 + CHUNK4 - 1) / CHUNK4);
    KernelModule dense = context.module("dense_mfac");
    this.insert = dense.kernel("dmfac_insert");
    this.dotsKernel = dense.kernel("dmfac_dots");
    this.dotsFinish = dense.kernel("dmfac_dots_finish");
    this.combineKernel = dense.kernel("dmfac_combine");
    this.gramRow = context.module("ggt").kernel("ggt_gram_row");
    openStream();
    this.window = allocate(4L * m * ld);
    this.partials = allocate(8L * m * chunks);
    startState();
  }

  /** Validates the arguments before the base constructor runs; returns {@code context}. */
  private static GpuContext checkArguments(GpuContext context, int d, int m, double epsilon, double ridge) {
    if (d < 1 || d > Integer.MAX_VALUE - 3) {
      throw new IllegalArgumentException("d: must be in [1, 2^31 - 4], got " + d);
    }
    checkCommon(m, epsilon, ridge);
    return context;
  }

  @Override
  void insertAndDot(DeviceBuffer g, int slot, int filled) {
    int rowTiles = (filled + TILE_ROWS - 1) / TILE_ROWS;
    insert.launch(stream, blocks(ld), 1, THREADS, 1, 0, g, window, d, ld, slot);
    dotsKernel.launch(stream, rowTiles * chunks, 1, THREADS, 1, 0, window, ld / 4, filled, slot, rowTiles, chunks,
        partials);
    dotsFinish.launch(stream, (filled + ROWS_PER_BLOCK - 1) / ROWS_PER_BLOCK, 1, THREADS, 1, 0, partials, chunks,
        dots, filled);
    gramRow.launch(stream, blocks(filled), 1, THREADS, 1, 0, gram, dots, m, filled, slot);
  }

  @Override
  void combine(DeviceBuffer u, int slot, int filled) {
    combineKernel.launch(stream, blocks(ld / 4), 1, THREADS, 1, 0, window, ld / 4, d, filled, coefficients, slot,
        1.0 / epsilon, u);
  }

  /** The float32 window row written by the last step (x = (float) g, length d); downloads it (waits for the step). */
  public float[] lastInserted() {
    int slot = lastSlot();
    float[] out = new float[d];
    window.copyTo(out, 0, d, 4L * slot * ld);
    return out;
  }
}
