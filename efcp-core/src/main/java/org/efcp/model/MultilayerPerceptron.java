package org.efcp.model;

import java.util.ArrayList;
import java.util.List;
import org.efcp.optim.TensorLayout;

/**
 * A fully connected network with layer sizes [s_0 = F, s_1, …, s_L = C]: a_0 = x, a_{l+1} = f(W_l a_l + b_l)
 * for hidden layers, softmax cross-entropy on the output logits W_{L−1} a_{L−1} + b_{L−1}.
 *
 * <p>Parameters, as a stack of PyTorch {@code nn.Linear} layers registers them: for each layer W_l
 * (s_{l+1} × s_l, row-major) then b_l (s_{l+1}). A row-major chunk of activations (n × s_l) is the column-major
 * s_l × n matrix, so per chunk of at most 1024 rows the forward pass is one {@code dgemm} per layer, and the
 * backward pass two: ∇W_l += δ_{l+1}ᵀ a_l and δ_l = (δ_{l+1} W_l) ⊙ f'(a_l), with
 * δ_L = w_i·(softmax − onehot).
 * Activations of the current chunk are kept in per-instance scratch for the backward pass, so an instance is
 * not thread-safe (see {@link DifferentiableModel}).
 */
public final class MultilayerPerceptron extends ChunkedModel {
  private static final long serialVersionUID = 1L;

  private static final long GOLDEN = 0x9E3779B97F4A7C15L;

  private final int[] sizes;
  private final Activation activation;
  private final int[] weightOffsets;
  private final int[] biasOffsets;
  private final int numParameters;
  /** activations[l] for l = 1..L: chunk × s_l, row-major; activations[L] holds the logits, then δ_L. */
  private transient double[][] activations;
  private transient double[] deltaA;
  private transient double[] deltaB;
  private transient int capacity;

  /**
   * @param layerSizes [F, h_1, …, C]: at least two entries, each ≥ 1, C ≥ 2
   * @param activation the hidden layers' activation (the output layer is softmax)
   */
  public MultilayerPerceptron(int[] layerSizes, Activation activation) {
    this(layerSizes, activation, DEFAULT_CHUNK_ROWS);
  }

  MultilayerPerceptron(int[] layerSizes, Activation activation, int chunkRows) {
    super(chunkRows);
    if (layerSizes == null || layerSizes.length < 2) {
      throw new IllegalArgumentException("layerSizes: need at least [inputs, classes]");
    }
    if (activation == null) {
      throw new IllegalArgumentException("activation: must not be null");
    }
    for (int l = 0; l < layerSizes.length; l++) {
      if (layerSizes[l] < 1) {
        throw new IllegalArgumentException("layerSizes: entry " + l + " is " + layerSizes[l] + " (must be >= 1)");
      }
    }
    if (layerSizes[layerSizes.length - 1] < 2) {
      throw new IllegalArgumentException("layerSizes: the output layer needs >= 2 classes");
    }
    this.sizes = layerSizes.clone();
    this.activation = activation;
    int layers = sizes.length - 1;
    this.weightOffsets = new int[layers];
    this.biasOffsets = new int[layers];
    long d = 0;
    for (int l = 0; l < layers; l++) {
      weightOffsets[l] = (int) d;
      biasOffsets[l] = (int) d + sizes[l + 1] * sizes[l];
      d += (long) sizes[l + 1] * sizes[l] + sizes[l + 1];
      if (d >= Integer.MAX_VALUE) {
        throw new IllegalArgumentException("layerSizes: more than 2^31 - 1 parameters");
      }
    }
    this.numParameters = (int) d;
  }

  /** [F, h_1, …, C] (a copy). */
  public int[] layerSizes() {
    return sizes.clone();
  }

  public Activation activation() {
    return activation;
  }

  @Override
  public int numFeatures() {
    return sizes[0];
  }

  @Override
  public int numClasses() {
    return sizes[sizes.length - 1];
  }

  @Override
  public int numParameters() {
    return numParameters;
  }

  @Override
  public TensorLayout layout() {
    List<int[]> shapes = new ArrayList<>();
    for (int l = 0; l + 1 < sizes.length; l++) {
      shapes.add(new int[] {sizes[l + 1], sizes[l]});
      shapes.add(new int[] {sizes[l + 1]});
    }
    return new TensorLayout(shapes);
  }

