package org.efcp.optim.gpu;

import java.nio.LongBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

import jcuda.driver.CUevent;
import jcuda.driver.CUevent_flags;
import jcuda.driver.CUresult;
import jcuda.driver.JCudaDriver;
import org.efcp.cuda.CudaException;
import org.efcp.cuda.DeviceBuffer;
import org.efcp.cuda.GpuContext;
import org.efcp.cuda.GpuStream;
import org.efcp.cuda.Kernel;
import org.efcp.cuda.KernelModule;
import org.efcp.cuda.PinnedBuffer;

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
 *   step of iterative refinement, and the drift of one column of B (kernels {@code sparse_mfac.cu});</li>
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
  public static final double DRIFT_TOLERANCE = 1e-6;

  private static final int THREADS = 256;
  /** Keys per block of the Top-k kernels (TOPK_CHUNK in topk.cu). */
  private static final int TOPK_CHUNK = 4096;
  private static final int HISTOGRAM_BINS = 2048;
  /** Rows of an m×m matrix per block of the warp-per-row kernels (MFAC_ROWS_PER_BLOCK in sparse_mfac.cu). */
  private static final int ROWS_PER_BLOCK = 8;
  /** Radix-select passes after the fused first one (bits 62..52): {shift, width}. */
  private static final int[][] LATER_PASSES = {{41, 11}, {30, 11}, {19, 11}, {8, 11}, {0, 8}};
  /** Steps the drift read-back may lag behind before a step waits for it. */
  private static final int MAX_UNCHECKED_STEPS = 8;

  private final GpuContext context;
  private final int d;
  private final int m;
  private final int k;
  private final double damping;
  private final double invDamping;
  private final int topkBlocks;
  private final int rowBlocks;
  private final GpuStream stream;

  private final Kernel efHist;
  private final Kernel hist;
  private final Kernel count;
  private final Kernel write;
  private final Kernel dots;
  private final Kernel insertP;
  private final Kernel insertUpdate;
  private final Kernel residual;
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
  /** K, m×m row-major by slot. */
  private final DeviceBuffer gram;
  /** B ≈ A⁻¹, m×m, symmetric. */
  private final DeviceBuffer inverse;
  /** w = (⟨x_j, c⟩)_j. */
  private final DeviceBuffer newDots;
  /** The new column of A: w/λ, plus m at the slot. */
  private final DeviceBuffer newColumn;
  /** Column s of B before the update. */
  private final DeviceBuffer oldInverseColumn;
  private final DeviceBuffer product;
  private final DeviceBuffer bordered;
  /** {1/B_ss, 1/γ}. */
  private final DeviceBuffer scalars;
  private final DeviceBuffer ticket;
  /** M0 = B' w, before refinement. */
  private final DeviceBuffer firstCoefficients;
  private final DeviceBuffer residualVector;
  private final DeviceBuffer driftMax;

  private final PinnedBuffer driftHost;
  private final LongBuffer driftView;
  private final CUevent driftEvent;

  /** Host-API staging for g and u, allocated on the first {@link #direction} call. */
  private DeviceBuffer gradientStaging;
  private DeviceBuffer directionStaging;
  /** Timing events at the start, after Top-k, after the m×m update and at the end of a step; null unless profiling. */
  private CUevent[] stageEvents;
  /** Host copies for a refresh, allocated on the first one. */
  private double[] hostGram;
  private double[] hostInverse;

  private long steps;
  private long refreshes;
  private boolean driftPending;
  private int uncheckedSteps;
  private double lastDrift;
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
    this.rowBlocks = (m + ROWS_PER_BLOCK - 1) / ROWS_PER_BLOCK;

    KernelModule topk = context.module("topk");
    KernelModule mfac = context.module("sparse_mfac");
    this.efHist = topk.kernel("topk_ef_hist");
    this.hist = topk.kernel("topk_hist");
    this.count = topk.kernel("topk_count");
    this.write = topk.kernel("topk_write");
    this.dots = mfac.kernel("mfac_dots");
    this.insertP = mfac.kernel("mfac_insert_p");
    this.insertUpdate = mfac.kernel("mfac_insert_update");
    this.residual = mfac.kernel("mfac_residual");
    this.scatter = mfac.kernel("mfac_scatter");

    this.stream = context.createStream();
    long mm = (long) m * m;
    this.error = allocate(8L * d);
    this.histogram = allocate(4L * HISTOGRAM_BINS);
    this.topkState = allocate(8L * 4);
    this.blockCounts = allocate(8L * topkBlocks);
    this.windowIndices = allocate(4L * m * k);
    this.windowValues = allocate(4L * m * k);
    this.supportBits = allocate(4L * ((d + 31L) / 32));
    this.supportValues = allocate(8L * d);
    this.gram = allocate(8L * mm);
    this.inverse = allocate(8L * mm);
    this.newDots = allocate(8L * m);
    this.newColumn = allocate(8L * m);
    this.oldInverseColumn = allocate(8L * m);
    this.product = allocate(8L * m);
    this.bordered = allocate(8L * m);
    this.scalars = allocate(8L * 2);
    this.ticket = allocate(8L);
    this.firstCoefficients = allocate(8L * m);
    this.residualVector = allocate(8L * m);
    this.driftMax = allocate(8L);
    for (DeviceBuffer b : owned) {
      b.zero(stream);
    }
    stream.synchronize();
    uploadScaledIdentity();

    this.driftHost = context.allocatePinned(8L);
    this.driftView = driftHost.byteBuffer().asLongBuffer();
    this.driftEvent = new CUevent();
    context.makeCurrent();
    check("cuEventCreate", JCudaDriver.cuEventCreate(driftEvent, CUevent_flags.CU_EVENT_DISABLE_TIMING));
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
    return steps;
  }

  /** How many times B was rebuilt exactly on the host because its drift exceeded {@link #DRIFT_TOLERANCE}. */
  public long refreshCount() {
    return refreshes;
  }

  /** The last drift value read back (the largest since the last refresh), 0 before any. */
  public double lastDrift() {
    return lastDrift;
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
   * drift read-back lags {@value #MAX_UNCHECKED_STEPS} steps behind, or B must be rebuilt on the host).
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
    checkDrift();
    int slot = (int) (steps % m);
    int filled = (int) Math.min(steps + 1, m);

    markStage(0);
    efHist.launch(stream, topkBlocks, 1, THREADS, 1, 0, error, g, d, histogram, topkState, k);
    for (int[] pass : LATER_PASSES) {
      hist.launch(stream, topkBlocks, 1, THREADS, 1, 0, error, d, histogram, topkState, pass[0], pass[1]);
    }
    count.launch(stream, topkBlocks, 1, THREADS, 1, 0, error, d, topkState, blockCounts);
    write.launch(stream, topkBlocks, 1, THREADS, 1, 0, error, d, topkState, blockCounts, windowIndices,
        windowValues, k, slot, supportBits, supportValues);
    markStage(1);

    dots.launch(stream, filled, 1, THREADS, 1, 0, windowIndices, windowValues, k, supportBits, supportValues, gram,
        newDots, newColumn, m, slot, invDamping, (double) m);
    insertP.launch(stream, rowBlocks, 1, THREADS, 1, 0, inverse, newColumn, oldInverseColumn, product, bordered,
        ticket, scalars, m, slot);
    insertUpdate.launch(stream, rowBlocks, 1, THREADS, 1, 0, inverse, oldInverseColumn, bordered, scalars, newDots,
        firstCoefficients, m, slot);
    residual.launch(stream, rowBlocks, 1, THREADS, 1, 0, gram, inverse, firstCoefficients, newDots, residualVector,
        m, slot, invDamping, (double) m, driftMax);
    markStage(2);
    driftMax.copyToAsync(driftHost, 0, 8, 0, stream);
    context.makeCurrent();
    check("cuEventRecord", JCudaDriver.cuEventRecord(driftEvent, stream.handle()));
    driftPending = true;

    DeviceBuffer out = u.bytes() == 8L * d ? u : u.view(0, 8L * d);
    out.zero(stream);
    scatter.launch(stream, filled, 1, THREADS, 1, 0, windowIndices, windowValues, k, inverse, firstCoefficients,
        residualVector, m, slot, invDamping, out, supportBits, supportValues);
    markStage(3);
    steps++;
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
    long sum = 0;
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
      driftHost.close();
      context.makeCurrent();
      check("cuEventDestroy", JCudaDriver.cuEventDestroy(driftEvent));
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

  /** Checks the last drift read-back once it has arrived; rebuilds B when it is too large. */
  private void checkDrift() {
    if (!driftPending) {
      return;
    }
    if (!driftArrived()) {
      if (++uncheckedSteps < MAX_UNCHECKED_STEPS) {
        return;
      }
      context.makeCurrent();
      check("cuEventSynchronize", JCudaDriver.cuEventSynchronize(driftEvent));
    }
    driftPending = false;
    uncheckedSteps = 0;
    lastDrift = Double.longBitsToDouble(driftView.get(0));
    if (!(lastDrift <= DRIFT_TOLERANCE)) {
      refresh();
    }
  }

  private boolean driftArrived() {
    context.makeCurrent();
    int result;
    try {
      result = JCudaDriver.cuEventQuery(driftEvent);
    } catch (jcuda.CudaException e) {
      // With JCuda's exceptions enabled, "not ready" arrives as an exception.
      if (e.getMessage() != null && e.getMessage().contains("CUDA_ERROR_NOT_READY")) {
        return false;
      }
      throw new CudaException("cuEventQuery: " + e.getMessage(), e);
    }
    if (result == CUresult.CUDA_ERROR_NOT_READY) {
      return false;
    }
    check("cuEventQuery", result);
    return true;
  }

  /**
   * B = A⁻¹ exactly (host LAPACK) from the current K and resets the drift maximum; waits for queued work. Runs by
   * itself when the drift is too large; package-private so that tests can force one.
   */
  void refresh() {
    stream.synchronize();
    if (hostGram == null) {
      hostGram = new double[m * m];
      hostInverse = new double[m * m];
    }
    gram.copyTo(hostGram, 0, m * m, 0);
    MfacInverse.invert(hostGram, m, invDamping, hostInverse);
    inverse.copyFrom(hostInverse, 0, m * m, 0);
    driftMax.copyFrom(new long[1], 0, 1, 0);
    // The pending read-back (if any) has arrived and describes the B just replaced.
    driftPending = false;
    uncheckedSteps = 0;
    refreshes++;
  }

  private void uploadScaledIdentity() {
    double[] identity = new double[m * m];
    for (int i = 0; i < m; i++) {
      identity[i * m + i] = 1.0 / m;
    }
    inverse.copyFrom(identity, 0, m * m, 0);
  }

  private int lastSlot() {
    checkOpen();
    if (steps == 0) {
      throw new IllegalStateException("no step taken yet");
    }
    return (int) ((steps - 1) % m);
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

  private static void check(String call, int result) {
    if (result != CUresult.CUDA_SUCCESS) {
      throw new CudaException(call + ": " + CUresult.stringFor(result));
    }
  }
}
