package org.efcp.optim.gpu;

/**
 * Which kernel of {@code mfac_cholesky.cu} takes dense M-FAC's m×m step ({@link GpuMfacCholeskyState}, used by
 * {@link GpuDenseMfacPipeline} and {@link GpuLowRankMfacPipeline}). Both take the same arguments and compute the same
 * step with the same per-column arithmetic in the same order (bitwise the same R, K, M and drift on the CPU
 * emulation; on the device nvcc may contract them to FMAs differently, so they agree to rounding); they differ only
 * in how the two sequential passes are synchronised. {@link #ROWS} is the default until a device measurement
 * ({@code GpuStepBench}'s lines with {@code "mxm_kernel"}) shows which is faster; then the slower one goes. Package
 * private: the pipelines' public constructors take {@link #ROWS}.
 */
enum MfacCholeskyKernel {
  /**
   * {@code mchol_step_C}: one {@code __syncthreads} per row of each pass (2m − 1 barriers per step), each row bound by
   * the L2 latency of one prefetched load per thread. The default.
   */
  ROWS,
  /**
   * {@code mchol_blocked_step_C}: rows in blocks of 32, one warp solving a block's rotations (update) or values
   * (back solve) warp-synchronously, then every thread applying the block to its trailing columns from 32
   * independent loads; 2⌈(m − 1)/32⌉ + 2⌈m/32⌉ + 1 barriers per step (129 at m = 1024).
   */
  BLOCKED
}
