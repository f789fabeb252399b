package org.efcp.model.gpu;

import jcuda.driver.CUdevice;
import jcuda.driver.CUdevice_attribute;
import jcuda.driver.CUresult;
import jcuda.driver.JCudaDriver;
import org.efcp.cuda.CudaException;
import org.efcp.cuda.DeviceBuffer;
import org.efcp.cuda.GpuContext;
import org.efcp.cuda.GpuStream;
import org.efcp.cuda.Kernel;
import org.efcp.model.DenseBlock;
import org.efcp.model.MultinomialLogisticRegression;

/**
 * The loss and gradient of {@link MultinomialLogisticRegression} computed on a GPU with the project's own
 * kernels (rapids-kernels {@code gemm.cu}, {@code lr.cu}): same parameter layout (W, C × F row-major, then b,
 * C, with {@code fitIntercept}), same semantics (Σ_i w_i ℓ_i returned, Σ_i w_i ∇ℓ_i added; a zero weight
 * contributes nothing), float32 arithmetic inside.
 *
 * <p>Per call, on one stream: logits Z = X Wᵀ + b by an fp32 SGEMM (n × C); per row a stable softmax in float32
 * with the loss in float64, overwriting Z with R = w_i (softmax − onehot); ∇W = Rᵀ X by an fp32 SGEMM split
 * over rows into partial products, which are summed in float64 in a fixed order into the float64 gradient
 * together with the bias gradient Σ_i R_i (float64). The result is deterministic. Against the CPU model in
 * float64 it differs by the float32 rounding of features, weights and parameters and by float32 accumulation
 * over F (logits) and over a split's rows (∇W): in practice a relative difference near 1e-6.
 *
 * <p>With {@link SgemmPrecision#TF32} both products run on TF32 tensor cores: faster, but the results change
 * (operands rounded to 10 mantissa bits; expect relative differences near 1e-3 instead of 1e-6).
 *
 * <p>Scratch device memory (n·C floats of logits, the split partial products of C·F floats each) is kept
 * between calls and grown as needed. Not thread-safe: use one instance per thread. Blocks have at most
 * 8,388,480 rows (the grid limit of one logits product).
 */
public final class GpuMultinomialLogisticRegression implements GpuModel {
  private static final int BLOCK_THREADS = 256;
  private static final int SOFTMAX_ROWS_PER_BLOCK = BLOCK_THREADS / 32;
  /** Rows per bias-gradient partial sum (at least; more for huge blocks, to keep ≤ 4096 partials). */
  private static final int COLUMN_CHUNK_ROWS = 64;
  private static final int MAX_COLUMN_CHUNKS = 4096;

  private final GpuContext ctx;
  private final int numFeatures;
  private final int numClasses;
  private final boolean fitIntercept;
  private final int multiprocessors;
  private final Sgemm sgemm;
  private final Kernel softmaxResidual;
  private final Kernel columnPartials;
  private final Kernel finish;
  private final GpuStream stream;

  private DeviceBuffer logits;
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
   * @param numFeatures F ≥ 1
   * @param numClasses C ≥ 2
   * @param fitIntercept whether θ ends with the bias b
   */
  public GpuMultinomialLogisticRegression(GpuContext ctx, int numFeatures, int numClasses, boolean fitIntercept) {
    this(ctx, numFeatures, numClasses, fitIntercept, SgemmPrecision.FP32);
  }

  /**
   * @param ctx the device to run on
   * @param numFeatures F ≥ 1
   * @param numClasses C ≥ 2
   * @param fitIntercept whether θ ends with the bias b
   * @param precision how the two SGEMMs multiply; {@link SgemmPrecision#TF32} changes the results
   */
  public GpuMultinomialLogisticRegression(GpuContext ctx, int numFeatures, int numClasses, boolean fitIntercept,
      SgemmPrecision precision) {
    checkShape(numFeatures, numClasses);
    if (precision == null) {
      throw new IllegalArgumentException("precision: must not be null");
    }
    if (ctx == null) {
      throw new IllegalArgumentException("ctx: must not be null");
    }
    this.ctx = ctx;
    this.numFeatures = numFeatures;
    this.numClasses = numClasses;
    this.fitIntercept = fitIntercept;
    this.multiprocessors = multiprocessorCount(ctx);
    this.sgemm = new Sgemm(ctx, precision);
    this.softmaxResidual = ctx.module("lr").kernel("lr_softmax_residual");
    this.columnPartials = ctx.module("lr").kernel("lr_column_partials");
    this.finish = ctx.module("lr").kernel("lr_finish");
    this.stream = ctx.createStream();
  }

  /** The same argument checks as {@link MultinomialLogisticRegression}'s constructor. */
  static void checkShape(int numFeatures, int numClasses) {
    if (numFeatures < 1) {
      throw new IllegalArgumentException("numFeatures: must be >= 1, got " + numFeatures);
    }
    if (numClasses < 2) {
      throw new IllegalArgumentException("numClasses: must be >= 2, got " + numClasses);
    }
    if ((long) numClasses * (numFeatures + 1) >= Integer.MAX_VALUE) {
      throw new IllegalArgumentException("numClasses: " + numClasses + " x " + numFeatures + " is too large");
    }
  }

  public int numFeatures() {
    return numFeatures;
  }

