package org.efcp.optim.gpu;

import static org.efcp.optim.gpu.KernelGrid.THREADS;

import org.efcp.cuda.DeviceBuffer;
import org.efcp.cuda.GpuContext;
import org.efcp.cuda.GpuStream;
import org.efcp.cuda.Kernel;
import org.efcp.cuda.KernelModule;

/**
 * The device-resident m×m state of sparse M-FAC as an explicit inverse: K (m×m row-major by slot), B ≈ A⁻¹
 * (A = K/λ + m I), the rank-2 update of B and the coefficients' first pass with its residual (kernels
 * {@code mfac_insert_p}, {@code mfac_insert_update}, {@code mfac_residual} of {@code sparse_mfac.cu}), and the drift
 * of a rotating column of B, max_i |(A B e_j − e_j)_i| (read back as {@link GpuMfacStateBase} describes); when it
 * exceeds {@link #DRIFT_TOLERANCE} (or is NaN) B is rebuilt exactly on the host ({@link MfacInverse}) before the
 * next step. Every m×m quantity is float64. (Dense M-FAC, whose A is far worse conditioned, keeps a Cholesky factor
 * instead: {@link GpuMfacCholeskyState}.)
 *
 * <p>The owning pipeline fills {@link #gram()}, {@link #newDots()} and {@link #newColumn()} for the current
 * the ring's current slot before {@link #update()}, and reads {@link #inverse()}, {@link #firstCoefficients()} and
 * {@link #residualVector()} after it. Everything is queued on the pipeline's stream. Not thread-safe.
 */
final class GpuMfacState extends GpuMfacStateBase {
  /** The drift max_i |(A B e_j − e_j)_i| above which B is rebuilt exactly on the host. */
  static final double DRIFT_TOLERANCE = 1e-6;
  /** The largest window: m² doubles addressed by int (Java arrays hold at most Integer.MAX_VALUE − 8). */
  static final int MAX_WINDOW = 46_340;

  /** Rows of an m×m matrix per block of the warp-per-row kernels (MFAC_ROWS_PER_BLOCK in sparse_mfac.cu). */
  private static final int ROWS_PER_BLOCK = 8;

  private final double invDamping;
  private final int rowBlocks;

  private final Kernel insertP;
  private final Kernel insertUpdate;
  private final Kernel residual;

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

  /** Host copies for a refresh, allocated on the first one. */
  private double[] hostGram;
  private double[] hostInverse;

  /**
   * The empty state (K = 0, B = I/m, no step taken): allocates and zeroes its buffers on {@code stream}, then waits
   * for the stream (so for any work the caller queued before, too) and uploads B.
   *
   * @param context the device, with the {@code sparse_mfac} module
   * @param stream the owning pipeline's stream
   * @param m the window size, 1 ≤ m ≤ {@value #MAX_WINDOW} (checked by the caller)
   * @param invDamping 1/λ
   */
  GpuMfacState(GpuContext context, GpuStream stream, int m, double invDamping) {
    super(context, stream, m, DRIFT_TOLERANCE);
    this.invDamping = invDamping;
    this.rowBlocks = (m + ROWS_PER_BLOCK - 1) / ROWS_PER_BLOCK;
    try {
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
      zeroAndWait();
      uploadScaledIdentity();
    } catch (RuntimeException | Error e) {
      abandon(e);
      throw e;
    }
  }

  @Override
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

  /** Queues the rank-2 update of B for the ring's current slot, M0 = B' w and its residual (with the drift maximum). */
  void update() {
    int slot = ring.slot();
    insertP.launch(stream, rowBlocks, 1, THREADS, 1, 0, inverse, newColumn, oldInverseColumn, product, bordered,
        ticket, scalars, m, slot);
    insertUpdate.launch(stream, rowBlocks, 1, THREADS, 1, 0, inverse, oldInverseColumn, bordered, scalars, newDots,
        firstCoefficients, m, slot);
    residual.launch(stream, rowBlocks, 1, THREADS, 1, 0, gram, inverse, firstCoefficients, newDots, residualVector,
        m, slot, invDamping, (double) m, driftMax());
  }

  /** B = A⁻¹ exactly (host LAPACK) from the current K. */
  @Override
  void rebuildOnHost() {
    if (hostGram == null) {
      hostGram = new double[m * m];
      hostInverse = new double[m * m];
    }
    gram.copyTo(hostGram, 0, m * m, 0);
    MfacInverse.invert(hostGram, m, invDamping, hostInverse);
    inverse.copyFrom(hostInverse, 0, m * m, 0);
  }

  private void uploadScaledIdentity() {
    double[] identity = new double[m * m];
    for (int i = 0; i < m; i++) {
      identity[i * m + i] = 1.0 / m;
    }
    inverse.copyFrom(identity, 0, m * m, 0);
  }
}
