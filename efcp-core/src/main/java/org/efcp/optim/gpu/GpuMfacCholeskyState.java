package org.efcp.optim.gpu;

import org.efcp.cuda.DeviceBuffer;
import org.efcp.cuda.GpuContext;
import org.efcp.cuda.GpuEvent;
import org.efcp.cuda.GpuStream;
import org.efcp.cuda.Kernel;
import org.efcp.cuda.KernelModule;
import org.efcp.optim.MfacCholeskyState;

/**
 * The device-resident m×m state of dense M-FAC in the CPU's well-conditioned form ({@link MfacCholeskyState},
 * algorithms doc §2.4): K (m×m row-major by slot) and the upper Cholesky factor R of A = K/λ + m I (RᵀR = A) in
 * chronological order with a rotating head (the oldest slot, the ring's current slot at the start of a step), stored
 * by slot like the CPU's. One kernel per step ({@code mchol_step_C} of {@code mfac_cholesky.cu}, or its wavefront
 * variant {@code mchol_wave_C}: see {@link MfacCholeskyKernel}; one block of {@value #STEP_THREADS} threads) replaces
 * the oldest vector: the drift check of its column of RᵀR against A, the Givens rank-1 update of the trailing factor
 * fused with the forward substitution of the new last column, row/column {@code slot} of K, and the coefficients
 * M = (1/λ)² A⁻¹ w of the vector just inserted by a back substitution. The drift (the scaled residual
 * max_q |(RᵀR − A)_qj| / sqrt(A_qq A_jj) of the checked column, or the relative Schur-complement shortfall of an
 * append) is read back as {@link GpuMfacStateBase} describes; above {@link MfacCholeskyState#driftTolerance(int)}
 * (or NaN) R is rebuilt on the host from K with LAPACK {@code dpotrf} ({@link MfacCholeskyState#factorFromScratch})
 * before the next step. Every m×m quantity is float64.
 *
 * <p>The owning pipeline writes {@link #newDots()} (w, 0 for unfilled slots) for the ring's current slot before
 * {@link #update()} and reads {@link #coefficients()} after it; or, for {@link DenseMfacCombine#OVERLAPPED}, calls
 * {@link #updateAndCombine} instead, the same step with the dense window's combination in its launch
 * ({@code mchol_overlap_step_C} / {@code mchol_overlap_wave_C}). Not thread-safe.
 */
final class GpuMfacCholeskyState extends GpuMfacStateBase {
  /**
   * Threads of the step kernel's one block (MCHOL_THREADS in mfac_cholesky.cu), not {@link KernelGrid#THREADS}: the
   * step is a single block, and 512 threads owning half the columns each take it faster than 256 (0.68 vs 1.10 ms on
   * an H200).
   */
  static final int STEP_THREADS = 512;
  /** The largest m, 4096: {@value #STEP_THREADS} threads × 8 register-resident columns each (mchol_step_8). */
  static final int MAX_WINDOW = 8 * STEP_THREADS;

  private final double damping;
  private final double invDamping;
  private final Kernel step;
  /** The step with the dense window's combination in the same launch ({@link DenseMfacCombine#OVERLAPPED}), or null. */
  private final Kernel overlapStep;

  /** K, m×m row-major by slot. */
  private final DeviceBuffer gram;
  /** R, m×m row-major by slot (logical order from the head, zero below the logical diagonal). */
  private final DeviceBuffer factor;
  /** w = (⟨x_j, x⟩)_j. */
  private final DeviceBuffer newDots;
  /** M = (1/λ)² A⁻¹ w, slot order. */
  private final DeviceBuffer coefficients;
  /** The overlapped step's block counters (ticket, rows of M published, blocks done), 0 between launches; or null. */
  private final DeviceBuffer overlapSync;

  /** Host copy of K, then of R, for a refresh; allocated on the first one. */
  private double[] host;

  /**
   * The empty state (K = 0, R = sqrt(m) I, no step taken): allocates and zeroes its buffers on {@code stream}, then
   * waits for the stream (so for any work the caller queued before, too) and uploads R.
   *
   * @param context the device, with the {@code mfac_cholesky} module
   * @param stream the owning pipeline's stream
   * @param m the window size, 1 ≤ m ≤ {@value #MAX_WINDOW} (checked by the caller)
   * @param damping λ, finite and &gt; 0 (checked by the caller)
   * @param kernel the step kernel, non-null (checked by the caller; the same results either way,
   *     {@link MfacCholeskyKernel#ROWS} is the pipelines' default)
   * @param combine {@link DenseMfacCombine#OVERLAPPED} to load the step with the dense window's combination too
   *     ({@link #updateAndCombine}), non-null
   */
  GpuMfacCholeskyState(GpuContext context, GpuStream stream, int m, double damping, MfacCholeskyKernel kernel,
      DenseMfacCombine combine) {
    super(context, stream, m, MfacCholeskyState.driftTolerance(m));
    this.damping = damping;
    this.invDamping = 1.0 / damping;
    try {
      KernelModule module = context.module("mfac_cholesky");
      // Literal names in two assignments: KernelLaunchArityTest matches the launch against both kernel families.
      if (kernel == MfacCholeskyKernel.WAVEFRONT) {
        this.step = module.kernel("mchol_wave_" + columnsPerThread(m));
      } else {
        this.step = module.kernel("mchol_step_" + columnsPerThread(m));
      }
      if (combine == DenseMfacCombine.SEPARATE) {
        this.overlapStep = null;
      } else if (kernel == MfacCholeskyKernel.WAVEFRONT) {
        this.overlapStep = module.kernel("mchol_overlap_wave_" + columnsPerThread(m));
      } else {
        this.overlapStep = module.kernel("mchol_overlap_step_" + columnsPerThread(m));
      }
      long mm = (long) m * m;
      this.gram = allocate(8L * mm);
      this.factor = allocate(8L * mm);
      this.newDots = allocate(8L * m);
      this.coefficients = allocate(8L * m);
      this.overlapSync = overlapStep == null ? null : allocate(12L);
      zeroAndWait();
      double[] root = new double[m * m];
      for (int i = 0; i < m; i++) {
        root[i * m + i] = Math.sqrt(m);
      }
      factor.copyFrom(root, 0, m * m, 0);
    } catch (RuntimeException | Error e) {
      abandon(e);
      throw e;
    }
  }

