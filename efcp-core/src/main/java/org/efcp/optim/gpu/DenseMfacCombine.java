package org.efcp.optim.gpu;

/**
 * When {@link GpuDenseMfacPipeline} forms u = x/λ − Σ_j M_j x_j, its second pass over the window. Both give u to
 * rounding (they sum the rows in different orders) from the same m×m step ({@link MfacCholeskyKernel}).
 * {@link #SEPARATE} is the default until a device measurement ({@code GpuStepBench}'s dense lines with
 * {@code "combine"}) shows which is faster; then the slower one goes. Package private: the pipeline's public
 * constructor takes {@link #SEPARATE}.
 */
enum DenseMfacCombine {
  /**
   * {@code dmfac_combine} after the m×m step kernel: the pass starts once every coefficient is known (2.17 ms per
   * step at d = 769,000, m = 1024 on an H200 with the rows kernel, of which the m×m kernel 0.70 ms and the pass
   * 0.73 ms). The default.
   */
  SEPARATE,
  /**
   * The step and the pass in one launch ({@code mchol_overlap_step_C} / {@code mchol_overlap_wave_C}): one block
   * takes the m×m step and publishes the coefficients as its back solve produces them, in groups of 32; the other
   * blocks (one per multiprocessor but one) read the window in the back solve's row order meanwhile, so the pass
   * hides the back solve, about half of the m×m kernel's time. Not yet measured on a device.
   */
  OVERLAPPED
}
