// Register-tiled fp32 SGEMM: C = op(A) op(B) on row-major operands, the classic high-performance CUDA
// structure. A 256-thread block computes a 128 x 128 tile of C; each thread owns 8 x 8 outputs (two 4 x 4
// quadrants 64 apart in each direction, so its shared-memory reads are float4s that a warp serves without bank
// conflicts). K advances in steps of BK = 8: the next BK-slice of both operands is fetched from global memory
// into registers (float4 loads where aligned) while the current slice in shared memory is multiplied, then
// stored into the other half of the double-buffered shared memory, one barrier per slice.
//
// Both operands are staged k-major in shared memory (As[k][m], Bs[k][n]). An operand that is contiguous in k
// (row-major M x K for A, N x K for B) is transposed on the way in; one row is padded by PAD floats, which
// keeps those transposed stores free of bank conflicts and the float4 reads aligned.
//
// Split-K: blockIdx.y = z · ceil(M / 128) + (row tile); the blocks of split z multiply k in
// [z * kChunk, min(K, (z + 1) * kChunk)) and write their partial tile at C + z * splitStride, and the caller
// sums the partials (in a fixed order, so results are deterministic). Every row, column and k index is
// bounds-checked, so any M, N >= 1, K >= 0 and any leading dimensions work; float4 global accesses are used
// only where the base pointer is 16-byte aligned and the leading dimension a multiple of 4, scalar loads
// (zero-filled outside the matrix) everywhere else.
#pragma once

#include <stdint.h>

namespace efcp {

constexpr int kGemmBM = 128;
constexpr int kGemmBN = 128;
constexpr int kGemmBK = 8;
constexpr int kGemmThreads = 256;
constexpr int kGemmPad = 4;
constexpr int kGemmLds = kGemmBM + kGemmPad;  // row length of a staged slice, in floats (BM == BN)

static_assert(kGemmBM == kGemmBN, "one staged row length serves both operands");
static_assert(kGemmBM * kGemmBK / 4 == kGemmThreads, "one float4 per thread and operand per k-slice");

// p[0 .. 4) of which the first `valid` (0..4) exist; missing ones read as 0.
__device__ __forceinline__ float4 gemmLoad4(const float* p, int valid, bool vec) {
  if (vec && valid == 4) {
    return __ldg(reinterpret_cast<const float4*>(p));
  }
  float4 v = make_float4(0.f, 0.f, 0.f, 0.f);
  if (valid > 0) v.x = __ldg(p);
  if (valid > 1) v.y = __ldg(p + 1);
  if (valid > 2) v.z = __ldg(p + 2);
  if (valid > 3) v.w = __ldg(p + 3);
  return v;
}

__device__ __forceinline__ int clamp4(int remaining) {
  return remaining <= 0 ? 0 : (remaining >= 4 ? 4 : remaining);
}

// One operand's BK-slices of a block tile, walked along k. Element (r, k) with tile row r (an M index of A or
// an N index of B) lies at p[r * ld + k] when KCONTIG, else at p[k * ld + r]. Thread t fetches one float4
// per slice: when KCONTIG, row t / 2 and k offset 4 (t % 2); else k offset t / 32 and rows 4 (t % 32) + 0..3.
template <bool KCONTIG>
struct GemmSlice {
  const float* p;  // this thread's first element in the current slice
  int k;           // its k index
  int rowsValid;   // KCONTIG: whether its row exists (0 or 4); else how many of its 4 rows exist
  int step;        // floats from one slice to the next

  __device__ __forceinline__ GemmSlice(const float* base, int ld, int rows, int r0, int k0, int t) {
    const int r = KCONTIG ? r0 + (t >> 1) : r0 + ((t & 31) << 2);
    k = KCONTIG ? k0 + ((t & 1) << 2) : k0 + (t >> 5);
    rowsValid = KCONTIG ? (r < rows ? 4 : 0) : clamp4(rows - r);
    p = base + (KCONTIG ? (size_t)r * ld + k : (size_t)k * ld + r);
    step = KCONTIG ? kGemmBK : kGemmBK * ld;
    if (rowsValid == 0) p = base;  // never read; keeps the pointer inside the allocation
  }

  __device__ __forceinline__ float4 load(int kEnd, bool vec) const {
    const int valid = KCONTIG ? min(rowsValid, clamp4(kEnd - k)) : (k < kEnd ? rowsValid : 0);
    return gemmLoad4(p, valid, vec);
  }

  __device__ __forceinline__ void advance() {
    if (rowsValid != 0) p += step;
    k += kGemmBK;
  }

