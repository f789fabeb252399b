package org.efcp.optim.gpu;

import static org.efcp.optim.gpu.KernelGrid.THREADS;

import org.efcp.cuda.DeviceBuffer;
import org.efcp.cuda.GpuContext;
import org.efcp.cuda.Kernel;
import org.efcp.optim.Method;

/**
 * Sparse GGT on one GPU (error feedback ∘ Top-k, then GGT over a sparse window, learning rate 1): the same contract
 * as the CPU {@code DirectionPipeline} for {@code Method.SPARSE_GGT} (algorithms doc §4.2). Per step, on this
 * pipeline's stream: a = ξ + g and the exact Top-k c into window slot {@code t mod m}, ξ = a − c
 * ({@code GpuErrorFeedbackTopK}; the selection is identical to the CPU's); w = (⟨x_j, c⟩)_j and K's new row and
 * column ({@code mfac_dots} of {@code sparse_mfac.cu}); the eigen step ({@link GpuGgtPipeline}); u = c/ε + Σ_j β_j x_j
 * in float64 (kernel {@code ggt_scatter}, double atomics over the m·k window entries, so u's last bits vary from run
 * to run).
 *
 * <p>The window holds m×k int32 indices and float32 values. Requires the {@code topk}, {@code sparse_mfac} and
 * {@code ggt} fatbins.
 */
public final class GpuSparseGgtPipeline extends GpuGgtPipeline {
  private final Kernel dotsKernel;
  private final Kernel scatter;
  /** ξ, the Top-k selection and the sparse window. */
  private final GpuErrorFeedbackTopK topK;
  /** mfac_dots's second output (an M-FAC column of A), unused here. */
  private final DeviceBuffer unusedColumn;

  /**
   * An empty pipeline (ξ = 0, every slot a zero vector, K = 0) on its own stream of {@code context}.
   *
   * @param context the device
   * @param d the gradient length, ≥ 1
   * @param m the window size (slots), 1 ≤ m ≤ {@value GpuGgtPipeline#MAX_WINDOW}
   * @param k the entries Top-k keeps, 1 ≤ k ≤ d
   * @param epsilon the GGT dampening ε, finite and &gt; 0 (the paper uses 1e-5)
   * @param ridge added to K's diagonal before the eigendecomposition, finite and ≥ 0 (1e-6 = the authors' code,
   *     0 = the paper's formula with near-zero eigenpairs dropped)
   * @throws IllegalArgumentException on a bad argument (message starts with its name; checked before the device is
   *     touched)
   */
  public GpuSparseGgtPipeline(GpuContext context, int d, int m, int k, double epsilon, double ridge) {
    super(checkArguments(context, d, m, k, epsilon, ridge), d, m, epsilon, ridge);
    try {
      this.dotsKernel = context.module("sparse_mfac").kernel("mfac_dots");
      this.scatter = context.module("ggt").kernel("ggt_scatter");
      openStream();
      this.topK = new GpuErrorFeedbackTopK(context, d, m, k, this::allocate);
      this.unusedColumn = allocate(8L * m);
      startState();
    } catch (RuntimeException | Error e) {
      abandon(e);
      throw e;
    }
  }

  /** Validates the arguments before the base constructor runs; returns {@code context}. */
  private static GpuContext checkArguments(GpuContext context, int d, int m, int k, double epsilon, double ridge) {
    GpuErrorFeedbackTopK.checkShape(d, k);
    checkCommon(m, epsilon, ridge);
    return context;
  }

  /** k, the entries kept per step. */
  public int topK() {
    return topK.k();
  }

  @Override
  void insertAndDot(DeviceBuffer g, int slot, int filled) {
    topK.select(stream, g, slot);
    // mfac_dots also writes an M-FAC column (w/λ + n at the slot); with 1/λ = n = 0 it is unused.
    dotsKernel.launch(stream, filled, 1, THREADS, 1, 0, topK.windowIndices(), topK.windowValues(), topK.k(),
        topK.supportBits(), topK.supportValues(), gram, dots, unusedColumn, m, slot, 0.0, 0.0);
  }

  @Override
  void combine(DeviceBuffer u, int slot, int filled) {
    u.zero(stream);
    scatter.launch(stream, filled, 1, THREADS, 1, 0, topK.windowIndices(), topK.windowValues(), topK.k(),
        coefficients, slot, 1.0 / epsilon, u, topK.supportBits(), topK.supportValues());
  }

  @Override
  Method method() {
    return Method.SPARSE_GGT;
  }

  @Override
  DeviceWindowState windowState() {
    return topK;
  }

  /** The indices of the last step's Top-k selection (k, ascending); downloads them (waits for the step). */
  public int[] lastIndices() {
    return topK.indices(lastSlot());
  }

  /** The float32 values of the last step's Top-k selection, in the order of {@link #lastIndices()}. */
  public float[] lastValues() {
    return topK.values(lastSlot());
  }

  /** The error buffer ξ after the last step (downloads it; waits for the step). */
  public double[] errorBuffer() {
    checkOpen();
    return topK.error();
  }
}
