// CPU emulation of the CUDA features that the rapids-kernels sources use, for efcp-core's kernel harnesses
// (KernelEmulation) and the emulated driver (libcuda.cpp): the blocks of a launch run one at a time, each thread of
// a block (1 to 1024) a fiber of the launching thread (cuda_emulation.cpp), __syncthreads a barrier of all of them
// and every warp shuffle a pair of barriers of its lanes, so a missing or divergent __syncthreads deadlocks here too
// (and is reported). __shared__ becomes static (one block at a time). Atomics are GCC __atomic builtins. Compile with
// -std=c++20 -ffp-contract=off so that float64 arithmetic is plain IEEE like the device's explicit _rn operations.
#pragma once
#include <atomic>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <functional>
#include <vector>
#include <algorithm>

struct emu_dim3 { unsigned int x, y, z; };
extern emu_dim3 threadIdx;  // the running fiber's
extern emu_dim3 blockIdx;   // one block at a time: shared by all workers
extern emu_dim3 blockDim;
extern emu_dim3 gridDim;

#define __global__
#define __device__
#define __host__
#define __forceinline__ inline
#define __shared__ static
#define __restrict__ __restrict
// For gemm.cu, lr.cu and mlp.cu (mlp_harness.cpp): launch bounds, alignment, read-only loads, xor shuffles.
#define __launch_bounds__(...)
#define __align__(n) __attribute__((aligned(n)))

void emu_syncthreads();
void emu_warp_sync(int warp);
// Lets the block's other threads run (a spin-wait's body: one fiber at a time would otherwise spin forever).
void emu_yield();
extern uint64_t emu_warp_buf[32][32];

inline void __syncthreads() { emu_syncthreads(); }
// mfac_cholesky.cu's spin-waits (its default, for the device, is empty).
#define EFCP_SPIN_YIELD() emu_yield()
// mfac_cholesky.cu's waits on another block of the launch (the overlapped combination): the blocks run one at a time
// here, so such a wait could never end; it traps at its first poll instead of hanging.
#define MCHOL_GRID_BACKOFF()
#define MCHOL_MAX_GRID_POLLS 1

template <typename T>
inline T emu_shfl(T v, int srcLane, bool valid) {
  int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
  uint64_t bits = 0;
  std::memcpy(&bits, &v, sizeof(T));
  emu_warp_buf[warp][lane] = bits;
  emu_warp_sync(warp);
  uint64_t got = emu_warp_buf[warp][valid ? srcLane : lane];
  emu_warp_sync(warp);
  T out;
  std::memcpy(&out, &got, sizeof(T));
  return out;
}
template <typename T> inline T __shfl_down_sync(unsigned, T v, int off) {
  int lane = threadIdx.x & 31;
  return emu_shfl(v, lane + off, lane + off < 32);
}
template <typename T> inline T __shfl_up_sync(unsigned, T v, int off) {
  int lane = threadIdx.x & 31;
  return emu_shfl(v, lane - off, lane - off >= 0);
}
template <typename T> inline T __shfl_sync(unsigned, T v, int srcLane) {
  return emu_shfl(v, srcLane & 31, true);
}
template <typename T> inline T __shfl_xor_sync(unsigned, T v, int mask) {
  int lane = threadIdx.x & 31;
  return emu_shfl(v, lane ^ mask, true);
}
// Every lane of the calling warp must call it (as the kernels do).
inline void __syncwarp(unsigned = 0xffffffffu) { emu_warp_sync(threadIdx.x >> 5); }

// The lanes of the calling warp whose v equals this lane's (every lane must call it).
inline unsigned int __match_any_sync(unsigned, unsigned int v) {
  int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
  emu_warp_buf[warp][lane] = v;
  emu_warp_sync(warp);
  unsigned int peers = 0;
  for (int l = 0; l < 32; l++) {
    if ((unsigned int)emu_warp_buf[warp][l] == v) peers |= 1u << l;
  }
  emu_warp_sync(warp);
  return peers;
}
inline int __ffs(unsigned int x) { return __builtin_ffs((int)x); }
inline int __popc(unsigned int x) { return __builtin_popcount(x); }

inline unsigned int atomicAdd(unsigned int* p, unsigned int v) { return __atomic_fetch_add(p, v, __ATOMIC_SEQ_CST); }
inline unsigned int atomicOr(unsigned int* p, unsigned int v) { return __atomic_fetch_or(p, v, __ATOMIC_SEQ_CST); }
inline double atomicAdd(double* p, double v) {
  uint64_t* q = (uint64_t*)p;
  uint64_t old = __atomic_load_n(q, __ATOMIC_SEQ_CST);
  while (true) {
    double o; std::memcpy(&o, &old, 8);
    double n = o + v; uint64_t nb; std::memcpy(&nb, &n, 8);
    if (__atomic_compare_exchange_n(q, &old, nb, false, __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST)) return o;
  }
}
template <typename T>
inline T emu_atomic_max(T* p, T v) {
  T old = __atomic_load_n(p, __ATOMIC_SEQ_CST);
  while (old < v && !__atomic_compare_exchange_n(p, &old, v, false, __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST)) {}
  return old;
}
inline unsigned int atomicMax(unsigned int* p, unsigned int v) { return emu_atomic_max(p, v); }
inline unsigned long long atomicMax(unsigned long long* p, unsigned long long v) { return emu_atomic_max(p, v); }
inline void __threadfence() { __atomic_thread_fence(__ATOMIC_SEQ_CST); }
inline void __threadfence_block() { __atomic_thread_fence(__ATOMIC_SEQ_CST); }
// A kernel's own failure: the device ends the launch with an error; here the process ends, saying so.
[[noreturn]] inline void __trap() {
  std::fprintf(stderr, "emu: __trap() in block (%u, %u), thread %u\n", blockIdx.x, blockIdx.y, threadIdx.x);
  std::abort();
}
template <typename T> inline T __ldcg(const T* p) { T v; __atomic_load(p, &v, __ATOMIC_SEQ_CST); return v; }
template <typename T> inline T __ldg(const T* p) { return *p; }
inline long long __double_as_longlong(double x) { long long r; std::memcpy(&r, &x, 8); return r; }
inline double rsqrt(double x) { return 1.0 / std::sqrt(x); }  // the device's is within 1 ulp of this
inline double __dmul_rn(double a, double b) { return a * b; }
inline double __dadd_rn(double a, double b) { return a + b; }
inline double __dsub_rn(double a, double b) { return a - b; }
struct float4 { float x, y, z, w; };
inline float4 make_float4(float x, float y, float z, float w) { return {x, y, z, w}; }
struct float2 { float x, y; };
inline float2 make_float2(float x, float y) { return {x, y}; }
inline unsigned int __float_as_uint(float x) { unsigned int r; std::memcpy(&r, &x, 4); return r; }
inline float __uint_as_float(unsigned int x) { float r; std::memcpy(&r, &x, 4); return r; }
using std::min;
using std::max;

// Runs body (one kernel call) over gridX × gridY blocks of `threads` threads (1 to 1024), blocks in order (x fastest).
// One launch at a time: callers on several threads must serialise their launches.
void emu_launch(unsigned int gridX, unsigned int gridY, unsigned int threads, const std::function<void()>& body);
inline void emu_launch(unsigned int gridX, unsigned int threads, const std::function<void()>& body) {
  emu_launch(gridX, 1, threads, body);
}