  // Stores a fetched float4 into a staged slice whose rows are LDS floats long (kGemmLds here; the TF32 kernels
  // of gemm_tf32.cu pad differently).
  template <int LDS>
  __device__ __forceinline__ static void store(float (*s)[LDS], float4 v, int t) {
    if (KCONTIG) {
      // Threads 2i and 2i+1 hold k 0..3 and 4..7 of row i: with the padded row length a warp's 32 stores of
      // one k land in 32 distinct banks.
      const int r = t >> 1;
      const int kk = (t & 1) << 2;
      s[kk][r] = v.x;
      s[kk + 1][r] = v.y;
      s[kk + 2][r] = v.z;
      s[kk + 3][r] = v.w;
    } else {
      *reinterpret_cast<float4*>(&s[t >> 5][(t & 31) << 2]) = v;
    }
  }
};

// C (M x N, leading dimension ldc) = Σ_k A(m, k) B(k, n) (+ bias[n] when bias != nullptr) over this block's
// k range. A(m, k) = A[m * lda + k] if A_KCONTIG else A[k * lda + m]; B(k, n) = B[n * ldb + k] if B_KCONTIG
// else B[k * ldb + n]. Launch: block (256), grid (ceil(N / 128), ceil(M / 128) · splits), M ≥ 1.
template <bool A_KCONTIG, bool B_KCONTIG>
__device__ __forceinline__ void sgemmBlock(int M, int N, int K, const float* __restrict__ A, int lda,
                                           const float* __restrict__ B, int ldb, float* __restrict__ C,
                                           int ldc, long long splitStride, int kChunk,
                                           const float* __restrict__ bias) {
  __shared__ __align__(16) float As[2][kGemmBK][kGemmLds];
  __shared__ __align__(16) float Bs[2][kGemmBK][kGemmLds];

  const int t = threadIdx.x;
  const int mTiles = max(1, (M + kGemmBM - 1) / kGemmBM);
  const int split = blockIdx.y / mTiles;
  const int m0 = (blockIdx.y - split * mTiles) * kGemmBM;
  const int n0 = blockIdx.x * kGemmBN;
  const int kBegin = split * kChunk;
  const int kEnd = min(K, kBegin + kChunk);
  const int slices = kEnd > kBegin ? (kEnd - kBegin + kGemmBK - 1) / kGemmBK : 0;
  C += split * splitStride;

  const bool aVec = (lda & 3) == 0 && (reinterpret_cast<uintptr_t>(A) & 15) == 0;
  const bool bVec = (ldb & 3) == 0 && (reinterpret_cast<uintptr_t>(B) & 15) == 0;

  GemmSlice<A_KCONTIG> sa(A, lda, M, m0, kBegin, t);
  GemmSlice<B_KCONTIG> sb(B, ldb, N, n0, kBegin, t);
  float4 ra = sa.load(kEnd, aVec);
  float4 rb = sb.load(kEnd, bVec);
  GemmSlice<A_KCONTIG>::store(As[0], ra, t);
  GemmSlice<B_KCONTIG>::store(Bs[0], rb, t);
  __syncthreads();

  // Thread (ty, tx) of the 16 x 16 grid owns rows {ty*4 + i, 64 + ty*4 + i} and columns {tx*4 + j, 64 + tx*4 + j}.
  const int tx = t & 15;
  const int ty = t >> 4;
  float acc[8][8];
#pragma unroll
  for (int i = 0; i < 8; ++i) {
#pragma unroll
    for (int j = 0; j < 8; ++j) acc[i][j] = 0.f;
  }

  for (int s = 0; s < slices; ++s) {
    const int cur = s & 1;
    const bool more = s + 1 < slices;
    if (more) {
      sa.advance();
      sb.advance();
      ra = sa.load(kEnd, aVec);
      rb = sb.load(kEnd, bVec);
    }
#pragma unroll
    for (int k = 0; k < kGemmBK; ++k) {
      const float4 a0 = *reinterpret_cast<const float4*>(&As[cur][k][ty * 4]);
      const float4 a1 = *reinterpret_cast<const float4*>(&As[cur][k][64 + ty * 4]);
      const float4 b0 = *reinterpret_cast<const float4*>(&Bs[cur][k][tx * 4]);
      const float4 b1 = *reinterpret_cast<const float4*>(&Bs[cur][k][64 + tx * 4]);
      const float a[8] = {a0.x, a0.y, a0.z, a0.w, a1.x, a1.y, a1.z, a1.w};
      const float b[8] = {b0.x, b0.y, b0.z, b0.w, b1.x, b1.y, b1.z, b1.w};
#pragma unroll
      for (int i = 0; i < 8; ++i) {
#pragma unroll
        for (int j = 0; j < 8; ++j) acc[i][j] = fmaf(a[i], b[j], acc[i][j]);
      }
    }
    if (more) {
      // The other buffer was last read in slice s - 1, which every thread finished before the barrier below.
      GemmSlice<A_KCONTIG>::store(As[cur ^ 1], ra, t);
      GemmSlice<B_KCONTIG>::store(Bs[cur ^ 1], rb, t);
    }
    __syncthreads();
  }

  const bool cVec = (ldc & 3) == 0 && (reinterpret_cast<uintptr_t>(C) & 15) == 0;
#pragma unroll
  for (int i = 0; i < 8; ++i) {
    const int m = m0 + (i < 4 ? ty * 4 + i : 64 + ty * 4 + (i - 4));
    if (m >= M) continue;
    float* row = C + (size_t)m * ldc;
#pragma unroll
    for (int h = 0; h < 2; ++h) {
      const int n = n0 + h * 64 + tx * 4;
      float v[4] = {acc[i][h * 4], acc[i][h * 4 + 1], acc[i][h * 4 + 2], acc[i][h * 4 + 3]};
      if (bias != nullptr) {
#pragma unroll
        for (int j = 0; j < 4; ++j) {
          if (n + j < N) v[j] += bias[n + j];
        }
      }
      if (cVec && n + 3 < N) {
        *reinterpret_cast<float4*>(row + n) = make_float4(v[0], v[1], v[2], v[3]);
      } else {
#pragma unroll
        for (int j = 0; j < 4; ++j) {
          if (n + j < N) row[n + j] = v[j];
        }
      }
    }
  }
}

}  // namespace efcp
