package org.efcp.optim.gpu;

import static org.efcp.optim.gpu.KernelGrid.THREADS;
import static org.efcp.optim.gpu.KernelGrid.blocks;

import org.efcp.cuda.DeviceBuffer;
import org.efcp.cuda.GpuContext;
import org.efcp.cuda.Kernel;
import org.efcp.optim.Method;
import org.efcp.optim.PipelineState;
import org.efcp.optim.SparseVector;

/**
 * Diagonal AdaGrad with error feedback on one GPU (error feedback ∘ Top-k, then S += c², u = c / (sqrt(S) + ε) on
 * the selection's support, 0 elsewhere): the same contract as the CPU {@code DirectionPipeline} for
 * {@code Method.ADAGRAD_EF} (paper Algorithm 5, algorithms doc §1.3). Per step, on this pipeline's stream: the exact
 * Top-k of a = ξ + g ({@link GpuErrorFeedbackTopK}, one window slot), then kernel {@code adagrad_ef_step}
 * ({@code adagrad.cu}). The selection, ξ, S and u are bitwise the CPU's. State: ξ and S, d doubles each. Not
 * thread-safe; not serialisable. Requires the {@code topk} and {@code adagrad} fatbins.
 */
public final class GpuAdagradEfPipeline extends GpuPipelineBase {

  private final double epsilon;
  private final Kernel step;
  private final GpuErrorFeedbackTopK topK;
  /** The running sum of squares S. */
  private final DeviceBuffer sumSquares;
  private long steps;

  /**
   * A fresh pipeline (ξ = 0, S = 0) on its own stream of {@code context}.
   *
   * @param d the gradient length, ≥ 1
   * @param k the entries Top-k keeps, 1 ≤ k ≤ d
   * @param epsilon added to sqrt(S), ≥ 0 and finite (the project's default 1e-10)
   * @throws IllegalArgumentException on a bad argument (message starts with its name; checked before the device is
   *     touched)
   */
  public GpuAdagradEfPipeline(GpuContext context, int d, int k, double epsilon) {
    super(checkArguments(context, d, k, epsilon), d);
    this.epsilon = epsilon;
    try {
      this.step = context.module("adagrad").kernel("adagrad_ef_step");
      openStream();
      this.topK = new GpuErrorFeedbackTopK(context, d, 1, k, this::allocate);
      this.sumSquares = allocate(8L * d);
      zeroBuffers();
      stream.synchronize();
    } catch (RuntimeException | Error e) {
      abandon(e);
      throw e;
    }
  }

  private static GpuContext checkArguments(GpuContext context, int d, int k, double epsilon) {
    GpuErrorFeedbackTopK.checkShape(d, k);
    if (!(epsilon >= 0) || Double.isInfinite(epsilon)) {
      throw new IllegalArgumentException("adagradEpsilon: must be >= 0 and finite, got " + epsilon);
    }
    return context;
  }

  @Override
  void queueDirection(DeviceBuffer g, DeviceBuffer u) {
    int k = topK.k();
    topK.select(stream, g, 0);
    u.zero(stream);
    step.launch(stream, blocks(k), 1, THREADS, 1, 0, topK.windowIndices(),
        topK.windowValues(), k, epsilon, sumSquares, u, topK.supportBits(), topK.supportValues());
    steps++;
  }

  @Override
  public long stepCount() {
    return steps;
  }

  /** ξ and S; waits for queued work. */
  @Override
  public PipelineState exportState() {
    checkOpen();
    return new PipelineState(Method.ADAGRAD_EF, steps, topK.error(), null, null, sumSquares(), null);
  }

  /** Checks {@code imported} whole, then uploads ξ and S. */
  @Override
  public void importState(PipelineState imported) {
    checkImport(imported, Method.ADAGRAD_EF);
    double[] xi = statePart(imported.error(), "error", d);
    double[] s = statePart(imported.sumSquares(), "sumSquares", d);
    for (int i = 0; i < d; i++) {
      if (s[i] < 0) {
        throw new IllegalArgumentException("state: sumSquares entry " + i + " is " + s[i]);
      }
    }
    topK.upload(xi, new SparseVector[0]);
    sumSquares.copyFrom(s, 0, d, 0);
    steps = imported.steps();
  }

  /** The error buffer ξ after the last step (downloads it; waits for the step). */
  public double[] errorBuffer() {
    checkOpen();
    return topK.error();
  }

  /** The sum of squares S after the last step (downloads it; waits for the step). */
  public double[] sumSquares() {
    checkOpen();
    double[] out = new double[d];
    sumSquares.copyTo(out, 0, d, 0);
    return out;
  }
}
