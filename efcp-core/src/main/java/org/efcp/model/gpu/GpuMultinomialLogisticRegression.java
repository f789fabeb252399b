package org.efcp.model.gpu;

import org.efcp.cuda.DeviceBuffer;
import org.efcp.cuda.GpuContext;
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
public final class GpuMultinomialLogisticRegression extends GpuSoftmaxModel {
  private final boolean fitIntercept;
  private final ScratchBuffer logits;

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
    // The CPU model's constructor checks the shape, with its messages.
    this(ctx, new MultinomialLogisticRegression(numFeatures, numClasses, fitIntercept), precision);
  }

  private GpuMultinomialLogisticRegression(GpuContext ctx, MultinomialLogisticRegression cpu,
      SgemmPrecision precision) {
    super(ctx, cpu.numFeatures(), cpu.numClasses(), cpu.numParameters(), precision);
    this.fitIntercept = cpu.fitIntercept();
    this.logits = scratch();
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

  /** Logits, softmax residual, then the weight and bias gradient of the one layer (θ: W row-major, then b). */
  @Override
  void queueLossAndGradient(GpuBlock block, DeviceBuffer params, DeviceBuffer gradAccum) {
    int n = block.numRows();
    int c = numClasses;
    int f = numFeatures;
    int cf = c * f;
    SgemmPlan logitsPlan = SgemmPlan.single(n, c, f);
    SgemmPlan gradientPlan = SgemmPlan.splitK(c, f, n, multiprocessors);
    DeviceBuffer z = logits.atLeast(4L * n * c);
    growOutputScratch(n, (long) gradientPlan.splits() * cf, fitIntercept ? c : 0);

    DeviceBuffer weightMatrix = params.view(0, 4L * cf);
    DeviceBuffer bias = fitIntercept ? params.view(4L * cf, 4L * c) : null;
    sgemm.nt(stream, logitsPlan, n, c, f, block.features(), f, weightMatrix, f, z, c, bias);
    queueSoftmaxResidual(block, z);
    queueLayerGradient(gradientPlan, n, c, f, z, block.features(), fitIntercept, gradAccum);
  }
}
