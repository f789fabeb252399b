// Shared device helpers for the project's kernels.
#pragma once

// The global index of this thread in a 1-D grid, in 64 bits so that loops over n close to 2^31 cannot overflow.
__device__ __forceinline__ long long efcp_thread_index() {
  return (long long)blockIdx.x * blockDim.x + threadIdx.x;
}

// The number of threads in a 1-D grid: the step of a grid-stride loop.
__device__ __forceinline__ long long efcp_grid_stride() {
  return (long long)gridDim.x * blockDim.x;
}
