package org.efcp.optim;

import static org.efcp.optim.PipelineState.present;

import java.io.Serializable;

/**
 * The stateful part of one optimizer step that turns a raw gradient g into an update direction u: error
 * feedback and compression, then preconditioning (paper Algorithm 1 without the learning rate):
 * <pre>
 *   a = ξ + g;  c = C(a);  ξ = a − c;  u = A(c)
 * </pre>
 * with the compressor C and preconditioner A chosen by {@link OptimizerConfig#method()}:
 * <table>
 *   <caption>Pipelines per method (k = {@link OptimizerConfig#topK()}, m = {@link OptimizerConfig#window()})</caption>
 *   <tr><th>method</th><th>compressor</th><th>preconditioner</th></tr>
 *   <tr><td>DENSE_MFAC</td><td>{@link Float32Compressor} (no error feedback)</td><td>M-FAC over a {@link DenseWindow}</td></tr>
 *   <tr><td>SPARSE_MFAC</td><td>error feedback ∘ {@link TopKCompressor}</td><td>M-FAC over a {@link SparseWindow}</td></tr>
 *   <tr><td>LOWRANK_MFAC</td><td>error feedback ∘ {@link LowRankCompressor}</td><td>M-FAC over a {@link LowRankWindow}</td></tr>
 *   <tr><td>DENSE_GGT</td><td>{@link Float32Compressor} (no error feedback)</td><td>GGT over a {@link DenseWindow}</td></tr>
 *   <tr><td>SPARSE_GGT</td><td>error feedback ∘ {@link TopKCompressor}</td><td>GGT over a {@link SparseWindow}</td></tr>
 *   <tr><td>ADAGRAD_EF</td><td>error feedback ∘ {@link TopKCompressor}</td><td>{@link DiagonalAdagradPreconditioner}</td></tr>
 *   <tr><td>SGD</td><td>none (c = g)</td><td>{@link IdentityPreconditioner}</td></tr>
 * </table>
 * Learning rate, momentum, weight decay and clipping are not applied here; {@link EfcpOptimizer} composes them.
 */
public final class DirectionPipeline implements Serializable {
  private static final long serialVersionUID = 1L;

  private final int d;
  /** Null for SGD, which passes g through uncompressed. */
  private final Compressor compressor;
  private final Preconditioner preconditioner;
  private final Method method;
  private long steps;

  /** SGD only: the copy of g that serves as c (reused every step, so no d-sized allocation per step). */
  private transient double[] gradientCopy;
  private transient CompressedVector lastCompressed;

  private DirectionPipeline(Method method, int d, Compressor compressor, Preconditioner preconditioner) {
    this.method = method;
    this.d = d;
    this.compressor = compressor;
    this.preconditioner = preconditioner;
  }

  /** Builds EF∘compress → precondition for {@code config.method()} (lr = 1, no momentum, decay or clipping). */
  public static DirectionPipeline create(OptimizerConfig config) {
    int d = config.dimension();
    int m = config.window();
    return switch (config.method()) {
      case DENSE_MFAC -> new DirectionPipeline(Method.DENSE_MFAC, d, new Float32Compressor(d),
          new MfacPreconditioner(new DenseWindow(m, d), config.damping()));
      case SPARSE_MFAC -> new DirectionPipeline(Method.SPARSE_MFAC, d,
          new ErrorFeedback(new TopKCompressor(d, config.topK()), d),
          new MfacPreconditioner(new SparseWindow(m, d, config.topK()), config.damping()));
      case LOWRANK_MFAC -> new DirectionPipeline(Method.LOWRANK_MFAC, d,
          new ErrorFeedback(new LowRankCompressor(config.layout(), config.rank(), config.seed()), d),
          new MfacPreconditioner(new LowRankWindow(m, config.layout(), config.rank()), config.damping()));
      case DENSE_GGT -> new DirectionPipeline(Method.DENSE_GGT, d, new Float32Compressor(d),
          new GgtPreconditioner(new DenseWindow(m, d), config.ggtEpsilon(), config.ridge()));
      case SPARSE_GGT -> new DirectionPipeline(Method.SPARSE_GGT, d,
          new ErrorFeedback(new TopKCompressor(d, config.topK()), d),
          new GgtPreconditioner(new SparseWindow(m, d, config.topK()), config.ggtEpsilon(), config.ridge()));
      case ADAGRAD_EF -> new DirectionPipeline(Method.ADAGRAD_EF, d,
          new ErrorFeedback(new TopKCompressor(d, config.topK()), d),
          new DiagonalAdagradPreconditioner(d, config.adagradEpsilon()));
      case SGD -> new DirectionPipeline(Method.SGD, d, null, new IdentityPreconditioner(d));
    };
  }

  /** d, the length of the gradients this pipeline accepts. */
  public int dimension() {
    return d;
  }

  /**
   * One step: compresses {@code g} (through the error buffer where the method has one), inserts c into the
   * preconditioner and writes {@code u = A(c)} into {@code uOut}. {@code g} is not modified. Bad input is
   * rejected before any state changes.
   *
   * @param g the raw gradient, length d, every entry finite
   * @param uOut receives u, length d (every entry overwritten)
   * @throws IllegalArgumentException if {@code g} has the wrong length or a non-finite entry, or {@code uOut}
   *     has the wrong length
   */
  public void direction(double[] g, double[] uOut) {
    checkGradient(g);
    if (uOut.length != d) {
      throw new IllegalArgumentException("uOut: expected length " + d + ", got " + uOut.length);
    }
    CompressedVector c;
    if (compressor == null) {
      if (gradientCopy == null) {
        gradientCopy = new double[d];
      }
      System.arraycopy(g, 0, gradientCopy, 0, d);
      c = new DenseVector(gradientCopy);
    } else {
      c = compressor.compress(g);
    }
    preconditioner.update(c, uOut);
    lastCompressed = c;
    steps++;
  }

