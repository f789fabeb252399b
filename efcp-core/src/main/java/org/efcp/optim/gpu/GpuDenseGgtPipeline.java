package org.efcp.optim.gpu;

import static org.efcp.optim.gpu.KernelGrid.blocks;
import static org.efcp.optim.gpu.KernelGrid.THREADS;

import org.efcp.cuda.DeviceBuffer;
import org.efcp.cuda.GpuContext;
import org.efcp.cuda.Kernel;
import org.efcp.optim.Method;

/**
 * Dense GGT on one GPU (round g to float32, no error feedback, then GGT over a dense float32 window, learning rate
 * 1): the same contract as the CPU {@code DirectionPipeline} for {@code Method.DENSE_GGT} (algorithms doc §4). Per
 * step, on this pipeline's stream, with the window kernels of dense M-FAC ({@code dense_mfac.cu}, unchanged):
 * x = (float) g into window slot {@code t mod m} ({@code dmfac_insert}); w = (⟨x_j, x⟩)_j ({@code dmfac_dots},
 * {@code dmfac_dots_finish}) and K's new row and column ({@code ggt_gram_row}); the eigen step
 * ({@link GpuGgtPipeline}); u = x/ε − Σ_j M_j x_j (M = −β) in float64 ({@code dmfac_combine} with 1/ε for 1/λ: each
 * thread owns eight coordinates, two float4s, and walks the rows, no atomics, so u is deterministic).
 *
 * <p>The window is m rows of ld float32 values (ld = d rounded up to a multiple of 4): 4·m·ld bytes, 308 MB at
 * d = 769,000, m = 100. Requires the {@code dense_mfac} and {@code ggt} fatbins.
 */
public final class GpuDenseGgtPipeline extends GpuGgtPipeline {
  private final GpuDenseWindow window;
  private final Kernel gramRow;

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
    try {
      this.gramRow = context.module("ggt").kernel("ggt_gram_row");
      openStream();
      this.window = new GpuDenseWindow(context, d, m, this::allocate);
      startState();
    } catch (RuntimeException | Error e) {
      abandon(e);
      throw e;
    }
  }

  /** Validates the arguments before the base constructor runs; returns {@code context}. */
  private static GpuContext checkArguments(GpuContext context, int d, int m, double epsilon, double ridge) {
    checkCommon(m, epsilon, ridge);
    GpuDenseWindow.checkShape(d, m);
    return context;
  }

  @Override
  void insertAndDot(DeviceBuffer g, int slot, int filled) {
    window.insertAndDot(stream, g, slot, filled, dots);
    gramRow.launch(stream, blocks(filled), 1, THREADS, 1, 0, gram, dots, m, filled, slot);
  }

  @Override
  void combine(DeviceBuffer u, int slot, int filled) {
    window.combine(stream, filled, coefficients, slot, 1.0 / epsilon, u);
  }

  @Override
  Method method() {
    return Method.DENSE_GGT;
  }

  @Override
  DeviceWindowState windowState() {
    return window;
  }

  /** The float32 window row written by the last step (x = (float) g, length d); downloads it (waits for the step). */
  public float[] lastInserted() {
    return window.row(lastSlot());
  }
}
