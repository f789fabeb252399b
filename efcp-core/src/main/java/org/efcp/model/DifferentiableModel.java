package org.efcp.model;

import java.io.Serializable;
import org.efcp.optim.TensorLayout;

/**
 * A classifier with a flat parameter vector θ ∈ R^d whose summed, weighted cross-entropy loss and gradient
 * are evaluated on {@link DenseBlock}s.
 *
 * <p>θ is laid out as {@link #layout()} says: tensors in registration order (as PyTorch registers them),
 * each flattened row-major. Losses and gradients are <em>sums</em> over rows, Σ_i w_i ℓ_i and Σ_i w_i ∇ℓ_i,
 * not means: partial results of several blocks (partitions) add up, and the caller divides by the total
 * weight ({@link DenseBlock#totalWeight()}) once. ℓ_i is the natural-log cross-entropy −log p(y_i | x_i).
 *
 * <p>Implementations keep per-instance scratch buffers, so one instance is <b>not thread-safe</b>: use one
 * instance per thread (they are cheap; the scratch is transient and re-created lazily after deserialisation).
 * The hot-path methods check array lengths only; run {@link #validate(DenseBlock)} once per block on untrusted
 * data.
 */
public interface DifferentiableModel extends Serializable {

  /** Number of input features f. */
  int numFeatures();

  /** Number of classes C (≥ 2); raw scores and probabilities have C columns. */
  int numClasses();

  /** d, the length of the parameter vector. */
  int numParameters();

  /** The tensors that make up θ, in order (its dimension is {@link #numParameters()}). */
  TensorLayout layout();

  /**
   * Initial parameters, a deterministic function of {@code seed} (models whose loss is convex may ignore
   * the seed and start from zero).
   */
  double[] initialParameters(long seed);

  /**
   * Adds Σ_i w_i ∇ℓ_i(θ) into {@code gradAccum} and returns Σ_i w_i ℓ_i(θ).
   *
   * @param params θ, length d
   * @param gradAccum length d; added to, not overwritten
   */
  double addLossAndGradient(DenseBlock block, double[] params, double[] gradAccum);

  /** Σ_i w_i ℓ_i(θ) without the gradient. */
  double loss(DenseBlock block, double[] params);

  /**
   * Writes raw class scores (logits; see the implementation for the binomial convention) into {@code out},
   * row-major n × C.
   */
  void predictRaw(DenseBlock block, double[] params, double[] out);

  /** Writes class probabilities into {@code out}, row-major n × C; each row sums to 1. */
  void predictProbabilities(DenseBlock block, double[] params, double[] out);

  /**
   * Checks the block's width and values for this model.
   *
   * @throws IllegalArgumentException as {@link DenseBlock#validate(int, int)} does
   */
  default void validate(DenseBlock block) {
    block.validate(numFeatures(), numClasses());
  }
}
