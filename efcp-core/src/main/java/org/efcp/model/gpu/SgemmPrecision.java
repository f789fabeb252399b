package org.efcp.model.gpu;

/**
 * How the GPU models' matrix products multiply: plain fp32 or TF32 on tensor cores. The choice changes results,
 * so FP32 is the default everywhere and TF32 is taken only when asked for.
 */
public enum SgemmPrecision {
  /**
   * fp32 fused multiply-adds (rapids-kernels {@code gemm.cu}): each product of a K-long dot product is exact
   * before its rounded addition, so an output is within about (K + 2)·2⁻²⁴·Σ_k |a_k b_k| of the exact value.
   */
  FP32("gemm", ""),

  /**
   * TF32 tensor cores (rapids-kernels {@code gemm_tf32.cu}, {@code mma.sync m16n8k8}; compute capability 8.0 or
   * newer): both operands are rounded to 10 mantissa bits (round to nearest, ties away) before each product,
   * accumulation stays float32. Each product then carries a relative error up to about 2⁻¹⁰, so outputs
   * differ from FP32 by about 3e-4 of their norm (for random operands; more where sums cancel) — the results
   * change, in exchange for several times the FP32 throughput on large products.
   */
  TF32("gemm_tf32", "_tf32");

  private final String module;
  private final String kernelSuffix;

  SgemmPrecision(String module, String kernelSuffix) {
    this.module = module;
    this.kernelSuffix = kernelSuffix;
  }

  /** The rapids-kernels module holding this precision's SGEMM kernels. */
  String module() {
    return module;
  }

  /** The name of this precision's kernel for operand layout {@code layout} ("nt", "tn" or "nn"). */
  String kernel(String layout) {
    return "sgemm_" + layout + kernelSuffix;
  }
}
