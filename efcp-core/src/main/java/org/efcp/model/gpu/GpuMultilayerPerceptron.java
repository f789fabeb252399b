package org.efcp.model.gpu;

import org.efcp.cuda.DeviceBuffer;
import org.efcp.cuda.GpuContext;
import org.efcp.cuda.GpuStream;
import org.efcp.cuda.Kernel;
import org.efcp.model.Activation;
import org.efcp.model.DenseBlock;
import org.efcp.model.MultilayerPerceptron;

/**
 * The loss and gradient of {@link MultilayerPerceptron} computed on a GPU with the project's own kernels
 * (rapids-kernels {@code gemm.cu} or {@code gemm_tf32.cu}, {@code lr.cu}, {@code mlp.cu}): same layer sizes
 * [F, h_1, …, C], hidden activation and parameter layout (per layer W_l, s_{l+1} × s_l row-major, then b_l),
 * same semantics (Σ_i w_i ℓ_i returned, Σ_i w_i ∇ℓ_i added; a zero weight contributes nothing), float32
 * activations and products inside.
 *
 * <p>Per call, on one stream, over the whole block at once: forward, per layer, H_{l+1} = f(H_l W_lᵀ + b_l) by an
 * SGEMM with the bias (f skipped on the output layer); per row a stable softmax in float32 with the loss in
 * float64, overwriting the logits with Δ_L = w_i (softmax − onehot). Backward, per layer from the last: ∇W_l =
 * Δ_{l+1}ᵀ H_l by an SGEMM split over rows into partial products, summed in float64 in a fixed order into the
 * float64 gradient together with ∇b_l = Σ_i Δ_{l+1,i} (float64 sums of 64-row chunks); then Δ_l = (Δ_{l+1} W_l)
 * ⊙ f'(H_l) by an SGEMM and an element-wise kernel. No float atomics: the result is deterministic. Against the
 * CPU model in float64 it differs by the float32 rounding of features, weights, parameters and activations and
 * by float32 accumulation over each product's k: in practice a relative difference near 1e-6 at
 * {@link SgemmPrecision#FP32}. {@link SgemmPrecision#TF32} runs the three products of each layer on tensor
 * cores, which changes the results (relative differences near 1e-3).
 *
 * <p>Scratch device memory (the activations of every layer, n·(h_1 + … + C) floats; two n × max h_l error
 * buffers; the split partial products of the largest weight gradient) is kept between calls and grown as
 * needed. Not thread-safe: use one instance per thread. Blocks have at most 8,388,480 rows (the grid limit of
 * one product).
 */
public final class GpuMultilayerPerceptron implements GpuModel {
  private static final int BLOCK_THREADS = 256;
  private static final int SOFTMAX_ROWS_PER_BLOCK = BLOCK_THREADS / 32;
  /** Element-wise kernels stride over the values with at most this many blocks. */
  private static final int MAX_ELEMENTWISE_BLOCKS = 65_535;

  private final GpuContext ctx;
  private final int[] sizes;
  private final Activation activation;
  private final int activationCode;
  private final int[] weightOffsets;
  private final int numParameters;
  private final int multiprocessors;
  private final Sgemm sgemm;
  private final Kernel activate;
  private final Kernel activationBackward;
  private final Kernel softmaxResidual;
  private final Kernel columnPartials;
  private final Kernel finish;
  private final GpuStream stream;

  /** activations[l] for l = 1..L: n × s_l; activations[L] holds the logits, then Δ_L. */
  private final DeviceBuffer[] activations;
  private DeviceBuffer deltaA;
  private DeviceBuffer deltaB;
  private DeviceBuffer splitGradient;
  private DeviceBuffer columnSums;
  private DeviceBuffer blockLoss;
  private DeviceBuffer loss;
  private DeviceBuffer paramsF32;
  private DeviceBuffer gradientF64;
  private float[] paramsHost;
  private double[] gradientHost;
  private final double[] lossHost = new double[1];
  private boolean closed;

  /**
   * The fp32 form ({@link SgemmPrecision#FP32}).
   *
   * @param ctx the device to run on
   * @param layerSizes [F, h_1, …, C] as for {@link MultilayerPerceptron}
   * @param activation the hidden layers' activation
   */
  public GpuMultilayerPerceptron(GpuContext ctx, int[] layerSizes, Activation activation) {
    this(ctx, layerSizes, activation, SgemmPrecision.FP32);
  }

