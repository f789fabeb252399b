package org.efcp.optim.gpu;

import static org.efcp.optim.gpu.KernelGrid.blocks;
import static org.efcp.optim.gpu.KernelGrid.THREADS;

import java.util.Objects;

import org.efcp.cuda.DeviceBuffer;
import org.efcp.cuda.GpuContext;
import org.efcp.cuda.Kernel;
import org.efcp.cuda.KernelModule;
import org.efcp.optim.CompressedVector;
import org.efcp.optim.LowRankCompressor;
import org.efcp.optim.LowRankVector;
import org.efcp.optim.Method;
import org.efcp.optim.PipelineState;
import org.efcp.optim.TensorLayout;

/**
 * The low-rank M-FAC direction step (per-tensor error feedback ∘ PowerSGD-style rank-ρ compression, then M-FAC over
 * a window of low-rank factors, learning rate 1) resident on one GPU: the same contract as the CPU
 * {@code DirectionPipeline} for {@code Method.LOWRANK_MFAC} (algorithms doc §5, §13). Per step, on this pipeline's
 * stream ({@code lowrank.cu}):
 * <ol>
 *   <li>per matrix tensor (p1 × p2', row-major): A = E + G in the error buffer, P = A Q (Q the warm start, initially
 *   §13's splitmix64 Q0 of {@link LowRankCompressor#initialQ}), modified Gram–Schmidt of P's columns with the +1e-8,
 *   Q = Aᵀ P (kept un-normalised as the next warm start), E = A − P Qᵀ; P and Q go to window slot {@code t mod m}.
 *   Per 1-D tensor the slot receives g itself (no compression, no error feedback);</li>
 *   <li>the dots δ_j = Σ_ℓ Σ_ab (P_jᵀP)_ab (Q_jᵀQ)_ab (plain dots for 1-D tensors) with every filled slot, then the
 *   dense pipeline's m×m step, unchanged: the chronological Cholesky factor of A = K/λ + m I updated in O(m²), the
 *   coefficients M = (1/λ)² A⁻¹ w and the drift check of one column ({@link GpuMfacCholeskyState},
 *   {@code dmfac_dots_finish}); low-rank windows are as badly conditioned as dense ones;</li>
 *   <li>u = c/λ − Σ_j M_j x_j: per matrix tensor one GEMM [P_0 … P_{m−1}] diag(coef ⊗ 1_ρ) [Q_0 … Q_{m−1}]ᵀ with
 *   coef_j = −M_j (+1/λ at the slot, where x_slot = c), per 1-D tensor a walk over the slots.</li>
 * </ol>
 * When the drift exceeds {@link #driftTolerance()} (or is NaN) the factor is rebuilt exactly on the host before the
 * next step. Empty slots are zero vectors and the scale is n = m from the first
 * step.
 *
 * <p>Everything is float64, as on the CPU: the error buffer, the factors in the window, every sum. Every sum has a
 * fixed order (no atomics), so u is deterministic; it agrees with the CPU pipeline to rounding.
 *
 * <p>Device memory: 8·m·(Σ_matrix ρ(p1 + p2') + Σ_1-D n) bytes of window, 8·d of error buffer, 16·m² of m×m state
 * (at the linear-probe layout 1000×768 + 1000 with m = 1024, ρ = 4: 58 MB + 8 MB of window). Not
 * {@code Serializable} (its state lives in device memory); not thread-safe. Requires the {@code lowrank},
 * {@code dense_mfac} and {@code mfac_cholesky} fatbins (sm_80/sm_90, CUDA 13 driver).
 */
