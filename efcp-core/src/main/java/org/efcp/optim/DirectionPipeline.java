package org.efcp.optim;

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

  /** SGD only: the copy of g that serves as c (reused every step, so no d-sized allocation per step). */
  private transient double[] gradientCopy;
  private transient CompressedVector lastCompressed;

  private DirectionPipeline(int d, Compressor compressor, Preconditioner preconditioner) {
    this.d = d;
    this.compressor = compressor;
    this.preconditioner = preconditioner;
  }

  /** Builds EF∘compress → precondition for {@code config.method()} (lr = 1, no momentum, decay or clipping). */
  public static DirectionPipeline create(OptimizerConfig config) {
    int d = config.dimension();
    int m = config.window();
    return switch (config.method()) {
      case DENSE_MFAC -> new DirectionPipeline(d, new Float32Compressor(d),
          new MfacPreconditioner(new DenseWindow(m, d), config.damping()));
      case SPARSE_MFAC -> new DirectionPipeline(d, new ErrorFeedback(new TopKCompressor(d, config.topK()), d),
          new MfacPreconditioner(new SparseWindow(m, d, config.topK()), config.damping()));
      case LOWRANK_MFAC -> new DirectionPipeline(d,
          new ErrorFeedback(new LowRankCompressor(config.layout(), config.rank(), config.seed()), d),
          new MfacPreconditioner(new LowRankWindow(m, config.layout(), config.rank()), config.damping()));
      case DENSE_GGT -> new DirectionPipeline(d, new Float32Compressor(d),
          new GgtPreconditioner(new DenseWindow(m, d), config.ggtEpsilon(), config.ridge()));
      case SPARSE_GGT -> new DirectionPipeline(d, new ErrorFeedback(new TopKCompressor(d, config.topK()), d),
          new GgtPreconditioner(new SparseWindow(m, d, config.topK()), config.ggtEpsilon(), config.ridge()));
      case ADAGRAD_EF -> new DirectionPipeline(d, new ErrorFeedback(new TopKCompressor(d, config.topK()), d),
          new DiagonalAdagradPreconditioner(d, config.adagradEpsilon()));
      case SGD -> new DirectionPipeline(d, null, new IdentityPreconditioner(d));
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
