// TF32 tensor-core SGEMM (sm_80 and newer): the entry points of gemm.cu with the same arguments, grid, split-K,
// bias and bounds handling (gemm.cuh's staging, 128 x 128 tiles, k slices of 8, double-buffered shared
// memory), but each slice is multiplied by mma.sync.aligned.m16n8k8.row.col.f32.tf32.tf32.f32. Operands are
// rounded to TF32 (10 mantissa bits, cvt.rna: to nearest, ties away from zero) once, when a slice is staged in
// shared memory; products accumulate in float32. So each product carries a relative error up to about 2⁻¹⁰
// (against 2⁻²⁴ in gemm.cu): results differ from the fp32 kernels by about 3e-4 of their norm.
//
// The 8 warps tile the block's 128 x 128 output as 2 x 4 warp tiles of 64 x 32, each 4 x 4 mma tiles of
// 16 x 8; per slice a warp loads 4 A fragments and 4 B fragments from shared memory and issues 16 mma. Staged
// rows are padded to 136 floats, so a fragment load (lane = 4 g + q reads row q or q + 4, column g + const)
// hits 32 distinct banks.
#include "gemm.cuh"
#include "tf32_mma.cuh"

namespace {

constexpr int kTf32Lds = efcp::kGemmBM + 8;

using efcp::mma16x8x8;
using efcp::toTf32;

__device__ __forceinline__ float4 toTf32(float4 v) {
  return make_float4(toTf32(v.x), toTf32(v.y), toTf32(v.z), toTf32(v.w));
}

// As efcp::sgemmBlock (same arguments and launch), on tensor cores.
template <bool A_KCONTIG, bool B_KCONTIG>
__device__ __forceinline__ void tf32GemmBlock(int M, int N, int K, const float* __restrict__ A, int lda,
                                              const float* __restrict__ B, int ldb, float* __restrict__ C,
                                              int ldc, long long splitStride, int kChunk,
                                              const float* __restrict__ bias) {
  using efcp::GemmSlice;
  using efcp::kGemmBK;
  using efcp::kGemmBM;
  using efcp::kGemmBN;
  __shared__ __align__(16) float As[2][kGemmBK][kTf32Lds];
  __shared__ __align__(16) float Bs[2][kGemmBK][kTf32Lds];

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
  GemmSlice<A_KCONTIG>::store(As[0], toTf32(ra), t);
  GemmSlice<B_KCONTIG>::store(Bs[0], toTf32(rb), t);
  __syncthreads();

  // Lane 4 g + q of warp w: warp tile rows wm .. wm + 63, columns wn .. wn + 31.
  const int lane = t & 31;
  const int g = lane >> 2;
  const int q = lane & 3;
  const int wm = (t >> 7) * 64;
  const int wn = ((t >> 5) & 3) * 32;
  float acc[4][4][4];
#pragma unroll
  for (int i = 0; i < 4; ++i) {
#pragma unroll
    for (int j = 0; j < 4; ++j) {
#pragma unroll
      for (int r = 0; r < 4; ++r) acc[i][j][r] = 0.f;
    }
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
    uint32_t a[4][4];
    uint32_t b[4][2];
#pragma unroll
    for (int i = 0; i < 4; ++i) {
      const int r = wm + i * 16 + g;
      a[i][0] = __float_as_uint(As[cur][q][r]);
      a[i][1] = __float_as_uint(As[cur][q][r + 8]);
      a[i][2] = __float_as_uint(As[cur][q + 4][r]);
      a[i][3] = __float_as_uint(As[cur][q + 4][r + 8]);
    }
#pragma unroll
    for (int j = 0; j < 4; ++j) {
      const int c = wn + j * 8 + g;
      b[j][0] = __float_as_uint(Bs[cur][q][c]);
      b[j][1] = __float_as_uint(Bs[cur][q + 4][c]);
    }
#pragma unroll
    for (int i = 0; i < 4; ++i) {
#pragma unroll
      for (int j = 0; j < 4; ++j) mma16x8x8(acc[i][j], a[i], b[j]);
    }
    if (more) {
      // The other buffer was last read in slice s - 1, which every thread finished before the barrier below.
      GemmSlice<A_KCONTIG>::store(As[cur ^ 1], toTf32(ra), t);
      GemmSlice<B_KCONTIG>::store(Bs[cur ^ 1], toTf32(rb), t);
    }
    __syncthreads();
  }

  // acc[i][j] = rows g and g + 8, columns 2q and 2q + 1 of mma tile (i, j).
  const bool cVec = (ldc & 1) == 0 && (reinterpret_cast<uintptr_t>(C) & 7) == 0;
#pragma unroll
  for (int i = 0; i < 4; ++i) {
#pragma unroll
    for (int h = 0; h < 2; ++h) {
      const int m = m0 + wm + i * 16 + g + h * 8;
      if (m >= M) continue;
      float* row = C + (size_t)m * ldc;
#pragma unroll
      for (int j = 0; j < 4; ++j) {
        const int n = n0 + wn + j * 8 + 2 * q;
        float v0 = acc[i][j][2 * h];
        float v1 = acc[i][j][2 * h + 1];
        if (bias != nullptr) {
          if (n < N) v0 += bias[n];
          if (n + 1 < N) v1 += bias[n + 1];
        }
        if (cVec && n + 1 < N) {
          *reinterpret_cast<float2*>(row + n) = make_float2(v0, v1);
        } else {
          if (n < N) row[n] = v0;
          if (n + 1 < N) row[n + 1] = v1;
        }
      }
    }
  }
}

}  // namespace

// C (M x N) = A Bᵀ, A row-major M x K, B row-major N x K (as sgemm_nt).
extern "C" __global__ void __launch_bounds__(efcp::kGemmThreads, 2)
sgemm_nt_tf32(int M, int N, int K, const float* __restrict__ A, int lda, const float* __restrict__ B, int ldb,
              float* __restrict__ C, int ldc, long long splitStride, int kChunk, const float* __restrict__ bias,
              int hasBias) {
  tf32GemmBlock<true, true>(M, N, K, A, lda, B, ldb, C, ldc, splitStride, kChunk, hasBias ? bias : nullptr);
}

// C (M x N) = Aᵀ B, A row-major K x M, B row-major K x N (as sgemm_tn).
extern "C" __global__ void __launch_bounds__(efcp::kGemmThreads, 2)
sgemm_tn_tf32(int M, int N, int K, const float* __restrict__ A, int lda, const float* __restrict__ B, int ldb,
              float* __restrict__ C, int ldc, long long splitStride, int kChunk, const float* __restrict__ bias,
              int hasBias) {
  tf32GemmBlock<false, false>(M, N, K, A, lda, B, ldb, C, ldc, splitStride, kChunk, hasBias ? bias : nullptr);
}

// C (M x N) = A B, A row-major M x K, B row-major K x N (as sgemm_nn).
extern "C" __global__ void __launch_bounds__(efcp::kGemmThreads, 2)
sgemm_nn_tf32(int M, int N, int K, const float* __restrict__ A, int lda, const float* __restrict__ B, int ldb,
              float* __restrict__ C, int ldc, long long splitStride, int kChunk, const float* __restrict__ bias,
              int hasBias) {
  tf32GemmBlock<true, false>(M, N, K, A, lda, B, ldb, C, ldc, splitStride, kChunk, hasBias ? bias : nullptr);
}
