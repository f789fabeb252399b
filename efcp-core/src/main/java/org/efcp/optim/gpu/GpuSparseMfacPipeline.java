package org.efcp.optim.gpu;

import static org.efcp.optim.gpu.GpuMfacState.check;

import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

import jcuda.driver.CUevent;
import jcuda.driver.CUevent_flags;
import jcuda.driver.JCudaDriver;
import org.efcp.cuda.DeviceBuffer;
import org.efcp.cuda.GpuContext;
import org.efcp.cuda.GpuStream;
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
public final class GpuSparseMfacPipeline implements AutoCloseable {
  /** The drift max_i |(A B e_j − e_j)_i| above which B is rebuilt exactly on the host. */
  public static final double DRIFT_TOLERANCE = GpuMfacState.DRIFT_TOLERANCE;

  private static final int THREADS = 256;
  /** Keys per block of the Top-k kernels (TOPK_CHUNK in topk.cu). */
  private static final int TOPK_CHUNK = 4096;
  private static final int HISTOGRAM_BINS = 2048;
  /** Radix-select passes after the fused first one (bits 62..52): {shift, width}. */
  private static final int[][] LATER_PASSES = {{41, 11}, {30, 11}, {19, 11}, {8, 11}, {0, 8}};

  private final GpuContext context;
  private final int d;
  private final int m;
  private final int k;
  private final double damping;
  private final double invDamping;
  private final int topkBlocks;
  private final GpuStream stream;

  private final Kernel efHist;
  private final Kernel hist;
  private final Kernel count;
  private final Kernel write;
  private final Kernel dots;
  private final Kernel scatter;

  private final List<DeviceBuffer> owned = new ArrayList<>();
  /** ξ (and a during a step), d doubles. */
  private final DeviceBuffer error;
  private final DeviceBuffer histogram;
  private final DeviceBuffer topkState;
  private final DeviceBuffer blockCounts;
  private final DeviceBuffer windowIndices;
  private final DeviceBuffer windowValues;
  private final DeviceBuffer supportBits;
  private final DeviceBuffer supportValues;
  /** K, B ≈ A⁻¹, their update and the drift check. */
  private final GpuMfacState state;

  /** Host-API staging for g and u, allocated on the first {@link #direction} call. */
  private DeviceBuffer gradientStaging;
  private DeviceBuffer directionStaging;
  /** Timing events at the start, after Top-k, after the m×m update and at the end of a step; null unless profiling. */
  private CUevent[] stageEvents;
  private boolean closed;

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
    this.context = Objects.requireNonNull(context, "context");
    this.d = d;
    this.m = m;
    this.k = k;
    this.damping = damping;
    this.invDamping = 1.0 / damping;
    this.topkBlocks = (int) ((d + (long) TOPK_CHUNK - 1) / TOPK_CHUNK);

    KernelModule topk = context.module("topk");
    KernelModule mfac = context.module("sparse_mfac");
    this.efHist = topk.kernel("topk_ef_hist");
    this.hist = topk.kernel("topk_hist");
    this.count = topk.kernel("topk_count");
    this.write = topk.kernel("topk_write");
    this.dots = mfac.kernel("mfac_dots");
    this.scatter = mfac.kernel("mfac_scatter");