  public int numClasses() {
    return numClasses;
  }

  public boolean fitIntercept() {
    return fitIntercept;
  }

  public SgemmPrecision precision() {
    return sgemm.precision();
  }

  /** d = C·F + C with the intercept, C·F without. */
  @Override
  public int numParameters() {
    return numClasses * numFeatures + (fitIntercept ? numClasses : 0);
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
    if (block.numFeatures() != numFeatures) {
      throw new IllegalArgumentException(
          "features: expected " + numFeatures + " columns, got " + block.numFeatures());
    }
    return GpuBlock.upload(ctx, block, numClasses);
  }

  /**
   * Adds Σ_i w_i ∇ℓ_i(θ) into {@code gradAccum} and returns Σ_i w_i ℓ_i(θ), as
   * {@link MultinomialLogisticRegression#addLossAndGradient} does on the CPU; θ is rounded to float32 for
   * the device.
   *
   * @param params θ, length d
   * @param gradAccum length d; added to, not overwritten
   */
  @Override
  public double addLossAndGradient(GpuBlock block, double[] params, double[] gradAccum) {
    checkOpen();
    int d = numParameters();
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
   * @param params θ as d float32 values (W row-major, then b)
   * @param gradAccum d float64 values in the same layout; added to, not overwritten
   */
  @Override
  public double addLossAndGradient(GpuBlock block, DeviceBuffer params, DeviceBuffer gradAccum) {
    checkOpen();
    int d = numParameters();
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
    int c = numClasses;
    int f = numFeatures;
    int cf = c * f;
    SgemmPlan logitsPlan = SgemmPlan.single(n, c, f);
    SgemmPlan gradientPlan = SgemmPlan.splitK(c, f, n, multiprocessors);
    int softmaxBlocks = ceilDiv(n, SOFTMAX_ROWS_PER_BLOCK);
    int chunkRows = columnChunkRows(n);
    int chunks = ceilDiv(n, chunkRows);

    logits = ensure(logits, 4L * n * c);
    splitGradient = ensure(splitGradient, 4L * gradientPlan.splits() * cf);
    columnSums = ensure(columnSums, 8L * (fitIntercept ? (long) chunks * c : 1));
    blockLoss = ensure(blockLoss, 8L * softmaxBlocks);
    loss = ensure(loss, 8);

    DeviceBuffer weightMatrix = params.view(0, 4L * cf);
    DeviceBuffer bias = fitIntercept ? params.view(4L * cf, 4L * c) : null;
    sgemm.nt(stream, logitsPlan, n, c, f, block.features(), f, weightMatrix, f, logits, c, bias);
    softmaxResidual.launch(stream, softmaxBlocks, 1, BLOCK_THREADS, 1, 0,
        logits, block.labels(), block.weights(), n, c, blockLoss);
    if (fitIntercept) {
      columnPartials.launch(stream, ceilDiv(c, BLOCK_THREADS), chunks, BLOCK_THREADS, 1, 0,
          logits, n, c, chunkRows, columnSums);
    }
    sgemm.tn(stream, gradientPlan, c, f, n, logits, c, block.features(), f, splitGradient, f);
    int finishBlocks = Math.max(1, Math.min(ceilDiv(d, BLOCK_THREADS), 8 * multiprocessors));
    finish.launch(stream, finishBlocks, 1, BLOCK_THREADS, 1, 0,
        splitGradient, gradientPlan.splits(), cf, gradAccum, columnSums, chunks, c, fitIntercept ? 1 : 0,
        blockLoss, softmaxBlocks, loss);
    stream.synchronize();
    loss.copyTo(lossHost, 0, 1, 0);
    return lossHost[0];
  }

  /** Rows per bias-gradient partial sum for a block of n rows: 64, or more so that at most 4096 partials. */
  static int columnChunkRows(int n) {
    return Math.max(COLUMN_CHUNK_ROWS, ceilDiv(n, MAX_COLUMN_CHUNKS));
  }

  /** Returns the scratch and the stream; closing twice does nothing. */
  @Override
  public void close() {
    if (closed) {
      return;
    }
    closed = true;
    stream.synchronize();
    for (DeviceBuffer b : new DeviceBuffer[] {logits, splitGradient, columnSums, blockLoss, loss, paramsF32,
        gradientF64}) {
      if (b != null) {
        b.close();
      }
    }
    stream.close();
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

  /** The device's streaming-multiprocessor count (sizes the split-K of the weight gradient). */
  static int multiprocessorCount(GpuContext ctx) {
    CUdevice device = new CUdevice();
    int[] count = {0};
    int r = JCudaDriver.cuDeviceGet(device, ctx.ordinal());
    if (r == CUresult.CUDA_SUCCESS) {
      r = JCudaDriver.cuDeviceGetAttribute(count, CUdevice_attribute.CU_DEVICE_ATTRIBUTE_MULTIPROCESSOR_COUNT,
          device);
    }
    if (r != CUresult.CUDA_SUCCESS) {
      throw new CudaException("cuDeviceGetAttribute(MULTIPROCESSOR_COUNT): " + CUresult.stringFor(r));
    }
    return count[0];
  }

  private static int ceilDiv(int a, int b) {
    return (int) ((a + (long) b - 1) / b);
  }
}
