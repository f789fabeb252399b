package org.efcp.model.gpu;

import org.efcp.cuda.DeviceBuffer;
import org.efcp.cuda.GpuContext;
import org.efcp.cuda.GpuStream;
import org.efcp.cuda.Kernel;

/**
 * The project's SGEMM kernels (rapids-kernels {@code gemm.cu}, or {@code gemm_tf32.cu} for
 * {@link SgemmPrecision#TF32}) for the three operand layouts of the model gradients. All matrices are
 * row-major float32 with leading dimensions in floats. At {@link SgemmPrecision#FP32} every product accumulates
 * each output in float32 by fused multiply-adds in k order (within a split), so
 * |computed − exact| ≤ (kChunk + 1)·2⁻²⁴·Σ_k |a_k b_k| per element; TF32 rounds the operands to 10 mantissa
 * bits first (see {@link SgemmPrecision#TF32}).
 */
final class Sgemm {
  private final SgemmPrecision precision;
  private final Kernel nt;
  private final Kernel tn;
  private final Kernel nn;

  /** The fp32 kernels. */
  Sgemm(GpuContext ctx) {
    this(ctx, SgemmPrecision.FP32);
  }

  Sgemm(GpuContext ctx, SgemmPrecision precision) {
    this.precision = precision;
    this.nt = ctx.module(precision.module()).kernel(precision.kernel("nt"));
    this.tn = ctx.module(precision.module()).kernel(precision.kernel("tn"));
    this.nn = ctx.module(precision.module()).kernel(precision.kernel("nn"));
  }

  SgemmPrecision precision() {
    return precision;
  }

  /**
   * Queues C = A Bᵀ (+ bias[j] on column j) with A m × k (lda), B n × k (ldb), C m × n (ldc). With
   * {@code plan.splits() > 1} split z writes its partial product at float offset z·m·ldc of {@code c} and
   * {@code bias} must be null.
   *
   * @param bias n floats, or null for none
   */
  void nt(GpuStream s, SgemmPlan plan, int m, int n, int k, DeviceBuffer a, int lda, DeviceBuffer b, int ldb,
      DeviceBuffer c, int ldc, DeviceBuffer bias) {
    checkOperand("a", "lda", a.bytes(), m, k, lda);
    checkOperand("b", "ldb", b.bytes(), n, k, ldb);
    launch(nt, s, plan, m, n, k, a, lda, b, ldb, c, ldc, bias);
  }

  /**
   * Queues C = Aᵀ B with A k × m (lda), B k × n (ldb), C m × n (ldc); split z of {@code plan} writes its
   * partial product at float offset z·m·ldc of {@code c}.
   */
  void tn(GpuStream s, SgemmPlan plan, int m, int n, int k, DeviceBuffer a, int lda, DeviceBuffer b, int ldb,
      DeviceBuffer c, int ldc) {
    checkOperand("a", "lda", a.bytes(), k, m, lda);
    checkOperand("b", "ldb", b.bytes(), k, n, ldb);
    checkKStrided("lda", lda);
    checkKStrided("ldb", ldb);
    launch(tn, s, plan, m, n, k, a, lda, b, ldb, c, ldc, null);
  }

  /**
   * Queues C = A B with A m × k (lda), B k × n (ldb), C m × n (ldc); split z of {@code plan} writes its partial
   * product at float offset z·m·ldc of {@code c}.
   */
  void nn(GpuStream s, SgemmPlan plan, int m, int n, int k, DeviceBuffer a, int lda, DeviceBuffer b, int ldb,
      DeviceBuffer c, int ldc) {
    checkOperand("a", "lda", a.bytes(), m, k, lda);
    checkOperand("b", "ldb", b.bytes(), k, n, ldb);
    checkKStrided("ldb", ldb);
    launch(nn, s, plan, m, n, k, a, lda, b, ldb, c, ldc, null);
  }

  private static void launch(Kernel kernel, GpuStream s, SgemmPlan plan, int m, int n, int k, DeviceBuffer a,
      int lda, DeviceBuffer b, int ldb, DeviceBuffer c, int ldc, DeviceBuffer bias) {
    checkPlan(plan, m, n, k);
    checkOperand("c", "ldc", c.bytes(), plan.splits() * m, n, ldc);
    if (bias != null) {
      if (plan.splits() != 1) {
        throw new IllegalArgumentException("bias: only with one split, got " + plan.splits());
      }
      checkOperand("bias", "n", bias.bytes(), 1, n, n);
    }
    kernel.launch(s, plan.gridX(), plan.gridY(), SgemmPlan.THREADS, 1, 0, m, n, k, a, lda, b, ldb, c, ldc,
        (long) m * ldc, plan.kChunk(), bias == null ? c : bias, bias == null ? 0 : 1);
  }

  /** Checks that {@code plan} covers exactly an m × n × k product. */
  static void checkPlan(SgemmPlan plan, int m, int n, int k) {
    long rowTiles = (m + (long) SgemmPlan.TILE - 1) / SgemmPlan.TILE;
    long colTiles = (n + (long) SgemmPlan.TILE - 1) / SgemmPlan.TILE;
    boolean covers = m >= 1 && n >= 1 && k >= 0 && plan.gridX() == colTiles
        && plan.gridY() == rowTiles * plan.splits() && plan.kChunk() % SgemmPlan.SLICE == 0
        && (long) plan.kChunk() * plan.splits() >= k && (long) plan.kChunk() * (plan.splits() - 1) < Math.max(k, 1);
    if (!covers) {
      throw new IllegalArgumentException("plan: " + plan + " does not fit an " + m + " x " + n + " x " + k
          + " product");
    }
  }

  /** The largest leading dimension of an operand stored k-major: the kernels step SLICE·ld floats in an int. */
  static final int MAX_K_STRIDED_LD = Integer.MAX_VALUE / SgemmPlan.SLICE;

  /** Checks the leading dimension of an operand whose rows run along k (tn's A and B, nn's B). */
  static void checkKStrided(String ldName, int ld) {
    if (ld > MAX_K_STRIDED_LD) {
      throw new IllegalArgumentException(ldName + ": at most " + MAX_K_STRIDED_LD + " for an operand stored along k"
          + " (the GPU kernels step " + SgemmPlan.SLICE + " rows of it in 32 bits), got " + ld);
    }
  }

  /**
   * Checks a row-major rows × cols operand with leading dimension {@code ld} against a buffer of
   * {@code bytes}.
   */
  static void checkOperand(String name, String ldName, long bytes, int rows, int cols, int ld) {
    if (ld < Math.max(1, cols)) {
      throw new IllegalArgumentException(ldName + ": must be >= " + Math.max(1, cols) + ", got " + ld);
    }
    long needed = rows == 0 || cols == 0 ? 0 : ((long) rows - 1) * ld + cols;
    if (bytes < 4 * needed) {
      throw new IllegalArgumentException(name + ": a " + rows + " x " + cols + " operand with leading dimension "
          + ld + " needs " + 4 * needed + " bytes, the buffer has " + bytes);
    }
  }
}
