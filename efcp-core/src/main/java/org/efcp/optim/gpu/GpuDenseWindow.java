package org.efcp.optim.gpu;

import static org.efcp.optim.gpu.KernelGrid.blocks;
import static org.efcp.optim.gpu.KernelGrid.THREADS;

import java.util.function.LongFunction;

import org.efcp.cuda.DeviceBuffer;
import org.efcp.cuda.GpuContext;
import org.efcp.cuda.GpuStream;
import org.efcp.cuda.Kernel;
import org.efcp.cuda.KernelModule;
import org.efcp.optim.CompressedVector;
import org.efcp.optim.Float32Vector;
import org.efcp.optim.PipelineState;

/**
 * The float32 dense window of dense M-FAC ({@link GpuDenseMfacPipeline}) and dense GGT ({@link GpuDenseGgtPipeline})
 * on the device, with its passes (kernels of {@code dense_mfac.cu}): x = (float) g into a slot ({@code dmfac_insert};
 * m rows of ld = d rounded up to a multiple of 4 floats, padding zero), w = (⟨x_j, x⟩)_j in one pass over the window
 * (tiles of 8 rows × 4096 coordinates, float4 loads, float64 sums, a fixed-order reduction of the chunk partials:
 * {@code dmfac_dots}, {@code dmfac_dots_finish}), and u = x_slot·s − Σ_j M_j x_j in float64 in one more pass (each
 * thread owns eight coordinates, two float4s, and walks the rows, no atomics: {@code dmfac_combine}). Deterministic.
 */
final class GpuDenseWindow implements DeviceWindowState {
  /** Window rows per dots tile (DM_ROWS in dense_mfac.cu). */
  static final int TILE_ROWS = 8;
  /** float4s per d-chunk of a dots tile (DM_CHUNK4 in dense_mfac.cu). */
  static final int CHUNK4 = 1024;
  /** Rows per block of dmfac_dots_finish, one warp each (DM_ROWS_PER_BLOCK in dense_mfac.cu). */
  static final int ROWS_PER_BLOCK = 8;
  /**
   * float4 columns per block of dmfac_combine (DM_COMBINE_COLUMNS in dense_mfac.cu): each of its
   * {@link KernelGrid#THREADS} threads owns two, q and q + {@link KernelGrid#THREADS}.
   */
  static final int COMBINE_FLOAT4_PER_BLOCK = 2 * THREADS;

  private final int d;
  /** The row stride in floats: d rounded up to a multiple of 4. */
  private final int ld;
  private final int chunks;
  private final Kernel insert;
  private final Kernel dots;
  private final Kernel dotsFinish;
  private final Kernel combine;
  /** m rows of ld floats. */
  private final DeviceBuffer window;
  /** Per (row, chunk) partial dots, m × chunks doubles. */
  private final DeviceBuffer partials;

  /**
   * Loads the kernels and allocates the window and the partials through {@code allocate} (the owner zeroes them
   * before the first step). Check the shape with {@link #checkShape} first.
   */
  GpuDenseWindow(GpuContext context, int d, int m, LongFunction<DeviceBuffer> allocate) {
    this.d = d;
    this.ld = (d + 3) / 4 * 4;
    this.chunks = chunkCount(d);
    KernelModule dense = context.module("dense_mfac");
    this.insert = dense.kernel("dmfac_insert");
    this.dots = dense.kernel("dmfac_dots");
    this.dotsFinish = dense.kernel("dmfac_dots_finish");
    this.combine = dense.kernel("dmfac_combine");
    this.window = allocate.apply(4L * m * ld);
    this.partials = allocate.apply(8L * m * chunks);
  }

  /**
   * Refuses a d outside [1, 2^31 − 4] ("d: …") or an m whose dots grid ⌈m/8⌉·⌈d/4096⌉ would not fit a launch ("m: …").
   */
  static void checkShape(int d, int m) {
    if (d < 1 || d > Integer.MAX_VALUE - 3) {
      throw new IllegalArgumentException("d: must be in [1, 2^31 - 4], got " + d);
    }
    if ((long) ((m + TILE_ROWS - 1) / TILE_ROWS) * chunkCount(d) > Integer.MAX_VALUE) {
      throw new IllegalArgumentException("m: " + m + " rows of d = " + d + " exceed the dots kernel's grid");
    }
  }