  /**
   * @param ctx the device to run on
   * @param layerSizes [F, h_1, …, C]: at least two entries, each ≥ 1, C ≥ 2 (checked as
   *     {@link MultilayerPerceptron} checks them)
   * @param activation the hidden layers' activation
   * @param precision how the products multiply; {@link SgemmPrecision#TF32} changes the results
   */
  public GpuMultilayerPerceptron(GpuContext ctx, int[] layerSizes, Activation activation,
      SgemmPrecision precision) {
    // The CPU model's constructor checks the sizes and the activation, with its messages.
    this.numParameters = new MultilayerPerceptron(layerSizes, activation).numParameters();
    if (precision == null) {
      throw new IllegalArgumentException("precision: must not be null");
    }
    if (ctx == null) {
      throw new IllegalArgumentException("ctx: must not be null");
    }
    this.ctx = ctx;
    this.sizes = layerSizes.clone();
    this.activation = activation;
    this.activationCode = activationCode(activation);
    this.weightOffsets = weightOffsets(sizes);
    this.multiprocessors = GpuMultinomialLogisticRegression.multiprocessorCount(ctx);
    this.sgemm = new Sgemm(ctx, precision);
    this.activate = ctx.module("mlp").kernel("mlp_activate");
    this.activationBackward = ctx.module("mlp").kernel("mlp_activation_backward");
    this.softmaxResidual = ctx.module("lr").kernel("lr_softmax_residual");
    this.columnPartials = ctx.module("lr").kernel("lr_column_partials");
    this.finish = ctx.module("lr").kernel("lr_finish");
    this.stream = ctx.createStream();
    this.activations = new DeviceBuffer[sizes.length];
  }

  /** The code mlp.cu's kernels take for {@code activation}: 0 relu, 1 sigmoid, 2 tanh. */
  static int activationCode(Activation activation) {
    return switch (activation) {
      case RELU -> 0;
      case SIGMOID -> 1;
      case TANH -> 2;
    };
  }

  /** The float offset of each W_l in θ (b_l follows it), as {@link MultilayerPerceptron#layout()} lays θ out. */
  static int[] weightOffsets(int[] sizes) {
    int[] offsets = new int[sizes.length - 1];
    int d = 0;
    for (int l = 0; l + 1 < sizes.length; l++) {
      offsets[l] = d;
      d += sizes[l + 1] * sizes[l] + sizes[l + 1];
    }
    return offsets;
  }

  /** [F, h_1, …, C] (a copy). */
  public int[] layerSizes() {
    return sizes.clone();
  }

  public Activation activation() {
    return activation;
  }

  public SgemmPrecision precision() {
    return sgemm.precision();
  }

  @Override
  public int numParameters() {
    return numParameters;
  }

  /**
   * Copies {@code block} to the device (features and weights rounded to float32, labels to int32).
   *
   * @throws IllegalArgumentException "features: ..." when its width is not F, "label: ..." when a label is
   *     not an integer in [0, C)
   */
  @Override
  public GpuBlock upload(DenseBlock block) {
    checkOpen();
    if (block.numFeatures() != sizes[0]) {
      throw new IllegalArgumentException("features: expected " + sizes[0] + " columns, got " + block.numFeatures());
    }
    return GpuBlock.upload(ctx, block, numClasses());
  }

  /**
   * Adds Σ_i w_i ∇ℓ_i(θ) into {@code gradAccum} and returns Σ_i w_i ℓ_i(θ), as
   * {@link MultilayerPerceptron#addLossAndGradient} does on the CPU; θ is rounded to float32 for the device.
   *
   * @param params θ, length d
   * @param gradAccum length d; added to, not overwritten
   */
  @Override
  public double addLossAndGradient(GpuBlock block, double[] params, double[] gradAccum) {
    checkOpen();
    int d = numParameters;
    checkLength("params", params, d);
    checkLength("gradAccum", gradAccum, d);
    checkBlock(block);
    if (block.numRows() == 0) {
      return 0;
    }
    if (paramsHost == null) {
      paramsHost = new float[d];
      gradientHost = new double[d];
      paramsF32 = ctx.allocate(4L * d);
      gradientF64 = ctx.allocate(8L * d);
    }
    for (int j = 0; j < d; j++) {
      paramsHost[j] = (float) params[j];
    }
    paramsF32.copyFrom(paramsHost, 0, d, 0);
    gradientF64.zero(stream);
    double result = addLossAndGradient(block, paramsF32, gradientF64);
    gradientF64.copyTo(gradientHost, 0, d, 0);
    for (int j = 0; j < d; j++) {
      gradAccum[j] += gradientHost[j];
    }
    return result;
  }

