package org.efcp.model.gpu;

import java.util.ArrayList;
import java.util.List;
import org.efcp.cuda.DeviceBuffer;
import org.efcp.cuda.GpuContext;
import org.efcp.cuda.GpuStream;
import org.efcp.cuda.Kernel;
import org.efcp.model.DenseBlock;

/**
 * What the GPU models with a softmax cross-entropy output over C classes share
 * ({@link GpuMultinomialLogisticRegression}, {@link GpuMultilayerPerceptron}): blocks of F features, the argument
 * checks, the host-array form of {@code addLossAndGradient} on top of the device-resident one, the output side in
 * {@code lr.cu}'s kernels (softmax residual with the loss; a dense layer's weight and bias gradient summed in
 * float64) and the scratch they use, kept between calls and grown on demand. A subclass queues its forward and
 * backward passes on {@link #stream}; this class waits for them and reads the loss back.
 */
abstract class GpuSoftmaxModel implements GpuModel {
  static final int BLOCK_THREADS = 256;
  private static final int SOFTMAX_ROWS_PER_BLOCK = BLOCK_THREADS / 32;
  /** Rows per bias-gradient partial sum (at least; more for huge blocks, to keep ≤ 4096 partials). */
  private static final int COLUMN_CHUNK_ROWS = 64;
  private static final int MAX_COLUMN_CHUNKS = 4096;

  final GpuContext ctx;
  final Sgemm sgemm;
  final GpuStream stream;
  /** Sizes the split-K of the weight gradients. */
  final int multiprocessors;
  final int numFeatures;
  final int numClasses;
  private final int numParameters;
  private final Kernel softmaxResidual;
  private final Kernel columnPartials;
  private final Kernel finish;

  private final List<ScratchBuffer> scratch = new ArrayList<>();
  private final ScratchBuffer splitGradient;
  private final ScratchBuffer columnSums;
  private final ScratchBuffer blockLoss;
  private final ScratchBuffer loss;
  /** θ as float32 and the gradient as float64 for the host-array form (allocated on its first call). */
  private final ScratchBuffer paramsF32;
  private final ScratchBuffer gradientF64;
  private float[] paramsHost;
  private double[] gradientHost;
  private final double[] lossHost = new double[1];
  private boolean closed;

  /**
   * Checks {@code precision}, then {@code ctx} (a subclass checks its shape first, in the arguments it passes).
   *
   * @param numParameters d, the length of θ
   */
  GpuSoftmaxModel(GpuContext ctx, int numFeatures, int numClasses, int numParameters, SgemmPrecision precision) {
    if (precision == null) {
      throw new IllegalArgumentException("precision: must not be null");
    }
    if (ctx == null) {
      throw new IllegalArgumentException("ctx: must not be null");
    }
    this.ctx = ctx;
    this.numFeatures = numFeatures;
    this.numClasses = numClasses;
    this.numParameters = numParameters;
    this.multiprocessors = ctx.multiprocessorCount();
    this.sgemm = new Sgemm(ctx, precision);
    this.softmaxResidual = ctx.module("lr").kernel("lr_softmax_residual");
    this.columnPartials = ctx.module("lr").kernel("lr_column_partials");
    this.finish = ctx.module("lr").kernel("lr_finish");
    this.stream = ctx.createStream();
    this.splitGradient = scratch();
    this.columnSums = scratch();
    this.blockLoss = scratch();
    this.loss = scratch();
    this.paramsF32 = scratch();
    this.gradientF64 = scratch();
  }

  /** How the matrix products multiply. */
  public SgemmPrecision precision() {
    return sgemm.precision();
  }

  @Override
  public final int numParameters() {
    return numParameters;
  }

  /**
   * Copies {@code block} to the device (features and weights rounded to float32, labels to int32).
   *
   * @throws IllegalArgumentException "features: ..." when its width is not F, "label: ..." when a label is
   *     not an integer in [0, C)
   */
  @Override
  public final GpuBlock upload(DenseBlock block) {
    checkOpen();
    if (block.numFeatures() != numFeatures) {
      throw new IllegalArgumentException(
          "features: expected " + numFeatures + " columns, got " + block.numFeatures());
    }
    return GpuBlock.upload(ctx, block, numClasses);
  }