  /**
   * The columns of R each of the step kernel's {@value #STEP_THREADS} threads owns: the smallest power of two C with
   * {@value #STEP_THREADS}·C ≥ m, so 1, 2, 4 or 8 for 1 ≤ m ≤ {@value #MAX_WINDOW} (the kernel mchol_step_C or
   * mchol_wave_C).
   */
  static int columnsPerThread(int m) {
    int c = 1;
    while (STEP_THREADS * c < m) {
      c *= 2;
    }
    return c;
  }

  @Override
  DeviceBuffer gram() {
    return gram;
  }

  /** w = (⟨x_j, x⟩)_j, m doubles, written by the pipeline before {@link #update()} (0 for unfilled slots). */
  DeviceBuffer newDots() {
    return newDots;
  }

  /** M = (1/λ)² A⁻¹ w (slot order, m doubles), written by {@link #update()}: u = x/λ − Σ_j M_j x_j. */
  DeviceBuffer coefficients() {
    return coefficients;
  }

  /** Queues the step for the ring's current slot: drift check, factor update, K, M (one block). */
  void update() {
    step.launch(stream, 1, 1, STEP_THREADS, 1, 0, factor, gram, newDots, m, ring.slot(), damping, invDamping,
        (double) m, driftTolerance(), driftMax(), coefficients);
  }

  /**
   * Queues the step as {@link #update()} does, and in the same launch u = x_old/λ − Σ_{j < filled} M_j x_j over the
   * dense window (x_old the row the step inserted), as {@code GpuDenseWindow}'s separate pass would give it to
   * rounding: the window's blocks read it while the step's block is still solving for M ({@link DenseMfacCombine}).
   * Only with {@link DenseMfacCombine#OVERLAPPED}.
   *
   * @param window the window, m rows of {@code ld4} float4s (row j = slot j)
   * @param ld4 the row stride in float4s (d rounded up to a multiple of 4, divided by 4)
   * @param d the gradient length
   * @param filled the slots filled, 1 ≤ filled ≤ m
   * @param u receives u in its first d doubles
   */
  void updateAndCombine(DeviceBuffer window, int ld4, int d, int filled, DeviceBuffer u) {
    int blocks = 1 + overlapConsumers(context.multiprocessorCount(), ld4);
    overlapStep.launch(stream, blocks, 1, STEP_THREADS, 1, 0, factor, gram, newDots, m, ring.slot(), damping,
        invDamping, (double) m, driftTolerance(), driftMax(), coefficients, window, ld4, d, filled, u, overlapSync);
  }

  /**
   * The overlapped step's consumer blocks for rows of {@code ld4} float4s on a device with {@code multiprocessors}:
   * one per multiprocessor but the step's own (a block of {@value #STEP_THREADS} threads fills one), and no more than
   * there are {@value #STEP_THREADS}-column tiles; at least one.
   */
  static int overlapConsumers(int multiprocessors, int ld4) {
    return Math.max(1, Math.min(multiprocessors - 1, (ld4 + STEP_THREADS - 1) / STEP_THREADS));
  }

  /**
   * For {@code GpuStepBench}'s timing of the step kernel alone: queues one step that re-inserts the oldest vector as
   * the newest (w = its row of K, copied on the stream; the window does not change, so the state stays exact) with
   * {@code start} and {@code end} recorded around the kernel launch only, queues the drift read-back and advances the
   * ring (the next step overwrites the next oldest vector, as it would have). The caller runs {@link #checkDrift()}
   * before, as a step does.
   */
  void queueReinsertOldest(GpuEvent start, GpuEvent end) {
    newDots.copyFromAsync(gram, 8L * ring.slot() * m, 8L * m, 0, stream);
    start.record(stream);
    update();
    end.record(stream);
    queueDriftReadBack();
    ring.advance();
  }

  /** R from scratch (host LAPACK) from the current K, for the current head. */
  @Override
  void rebuildOnHost() {
    if (host == null) {
      host = new double[m * m];
    }
    gram.copyTo(host, 0, m * m, 0);
    MfacCholeskyState.factorFromScratch(host, m, ring.slot(), damping, host);
    factor.copyFrom(host, 0, m * m, 0);
  }
}
