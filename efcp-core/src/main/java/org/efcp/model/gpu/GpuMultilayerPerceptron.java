package org.efcp.model.gpu;

import org.efcp.cuda.DeviceBuffer;
import org.efcp.cuda.GpuContext;
import org.efcp.cuda.Kernel;
import org.efcp.model.Activation;
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
public final class GpuMultilayerPerceptron extends GpuSoftmaxModel {
  /** Element-wise kernels stride over the values with at most this many blocks. */
  private static final int MAX_ELEMENTWISE_BLOCKS = 65_535;

  private final int[] sizes;
  private final Activation activation;
  private final int activationCode;
  private final int[] weightOffsets;
  private final Kernel activate;
  private final Kernel activationBackward;

  /** activations[l] for l = 1..L: n × s_l; activations[L] holds the logits, then Δ_L. */
  private final ScratchBuffer[] activations;
  private final ScratchBuffer deltaA;
  private final ScratchBuffer deltaB;

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
    this(ctx, new MultilayerPerceptron(layerSizes, activation), precision);
  }

  private GpuMultilayerPerceptron(GpuContext ctx, MultilayerPerceptron cpu, SgemmPrecision precision) {
    super(ctx, cpu.numFeatures(), cpu.numClasses(), cpu.numParameters(), precision);
    this.sizes = cpu.layerSizes();
    this.activation = cpu.activation();
    this.activationCode = activationCode(activation);
    this.weightOffsets = weightOffsets(sizes);
    this.activate = ctx.module("mlp").kernel("mlp_activate");
    this.activationBackward = ctx.module("mlp").kernel("mlp_activation_backward");
    this.activations = new ScratchBuffer[sizes.length];
    for (int l = 1; l < sizes.length; l++) {
      activations[l] = scratch();
    }
    this.deltaA = scratch();
    this.deltaB = scratch();
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

  /** Forward through every layer, softmax residual, then backward from the last layer (θ: per layer W_l, b_l). */
  @Override
  void queueLossAndGradient(GpuBlock block, DeviceBuffer params, DeviceBuffer gradAccum) {
    int n = block.numRows();
    int layers = sizes.length - 1;
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
    DeviceBuffer[] h = new DeviceBuffer[sizes.length];
    h[0] = block.features();
    for (int l = 1; l <= layers; l++) {
      h[l] = activations[l].atLeast(4L * n * sizes[l]);
    }
    DeviceBuffer errorA = widestHidden > 0 ? deltaA.atLeast(4L * n * widestHidden) : null;
    DeviceBuffer errorB = widestHidden > 0 ? deltaB.atLeast(4L * n * widestHidden) : null;
    growOutputScratch(n, splitFloats, widestOut);

    for (int l = 0; l < layers; l++) {
      int in = sizes[l];
      int out = sizes[l + 1];
      sgemm.nt(stream, SgemmPlan.single(n, out, in), n, out, in, h[l], in, weights(params, l), in, h[l + 1], out,
          bias(params, l));
      if (l + 1 < layers) {
        long count = (long) n * out;
        activate.launch(stream, elementwiseBlocks(count), 1, BLOCK_THREADS, 1, 0, h[l + 1], count, activationCode);
      }
    }
    queueSoftmaxResidual(block, h[layers]);

    DeviceBuffer delta = h[layers];
    for (int l = layers - 1; l >= 0; l--) {
      int in = sizes[l];
      int out = sizes[l + 1];
      // Layer l's block of θ is W_l then b_l: lr_finish's layout with the intercept. Every layer's call also
      // writes the (same) loss.
      int layerParams = out * in + out;
      queueLayerGradient(gradientPlans[l], n, out, in, delta, h[l], true,
          gradAccum.view(8L * weightOffsets[l], 8L * layerParams));
      if (l > 0) {
        DeviceBuffer next = delta == errorA ? errorB : errorA;
        sgemm.nn(stream, SgemmPlan.single(n, in, out), n, in, out, delta, out, weights(params, l), in, next, in);
        long count = (long) n * in;
        activationBackward.launch(stream, elementwiseBlocks(count), 1, BLOCK_THREADS, 1, 0,
            next, h[l], count, activationCode);
        delta = next;
      }
    }
  }

  /** Blocks for an element-wise kernel over {@code count} values (grid-stride beyond the cap). */
  static int elementwiseBlocks(long count) {
    return (int) Math.max(1, Math.min(MAX_ELEMENTWISE_BLOCKS, (count + BLOCK_THREADS - 1) / BLOCK_THREADS));
  }

  private DeviceBuffer weights(DeviceBuffer params, int l) {
    return params.view(4L * weightOffsets[l], 4L * sizes[l + 1] * sizes[l]);
  }

  private DeviceBuffer bias(DeviceBuffer params, int l) {
    return params.view(4L * (weightOffsets[l] + sizes[l + 1] * sizes[l]), 4L * sizes[l + 1]);
  }
}
