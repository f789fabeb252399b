// Building blocks shared by the kernels. The block-level ones (sm_block_*, sm_last_block) need blocks of exactly
// SM_THREADS (256) threads, one dimension, and contain __syncthreads(), so every thread of the block must call them
// (no early return before).
#pragma once

#define SM_THREADS 256
#define SM_WARPS (SM_THREADS / 32)

typedef unsigned long long sm_u64;

__device__ __forceinline__ double sm_warp_sum(double v) {
  for (int off = 16; off > 0; off >>= 1) {
    v += __shfl_down_sync(0xffffffffu, v, off);
  }
  return v;
}

// The coefficient of window row j in u = x/λ − Σ_j M_j x_j, where the current gradient x is row `slot`: −M_j, plus
// 1/λ for j = slot (GGT's combination is the same with ε for λ). Every window combination, M-FAC's sparse, dense and
// low-rank ones and GGT's, takes it from here.
__device__ __forceinline__ double sm_window_coefficient(int j, int slot, double mj, double invDamping) {
  return j == slot ? invDamping - mj : -mj;
}

__device__ __forceinline__ sm_u64 sm_warp_max_u64(sm_u64 v) {
  for (int off = 16; off > 0; off >>= 1) {
    sm_u64 o = __shfl_down_sync(0xffffffffu, v, off);
    v = o > v ? o : v;
  }
  return v;
}

// The sum of v over the block, returned to every thread. The order of additions is fixed by the thread layout,
// so the result is deterministic.
__device__ __forceinline__ double sm_block_sum(double v) {
  __shared__ double partial[SM_WARPS];
  __shared__ double total;
  const int lane = threadIdx.x & 31;
  const int warp = threadIdx.x >> 5;
  v = sm_warp_sum(v);
  if (lane == 0) {
    partial[warp] = v;
  }
  __syncthreads();
  if (threadIdx.x == 0) {
    double s = 0.0;
    for (int w = 0; w < SM_WARPS; w++) {
      s += partial[w];
    }
    total = s;
  }
  __syncthreads();
  return total;
}

// The exclusive prefix sum of v over the threads of the block in thread order; *blockTotal receives the sum
// of all (every thread).
__device__ __forceinline__ sm_u64 sm_block_exclusive_scan(sm_u64 v, sm_u64* blockTotal) {
  __shared__ sm_u64 warpTotals[SM_WARPS];
  const int lane = threadIdx.x & 31;
  const int warp = threadIdx.x >> 5;
  sm_u64 inclusive = v;
  for (int off = 1; off < 32; off <<= 1) {
    sm_u64 o = __shfl_up_sync(0xffffffffu, inclusive, off);
    if (lane >= off) {
      inclusive += o;
    }
  }
  if (lane == 31) {
    warpTotals[warp] = inclusive;
  }
  __syncthreads();
  sm_u64 before = 0;
  sm_u64 all = 0;
  for (int w = 0; w < SM_WARPS; w++) {
    sm_u64 t = warpTotals[w];
    before += w < warp ? t : 0;
    all += t;
  }
  __syncthreads();  // warpTotals may be reused by the next call
  *blockTotal = all;
  return before + inclusive - v;
}

// Last-block-done protocol: every block calls this after its global writes (atomics included); it returns true
// in exactly one block, the last to arrive, which then sees all the other blocks' writes. The ticket counter
// must be 0 when the launch starts; the caller's last block resets it to 0 for the next launch.
__device__ __forceinline__ bool sm_last_block(unsigned int* ticketCounter) {
  __shared__ bool last;
  __threadfence();
  __syncthreads();
  if (threadIdx.x == 0) {
    unsigned int ticket = atomicAdd(ticketCounter, 1u);
    last = ticket == gridDim.x - 1;
  }
  __syncthreads();
  if (last) {
    __threadfence();
  }
  return last;
}
