package org.efcp.optim.gpu;

import static org.efcp.optim.gpu.KernelGrid.THREADS;

import org.efcp.cuda.DeviceBuffer;
import org.efcp.cuda.GpuContext;
import org.efcp.cuda.GpuEvent;
import org.efcp.cuda.Kernel;
import org.efcp.cuda.KernelModule;
import org.efcp.optim.Method;

/**
 * The sparse M-FAC direction step (error feedback ∘ Top-k, then M-FAC over a sparse window, learning rate 1)
 * resident on one GPU: the same contract as the CPU {@code DirectionPipeline} for {@code Method.SPARSE_MFAC}
 * (algorithms doc §1, §2.4, §3). Per step, on this pipeline's stream:
 * <ol>
 *   <li>a = ξ + g in float64 and the exact Top-k of |a| (radix select, ties to the lower index), written in
 *   ascending index order with float32 values into window slot {@code t mod m}; ξ = a − c (kernels
 *   {@code topk.cu}, {@link GpuErrorFeedbackTopK}). The selection is identical to the CPU's
 *   {@code TopKCompressor}.</li>
 *   <li>the dots w = (⟨x_j, c⟩)_j, the new row/column of K, a rank-2 update of B ≈ A⁻¹ (A = K/λ + m I) in the
 *   stable remove-then-border form (Schur complement, see {@code sparse_mfac.cu}), the coefficients M with one
 *   step of iterative refinement, and the drift of one column of B (kernels {@code sparse_mfac.cu},
 *   {@link GpuMfacState});</li>
 *   <li>u = c/λ − Σ_j M_j x_j in float64 (double atomics over the m·k window entries).</li>
 * </ol>
 * The drift of a rotating column, max_i |(A B e_j − e_j)_i|, is read back asynchronously; when it exceeds
 * {@link #DRIFT_TOLERANCE} (or is NaN) B is rebuilt exactly on the host ({@link MfacInverse}: LAPACK dpotrf +
 * dpotri) before the next step. Empty slots are zero vectors and the scale is n = m from the first step.
 *
 * <p>All m×m quantities and every dot product and combination are float64; the window holds m×k int32 indices
 * and float32 values. u agrees with the CPU pipeline to rounding (summation orders differ, and the atomics make
 * u's last bits vary from run to run); the selection, the window and ξ are bitwise the CPU's.
 *
 * <p>Unlike the CPU pipeline this class is not {@code Serializable}: its state lives in device memory. Not
 * thread-safe. Requires the {@code topk} and {@code sparse_mfac} fatbins (sm_80/sm_90, CUDA 13 driver).
 */
public final class GpuSparseMfacPipeline extends GpuMfacPipelineBase<GpuMfacState> {
  /** The drift max_i |(A B e_j − e_j)_i| above which B is rebuilt exactly on the host. */
  public static final double DRIFT_TOLERANCE = GpuMfacState.DRIFT_TOLERANCE;


  private final Kernel dots;
  private final Kernel scatter;
  /** ξ, the Top-k selection and the sparse window. */
  private final GpuErrorFeedbackTopK topK;
  /** Timing events at the start, after Top-k, after the m×m update and at the end of a step; null unless profiling. */
  private GpuEvent[] stageEvents;

  /**
   * An empty pipeline (ξ = 0, every slot a zero vector, K = 0, B = I/m) on its own stream of {@code context}.
   *
   * @param context the device
   * @param d the gradient length, ≥ 1
   * @param m the window size (slots), 1 ≤ m ≤ 46340
   * @param k the entries Top-k keeps, 1 ≤ k ≤ d
   * @param damping the paper's λ added to the Fisher, finite and &gt; 0
   * @throws IllegalArgumentException on a bad argument (message starts with its name; checked before the device is
   *     touched)
   */
  public GpuSparseMfacPipeline(GpuContext context, int d, int m, int k, double damping) {
    super(checkArguments(context, d, m, k, damping), d, m, damping);
    try {
      KernelModule mfac = context.module("sparse_mfac");
      this.dots = mfac.kernel("mfac_dots");
      this.scatter = mfac.kernel("mfac_scatter");

      openStream();
      this.topK = new GpuErrorFeedbackTopK(context, d, m, k, this::allocate);
      startState();
    } catch (RuntimeException | Error e) {
      abandon(e);
      throw e;
    }
  }

  /** Validates the arguments before the base constructor runs; returns {@code context}. */
  private static GpuContext checkArguments(GpuContext context, int d, int m, int k, double damping) {
    GpuErrorFeedbackTopK.checkShape(d, k);
    checkWindow(m, GpuMfacState.MAX_WINDOW);
    checkDamping(damping);
    return context;
  }

  @Override
  GpuMfacState newState() {
    return new GpuMfacState(context, stream, m, invDamping);
  }

  /** k, the entries kept per step. */
  public int topK() {
    return topK.k();
  }

  @Override
  void queueStep(DeviceBuffer g, DeviceBuffer u, int slot, int filled) {
    markStage(0);
    topK.select(stream, g, slot);
    markStage(1);

    dots.launch(stream, filled, 1, THREADS, 1, 0, topK.windowIndices(), topK.windowValues(), topK.k(),
        topK.supportBits(), topK.supportValues(), state.gram(), state.newDots(), state.newColumn(), m, slot,
        invDamping, (double) m);
    state.update();
    markStage(2);
    state.queueDriftReadBack();

    u.zero(stream);
    scatter.launch(stream, filled, 1, THREADS, 1, 0, topK.windowIndices(), topK.windowValues(), topK.k(),
        state.inverse(), state.firstCoefficients(), state.residualVector(), m, slot, invDamping, u,
        topK.supportBits(), topK.supportValues());
    markStage(3);
  }

  @Override
  Method method() {
    return Method.SPARSE_MFAC;
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

  /** Frees the m×m state, then destroys the timing events, if any. */
  @Override
  void releaseExtras() {
    super.releaseExtras();
    if (stageEvents != null) {
      destroyStageEvents();
    }
  }

  /**
   * Turns per-stage timing on or off (for {@code GpuStepBench}): each step then records four CUDA events on the
   * stream, which {@link #lastStageMillis()} reads.
   */
  void profileStages(boolean on) {
    if (on && stageEvents == null) {
      stageEvents = new GpuEvent[4];
      for (int i = 0; i < stageEvents.length; i++) {
        stageEvents[i] = context.createEvent(true);
      }
    } else if (!on && stageEvents != null) {
      stream.synchronize();
      destroyStageEvents();
    }
  }

  /**
   * Device milliseconds of the last profiled step's stages: {Top-k (EF, select, write), m×m update and coefficients,
   * combination u}; waits for the step.
   */
  double[] lastStageMillis() {
    if (stageEvents == null) {
      throw new IllegalStateException("profiling: not enabled");
    }
    stageEvents[3].synchronize();
    double[] out = new double[3];
    for (int i = 0; i < 3; i++) {
      out[i] = stageEvents[i + 1].millisSince(stageEvents[i]);
    }
    return out;
  }

  private void markStage(int i) {
    if (stageEvents != null) {
      stageEvents[i].record(stream);
    }
  }

  private void destroyStageEvents() {
    for (GpuEvent e : stageEvents) {
      e.close();
    }
    stageEvents = null;
  }

  private int lastSlot() {
    checkOpen();
    return state.ring.lastSlot();
  }
}
