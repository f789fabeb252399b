package org.efcp.optim;

import java.io.Serializable;
import java.util.Objects;

/**
 * Immutable configuration of an {@link EfcpOptimizer} (what to build, not its state). Build with
 * {@link #builder(Method, TensorLayout)}; {@link Builder#build()} validates every value and names the
 * offending parameter. Defaults follow the paper (algorithms doc §6): m = 1024 for M-FAC and 100 for GGT,
 * density 1 %, damping 1e-5, GGT ε 1e-5, AdaGrad ε 1e-10, rank 4, ridge 1e-6, seed 0, learning rate 1,
 * constant schedule, no momentum, weight decay or clipping.
 */
public final class OptimizerConfig implements Serializable {
  private static final long serialVersionUID = 1L;

  private final Method method;
  private final TensorLayout layout;
  private final int window;
  private final double density;
  private final double damping;
  private final double ggtEpsilon;
  private final double adagradEpsilon;
  private final int rank;
  private final double ridge;
  private final long seed;
  private final double learningRate;
  private final LearningRateSchedule schedule;
  private final double momentum;
  private final double weightDecay;
  private final double clipNorm;

  private OptimizerConfig(Builder b) {
    this.method = b.method;
    this.layout = b.layout;
    this.window = !b.method.hasWindow() ? 0 : b.window > 0 ? b.window : b.method.defaultWindow();
    this.density = b.density;
    this.damping = b.damping;
    this.ggtEpsilon = b.ggtEpsilon;
    this.adagradEpsilon = b.adagradEpsilon;
    this.rank = b.rank;
    this.ridge = b.ridge;
    this.seed = b.seed;
    this.learningRate = b.learningRate;
    this.schedule = b.schedule;
    this.momentum = b.momentum;
    this.weightDecay = b.weightDecay;
    this.clipNorm = b.clipNorm;
  }

  /** A builder with the paper's defaults for {@code method} over parameters laid out as {@code layout}. */
  public static Builder builder(Method method, TensorLayout layout) {
    return new Builder(method, layout);
  }

  /** A builder holding this configuration's values. */
  public Builder toBuilder() {
    Builder b = new Builder(method, layout);
    b.window = window;
    b.density = density;
    b.damping = damping;
    b.ggtEpsilon = ggtEpsilon;
    b.adagradEpsilon = adagradEpsilon;
    b.rank = rank;
    b.ridge = ridge;
    b.seed = seed;
    b.learningRate = learningRate;
    b.schedule = schedule;
    b.momentum = momentum;
    b.weightDecay = weightDecay;
    b.clipNorm = clipNorm;
    return b;
  }

  public Method method() {
    return method;
  }

  public TensorLayout layout() {
    return layout;
  }

  /** d, the number of parameters. */
  public int dimension() {
    return layout.dimension();
  }

  /** m, the number of window slots (0 for methods without a window). */
  public int window() {
    return window;
  }

  /** Top-k density (≤ 1) or count (> 1) as given; see {@link #topK()}. */
  public double density() {
    return density;
  }

  /** k = {@link TopKCompressor#countFor}(density, d). */
  public int topK() {
    return TopKCompressor.countFor(density, layout.dimension());
  }

  /** M-FAC damping λ (added to the empirical Fisher), > 0. */
  public double damping() {
    return damping;
  }

  /** GGT ε (added to the square root of the Gram matrix), > 0. */
  public double ggtEpsilon() {
    return ggtEpsilon;
  }

  /** AdaGrad ε (added to sqrt(S)), ≥ 0. */
  public double adagradEpsilon() {
    return adagradEpsilon;
  }

  /** Rank ρ of the low-rank compressor, ≥ 1. */
  public int rank() {
    return rank;
  }

  /** GGT ridge added to the m×m Gram matrix before its eigendecomposition, ≥ 0. */
  public double ridge() {
    return ridge;
  }

  /** Seed of every random choice (the low-rank Q0). */
  public long seed() {
    return seed;
  }

  /** Base learning rate η_0, > 0. */
  public double learningRate() {
    return learningRate;
  }

  public LearningRateSchedule schedule() {
    return schedule;
  }

  /** Momentum μ in [0, 1): v = μ v + u. */
  public double momentum() {
    return momentum;
  }

  /** Decoupled weight decay γ in [0, 1): θ ← (1 − γ) θ − η v (no learning-rate factor on γ). */
  public double weightDecay() {
    return weightDecay;
  }

