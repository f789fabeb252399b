package org.efcp.optim.gpu;

import org.efcp.cuda.DeviceBuffer;
import org.efcp.cuda.GpuContext;
import org.efcp.cuda.Kernel;
import org.efcp.cuda.KernelModule;

/**
 * The dense M-FAC direction step (round g to float32, no error feedback, then M-FAC over a dense float32 window,
 * learning rate 1) resident on one GPU: the same contract as the CPU {@code DirectionPipeline} for
 * {@code Method.DENSE_MFAC} (algorithms doc §2.4, §3), with the CPU's m×m formulation ({@code MfacCholeskyState}).
 * Per step, on this pipeline's stream:
 * <ol>
 *   <li>x = (float) g is written into window slot {@code t mod m} (an m × ld float32 matrix, ld = d rounded up to a
 *   multiple of 4, padding zero; kernel {@code dmfac_insert});</li>
 *   <li>w = (⟨x_j, x⟩)_j for every slot in one pass over the window (tiles of 8 rows × 4096 coordinates, float4
 *   loads, float64 sums, then a fixed-order reduction of the chunk partials), the new row/column of K;</li>
 *   <li>one single-block kernel on the m×m state ({@link GpuMfacCholeskyState}, {@code mfac_cholesky.cu}): the drift
 *   check of the leaving vector's column of RᵀR against A = K/λ + m I, the O(m²) update of the chronological upper
 *   Cholesky factor R (Givens rotations deleting the oldest vector, fused with the forward substitution of the new
 *   last column), row/column {@code slot} of K, and the coefficients M = (1/λ)² A⁻¹ w by one back substitution;</li>
 *   <li>u = x/λ − Σ_j M_j x_j in float64, one more pass over the window (each thread owns four coordinates and
 *   walks the rows; no atomics).</li>
 * </ol>
 * The drift (scaled residual max_q |(RᵀR − A)_qj| / sqrt(A_qq A_jj) of a rotating column j) is read back
 * asynchronously; when it exceeds {@link #driftTolerance()} = {@code MfacCholeskyState.driftTolerance(m)} = 32 (m+1) ε
 * (or is NaN) R is rebuilt on the host from K with LAPACK dpotrf before the next step. Unlike an explicit inverse,
 * the updated factor stays accurate however badly A is conditioned (dense gradients give ‖g‖²/(mλ) ≈ 1e7 and
 * more), so refreshes are rare. Empty slots are zero vectors and the scale is n = m from the first step.
 *
 * <p>All m×m quantities and every dot product and combination are float64; the window holds float32. Every sum has
 * a fixed order, so u is deterministic from run to run; it agrees with the CPU pipeline to rounding (the summation
 * orders differ).
 *
 * <p>Device memory is dominated by the window, 4·m·ld bytes (3.15 GB at d = 769,000, m = 1024); K and R take
 * 16·m² bytes. Not {@code Serializable} (its state lives in device memory); not thread-safe. Requires the
 * {@code dense_mfac} and {@code mfac_cholesky} fatbins (sm_80/sm_90, CUDA 13 driver).
 */
public final class GpuDenseMfacPipeline extends GpuMfacPipelineBase<GpuMfacCholeskyState> {
  private static final int THREADS = 256;
  /** Window rows per dots tile (DM_ROWS in dense_mfac.cu). */
  private static final int TILE_ROWS = 8;
  /** float4s per d-chunk of a dots tile (DM_CHUNK4 in dense_mfac.cu). */
  private static final int CHUNK4 = 1024;
  /** Rows per block of dmfac_dots_finish, one warp each (DM_ROWS_PER_BLOCK in dense_mfac.cu). */
  private static final int ROWS_PER_BLOCK = 8;

  /** The window's row stride in floats: d rounded up to a multiple of 4. */
  private final int ld;
  private final int chunks;

  private final Kernel insert;
  private final Kernel dots;
  private final Kernel dotsFinish;
  private final Kernel combine;

  /** The window, m rows of ld floats. */
  private final DeviceBuffer window;
  /** Per (row, chunk) partial dots, m × chunks doubles. */
  private final DeviceBuffer partials;