public final class GpuLowRankMfacPipeline extends GpuMfacPipelineBase<GpuMfacCholeskyState>
    implements DeviceWindowState {
  /** The largest rank the kernels support (LR_MAX_RANK in lowrank.cu); the paper uses 1 to 8. */
  public static final int MAX_RANK = 8;

  /** Rows per block of lr_power_p, one warp each (LR_ROWS_PER_BLOCK in lowrank.cu). */
  private static final int ROWS_PER_BLOCK = 8;
  /** Rows of A per block of lr_power_q (LR_QROWS). */
  private static final int Q_ROWS = 64;
  /** Output tile side of lr_combine_matrix (LR_TILE). */
  private static final int TILE = 64;
  /** The most rows a matrix tensor may have: the 2-D grids of lr_power_q and lr_combine_matrix. */
  private static final int MAX_ROWS = 65_535 * 64;

  private final TensorLayout layout;
  private final int rank;
  private final int tensors;
  private final MfacCholeskyKernel mxmKernel;

  private final Kernel powerP;
  private final Kernel orthonormalise;
  private final Kernel powerQ;
  private final Kernel powerQFinish;
  private final Kernel residual;
  private final Kernel dotsMatrix;
  private final Kernel dotsVector;
  private final Kernel combineMatrix;
  private final Kernel combineVector;
  private final Kernel dotsFinish;

  /** ξ (and A during a step), d doubles; stays 0 on the 1-D tensors. */
  private final DeviceBuffer error;
  /** Per matrix tensor: its segment of {@link #error}; null for 1-D tensors. */
  private final DeviceBuffer[] errorViews;
  /** Per matrix tensor: the warm-start Q (cols × ρ); null for 1-D tensors. */
  private final DeviceBuffer[] warmQ;
  /** Per matrix tensor: m slots of P (rows × ρ each); null for 1-D tensors. */
  private final DeviceBuffer[] windowP;
  /** Per matrix tensor: m slots of Q (cols × ρ each); null for 1-D tensors. */
  private final DeviceBuffer[] windowQ;
  /** Per 1-D tensor: m slots of its raw values; null for matrix tensors. */
  private final DeviceBuffer[] windowRaw;
  /** lr_power_q's per-row-chunk partial sums, sized for the largest matrix tensor. */
  private final DeviceBuffer qPartials;
  /** Per (slot, tensor) dot products, m × tensors. */
  private final DeviceBuffer dotPartials;

  /**
   * An empty pipeline (ξ = 0, warm starts Q0, every slot a zero vector, K = 0, R = sqrt(m) I) on its own stream.
   *
   * @param context the device
   * @param layout the tensors of the flat vector (matrix tensors are compressed, 1-D ones are not)
   * @param m the window size (slots), 1 ≤ m ≤ 4096 (the Cholesky step's limit)
   * @param rank the rank ρ of every compressed tensor, 1 ≤ ρ ≤ {@value #MAX_RANK}
   * @param seed the seed of §13's initial Q0
   * @param damping the paper's λ added to the Fisher, finite and &gt; 0
   * @throws IllegalArgumentException on a bad argument (message starts with its name; checked before the device is
   *     touched)
   */
  public GpuLowRankMfacPipeline(GpuContext context, TensorLayout layout, int m, int rank, long seed, double damping) {
    this(context, layout, m, rank, seed, damping, MfacCholeskyKernel.ROWS);
  }

  /**
   * As {@link #GpuLowRankMfacPipeline(GpuContext, TensorLayout, int, int, long, double)}, with the m×m step taken by
   * {@code mxmKernel} (the same results; for the A/B measurement of {@link MfacCholeskyKernel}).
   *
   * @throws NullPointerException if {@code mxmKernel} is null (after the other arguments' checks, before the device
   *     is touched)
   */
  GpuLowRankMfacPipeline(GpuContext context, TensorLayout layout, int m, int rank, long seed, double damping,
      MfacCholeskyKernel mxmKernel) {
    super(checkArguments(context, layout, m, rank, damping, mxmKernel), layout.dimension(), m, damping);
    this.mxmKernel = mxmKernel;
    this.layout = layout;
    this.rank = rank;
    this.tensors = layout.numTensors();
    try {
      KernelModule lowrank = context.module("lowrank");
      KernelModule dense = context.module("dense_mfac");
      this.powerP = lowrank.kernel("lr_power_p");
      this.orthonormalise = lowrank.kernel("lr_orthonormalise");
      this.powerQ = lowrank.kernel("lr_power_q");
      this.powerQFinish = lowrank.kernel("lr_power_q_finish");
      this.residual = lowrank.kernel("lr_residual");
      this.dotsMatrix = lowrank.kernel("lr_dots_matrix");
      this.dotsVector = lowrank.kernel("lr_dots_vector");
      this.combineMatrix = lowrank.kernel("lr_combine_matrix");
      this.combineVector = lowrank.kernel("lr_combine_vector");
      this.dotsFinish = dense.kernel("dmfac_dots_finish");

      openStream();
      this.error = allocate(8L * d);
      this.errorViews = new DeviceBuffer[tensors];
      this.warmQ = new DeviceBuffer[tensors];
      this.windowP = new DeviceBuffer[tensors];
      this.windowQ = new DeviceBuffer[tensors];
      this.windowRaw = new DeviceBuffer[tensors];
      long partials = 1;
      for (int l = 0; l < tensors; l++) {
        if (layout.isMatrix(l)) {
          int rows = layout.rows(l);
          int cols = layout.cols(l);
          errorViews[l] = error.view(8L * layout.offset(l), 8L * layout.size(l));
          warmQ[l] = allocate(8L * cols * rank);
          windowP[l] = allocate(8L * m * rows * rank);
          windowQ[l] = allocate(8L * m * cols * rank);
          partials = Math.max(partials, (long) rowChunks(rows) * cols * rank);
        } else {
          windowRaw[l] = allocate(8L * m * layout.size(l));
        }
      }
      this.qPartials = allocate(8L * partials);
      this.dotPartials = allocate(8L * m * tensors);
      startState();
      uploadInitialQ(seed);
    } catch (RuntimeException | Error e) {
      abandon(e);
      throw e;
    }
  }

  /** Validates the arguments before the base constructor runs; returns {@code context}. */
  private static GpuContext checkArguments(GpuContext context, TensorLayout layout, int m, int rank,
      double damping, MfacCholeskyKernel mxmKernel) {
    Objects.requireNonNull(layout, "layout");
    checkWindow(m, GpuMfacCholeskyState.MAX_WINDOW);
    if (rank < 1 || rank > MAX_RANK) {
      throw new IllegalArgumentException("rank: must be in [1, " + MAX_RANK + "] on the GPU, got " + rank);
    }
    checkDamping(damping);
    for (int l = 0; l < layout.numTensors(); l++) {
      if (layout.isMatrix(l)
          && (layout.rows(l) > MAX_ROWS || (long) layout.cols(l) * rank * rowChunks(layout.rows(l)) > Integer.MAX_VALUE)) {
        throw new IllegalArgumentException("layout: tensor " + l + " (" + layout.rows(l) + " × " + layout.cols(l)
            + ") exceeds the kernels' grids at rank " + rank);
      }
    }
    Objects.requireNonNull(mxmKernel, "mxmKernel");
    return context;
  }

  private static int rowChunks(int rows) {
    return (rows + Q_ROWS - 1) / Q_ROWS;
  }

  /** The tensor layout of the flat vectors. */
  public TensorLayout layout() {
    return layout;
  }

  /** ρ, the rank of every compressed tensor. */
  public int rank() {
    return rank;
  }

  @Override
  GpuMfacCholeskyState newState() {
    return new GpuMfacCholeskyState(context, stream, m, damping, mxmKernel, DenseMfacCombine.SEPARATE);
  }

  @Override
  void queueStep(DeviceBuffer g, DeviceBuffer u, int slot, int filled) {
    for (int l = 0; l < tensors; l++) {
      DeviceBuffer gl = segment(g, l);
      if (!layout.isMatrix(l)) {
        int n = layout.size(l);
        // A 1-D tensor's slot holds its gradient values as they are (no compression, no error feedback).
        slotOf(windowRaw[l], n, slot).copyFromAsync(gl, 0, 8L * n, 0, stream);
        continue;
      }
      int rows = layout.rows(l);
      int cols = layout.cols(l);
      DeviceBuffer p = slotOf(windowP[l], rows * rank, slot);
      DeviceBuffer q = slotOf(windowQ[l], cols * rank, slot);
      DeviceBuffer e = errorViews[l];
      int chunks = rowChunks(rows);
      powerP.launch(stream, (rows + ROWS_PER_BLOCK - 1) / ROWS_PER_BLOCK, 1, THREADS, 1, 0, e, gl, rows, cols, rank,
          warmQ[l], p);
      orthonormalise.launch(stream, 1, 1, THREADS, 1, 0, p, rows, rank);
      powerQ.launch(stream, blocks(cols), chunks, THREADS, 1, 0, e, p, rows, cols, rank, qPartials);
      powerQFinish.launch(stream, blocks((long) cols * rank), 1, THREADS, 1, 0, qPartials, chunks, cols * rank,
          warmQ[l], q);
      residual.launch(stream, blocks((long) rows * cols), 1, THREADS, 1, 0, e, p, q, rows, cols, rank);
    }

    for (int l = 0; l < tensors; l++) {
      if (layout.isMatrix(l)) {
        dotsMatrix.launch(stream, filled, 1, THREADS, 1, 0, windowP[l], windowQ[l], layout.rows(l), layout.cols(l),
            rank, slot, tensors, l, dotPartials);
      } else {
        dotsVector.launch(stream, filled, 1, THREADS, 1, 0, windowRaw[l], layout.size(l), slot, tensors, l,
            dotPartials);
      }
    }
    GpuDenseWindow.queueDotsFinish(dotsFinish, stream, dotPartials, tensors, state.newDots(), filled);
    state.update();
    state.queueDriftReadBack();

    for (int l = 0; l < tensors; l++) {
      DeviceBuffer ul = segment(u, l);
      if (layout.isMatrix(l)) {
        int rows = layout.rows(l);
        int cols = layout.cols(l);
        combineMatrix.launch(stream, (cols + TILE - 1) / TILE, (rows + TILE - 1) / TILE, THREADS, 1, 0, windowP[l],
            windowQ[l], rows, cols, rank, filled, state.coefficients(), slot, invDamping, ul);
      } else {
        int n = layout.size(l);
        combineVector.launch(stream, blocks(n), 1, THREADS, 1, 0, windowRaw[l], n, filled, state.coefficients(),
            slot, invDamping, ul);
      }
    }
  }

  @Override
  Method method() {
    return Method.LOWRANK_MFAC;
  }

  /** This pipeline: its factors, ξ and warm starts are inline. */
  @Override
  DeviceWindowState windowState() {
    return this;
  }

  @Override
  public CompressedVector stored(int slot) {
    double[][] p = new double[tensors][];
    double[][] q = new double[tensors][];
    double[][] raw = new double[tensors][];
    for (int l = 0; l < tensors; l++) {
      if (layout.isMatrix(l)) {
        p[l] = download(windowP[l], layout.rows(l) * rank, slot);
        q[l] = download(windowQ[l], layout.cols(l) * rank, slot);
      } else {
        raw[l] = download(windowRaw[l], layout.size(l), slot);
      }
    }
    return new LowRankVector(layout, rank, p, q, raw);
  }

  @Override
  public double[] exportError() {
    return download(error, d, 0);
  }

  @Override
  public double[][] exportWarmStart() {
    double[][] warmStart = new double[tensors][];
    for (int l = 0; l < tensors; l++) {
      if (layout.isMatrix(l)) {
        warmStart[l] = download(warmQ[l], layout.cols(l) * rank, 0);
      }
    }
    return warmStart;
  }

  @Override
  public void importWindow(PipelineState imported, CompressedVector[] slots) {
    double[] xi = statePart(imported.error(), "error", d);
    double[][] warmStart = imported.warmStarts(tensors);
    for (int l = 0; l < tensors; l++) {
      if (layout.isMatrix(l)) {
        statePart(warmStart[l], "warmStart of tensor " + l, (long) layout.cols(l) * rank);
      }
    }
    LowRankVector[] vectors = new LowRankVector[slots.length];
    for (int s = 0; s < slots.length; s++) {
      if (!(slots[s] instanceof LowRankVector v) || !v.layout().equals(layout) || v.rank() != rank) {
        throw new IllegalArgumentException("state: slot " + s + " must be a low-rank vector of layout " + layout
            + " and rank " + rank);
      }
      vectors[s] = v;
    }
    error.copyFrom(xi, 0, d, 0);
    for (int l = 0; l < tensors; l++) {
      if (layout.isMatrix(l)) {
        warmQ[l].copyFrom(warmStart[l], 0, layout.cols(l) * rank, 0);
      }
    }
    for (int s = 0; s < vectors.length; s++) {
      for (int l = 0; l < tensors; l++) {
        if (layout.isMatrix(l)) {
          upload(windowP[l], vectors[s].p(l), s);
          upload(windowQ[l], vectors[s].q(l), s);
        } else {
          upload(windowRaw[l], vectors[s].raw(l), s);
        }
      }
    }
  }

  /** Slot {@code slot} of a window buffer whose slots hold {@code n} doubles each, downloaded. */
  private static double[] download(DeviceBuffer window, int n, int slot) {
    double[] out = new double[n];
    window.copyTo(out, 0, n, 8L * slot * n);
    return out;
  }

  /** {@code values} into slot {@code slot} of a window buffer whose slots hold values.length doubles each. */
  private static void upload(DeviceBuffer window, double[] values, int slot) {
    window.copyFrom(values, 0, values.length, 8L * slot * values.length);
  }

  /** The error buffer ξ after the last step (downloads it; waits for the step); 0 on the 1-D tensors. */
  public double[] errorBuffer() {
    checkOpen();
    return download(error, d, 0);
  }

  /** P of matrix tensor {@code l} from the last step (rows × ρ, row-major, as {@code LowRankVector.p}); downloads it. */
  public double[] lastP(int l) {
    return lastFactor(windowP, l, layout.rows(l));
  }

  /** Q of matrix tensor {@code l} from the last step (cols × ρ, row-major, as {@code LowRankVector.q}); downloads it. */
  public double[] lastQ(int l) {
    return lastFactor(windowQ, l, layout.cols(l));
  }

  private double[] lastFactor(DeviceBuffer[] window, int l, int n) {
    checkOpen();
    if (l < 0 || l >= tensors || !layout.isMatrix(l)) {
      throw new IllegalArgumentException("l: " + l + " is not a matrix tensor of " + layout);
    }
    return download(window[l], n * rank, state.ring.lastSlot());
  }

  /** Uploads §13's Q0 of every matrix tensor into its warm start (after the buffers were zeroed). */
  private void uploadInitialQ(long seed) {
    for (int l = 0; l < tensors; l++) {
      if (layout.isMatrix(l)) {
        int cols = layout.cols(l);
        double[] q0 = new double[cols * rank];
        for (int i = 0; i < cols; i++) {
          for (int j = 0; j < rank; j++) {
            q0[i * rank + j] = LowRankCompressor.initialQ(seed, l, rank, i, j);
          }
        }
        warmQ[l].copyFrom(q0, 0, q0.length, 0);
      }
    }
  }

  /** Tensor {@code l}'s segment of a d-vector. */
  private DeviceBuffer segment(DeviceBuffer vector, int l) {
    return vector.view(8L * layout.offset(l), 8L * layout.size(l));
  }

  /** Slot {@code slot} of a window buffer whose slots hold {@code n} doubles each. */
  private static DeviceBuffer slotOf(DeviceBuffer window, int n, int slot) {
    return window.view(8L * slot * n, 8L * n);
  }

}
