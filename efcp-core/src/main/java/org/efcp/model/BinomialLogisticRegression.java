package org.efcp.model;

import java.util.List;
import org.efcp.optim.TensorLayout;

/**
 * Binomial logistic regression with one logit per row: z = w·x + b, P(y = 1) = σ(z), labels 0 or 1,
 * ℓ = log(1 + exp(−z)) for y = 1 and log(1 + exp(z)) for y = 0, evaluated as
 * max(t, 0) + log1p(exp(−|t|)) so that no logit overflows.
 *
 * <p>Parameters: w (F) then, with {@code fitIntercept}, b (1); both are 1-D tensors, so d = F + 1. It reports
 * two classes, and raw scores are (−z, z) per row, as MLlib's binomial model writes them; probabilities are
 * (σ(−z), σ(z)). Per chunk of rows the margins are one {@code dgemv("T")} over the column-major F × n block and
 * the gradient ∇w += Xᵀ r (r_i = w_i·(σ(z_i) − y_i)) one {@code dgemv("N")}.
 *
 * <p>Not thread-safe (one margin buffer per instance); see {@link DifferentiableModel}.
 */
public final class BinomialLogisticRegression extends ChunkedModel {
  private static final long serialVersionUID = 1L;

  private final int numFeatures;
  private final boolean fitIntercept;
  private transient double[] margins;

  /**
   * @param numFeatures F ≥ 1
   * @param fitIntercept whether θ ends with the bias b
   */
  public BinomialLogisticRegression(int numFeatures, boolean fitIntercept) {
    this(numFeatures, fitIntercept, DEFAULT_CHUNK_ROWS);
  }

  BinomialLogisticRegression(int numFeatures, boolean fitIntercept, int chunkRows) {
    super(chunkRows);
    if (numFeatures < 1 || numFeatures == Integer.MAX_VALUE) {
      throw new IllegalArgumentException("numFeatures: must be in [1, 2^31 - 2], got " + numFeatures);
    }
    this.numFeatures = numFeatures;
    this.fitIntercept = fitIntercept;
  }

  public boolean fitIntercept() {
    return fitIntercept;
  }

  @Override
  public int numFeatures() {
    return numFeatures;
  }

  /** 2. */
  @Override
  public int numClasses() {
    return 2;
  }

  @Override
  public int numParameters() {
    return numFeatures + (fitIntercept ? 1 : 0);
  }

  @Override
  public TensorLayout layout() {
    return fitIntercept
        ? new TensorLayout(List.of(new int[] {numFeatures}, new int[] {1}))
        : TensorLayout.flat(numFeatures);
  }

  /** Zeros: the loss is convex, and zero is what MLlib starts from; the seed is ignored. */
  @Override
  public double[] initialParameters(long seed) {
    return new double[numParameters()];
  }

  @Override
  double chunkLoss(DenseBlock block, int from, int rows, double[] params, double[] gradAccum) {
    if (margins == null || margins.length < rows) {
      margins = new double[chunkCapacity(block.numRows())];
    }
    double[] z = margins;
    margins(block, from, rows, params, z, 0, 1);
    double[] labels = block.labels();
    double[] weights = block.weights();
    double loss = 0;
    double biasGrad = 0;
    for (int i = 0; i < rows; i++) {
      double w = weights[from + i];
      if (w == 0) {
        z[i] = 0;
        continue;
      }
      boolean positive = labels[from + i] != 0;
      double zi = z[i];
      double t = positive ? -zi : zi;
      loss += w * (Math.max(t, 0) + Math.log1p(Math.exp(-Math.abs(t))));
      double r = w * (sigmoid(zi) - (positive ? 1 : 0));
      z[i] = r;
      biasGrad += r;
    }
    if (gradAccum != null) {
      int f = numFeatures;
      BLAS_LIB.dgemv("N", f, rows, 1.0, block.features(), from * f, f, z, 0, 1, 1.0, gradAccum, 0, 1);
      if (fitIntercept) {
        gradAccum[f] += biasGrad;
      }
    }
    return loss;
  }

  @Override
  void chunkRaw(DenseBlock block, int from, int rows, double[] params, double[] out) {
    // z into the odd entries (stride 2), then its negation beside it.
    margins(block, from, rows, params, out, 2 * from + 1, 2);
    for (int i = 0; i < rows; i++) {
      int k = 2 * (from + i);
      out[k] = -out[k + 1];
    }
  }

  @Override
  void rawToProbabilities(double[] values, int rows) {
    for (int i = 0; i < rows; i++) {
      double z = values[2 * i + 1];
      values[2 * i] = sigmoid(-z);
      values[2 * i + 1] = sigmoid(z);
    }
  }

  /** σ(z) = 1 / (1 + e^−z); exact to rounding for every double (e^−z overflowing gives 0). */
  static double sigmoid(double z) {
    return 1.0 / (1.0 + Math.exp(-z));
  }

  /** Writes the margins of rows {@code [from, from + rows)} into {@code z} at {@code off}, stride {@code inc}. */
  private void margins(DenseBlock block, int from, int rows, double[] params, double[] z, int off, int inc) {
    int f = numFeatures;
    double beta = 0;
    if (fitIntercept) {
      for (int i = 0; i < rows; i++) {
        z[off + i * inc] = params[f];
      }
      beta = 1;
    }
    BLAS_LIB.dgemv("T", f, rows, 1.0, block.features(), from * f, f, params, 0, 1, beta, z, off, inc);
  }
}