  /**
   * The device-resident form: θ and the gradient stay on the device. Adds Σ_i w_i ∇ℓ_i(θ) into
   * {@code gradAccum} and returns Σ_i w_i ℓ_i(θ) (waiting for the device to finish).
   *
   * @param params θ as d float32 values (per layer W_l row-major, then b_l)
   * @param gradAccum d float64 values in the same layout; added to, not overwritten
   */
  @Override
  public double addLossAndGradient(GpuBlock block, DeviceBuffer params, DeviceBuffer gradAccum) {
    checkOpen();
    int d = numParameters;
    if (params.bytes() < 4L * d) {
      throw new IllegalArgumentException("params: needs " + d + " floats (" + 4L * d + " bytes), has "
          + params.bytes() + " bytes");
    }
    if (gradAccum.bytes() < 8L * d) {
      throw new IllegalArgumentException("gradAccum: needs " + d + " doubles (" + 8L * d + " bytes), has "
          + gradAccum.bytes() + " bytes");
    }
    checkBlock(block);
    int n = block.numRows();
    if (n == 0) {
      return 0;
    }
    int layers = sizes.length - 1;
    int c = sizes[layers];
    int softmaxBlocks = ceilDiv(n, SOFTMAX_ROWS_PER_BLOCK);
    int chunkRows = GpuMultinomialLogisticRegression.columnChunkRows(n);
    int chunks = ceilDiv(n, chunkRows);
    SgemmPlan[] gradientPlans = new SgemmPlan[layers];
    long splitFloats = 0;
    int widestOut = 0;
    int widestHidden = 0;
    for (int l = 0; l < layers; l++) {
      gradientPlans[l] = SgemmPlan.splitK(sizes[l + 1], sizes[l], n, multiprocessors);
      splitFloats = Math.max(splitFloats, (long) gradientPlans[l].splits() * sizes[l + 1] * sizes[l]);
      widestOut = Math.max(widestOut, sizes[l + 1]);
      if (l > 0) {
        widestHidden = Math.max(widestHidden, sizes[l]);
      }
    }
    for (int l = 1; l <= layers; l++) {
      activations[l] = ensure(activations[l], 4L * n * sizes[l]);
    }
    if (widestHidden > 0) {
      deltaA = ensure(deltaA, 4L * n * widestHidden);
      deltaB = ensure(deltaB, 4L * n * widestHidden);
    }
    splitGradient = ensure(splitGradient, 4L * splitFloats);
    columnSums = ensure(columnSums, 8L * chunks * widestOut);
    blockLoss = ensure(blockLoss, 8L * softmaxBlocks);
    loss = ensure(loss, 8);

    for (int l = 0; l < layers; l++) {
      int in = sizes[l];
      int out = sizes[l + 1];
      DeviceBuffer input = l == 0 ? block.features() : activations[l];
      sgemm.nt(stream, SgemmPlan.single(n, out, in), n, out, in, input, in, weights(params, l), in,
          activations[l + 1], out, bias(params, l));
      if (l + 1 < layers) {
        long count = (long) n * out;
        activate.launch(stream, elementwiseBlocks(count), 1, BLOCK_THREADS, 1, 0,
            activations[l + 1], count, activationCode);
      }
    }
    softmaxResidual.launch(stream, softmaxBlocks, 1, BLOCK_THREADS, 1, 0,
        activations[layers], block.labels(), block.weights(), n, c, blockLoss);

    DeviceBuffer delta = activations[layers];
    for (int l = layers - 1; l >= 0; l--) {
      int in = sizes[l];
      int out = sizes[l + 1];
      DeviceBuffer input = l == 0 ? block.features() : activations[l];
      SgemmPlan plan = gradientPlans[l];
      columnPartials.launch(stream, ceilDiv(out, BLOCK_THREADS), chunks, BLOCK_THREADS, 1, 0,
          delta, n, out, chunkRows, columnSums);
      sgemm.tn(stream, plan, out, in, n, delta, out, input, in, splitGradient, in);
      // Layer l's block of θ is W_l then b_l: lr_finish's layout with the intercept. Every layer's call also
      // writes the (same) loss.
      int layerParams = out * in + out;
      finish.launch(stream, finishBlocks(layerParams, multiprocessors), 1, BLOCK_THREADS, 1, 0,
          splitGradient, plan.splits(), out * in, gradAccum.view(8L * weightOffsets[l], 8L * layerParams),
          columnSums, chunks, out, 1, blockLoss, softmaxBlocks, loss);
      if (l > 0) {
        DeviceBuffer next = delta == deltaA ? deltaB : deltaA;
        sgemm.nn(stream, SgemmPlan.single(n, in, out), n, in, out, delta, out, weights(params, l), in, next, in);
        long count = (long) n * in;
        activationBackward.launch(stream, elementwiseBlocks(count), 1, BLOCK_THREADS, 1, 0,
            next, activations[l], count, activationCode);
        delta = next;
      }
    }
    stream.synchronize();
    loss.copyTo(lossHost, 0, 1, 0);
    return lossHost[0];
  }

