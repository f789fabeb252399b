package org.efcp.optim.gpu;

import static org.efcp.optim.gpu.GpuMfacStateBase.check;

import jcuda.driver.CUevent;
import jcuda.driver.CUevent_flags;
import jcuda.driver.JCudaDriver;
import org.efcp.cuda.DeviceBuffer;
import org.efcp.cuda.GpuContext;
import org.efcp.cuda.Kernel;
import org.efcp.cuda.KernelModule;

/**
 * The sparse M-FAC direction step (error feedback ∘ Top-k, then M-FAC over a sparse window, learning rate 1)
 * resident on one GPU: the same contract as the CPU {@code DirectionPipeline} for {@code Method.SPARSE_MFAC}
 * (algorithms doc §1, §2.4, §3). Per step, on this pipeline's stream:
 * <ol>
 *   <li>a = ξ + g in float64 and the exact Top-k of |a| (radix select, ties to the lower index), written in
 *   ascending index order with float32 values into window slot {@code t mod m}; ξ = a − c (kernels
 *   {@code topk.cu}). The selection is identical to the CPU's {@code TopKCompressor}.</li>
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

  private static final int THREADS = 256;
  /** Keys per block of the Top-k kernels (TOPK_CHUNK in topk.cu). */
  private static final int TOPK_CHUNK = 4096;
  private static final int HISTOGRAM_BINS = 2048;
  /** Radix-select passes after the fused first one (bits 62..52): {shift, width}. */
  private static final int[][] LATER_PASSES = {{41, 11}, {30, 11}, {19, 11}, {8, 11}, {0, 8}};

  private final int k;
  private final int topkBlocks;

  private final Kernel efHist;
  private final Kernel hist;
  private final Kernel count;
  private final Kernel write;
  private final Kernel dots;
  private final Kernel scatter;

  /** ξ (and a during a step), d doubles. */
  private final DeviceBuffer error;
  private final DeviceBuffer histogram;
  private final DeviceBuffer topkState;
  private final DeviceBuffer blockCounts;
  private final DeviceBuffer windowIndices;
  private final DeviceBuffer windowValues;
  private final DeviceBuffer supportBits;
  private final DeviceBuffer supportValues;
  /** Timing events at the start, after Top-k, after the m×m update and at the end of a step; null unless profiling. */
  private CUevent[] stageEvents;

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
    this.k = k;
    this.topkBlocks = (int) ((d + (long) TOPK_CHUNK - 1) / TOPK_CHUNK);

    KernelModule topk = context.module("topk");
    KernelModule mfac = context.module("sparse_mfac");
    this.efHist = topk.kernel("topk_ef_hist");
    this.hist = topk.kernel("topk_hist");
    this.count = topk.kernel("topk_count");
    this.write = topk.kernel("topk_write");
    this.dots = mfac.kernel("mfac_dots");
    this.scatter = mfac.kernel("mfac_scatter");

    openStream();
    this.error = allocate(8L * d);
    this.histogram = allocate(4L * HISTOGRAM_BINS);
    this.topkState = allocate(8L * 4);
    this.blockCounts = allocate(8L * topkBlocks);
    this.windowIndices = allocate(4L * m * k);
    this.windowValues = allocate(4L * m * k);
    this.supportBits = allocate(4L * ((d + 31L) / 32));
    this.supportValues = allocate(8L * d);
    startState();
  }

  /** Validates the arguments before the base constructor runs; returns {@code context}. */
  private static GpuContext checkArguments(GpuContext context, int d, int m, int k, double damping) {
    if (d < 1) {
      throw new IllegalArgumentException("d: must be >= 1, got " + d);
    }
    if (m < 1 || (long) m * m > Integer.MAX_VALUE - 8) {
      throw new IllegalArgumentException("m: must be in [1, 46340], got " + m);
    }
    if (k < 1 || k > d) {
      throw new IllegalArgumentException("k: must be in [1, d = " + d + "], got " + k);
    }
    if (!(damping > 0) || !Double.isFinite(damping)) {
      throw new IllegalArgumentException("damping: must be > 0 and finite, got " + damping);
    }
    return context;
  }

  @Override
  GpuMfacState newState() {
    return new GpuMfacState(context, stream, m, invDamping);
  }

  /** k, the entries kept per step. */
  public int topK() {
    return k;
  }

  @Override
  public void directionDevice(DeviceBuffer g, DeviceBuffer u) {
    checkOpen();
    requireDoubles("g", g);
    requireDoubles("u", u);
    state.checkDrift();
    int slot = state.slot();
    int filled = state.filled();

    markStage(0);
    efHist.launch(stream, topkBlocks, 1, THREADS, 1, 0, error, g, d, histogram, topkState, k);
    for (int[] pass : LATER_PASSES) {
      hist.launch(stream, topkBlocks, 1, THREADS, 1, 0, error, d, histogram, topkState, pass[0], pass[1]);
    }
    count.launch(stream, topkBlocks, 1, THREADS, 1, 0, error, d, topkState, blockCounts);
    write.launch(stream, topkBlocks, 1, THREADS, 1, 0, error, d, topkState, blockCounts, windowIndices,
        windowValues, k, slot, supportBits, supportValues);
    markStage(1);

    dots.launch(stream, filled, 1, THREADS, 1, 0, windowIndices, windowValues, k, supportBits, supportValues,
        state.gram(), state.newDots(), state.newColumn(), m, slot, invDamping, (double) m);
    state.update();
    markStage(2);
    state.queueDriftReadBack();

    DeviceBuffer out = u.bytes() == 8L * d ? u : u.view(0, 8L * d);
    out.zero(stream);
    scatter.launch(stream, filled, 1, THREADS, 1, 0, windowIndices, windowValues, k, state.inverse(),
        state.firstCoefficients(), state.residualVector(), m, slot, invDamping, out, supportBits, supportValues);
    markStage(3);
    state.advance();
  }

  /** The indices of the last step's Top-k selection (k, ascending); downloads them (waits for the step). */
  public int[] lastIndices() {
    int slot = lastSlot();
    int[] out = new int[k];
    windowIndices.copyTo(out, 0, k, 4L * slot * k);
    return out;
  }

  /** The float32 values of the last step's Top-k selection, in the order of {@link #lastIndices()}. */
  public float[] lastValues() {
    int slot = lastSlot();
    float[] out = new float[k];
    windowValues.copyTo(out, 0, k, 4L * slot * k);
    return out;
  }

  /** The error buffer ξ after the last step (downloads it; waits for the step). */
  public double[] errorBuffer() {
    checkOpen();
    double[] out = new double[d];
    error.copyTo(out, 0, d, 0);
    return out;
  }

  /** Destroys the timing events, if any, between the state and the stream in {@link #close()}. */
  @Override
  void releaseExtras() {
    if (stageEvents != null) {
      destroyStageEvents();
    }
  }

  /**
   * Turns per-stage timing on or off (for {@code GpuStepBench}): each step then records four CUDA events on the
   * stream, which {@link #lastStageMillis()} reads.
   */
  void profileStages(boolean on) {
    context.makeCurrent();
    if (on && stageEvents == null) {
      stageEvents = new CUevent[4];
      for (int i = 0; i < stageEvents.length; i++) {
        stageEvents[i] = new CUevent();
        check("cuEventCreate", JCudaDriver.cuEventCreate(stageEvents[i], CUevent_flags.CU_EVENT_DEFAULT));
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
    context.makeCurrent();
    check("cuEventSynchronize", JCudaDriver.cuEventSynchronize(stageEvents[3]));
    double[] out = new double[3];
    float[] ms = new float[1];
    for (int i = 0; i < 3; i++) {
      check("cuEventElapsedTime", JCudaDriver.cuEventElapsedTime(ms, stageEvents[i], stageEvents[i + 1]));
      out[i] = ms[0];
    }
    return out;
  }

  private void markStage(int i) {
    if (stageEvents != null) {
      context.makeCurrent();
      check("cuEventRecord", JCudaDriver.cuEventRecord(stageEvents[i], stream.handle()));
    }
  }

  private void destroyStageEvents() {
    for (CUevent e : stageEvents) {
      check("cuEventDestroy", JCudaDriver.cuEventDestroy(e));
    }
    stageEvents = null;
  }

  private int lastSlot() {
    checkOpen();
    return state.lastSlot();
  }
}
