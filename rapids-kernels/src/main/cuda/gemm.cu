// fp32 SGEMM entry points for the three operand layouts of the model gradients (see gemm.cuh for the tiling;
// gemm_tf32.cu has the same entry points on tensor cores). All matrices are row-major with explicit leading
// dimensions (in floats). Launch with 256 threads per block and grid (ceil(N / 128), ceil(M / 128) · splits);
// kChunk (a multiple of 8) is the k range of one split, splitStride (floats) the distance between the splits'
// output tiles. hasBias != 0 adds bias[n] to column n (only meaningful with one split).
#include "gemm.cuh"

// C (M x N) = A Bᵀ, A row-major M x K, B row-major N x K: the logits Z = X Wᵀ.
extern "C" __global__ void __launch_bounds__(efcp::kGemmThreads, 2)
sgemm_nt(int M, int N, int K, const float* __restrict__ A, int lda, const float* __restrict__ B, int ldb,
         float* __restrict__ C, int ldc, long long splitStride, int kChunk, const float* __restrict__ bias,
         int hasBias) {
  efcp::sgemmBlock<true, true>(M, N, K, A, lda, B, ldb, C, ldc, splitStride, kChunk,
                               hasBias ? bias : nullptr);
}

// C (M x N) = Aᵀ B, A row-major K x M, B row-major K x N: the weight gradient dW = Rᵀ X.
extern "C" __global__ void __launch_bounds__(efcp::kGemmThreads, 2)
sgemm_tn(int M, int N, int K, const float* __restrict__ A, int lda, const float* __restrict__ B, int ldb,
         float* __restrict__ C, int ldc, long long splitStride, int kChunk, const float* __restrict__ bias,
         int hasBias) {
  efcp::sgemmBlock<false, false>(M, N, K, A, lda, B, ldb, C, ldc, splitStride, kChunk,
                                 hasBias ? bias : nullptr);
}

// C (M x N) = A B, A row-major M x K, B row-major K x N: the MLP's back-propagated error Δ W.
extern "C" __global__ void __launch_bounds__(efcp::kGemmThreads, 2)
sgemm_nn(int M, int N, int K, const float* __restrict__ A, int lda, const float* __restrict__ B, int ldb,
         float* __restrict__ C, int ldc, long long splitStride, int kChunk, const float* __restrict__ bias,
         int hasBias) {
  efcp::sgemmBlock<true, false>(M, N, K, A, lda, B, ldb, C, ldc, splitStride, kChunk,
                                hasBias ? bias : nullptr);
}