  /**
   * Adds Σ_i w_i ∇ℓ_i(θ) into {@code gradAccum} and returns Σ_i w_i ℓ_i(θ), as the CPU model's
   * {@code addLossAndGradient} does; θ is rounded to float32 for the device.
   *
   * @param params θ, length d
   * @param gradAccum length d; added to, not overwritten
   */
  @Override
  public final double addLossAndGradient(GpuBlock block, double[] params, double[] gradAccum) {
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
    }
    DeviceBuffer params32 = paramsF32.atLeast(4L * d);
    DeviceBuffer gradient64 = gradientF64.atLeast(8L * d);
    for (int j = 0; j < d; j++) {
      paramsHost[j] = (float) params[j];
    }
    params32.copyFrom(paramsHost, 0, d, 0);
    gradient64.zero(stream);
    double result = addLossAndGradient(block, params32, gradient64);
    gradient64.copyTo(gradientHost, 0, d, 0);
    for (int j = 0; j < d; j++) {
      gradAccum[j] += gradientHost[j];
    }
    return result;
  }

  /**
   * The device-resident form: θ and the gradient stay on the device. Adds Σ_i w_i ∇ℓ_i(θ) into
   * {@code gradAccum} and returns Σ_i w_i ℓ_i(θ) (waiting for the device to finish).
   *
   * @param params θ as d float32 values, in the CPU model's layout
   * @param gradAccum d float64 values in the same layout; added to, not overwritten
   */
  @Override
  public final double addLossAndGradient(GpuBlock block, DeviceBuffer params, DeviceBuffer gradAccum) {
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
    if (block.numRows() == 0) {
      return 0;
    }
    queueLossAndGradient(block, params, gradAccum);
    stream.synchronize();
    loss.buffer().copyTo(lossHost, 0, 1, 0);
    return lossHost[0];
  }

  /**
   * Queues, on {@link #stream}, what adds the gradient of {@code block} (at least one row, checked against this
   * model) into {@code gradAccum} and writes its loss: {@link #growOutputScratch} first, then the forward pass,
   * {@link #queueSoftmaxResidual} and, per layer, {@link #queueLayerGradient}.
   */
  abstract void queueLossAndGradient(GpuBlock block, DeviceBuffer params, DeviceBuffer gradAccum);

  /** A scratch buffer returned by {@link #close()}. */
  final ScratchBuffer scratch() {
    ScratchBuffer b = new ScratchBuffer(ctx);
    scratch.add(b);
    return b;
  }

  /**
   * Sizes the output side's scratch for a call on {@code n} rows: split partial products of up to
   * {@code splitFloats} floats, bias gradients of up to {@code biasColumns} columns (0: none).
   */
  final void growOutputScratch(int n, long splitFloats, int biasColumns) {
    int chunks = SgemmPlan.ceilDiv(n, columnChunkRows(n));
    splitGradient.atLeast(4L * splitFloats);
    columnSums.atLeast(8L * Math.max(1, (long) chunks * biasColumns));
    blockLoss.atLeast(8L * SgemmPlan.ceilDiv(n, SOFTMAX_ROWS_PER_BLOCK));
    loss.atLeast(8);
  }

  /**
   * Queues {@code lr_softmax_residual}: per row a stable softmax of the n × C {@code logits}, overwritten with
   * R = w_i (softmax − onehot), and the weighted loss in per-block float64 partials.
   */
  final void queueSoftmaxResidual(GpuBlock block, DeviceBuffer logits) {
    int n = block.numRows();
    softmaxResidual.launch(stream, SgemmPlan.ceilDiv(n, SOFTMAX_ROWS_PER_BLOCK), 1, BLOCK_THREADS, 1, 0,
        logits, block.labels(), block.weights(), n, numClasses, blockLoss.buffer());
  }

  /**
   * Queues the gradient of a dense layer Y = X Wᵀ (+ b) from the residual R = ∂loss/∂Y (n × out) and its input X
   * (n × in): with a bias, ∇b = Σ_i R_i as float64 sums of row chunks ({@code lr_column_partials}); ∇W = Rᵀ X by
   * the split SGEMM {@code plan}; then {@code lr_finish} sums the splits in float64 in a fixed order and adds ∇W
   * (out × in) and ∇b (out) into {@code gradient}, and writes the loss.
   */
  final void queueLayerGradient(SgemmPlan plan, int n, int out, int in, DeviceBuffer residual, DeviceBuffer input,
      boolean bias, DeviceBuffer gradient) {
    int chunkRows = columnChunkRows(n);
    int chunks = SgemmPlan.ceilDiv(n, chunkRows);
    int softmaxBlocks = SgemmPlan.ceilDiv(n, SOFTMAX_ROWS_PER_BLOCK);
    if (bias) {
      columnPartials.launch(stream, SgemmPlan.ceilDiv(out, BLOCK_THREADS), chunks, BLOCK_THREADS, 1, 0,
          residual, n, out, chunkRows, columnSums.buffer());
    }
    sgemm.tn(stream, plan, out, in, n, residual, out, input, in, splitGradient.buffer(), in);
    finish.launch(stream, finishBlocks(out * in + (bias ? out : 0), multiprocessors), 1, BLOCK_THREADS, 1, 0,
        splitGradient.buffer(), plan.splits(), out * in, gradient, columnSums.buffer(), chunks, out, bias ? 1 : 0,
        blockLoss.buffer(), softmaxBlocks, loss.buffer());
  }

  /** Rows per bias-gradient partial sum for a block of n rows: 64, or more so that at most 4096 partials. */
  static int columnChunkRows(int n) {
    return Math.max(COLUMN_CHUNK_ROWS, SgemmPlan.ceilDiv(n, MAX_COLUMN_CHUNKS));
  }

  /** Blocks of lr_finish for a layer of {@code layerParams} parameters (grid-stride beyond 8 per SM). */
  static int finishBlocks(int layerParams, int multiprocessors) {
    return Math.max(1, Math.min(SgemmPlan.ceilDiv(layerParams, BLOCK_THREADS), 8 * multiprocessors));
  }

  /** Returns the scratch and the stream; closing twice does nothing. */
  @Override
  public final void close() {
    if (closed) {
      return;
    }
    closed = true;
    stream.synchronize();
    for (ScratchBuffer b : scratch) {
      b.close();
    }
    stream.close();
  }

  private void checkBlock(GpuBlock block) {
    if (block.numFeatures() != numFeatures || block.numClasses() != numClasses) {
      throw new IllegalArgumentException("block: uploaded for " + block.numFeatures() + " features and "
          + block.numClasses() + " classes, this model has " + numFeatures + " and " + numClasses);
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
}