  /**
   * An empty pipeline (every slot a zero vector, K = 0, R = sqrt(m) I) on its own stream of {@code context}.
   *
   * @param context the device
   * @param d the gradient length, 1 ≤ d ≤ 2^31 − 4
   * @param m the window size (slots), 1 ≤ m ≤ 4096 (and ⌈m/8⌉·⌈d/4096⌉ &lt; 2^31, the dots kernel's grid)
   * @param damping the paper's λ added to the Fisher, finite and &gt; 0
   * @throws IllegalArgumentException on a bad argument (message starts with its name; checked before the device is
   *     touched)
   */
  public GpuDenseMfacPipeline(GpuContext context, int d, int m, double damping) {
    super(checkArguments(context, d, m, damping), d, m, damping);
    this.ld = (d + 3) / 4 * 4;
    this.chunks = chunkCount(d);

    KernelModule dense = context.module("dense_mfac");
    this.insert = dense.kernel("dmfac_insert");
    this.dots = dense.kernel("dmfac_dots");
    this.dotsFinish = dense.kernel("dmfac_dots_finish");
    this.combine = dense.kernel("dmfac_combine");

    openStream();
    this.window = allocate(4L * m * ld);
    this.partials = allocate(8L * m * chunks);
    startState();
  }

  /** Validates the arguments before the base constructor runs; returns {@code context}. */
  private static GpuContext checkArguments(GpuContext context, int d, int m, double damping) {
    if (d < 1 || d > Integer.MAX_VALUE - 3) {
      throw new IllegalArgumentException("d: must be in [1, 2^31 - 4], got " + d);
    }
    if (m < 1 || m > GpuMfacCholeskyState.MAX_WINDOW) {
      throw new IllegalArgumentException("m: must be in [1, " + GpuMfacCholeskyState.MAX_WINDOW + "], got " + m);
    }
    if (!(damping > 0) || !Double.isFinite(damping)) {
      throw new IllegalArgumentException("damping: must be > 0 and finite, got " + damping);
    }
    if ((long) ((m + TILE_ROWS - 1) / TILE_ROWS) * chunkCount(d) > Integer.MAX_VALUE) {
      throw new IllegalArgumentException("m: " + m + " rows of d = " + d + " exceed the dots kernel's grid");
    }
    return context;
  }

  @Override
  GpuMfacCholeskyState newState() {
    return new GpuMfacCholeskyState(context, stream, m, damping);
  }

  /** d-chunks of a dots tile: ⌈(d/4) / CHUNK4⌉. */
  private static int chunkCount(int d) {
    return (int) (((d + 3L) / 4 + CHUNK4 - 1) / CHUNK4);
  }

  @Override
  void queueStep(DeviceBuffer g, DeviceBuffer u, int slot, int filled) {
    int rowTiles = (filled + TILE_ROWS - 1) / TILE_ROWS;
    int filledBlocks = (filled + ROWS_PER_BLOCK - 1) / ROWS_PER_BLOCK;
    int ld4 = ld / 4;

    insert.launch(stream, blocks(ld), 1, THREADS, 1, 0, g, window, d, ld, slot);
    dots.launch(stream, rowTiles * chunks, 1, THREADS, 1, 0, window, ld4, filled, slot, rowTiles, chunks, partials);
    dotsFinish.launch(stream, filledBlocks, 1, THREADS, 1, 0, partials, chunks, state.newDots(), filled);
    state.update();
    state.queueDriftReadBack();
    combine.launch(stream, blocks(ld4), 1, THREADS, 1, 0, window, ld4, d, filled, state.coefficients(), slot,
        invDamping, u);
  }

  /** The float32 window row written by the last step (x = (float) g, length d); downloads it (waits for the step). */
  public float[] lastInserted() {
    checkOpen();
    int slot = state.lastSlot();
    float[] out = new float[d];
    window.copyTo(out, 0, d, 4L * slot * ld);
    return out;
  }

  private static int blocks(int n) {
    return (int) ((n + (long) THREADS - 1) / THREADS);
  }
}