  /** Blocks of lr_finish for a layer of {@code layerParams} parameters (grid-stride beyond 8 per SM). */
  static int finishBlocks(int layerParams, int multiprocessors) {
    return Math.max(1, Math.min(ceilDiv(layerParams, BLOCK_THREADS), 8 * multiprocessors));
  }

  /** Blocks for an element-wise kernel over {@code count} values (grid-stride beyond the cap). */
  static int elementwiseBlocks(long count) {
    return (int) Math.max(1, Math.min(MAX_ELEMENTWISE_BLOCKS, (count + BLOCK_THREADS - 1) / BLOCK_THREADS));
  }

  /** Returns the scratch and the stream; closing twice does nothing. */
  @Override
  public void close() {
    if (closed) {
      return;
    }
    closed = true;
    stream.synchronize();
    for (DeviceBuffer b : activations) {
      if (b != null) {
        b.close();
      }
    }
    for (DeviceBuffer b : new DeviceBuffer[] {deltaA, deltaB, splitGradient, columnSums, blockLoss, loss, paramsF32,
        gradientF64}) {
      if (b != null) {
        b.close();
      }
    }
    stream.close();
  }

  private int numClasses() {
    return sizes[sizes.length - 1];
  }

  private DeviceBuffer weights(DeviceBuffer params, int l) {
    return params.view(4L * weightOffsets[l], 4L * sizes[l + 1] * sizes[l]);
  }

  private DeviceBuffer bias(DeviceBuffer params, int l) {
    return params.view(4L * (weightOffsets[l] + sizes[l + 1] * sizes[l]), 4L * sizes[l + 1]);
  }

  /** A buffer of at least {@code bytes}: {@code current} if big enough, else a new one (no work is pending). */
  private DeviceBuffer ensure(DeviceBuffer current, long bytes) {
    if (current != null && current.bytes() >= bytes) {
      return current;
    }
    if (current != null) {
      current.close();
    }
    return ctx.allocate(bytes);
  }

  private void checkBlock(GpuBlock block) {
    if (block.numFeatures() != sizes[0] || block.numClasses() != numClasses()) {
      throw new IllegalArgumentException("block: uploaded for " + block.numFeatures() + " features and "
          + block.numClasses() + " classes, this model has " + sizes[0] + " and " + numClasses());
    }
  }

  private void checkOpen() {
    if (closed) {
      throw new IllegalStateException("model: used after close");
    }
  }

  private static void checkLength(String name, double[] array, int expected) {
    if (array.length != expected) {
      throw new IllegalArgumentException(name + ": expected " + expected + " values, got " + array.length);
    }
  }

  private static int ceilDiv(int a, int b) {
    return (int) ((a + (long) b - 1) / b);
  }
}