  /** Steps taken since construction or {@link #reset()}. */
  public long stepCount() {
    return steps;
  }

  /** A copy of this pipeline's state (see {@link PipelineState}). */
  public PipelineState exportState() {
    double[] error = compressor instanceof ErrorFeedback ef ? ef.error().clone() : null;
    double[][] warmStart = null;
    if (compressor instanceof ErrorFeedback ef && ef.inner() instanceof LowRankCompressor lr) {
      TensorLayout layout = lr.layout();
      warmStart = new double[layout.numTensors()][];
      for (int l = 0; l < warmStart.length; l++) {
        warmStart[l] = layout.isMatrix(l) ? lr.warmStart(l) : null;
      }
    }
    GradientWindow window = null;
    double[] gram = null;
    double[] sumSquares = null;
    if (preconditioner instanceof MfacPreconditioner mfac) {
      window = mfac.window();
      gram = mfac.state().gram();
    } else if (preconditioner instanceof GgtPreconditioner ggt) {
      window = ggt.window();
      gram = ggt.gram();
    } else if (preconditioner instanceof DiagonalAdagradPreconditioner adagrad) {
      sumSquares = adagrad.sumSquares();
    }
    CompressedVector[] slots = null;
    if (window != null) {
      slots = new CompressedVector[(int) Math.min(steps, window.capacity())];
      for (int s = 0; s < slots.length; s++) {
        slots[s] = window.stored(s);
      }
    }
    return new PipelineState(method, steps, error, slots, gram, sumSquares, warmStart);
  }

  /**
   * Takes over {@code state} (exported by a pipeline of the same configuration, on the CPU or a GPU); this pipeline
   * must not have taken a step. The m×m state is rebuilt from K, so steps continue as the exporting pipeline's would
   * up to rounding.
   *
   * @throws IllegalArgumentException "state: ..." if it belongs to another method or size, or an array does not fit
   *     (this pipeline is then empty again)
   * @throws IllegalStateException if this pipeline has taken a step, or K cannot be factored (not positive
   *     semidefinite; this pipeline is then empty again)
   */
  public void importState(PipelineState state) {
    state.checkImportInto(method, steps);
    try {
      if (compressor instanceof ErrorFeedback ef) {
        ef.restoreError(present(state.error(), "error"));
        if (ef.inner() instanceof LowRankCompressor lr) {
          double[][] warmStart = state.warmStarts(lr.layout().numTensors());
          for (int l = 0; l < warmStart.length; l++) {
            if (lr.layout().isMatrix(l)) {
              lr.restoreWarmStart(l, present(warmStart[l], "warmStart of tensor " + l));
            }
          }
        }
      }
      if (preconditioner instanceof MfacPreconditioner mfac) {
        mfac.restore(state.windowSlots(mfac.window().capacity()), state.steps(), present(state.gram(), "gram"));
      } else if (preconditioner instanceof GgtPreconditioner ggt) {
        ggt.restore(state.windowSlots(ggt.window().capacity()), state.steps(), present(state.gram(), "gram"));
      } else if (preconditioner instanceof DiagonalAdagradPreconditioner adagrad) {
        adagrad.restore(present(state.sumSquares(), "sumSquares"));
      }
    } catch (RuntimeException e) {
      reset();
      if (e instanceof IllegalArgumentException) {
        throw new IllegalArgumentException(e.getMessage().startsWith("state: ") ? e.getMessage()
            : "state: " + e.getMessage(), e);
      }
      throw e;
    }
    steps = state.steps();
  }

  /**
   * The compressed vector c of the last {@link #direction} call (what entered the preconditioner); null before
   * the first step and after {@link #reset()} or deserialisation. For SGD it is a view of g that the next step
   * overwrites.
   */
  public CompressedVector lastCompressed() {
    return lastCompressed;
  }

  /** The compressor (an {@link ErrorFeedback} for the compressed methods), or null for SGD. */
  public Compressor compressor() {
    return compressor;
  }

  public Preconditioner preconditioner() {
    return preconditioner;
  }

  /** Persistent state bytes: error buffer and compressor state, plus preconditioner state (no scratch). */
  public long memoryBytes() {
    return (compressor == null ? 0 : compressor.memoryBytes()) + preconditioner.memoryBytes();
  }

  /** Forgets the error buffer, compressor state and preconditioner window, as if freshly created. */
  public void reset() {
    if (compressor != null) {
      compressor.reset();
    }
    preconditioner.reset();
    lastCompressed = null;
    steps = 0;
  }

  private void checkGradient(double[] g) {
    if (g.length != d) {
      throw new IllegalArgumentException("gradient: expected d = " + d + ", got length " + g.length);
    }
    for (int i = 0; i < d; i++) {
      if (!Double.isFinite(g[i])) {
        throw new IllegalArgumentException("gradient: entry " + i + " is " + g[i]);
      }
    }
  }
}
