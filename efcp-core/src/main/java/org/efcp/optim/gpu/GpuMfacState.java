package org.efcp.optim.gpu;

import java.nio.LongBuffer;
import java.util.ArrayList;
import java.util.List;

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
 * The device-resident m×m M-FAC state shared by the GPU pipelines: K (m×m row-major by slot), B ≈ A⁻¹
 * (A = K/λ + m I), the rank-2 update of B and the coefficients' first pass with its residual (kernels
 * {@code mfac_insert_p}, {@code mfac_insert_update}, {@code mfac_residual} of {@code sparse_mfac.cu}), the step
 * count, and the drift of a rotating column of B, read back asynchronously through pinned memory and an event;
 * when the drift exceeds {@link #DRIFT_TOLERANCE} (or is NaN) B is rebuilt exactly on the host
 * ({@link MfacInverse}) before the next step. Every m×m quantity is float64.
 *
 * <p>The owning pipeline fills {@link #gram()}, {@link #newDots()} and {@link #newColumn()} for the current
 * {@link #slot()} before {@link #update()}, and reads {@link #inverse()}, {@link #firstCoefficients()} and
 * {@link #residualVector()} after it. Everything is queued on the pipeline's stream. Not thread-safe.
 */
final class GpuMfacState implements AutoCloseable {
  /** The drift max_i |(A B e_j − e_j)_i| above which B is rebuilt exactly on the host. */
  static final double DRIFT_TOLERANCE = 1e-6;
  /** Steps the drift read-back may lag behind before a step waits for it. */
  static final int MAX_UNCHECKED_STEPS = 8;

  private static final int THREADS = 256;
  /** Rows of an m×m matrix per block of the warp-per-row kernels (MFAC_ROWS_PER_BLOCK in sparse_mfac.cu). */
  private static final int ROWS_PER_BLOCK = 8;

  private final GpuContext context;
  private final GpuStream stream;
  private final int m;
  private final double invDamping;
  private final int rowBlocks;

  private final Kernel insertP;
  private final Kernel insertUpdate;
  private final Kernel residual;

  private final List<DeviceBuffer> owned = new ArrayList<>();
  /** K, m×m row-major by slot. */
  private final DeviceBuffer gram;
  /** B ≈ A⁻¹, m×m, symmetric. */
  private final DeviceBuffer inverse;
  /** w = (⟨x_j, x⟩)_j. */
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

  /** Host copies for a refresh, allocated on the first one. */
  private double[] hostGram;
  private double[] hostInverse;

  private long steps;
  private long refreshes;
  private boolean driftPending;
  private int uncheckedSteps;
  private double lastDrift;

  /**
   * The empty state (K = 0, B = I/m, no step taken): allocates and zeroes its buffers on {@code stream}, then waits
   * for the stream (so for any work the caller queued before, too) and uploads B.
   *
   * @param context the device, with the {@code sparse_mfac} module
   * @param stream the owning pipeline's stream
   * @param m the window size, 1 ≤ m ≤ 46340 (checked by the caller)
   * @param invDamping 1/λ
   */
  GpuMfacState(GpuContext context, GpuStream stream, int m, double invDamping) {
    this.context = context;
    this.stream = stream;
    this.m = m;
    this.invDamping = invDamping;
    this.rowBlocks = (m + ROWS_PER_BLOCK - 1) / ROWS_PER_BLOCK;

    KernelModule mfac = context.module("sparse_mfac");
    this.insertP = mfac.kernel("mfac_insert_p");
    this.insertUpdate = mfac.kernel("mfac_insert_update");
    this.residual = mfac.kernel("mfac_residual");

    long mm = (long) m * m;
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

  /** K, m×m row-major by slot. */
  DeviceBuffer gram() {
    return gram;
  }

  /** B ≈ A⁻¹, m×m, symmetric. */
  DeviceBuffer inverse() {
    return inverse;
  }

  /** w = (⟨x_j, x⟩)_j, m doubles, written by the pipeline before {@link #update()}. */
  DeviceBuffer newDots() {
    return newDots;
  }

  /** The new column of A (w/λ, plus m at the slot), m doubles, written by the pipeline before {@link #update()}. */
  DeviceBuffer newColumn() {
    return newColumn;
  }

  /** M0 = B' w before refinement, m doubles, written by {@link #update()}. */
  DeviceBuffer firstCoefficients() {
    return firstCoefficients;
  }

  /** The refinement residual, m doubles, written by {@link #update()}. */
  DeviceBuffer residualVector() {
    return residualVector;
  }

  /** Steps taken so far. */
  long steps() {
    return steps;
  }

  /** The slot the current step writes, t mod m. */
  int slot() {
    return (int) (steps % m);
  }

  /** Slots holding a vector once the current step's is written, min(t + 1, m). */
  int filled() {
    return (int) Math.min(steps + 1, m);
  }

  /** The slot the last step wrote; throws {@link IllegalStateException} before any step. */
  int lastSlot() {
    if (steps == 0) {
      throw new IllegalStateException("no step taken yet");
    }
    return (int) ((steps - 1) % m);
  }

  /** Ends the current step. */
  void advance() {
    steps++;
  }

  /** How many times B was rebuilt exactly on the host. */
  long refreshCount() {
    return refreshes;
  }

  /** The last drift value read back (the largest since the last refresh), 0 before any. */
  double lastDrift() {
    return lastDrift;
  }

  /** Device bytes of the m×m state and its scratch. */
  long memoryBytes() {
    long sum = 0;
    for (DeviceBuffer b : owned) {
      sum += b.bytes();
    }
    return sum;
  }

  /** Queues the rank-2 update of B for {@link #slot()}, M0 = B' w and its residual (with the drift maximum). */
  void update() {
    int slot = slot();
    insertP.launch(stream, rowBlocks, 1, THREADS, 1, 0, inverse, newColumn, oldInverseColumn, product, bordered,
        ticket, scalars, m, slot);
    insertUpdate.launch(stream, rowBlocks, 1, THREADS, 1, 0, inverse, oldInverseColumn, bordered, scalars, newDots,
        firstCoefficients, m, slot);
    residual.launch(stream, rowBlocks, 1, THREADS, 1, 0, gram, inverse, firstCoefficients, newDots, residualVector,
        m, slot, invDamping, (double) m, driftMax);
  }

  /** Queues the asynchronous read-back of the drift maximum, checked by the next {@link #checkDrift()}. */
  void queueDriftReadBack() {
    driftMax.copyToAsync(driftHost, 0, 8, 0, stream);
    context.makeCurrent();
    check("cuEventRecord", JCudaDriver.cuEventRecord(driftEvent, stream.handle()));
    driftPending = true;
  }

  /** Checks the last drift read-back once it has arrived; rebuilds B when it is too large. */
  void checkDrift() {
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

  /** B = A⁻¹ exactly (host LAPACK) from the current K and resets the drift maximum; waits for queued work. */
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

  /** Returns the device buffers to the pool, frees the pinned memory and destroys the event (no waiting). */
  @Override
  public void close() {
    for (DeviceBuffer b : owned) {
      b.close();
    }
    owned.clear();
    driftHost.close();
    context.makeCurrent();
    check("cuEventDestroy", JCudaDriver.cuEventDestroy(driftEvent));
  }

  /** Throws {@link CudaException} unless {@code result} is CUDA_SUCCESS. */
  static void check(String call, int result) {
    if (result != CUresult.CUDA_SUCCESS) {
      throw new CudaException(call + ": " + CUresult.stringFor(result));
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

  private void uploadScaledIdentity() {
    double[] identity = new double[m * m];
    for (int i = 0; i < m; i++) {
      identity[i * m + i] = 1.0 / m;
    }
    inverse.copyFrom(identity, 0, m * m, 0);
  }

  private DeviceBuffer allocate(long bytes) {
    DeviceBuffer b = context.allocate(bytes);
    owned.add(b);
    return b;
  }
}
