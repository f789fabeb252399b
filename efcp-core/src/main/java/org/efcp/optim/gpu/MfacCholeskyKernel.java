package org.efcp.optim.gpu;

/**
 * Which kernel of {@code mfac_cholesky.cu} takes dense M-FAC's m×m step ({@link GpuMfacCholeskyState}, used by
 * {@link GpuDenseMfacPipeline} and {@link GpuLowRankMfacPipeline}). Both take the same arguments and launch
 * configuration (grid 1, block {@value GpuMfacCholeskyState#STEP_THREADS} threads, no dynamic shared memory) and
 * compute the same step with the same per-column arithmetic in the same order (bitwise the same R, K, M and drift on
 * the CPU emulation; on the device nvcc may contract them to FMAs differently, so they agree to rounding); they
 * differ only in how the two sequential passes are synchronised. {@link #ROWS} is the default until a device
 * measurement ({@code GpuStepBench}'s lines with {@code "mxm_kernel"}) shows which is faster; then the slower one
 * goes. Package private: the pipelines' public constructors take {@link #ROWS}.
 */
enum MfacCholeskyKernel {
  /**
   * {@code mchol_step_C}: one {@code __syncthreads} per row of each pass (2m − 1 barriers per step), each row bound by
   * the latency of one prefetched load per thread; 0.68 ms per step at m = 1024 on an H200 (BENCHMARKS.md). The
   * default.
   */
  ROWS,
  /**
   * {@code mchol_wave_C}: no block barrier per row. Each warp applies the rows in order to its own columns; the owner
   * lane of a row publishes the row's rotation (c, s, y) to a shared-memory ring of 1024 records and raises a
   * {@code produced} counter, and the other warps spin only on rows they do not produce. The back solve mirrors it;
   * 3 barriers per step. Not yet measured on a device.
   */
  WAVEFRONT
}