    this.stream = context.createStream();
    this.error = allocate(8L * d);
    this.histogram = allocate(4L * HISTOGRAM_BINS);
    this.topkState = allocate(8L * 4);
    this.blockCounts = allocate(8L * topkBlocks);
    this.windowIndices = allocate(4L * m * k);
    this.windowValues = allocate(4L * m * k);
    this.supportBits = allocate(4L * ((d + 31L) / 32));
    this.supportValues = allocate(8L * d);
    for (DeviceBuffer b : owned) {
      b.zero(stream);
    }
    // Waits for the zeroing above, too.
    this.state = new GpuMfacState(context, stream, m, invDamping);
  }

  /** d, the gradient length. */
  public int dimension() {
    return d;
  }

  /** m, the window size. */
  public int window() {
    return m;
  }

  /** k, the entries kept per step. */
  public int topK() {
    return k;
  }

  /** The damping λ. */
  public double damping() {
    return damping;
  }

  /** The stream every step is queued on (blocking with respect to the legacy default stream). */
  public GpuStream stream() {
    return stream;
  }

  /** Steps taken so far. */
  public long stepCount() {
    return state.steps();
  }

  /** How many times B was rebuilt exactly on the host because its drift exceeded {@link #DRIFT_TOLERANCE}. */
  public long refreshCount() {
    return state.refreshCount();
  }

  /** The last drift value read back (the largest since the last refresh), 0 before any. */
  public double lastDrift() {
    return state.lastDrift();
  }

  /**
   * One step from host memory: uploads g, runs {@link #directionDevice} and downloads u (blocks until done).
   *
   * @param g the raw gradient, length d, every entry finite (not modified)
   * @param uOut receives u, length d
   * @throws IllegalArgumentException on a wrong length or a non-finite entry (before any state changes)
   */
  public void direction(double[] g, double[] uOut) {
    checkOpen();
    if (g.length != d) {
      throw new IllegalArgumentException("gradient: expected d = " + d + ", got length " + g.length);
    }
    for (int i = 0; i < d; i++) {
      if (!Double.isFinite(g[i])) {
        throw new IllegalArgumentException("gradient: entry " + i + " is " + g[i]);
      }
    }
    if (uOut.length != d) {
      throw new IllegalArgumentException("uOut: expected length " + d + ", got " + uOut.length);
    }
    if (gradientStaging == null) {
      gradientStaging = allocate(8L * d);
      directionStaging = allocate(8L * d);
    }
    // The synchronous copies run on the legacy default stream, which waits for (and is waited for by) this
    // pipeline's blocking stream.
    gradientStaging.copyFrom(g, 0, d, 0);
    directionDevice(gradientStaging, directionStaging);
    directionStaging.copyTo(uOut, 0, d, 0);
  }

  /**
   * One step on device data: queues the whole step on {@link #stream()} and returns without waiting (except when a
   * drift read-back lags {@value GpuMfacState#MAX_UNCHECKED_STEPS} steps behind, or B must be rebuilt on the host).
   *
   * @param g the raw gradient, d doubles on this device, finite, ready for work queued on {@link #stream()};
   *     not modified
   * @param u receives u (its first d doubles), valid once the stream has passed this step
   * @throws IllegalArgumentException if a buffer holds fewer than d doubles
   */
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

  /** Device bytes this pipeline holds: state, window, scratch and the host-API staging once allocated. */
  public long memoryBytes() {
    long sum = state.memoryBytes();
    for (DeviceBuffer b : owned) {
      sum += b.bytes();
    }
    return sum;
  }

  /** Waits for queued work, then returns every device buffer to the pool and frees the pinned memory. */
  @Override
  public void close() {
    if (closed) {
      return;
    }
    closed = true;
    try {
      stream.synchronize();
    } finally {
      for (DeviceBuffer b : owned) {
        b.close();
      }
      owned.clear();
      state.close();
      if (stageEvents != null) {
        destroyStageEvents();
      }
      stream.close();
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

  /**
   * B = A⁻¹ exactly (host LAPACK) from the current K and resets the drift maximum; waits for queued work. Runs by
   * itself when the drift is too large; package-private so that tests can force one.
   */
  void refresh() {
    state.refresh();
  }

  private int lastSlot() {
    checkOpen();
    return state.lastSlot();
  }

  private DeviceBuffer allocate(long bytes) {
    DeviceBuffer b = context.allocate(bytes);
    owned.add(b);
    return b;
  }

  private void requireDoubles(String name, DeviceBuffer b) {
    Objects.requireNonNull(b, name);
    if (b.bytes() < 8L * d) {
      throw new IllegalArgumentException(name + ": must hold d = " + d + " doubles (" + 8L * d + " bytes), has "
          + b.bytes() + " bytes");
    }
  }

  private void checkOpen() {
    if (closed) {
      throw new IllegalStateException("pipeline: used after close");
    }
  }
}
