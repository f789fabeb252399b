package org.efcp.optim.gpu;

import java.util.Objects;

import org.efcp.cuda.DeviceBuffer;
import org.efcp.cuda.GpuContext;
import org.efcp.optim.Method;

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
 *   <li>u = x/λ − Σ_j M_j x_j in float64, one more pass over the window (each thread owns eight coordinates, two
 *   float4s, and walks the rows; no atomics). With {@link DenseMfacCombine#OVERLAPPED} (package private, not the
 *   default) this pass runs in the same launch as step 3, reading the window while the back solve produces M.</li>
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
  private final GpuDenseWindow window;
  private final MfacCholeskyKernel mxmKernel;
  private final DenseMfacCombine combine;

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
    this(context, d, m, damping, MfacCholeskyKernel.ROWS);
  }

  /**
   * As {@link #GpuDenseMfacPipeline(GpuContext, int, int, double)}, with the m×m step taken by {@code mxmKernel}
   * (the same results; for the A/B measurement of {@link MfacCholeskyKernel}).
   *
   * @throws NullPointerException if {@code mxmKernel} is null (after the other arguments' checks, before the device
   *     is touched)
   */
  GpuDenseMfacPipeline(GpuContext context, int d, int m, double damping, MfacCholeskyKernel mxmKernel) {
    this(context, d, m, damping, mxmKernel, DenseMfacCombine.SEPARATE);
  }

  /**
   * As {@link #GpuDenseMfacPipeline(GpuContext, int, int, double, MfacCholeskyKernel)}, with the combination
   * scheduled as {@code combine} says (the same u to rounding; for the A/B measurement of {@link DenseMfacCombine}).
   *
   * @throws NullPointerException if {@code mxmKernel} or {@code combine} is null (after the other arguments' checks,
   *     before the device is touched)
   */
  GpuDenseMfacPipeline(GpuContext context, int d, int m, double damping, MfacCholeskyKernel mxmKernel,
      DenseMfacCombine combine) {
    super(checkArguments(context, d, m, damping, mxmKernel, combine), d, m, damping);
    this.mxmKernel = mxmKernel;
    this.combine = combine;
    try {
      openStream();
      this.window = new GpuDenseWindow(context, d, m, this::allocate);
      startState();
    } catch (RuntimeException | Error e) {
      abandon(e);
      throw e;
    }
  }

  /** Validates the arguments before the base constructor runs; returns {@code context}. */
  private static GpuContext checkArguments(GpuContext context, int d, int m, double damping,
      MfacCholeskyKernel mxmKernel, DenseMfacCombine combine) {
    checkWindow(m, GpuMfacCholeskyState.MAX_WINDOW);
    GpuDenseWindow.checkShape(d, m);
    checkDamping(damping);
    Objects.requireNonNull(mxmKernel, "mxmKernel");
    Objects.requireNonNull(combine, "combine");
    return context;
  }

  @Override
  GpuMfacCholeskyState newState() {
    return new GpuMfacCholeskyState(context, stream, m, damping, mxmKernel, combine);
  }

  @Override
  void queueStep(DeviceBuffer g, DeviceBuffer u, int slot, int filled) {
    window.insertAndDot(stream, g, slot, filled, state.newDots());
    if (combine == DenseMfacCombine.OVERLAPPED) {
      window.updateAndCombine(state, filled, u);
      state.queueDriftReadBack();
    } else {
      state.update();
      state.queueDriftReadBack();
      window.combine(stream, filled, state.coefficients(), slot, invDamping, u);
    }
  }

  @Override
  Method method() {
    return Method.DENSE_MFAC;
  }

  @Override
  DeviceWindowState windowState() {
    return window;
  }

  /** The float32 window row written by the last step (x = (float) g, length d); downloads it (waits for the step). */
  public float[] lastInserted() {
    checkOpen();
    return window.row(state.ring.lastSlot());
  }
}