  /**
   * Uniform weights in [−limit, limit), zero biases. The limit of W_l is the activation's rule for hidden
   * layers (He-uniform sqrt(6 / s_l) for relu, Glorot-uniform sqrt(6 / (s_l + s_{l+1})) for sigmoid and tanh)
   * and Glorot-uniform for the output layer. Entry n of W_l (row-major) is limit·(2u − 1) with
   * u = (mix64(base_l + (n + 1)·G) &gt;&gt;&gt; 11)·2^−53, base_l = mix64(seed·G + l + 1), G = 0x9E3779B97F4A7C15
   * and mix64 the SplitMix64 finaliser (the recipe of the low-rank compressor's Q0), so the result depends on
   * the seed and the layer sizes only.
   */
  @Override
  public double[] initialParameters(long seed) {
    double[] params = new double[numParameters];
    int layers = sizes.length - 1;
    for (int l = 0; l < layers; l++) {
      int fanIn = sizes[l];
      int fanOut = sizes[l + 1];
      double limit = l + 1 < layers ? activation.initLimit(fanIn, fanOut) : Activation.glorotLimit(fanIn, fanOut);
      long base = mix64(seed * GOLDEN + (l + 1));
      int off = weightOffsets[l];
      int count = fanIn * fanOut;
      for (int n = 0; n < count; n++) {
        double u = (mix64(base + (n + 1) * GOLDEN) >>> 11) * 0x1.0p-53;
        params[off + n] = limit * (2 * u - 1);
      }
    }
    return params;
  }

  @Override
  double chunkLoss(DenseBlock block, int from, int rows, double[] params, double[] gradAccum) {
    ensureScratch(block.numRows(), rows);
    forward(block, from, rows, params);
    int layers = sizes.length - 1;
    int c = sizes[layers];
    double[] z = activations[layers];
    if (gradAccum == null) {
      return SoftmaxCrossEntropy.rowsLoss(z, c, block, from, rows);
    }
    double loss = SoftmaxCrossEntropy.rowsLossAndResidual(z, c, block, from, rows);
    backward(block, from, rows, params, gradAccum);
    return loss;
  }

  @Override
  void chunkRaw(DenseBlock block, int from, int rows, double[] params, double[] out) {
    ensureScratch(block.numRows(), rows);
    forward(block, from, rows, params);
    int c = numClasses();
    System.arraycopy(activations[sizes.length - 1], 0, out, from * c, rows * c);
  }

  @Override
  void rawToProbabilities(double[] values, int rows) {
    int c = numClasses();
    for (int i = 0; i < rows; i++) {
      SoftmaxCrossEntropy.softmax(values, i * c, c);
    }
  }

  /** Fills activations[1..L] for rows {@code [from, from + rows)}; activations[L] are the logits. */
  private void forward(DenseBlock block, int from, int rows, double[] params) {
    int layers = sizes.length - 1;
    for (int l = 0; l < layers; l++) {
      int in = sizes[l];
      int out = sizes[l + 1];
      double[] input = l == 0 ? block.features() : activations[l];
      int inputOff = l == 0 ? from * in : 0;
      double[] a = activations[l + 1];
      for (int i = 0; i < rows; i++) {
        System.arraycopy(params, biasOffsets[l], a, i * out, out);
      }
      BLAS_LIB.dgemm("T", "N", out, rows, in, 1.0, params, weightOffsets[l], in, input, inputOff, in, 1.0, a, 0, out);
      if (l + 1 < layers) {
        activation.apply(a, rows * out);
      }
    }
  }

  /** Adds the gradient of the chunk into {@code grad}, given δ_L in activations[L]. */
  private void backward(DenseBlock block, int from, int rows, double[] params, double[] grad) {
    double[] delta = activations[sizes.length - 1];
    for (int l = sizes.length - 2; l >= 0; l--) {
      int in = sizes[l];
      int out = sizes[l + 1];
      double[] input = l == 0 ? block.features() : activations[l];
      int inputOff = l == 0 ? from * in : 0;
      BLAS_LIB.dgemm("N", "T", in, out, rows, 1.0, input, inputOff, in, delta, 0, out, 1.0, grad, weightOffsets[l], in);
      int bias = biasOffsets[l];
      for (int i = 0; i < rows; i++) {
        int row = i * out;
        for (int j = 0; j < out; j++) {
          grad[bias + j] += delta[row + j];
        }
      }
      if (l > 0) {
        double[] next = delta == deltaA ? deltaB : deltaA;
        BLAS_LIB.dgemm("N", "N", in, rows, out, 1.0, params, weightOffsets[l], in, delta, 0, out, 0.0, next, 0, in);
        activation.multiplyDerivative(next, activations[l], rows * in);
        delta = next;
      }
    }
  }

  private void ensureScratch(int blockRows, int rows) {
    if (activations != null && capacity >= rows) {
      return;
    }
    capacity = chunkCapacity(blockRows);
    int layers = sizes.length - 1;
    activations = new double[layers + 1][];
    int widestHidden = 0;
    for (int l = 1; l <= layers; l++) {
      activations[l] = new double[capacity * sizes[l]];
      if (l < layers) {
        widestHidden = Math.max(widestHidden, sizes[l]);
      }
    }
    deltaA = new double[capacity * widestHidden];
    deltaB = new double[capacity * widestHidden];
  }

  private static long mix64(long z) {
    z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
    z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
    return z ^ (z >>> 31);
  }
}