  /** Maximum L2 norm of the preconditioned direction (0 = no clipping). */
  public double clipNorm() {
    return clipNorm;
  }

  /** Mutable builder; {@link #build()} validates. */
  public static final class Builder {
    private final Method method;
    private final TensorLayout layout;
    private int window;
    private double density = 0.01;
    private double damping = 1e-5;
    private double ggtEpsilon = 1e-5;
    private double adagradEpsilon = 1e-10;
    private int rank = 4;
    private double ridge = 1e-6;
    private long seed;
    private double learningRate = 1.0;
    private LearningRateSchedule schedule = LearningRateSchedule.constant();
    private double momentum;
    private double weightDecay;
    private double clipNorm;

    private Builder(Method method, TensorLayout layout) {
      this.method = Objects.requireNonNull(method, "method");
      this.layout = Objects.requireNonNull(layout, "layout");
    }

    /** m ≥ 1 slots; 0 means the method's default. Ignored by methods without a window. */
    public Builder window(int m) {
      this.window = m;
      return this;
    }

    public Builder density(double densityOrCount) {
      this.density = densityOrCount;
      return this;
    }

    public Builder damping(double damping) {
      this.damping = damping;
      return this;
    }

    public Builder ggtEpsilon(double eps) {
      this.ggtEpsilon = eps;
      return this;
    }

    public Builder adagradEpsilon(double eps) {
      this.adagradEpsilon = eps;
      return this;
    }

    public Builder rank(int rank) {
      this.rank = rank;
      return this;
    }

    public Builder ridge(double ridge) {
      this.ridge = ridge;
      return this;
    }

    public Builder seed(long seed) {
      this.seed = seed;
      return this;
    }

    public Builder learningRate(double lr) {
      this.learningRate = lr;
      return this;
    }

    public Builder schedule(LearningRateSchedule schedule) {
      this.schedule = Objects.requireNonNull(schedule, "schedule");
      return this;
    }

    public Builder momentum(double momentum) {
      this.momentum = momentum;
      return this;
    }

    public Builder weightDecay(double weightDecay) {
      this.weightDecay = weightDecay;
      return this;
    }

    public Builder clipNorm(double clipNorm) {
      this.clipNorm = clipNorm;
      return this;
    }

    /**
     * Validates and builds.
     *
     * @throws IllegalArgumentException naming the first parameter out of range
     */
    public OptimizerConfig build() {
      if (window < 0) {
        throw new IllegalArgumentException("window: must be >= 1 (or 0 for the method's default), got " + window);
      }
      if (method.usesTopK()) {
        if (!(density > 0) || Double.isInfinite(density)) {
          throw new IllegalArgumentException("density: must be > 0 (a fraction <= 1 or a count > 1), got " + density);
        }
        TopKCompressor.countFor(density, layout.dimension());
      }
      requirePositive("damping", damping);
      requirePositive("ggtEpsilon", ggtEpsilon);
      if (!(adagradEpsilon >= 0) || Double.isInfinite(adagradEpsilon)) {
        throw new IllegalArgumentException("adagradEpsilon: must be >= 0, got " + adagradEpsilon);
      }
      if (rank < 1) {
        throw new IllegalArgumentException("rank: must be >= 1, got " + rank);
      }
      if (!(ridge >= 0) || Double.isInfinite(ridge)) {
        throw new IllegalArgumentException("ridge: must be >= 0, got " + ridge);
      }
      requirePositive("learningRate", learningRate);
      if (!(momentum >= 0 && momentum < 1)) {
        throw new IllegalArgumentException("momentum: must be in [0, 1), got " + momentum);
      }
      if (!(weightDecay >= 0 && weightDecay < 1)) {
        throw new IllegalArgumentException("weightDecay: must be in [0, 1), got " + weightDecay);
      }
      if (!(clipNorm >= 0) || Double.isInfinite(clipNorm)) {
        throw new IllegalArgumentException("clipNorm: must be >= 0 (0 = off), got " + clipNorm);
      }
      return new OptimizerConfig(this);
    }

    private static void requirePositive(String name, double v) {
      if (!(v > 0) || Double.isInfinite(v)) {
        throw new IllegalArgumentException(name + ": must be > 0 and finite, got " + v);
      }
    }
  }
}
