package org.efcp.optim.gpu;

/**
 * The block the rapids-kernels kernels are written for ({@code SM_THREADS} in {@code sparse_mfac_block.cuh}; the
 * one-block m×m step has its own, {@link GpuMfacCholeskyState#STEP_THREADS}) and the grid that covers n elements with
 * it.
 */
final class KernelGrid {
  /** Threads per block. */
  static final int THREADS = 256;

  private KernelGrid() {
  }

  /** Blocks of {@link #THREADS} covering {@code n} elements (n ≥ 0, fewer than 2^31 blocks). */
  static int blocks(long n) {
    return (int) ((n + THREADS - 1) / THREADS);
  }
}
