package org.efcp.model;

import java.util.List;
import org.efcp.optim.TensorLayout;

/**
 * Multinomial (softmax) logistic regression, PyTorch's {@code nn.Linear(F, C)} followed by cross-entropy:
 * logits z = W x + b, ℓ = −log softmax(z)_y.
 *
 * <p>Parameters: W (C × F, row-major) then, with {@code fitIntercept}, b (C); d = C·F + C (769,000 for
 * 768 → 1000). Row-major W is the column-major F × C matrix, and a row-major block is the column-major F × n
 * matrix Xᵀ, so per chunk of rows the logits Zᵀ (C × n column-major = row-major n × C) are one
 * {@code dgemm("T", "N")} and the weight gradient ∇W += Rᵀ X (R = w_i·(softmax − onehot), n × C) is one
 * {@code dgemm("N", "T")}, both reading params, block and gradient in place.
 *
 * <p>Not thread-safe (one logits buffer per instance); see {@link DifferentiableModel}.
 */
public final class MultinomialLogisticRegression extends ChunkedModel {
  private static final long serialVersionUID = 1L;

  private final int numFeatures;
  private final int numClasses;
  private final boolean fitIntercept;
  private transient double[] scores;

  /**
   * @param numFeatures F ≥ 1
   * @param numClasses C ≥ 2
   * @param fitIntercept whether θ ends with the bias b
   */
  public MultinomialLogisticRegression(int numFeatures, int numClasses, boolean fitIntercept) {
    this(numFeatures, numClasses, fitIntercept, DEFAULT_CHUNK_ROWS);
  }

  MultinomialLogisticRegression(int numFeatures, int numClasses, boolean fitIntercept, int chunkRows) {
    super(chunkRows);
    if (numFeatures < 1) {
      throw new IllegalArgumentException("numFeatures: must be >= 1, got " + numFeatures);
    }
    if (numClasses < 2) {
      throw new IllegalArgumentException("numClasses: must be >= 2, got " + numClasses);
    }
    if ((long) numClasses * (numFeatures + 1) >= Integer.MAX_VALUE) {
      throw new IllegalArgumentException("numClasses: " + numClasses + " x " + numFeatures + " is too large");
    }
    this.numFeatures = numFeatures;
    this.numClasses = numClasses;
    this.fitIntercept = fitIntercept;
  }

  public boolean fitIntercept() {
    return fitIntercept;
  }

  @Override
  public int numFeatures() {
    return numFeatures;
  }

  @Override
  public int numClasses() {
    return numClasses;
  }

  @Override
  public int numParameters() {
    return numClasses * numFeatures + (fitIntercept ? numClasses : 0);
  }

  @Override
  public TensorLayout layout() {
    return fitIntercept
        ? new TensorLayout(List.of(new int[] {numClasses, numFeatures}, new int[] {numClasses}))
        : new TensorLayout(List.<int[]>of(new int[] {numClasses, numFeatures}));
  }

  /** Zeros: the loss is convex, and zero is what MLlib starts from; the seed is ignored. */
  @Override
  public double[] initialParameters(long seed) {
    return new double[numParameters()];
  }

  @Override
  double chunkLoss(DenseBlock block, int from, int rows, double[] params, double[] gradAccum) {
    int c = numClasses;
    if (scores == null || scores.length < rows * c) {
      scores = new double[chunkCapacity(block.numRows()) * c];
    }
    double[] z = scores;
    logits(block, from, rows, params, z, 0);
    if (gradAccum == null) {
      return SoftmaxCrossEntropy.rowsLoss(z, c, block, from, rows);
    }
    double loss = SoftmaxCrossEntropy.rowsLossAndResidual(z, c, block, from, rows);
    int f = numFeatures;
    BLAS_LIB.dgemm("N", "T", f, c, rows, 1.0, block.features(), from * f, f, z, 0, c, 1.0, gradAccum, 0, f);
    if (fitIntercept) {
      int bias = c * f;
      for (int i = 0; i < rows; i++) {
        int row = i * c;
        for (int j = 0; j < c; j++) {
          gradAccum[bias + j] += z[row + j];
        }
      }
    }
    return loss;
  }

  @Override
  void chunkRaw(DenseBlock block, int from, int rows, double[] params, double[] out) {
    logits(block, from, rows, params, out, from * numClasses);
  }

  @Override
  void rawToProbabilities(double[] values, int rows) {
    for (int i = 0; i < rows; i++) {
      SoftmaxCrossEntropy.softmax(values, i * numClasses, numClasses);
    }
  }

  /** Writes the row-major rows × C logits of rows {@code [from, from + rows)} into {@code z} at {@code off}. */
  private void logits(DenseBlock block, int from, int rows, double[] params, double[] z, int off) {
    int c = numClasses;
    int f = numFeatures;
    double beta = 0;
    if (fitIntercept) {
      for (int i = 0; i < rows; i++) {
        System.arraycopy(params, c * f, z, off + i * c, c);
      }
      beta = 1;
    }
    BLAS_LIB.dgemm("T", "N", c, rows, f, 1.0, params, 0, f, block.features(), from * f, f, beta, z, off, c);
  }
}