  /** Queues x = (float) g into {@code slot} and w_j = ⟨x_j, x⟩ for the {@code filled} slots into {@code w}. */
  void insertAndDot(GpuStream stream, DeviceBuffer g, int slot, int filled, DeviceBuffer w) {
    int rowTiles = (filled + TILE_ROWS - 1) / TILE_ROWS;
    insert.launch(stream, blocks(ld), 1, THREADS, 1, 0, g, window, d, ld, slot);
    dots.launch(stream, rowTiles * chunks, 1, THREADS, 1, 0, window, ld / 4, filled, slot, rowTiles, chunks,
        partials);
    queueDotsFinish(dotsFinish, stream, partials, chunks, w, filled);
  }

  /**
   * Queues w_j = Σ_c partials[j·chunks + c] for the {@code filled} rows (kernel {@code dmfac_dots_finish}, one warp per
   * row, summed in a fixed order); the low-rank pipeline sums its per-tensor dots with it too.
   */
  static void queueDotsFinish(Kernel dotsFinish, GpuStream stream, DeviceBuffer partials, int chunks, DeviceBuffer w,
      int filled) {
    dotsFinish.launch(stream, (filled + ROWS_PER_BLOCK - 1) / ROWS_PER_BLOCK, 1, THREADS, 1, 0, partials, chunks, w,
        filled);
  }

  /** Queues u = x_slot·{@code scale} − Σ_{j < filled} M_j x_j into the first d doubles of {@code u}. */
  void combine(GpuStream stream, int filled, DeviceBuffer coefficients, int slot, double scale, DeviceBuffer u) {
    int ld4 = ld / 4;
    int grid = (ld4 + COMBINE_FLOAT4_PER_BLOCK - 1) / COMBINE_FLOAT4_PER_BLOCK;  // two float4s per thread
    combine.launch(stream, grid, 1, THREADS, 1, 0, window, ld4, d, filled, coefficients, slot, scale, u);
  }

  /**
   * Queues {@code state}'s step together with {@link #combine}'s u for the slot the step inserts (scale 1/λ), in one
   * launch ({@link GpuMfacCholeskyState#updateAndCombine}, {@link DenseMfacCombine#OVERLAPPED}).
   */
  void updateAndCombine(GpuMfacCholeskyState state, int filled, DeviceBuffer u) {
    state.updateAndCombine(window, ld / 4, d, filled, u);
  }

  /** Row {@code slot} (d floats); downloads it (waits for queued work on the legacy stream's terms). */
  float[] row(int slot) {
    float[] out = new float[d];
    window.copyTo(out, 0, d, 4L * slot * ld);
    return out;
  }

  /** Row {@code slot}, as the CPU's window returns it; downloads it. */
  @Override
  public Float32Vector stored(int slot) {
    return new Float32Vector(row(slot));
  }

  /**
   * The rows of an imported window: each vector a {@link Float32Vector} of dimension d with finite values.
   *
   * @throws IllegalArgumentException "state: slot s ..." otherwise
   */
  float[][] checkSlots(CompressedVector[] slots) {
    float[][] rows = new float[slots.length][];
    for (int s = 0; s < slots.length; s++) {
      if (!(slots[s] instanceof Float32Vector v) || v.dimension() != d) {
        throw new IllegalArgumentException("state: slot " + s + " must be a float32 vector of dimension " + d
            + ", got " + slots[s].getClass().getSimpleName() + " of dimension " + slots[s].dimension());
      }
      float[] row = v.values();
      for (int i = 0; i < d; i++) {
        if (!Float.isFinite(row[i])) {
          throw new IllegalArgumentException("state: slot " + s + " entry " + i + " is " + row[i]);
        }
      }
      rows[s] = row;
    }
    return rows;
  }

  /** None: the dense methods have no error feedback. */
  @Override
  public double[] exportError() {
    return null;
  }

  /** The float32 slots. */
  @Override
  public void importWindow(PipelineState imported, CompressedVector[] slots) {
    upload(checkSlots(slots));
  }

  /** Uploads rows 0 … rows.length − 1 (checked by {@link #checkSlots}); the padding stays zero. */
  void upload(float[][] rows) {
    for (int s = 0; s < rows.length; s++) {
      window.copyFrom(rows[s], 0, d, 4L * s * ld);
    }
  }

  private static int chunkCount(int d) {
    return (int) (((d + 3L) / 4 + CHUNK4 - 1) / CHUNK4);
  }

}
