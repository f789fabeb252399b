package org.efcp.optim.gpu;

import static org.efcp.optim.gpu.KernelGrid.THREADS;

import org.efcp.cuda.DeviceBuffer;
import org.efcp.cuda.GpuContext;
import org.efcp.cuda.Kernel;

/**
 * The GGT direction step (algorithms doc §4, §13 "GGT ridge"; the CPU {@code GgtPreconditioner}) resident on one
 * GPU, over a dense window ({@link GpuDenseGgtPipeline}, {@code Method.DENSE_GGT}) or a sparse Top-k window with
 * error feedback ({@link GpuSparseGgtPipeline}, {@code Method.SPARSE_GGT}): the same contract per step as the CPU
 * {@code DirectionPipeline} of that method. Per step, on this pipeline's stream:
 * <ol>
 *   <li>the subclass compresses g into x, writes it into window slot {@code t mod m} and computes
 *   w = Gᵀ x (the dots of x with every slot), the new row and column of the Gram matrix K;</li>
 *   <li>the eigen step in one block (kernel {@code ggt_coefficients}, {@code ggt.cu}): the leading n×n block of
 *   K + ridge·I (n = filled slots) is diagonalised by a parallel cyclic Jacobi method, V diag(λ) Vᵀ, and with
 *   s_i = sqrt(λ_i), h_i = −1/(ε s_i (s_i + ε)): β = V diag(h) Vᵀ w;</li>
 *   <li>u = x/ε + Σ_j β_j x_j = x/ε − Σ_j M_j x_j with M = −β (the M-FAC combination's convention, so the dense
 *   window reuses its kernel), a pass over the window (the subclass).</li>
 * </ol>
 * Ridge convention (doc §13): with {@code ridge > 0} every eigenpair with λ &gt; 0 is kept; with {@code ridge = 0}
 * (the paper's exact formula) eigenpairs with λ ≤ 1e-12·λ_max are dropped, as on the CPU. Empty slots (warm-up) are
 * zero vectors outside the decomposed block.
 *
 * <p>All m×m quantities, every dot product and the combination are float64; the window holds float32. The Jacobi
 * step stops when the off-diagonal Frobenius norm is ≤ 1e-15 times the diagonal's, or after {@value #MAX_SWEEPS}
 * sweeps (about 10 are needed at m = 128). u agrees with the CPU pipeline (LAPACK dsyevd) to rounding amplified by
 * the conditioning of the eigenproblem.
 *
 * <p>A subclass constructor validates its arguments (with {@link #checkCommon}) and follows
 * {@link GpuPipelineBase}'s protocol, calling {@link #startState()} last. Not {@code Serializable} (the state is in device memory); not
 * thread-safe. Requires the {@code ggt} fatbin (sm_80/sm_90, CUDA 13 driver).
 */
public abstract class GpuGgtPipeline extends GpuWindowedPipeline {
  /** The largest window the one-block Jacobi eigen step handles (GGT_MAX_M in ggt.cu). */
  public static final int MAX_WINDOW = 128;
  /** The most Jacobi sweeps per step (GGT_MAX_SWEEPS in ggt.cu). */
  public static final int MAX_SWEEPS = 20;


  final double epsilon;
  final double ridge;
  /** K, m×m row-major by slot; set by {@link #startState()}, like the buffers below. */
  DeviceBuffer gram;
  /** w = (⟨x_j, x⟩)_j, the new row of K. */
  DeviceBuffer dots;
  /** M = −β: u = x/ε − Σ_j M_j x_j. */
  DeviceBuffer coefficients;

  private Kernel eigenStep;
  private DeviceBuffer eigenMatrix;
  private DeviceBuffer eigenVectors;
  private DeviceBuffer sweeps;
  private final RingPosition ring;

  /** Stores validated arguments; touches no device. */
  GpuGgtPipeline(GpuContext context, int d, int m, double epsilon, double ridge) {
    super(context, d, m);
    this.ring = new RingPosition(m);
    this.epsilon = epsilon;
    this.ridge = ridge;
  }

  /** The checks both window kinds share (m, epsilon, ridge); throws IllegalArgumentException naming the parameter. */
  static void checkCommon(int m, double epsilon, double ridge) {
    if (m < 1) {
      throw new IllegalArgumentException("m: must be >= 1, got " + m);
    }
    if (m > MAX_WINDOW) {
      throw new IllegalArgumentException("m: the GPU GGT supports m ≤ " + MAX_WINDOW
          + " (its eigen step is one block of 256 threads), got " + m);
    }
    if (!(epsilon > 0) || !Double.isFinite(epsilon)) {
      throw new IllegalArgumentException("epsilon: must be > 0 and finite, got " + epsilon);
    }
    if (!(ridge >= 0) || !Double.isFinite(ridge)) {
      throw new IllegalArgumentException("ridge: must be >= 0 and finite, got " + ridge);
    }
  }

  /** The GGT dampening ε. */
  public double epsilon() {
    return epsilon;
  }

  /** The ridge added to K's diagonal before the eigendecomposition. */
  public double ridge() {
    return ridge;
  }

  /** The whole step on {@link #stream()}, without waiting. */
  @Override
  final void queueDirection(DeviceBuffer g, DeviceBuffer u) {
    int slot = ring.slot();
    int filled = ring.filled();
    insertAndDot(g, slot, filled);
    queueEigenStep(slot, filled);
    combine(u, slot, filled);
    ring.advance();
  }

  /**
   * Compresses g into x, writes it into window slot {@code slot} and queues the dots: row and column {@code slot}
   * of {@link #gram} and {@link #dots} (entries of slots ≥ filled stay 0).
   */
  abstract void insertAndDot(DeviceBuffer g, int slot, int filled);

  /** Queues u = x_slot/ε − Σ_{j < filled} coefficients_j x_j into {@code u} (exactly d doubles). */
  abstract void combine(DeviceBuffer u, int slot, int filled);

  @Override
  final DeviceBuffer gram() {
    return gram;
  }

  @Override
  final RingPosition ring() {
    return ring;
  }

  /** Nothing: the eigen step derives everything else from K at the next step. */
  @Override
  final void rebuildFromGram() {
  }

  /** The Jacobi sweeps of the last step's eigen step (downloads it; waits for the step). */
  int lastSweeps() {
    lastSlot();  // throws when closed or before the first step
    int[] out = new int[1];
    sweeps.copyTo(out, 0, 1, 0);
    return out[0];
  }

  /** Queues the last step's eigen step once more (it only rewrites its own outputs): GpuStepBench times it. */
  void rerunEigenStep() {
    int slot = lastSlot();
    queueEigenStep(slot, ring.stored());
  }

  /** The slot the last step wrote; throws {@link IllegalStateException} before any step or after close. */
  int lastSlot() {
    checkOpen();
    return ring.lastSlot();
  }

  /** Loads the eigen step, allocates the m×m state, zeroes every buffer and waits for it (last constructor step). */
  void startState() {
    eigenStep = context.module("ggt").kernel("ggt_coefficients");
    int padded = m + (m & 1);
    gram = allocate(8L * m * m);
    dots = allocate(8L * m);
    coefficients = allocate(8L * m);
    eigenMatrix = allocate(8L * padded * padded);
    eigenVectors = allocate(8L * padded * padded);
    sweeps = allocate(4L);
    zeroBuffers();
    stream.synchronize();
  }


  private void queueEigenStep(int slot, int filled) {
    eigenStep.launch(stream, 1, 1, THREADS, 1, 0, gram, dots, m, filled, slot, ridge, epsilon, eigenMatrix,
        eigenVectors, coefficients, sweeps);
  }
}
