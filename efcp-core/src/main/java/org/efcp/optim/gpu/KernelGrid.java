package org.efcp.optim.gpu;

/**
 * The block every rapids-kernels kernel is written for ({@code SM_THREADS} in {@code efcp_cuda.cuh}) and the grid
 * that covers n elements with it.
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
