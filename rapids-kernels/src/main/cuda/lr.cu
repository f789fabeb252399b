// The softmax / cross-entropy part of the multinomial logistic-regression gradient, around the two SGEMMs of
// gemm.cu: Z = X Wᵀ (+ b) → lr_softmax_residual (R = w·(softmax(Z) − onehot) in place, per-row losses) →
// lr_column_partials (bias gradient pieces) and sgemm_tn (dW = Rᵀ X, split over rows) → lr_finish (adds
// everything into the float64 gradient and sums the loss). Every reduction runs in a fixed order, so the
// result is deterministic. Per-row softmax arithmetic is float32; every sum over rows is float64.
#include <math.h>

namespace {

constexpr int kWarp = 32;
constexpr unsigned kFull = 0xffffffffu;

// Merges two (max, Σ exp(z − max)) pairs; a pair with no elements is (−inf, 0).
__device__ __forceinline__ void mergeLse(float& m, float& s, float m2, float s2) {
  const float mx = fmaxf(m, m2);
  const float f1 = m == mx ? 1.f : expf(m - mx);
  const float f2 = m2 == mx ? 1.f : expf(m2 - mx);
  s = s * f1 + s2 * f2;
  m = mx;
}

}  // namespace

// One warp per row of Z (n x C, row-major, overwritten with R). Launch: block (256), grid (ceil(n / 8)).
// Row i: max m and s = Σ_j exp(z_j − m) in one online pass; then R_ij = w_i exp(z_ij − m) / s − w_i [j = y_i],
// loss_i = w_i (log s − (z_{i,y_i} − m)) in float64; a zero weight gives a zero row and a zero loss, as on the
// CPU. blockLoss[blockIdx.x] = Σ of the block's 8 row losses, in row order. Labels must lie in [0, C).
extern "C" __global__ void __launch_bounds__(256)
lr_softmax_residual(float* __restrict__ Z, const int* __restrict__ labels, const float* __restrict__ weights,
                    int n, int C, double* __restrict__ blockLoss) {
  __shared__ double rowLoss[256 / kWarp];
  const int warp = threadIdx.x / kWarp;
  const int lane = threadIdx.x % kWarp;
  const int i = blockIdx.x * (blockDim.x / kWarp) + warp;
  double loss = 0;
  if (i < n) {
    float* z = Z + (size_t)i * C;
    const float w = weights[i];
    if (w == 0.f) {
      for (int j = lane; j < C; j += kWarp) z[j] = 0.f;
    } else {
      float m = -INFINITY;
      float s = 0.f;
      for (int j = lane; j < C; j += kWarp) {
        const float v = z[j];
        if (v > m) {
          s = s * (m == -INFINITY ? 0.f : expf(m - v)) + 1.f;
          m = v;
        } else {
          s += expf(v - m);
        }
      }
      for (int off = kWarp / 2; off > 0; off /= 2) {
        const float m2 = __shfl_xor_sync(kFull, m, off);
        const float s2 = __shfl_xor_sync(kFull, s, off);
        mergeLse(m, s, m2, s2);
      }
      const int y = labels[i];
      const float zy = z[y];
      __syncwarp();  // every lane has read z[y] before any lane overwrites it
      const float scale = w / s;
      for (int j = lane; j < C; j += kWarp) {
        float r = expf(z[j] - m) * scale;
        if (j == y) r -= w;
        z[j] = r;
      }
      loss = (double)w * (log((double)s) - ((double)zy - (double)m));
    }
  }
  if (lane == 0) rowLoss[warp] = loss;
  __syncthreads();
  if (threadIdx.x == 0) {
    double sum = 0;
    for (int k = 0; k < (int)(blockDim.x / kWarp); ++k) sum += rowLoss[k];
    blockLoss[blockIdx.x] = sum;
  }
}

// partials[chunk * C + c] = Σ_{i in rows [chunk·rowsPerChunk, …)} R[i * C + c] in float64.
// Launch: block (256), grid (ceil(C / 256), ceil(n / rowsPerChunk)).
extern "C" __global__ void __launch_bounds__(256)
lr_column_partials(const float* __restrict__ R, int n, int C, int rowsPerChunk, double* __restrict__ partials) {
  const int c = blockIdx.x * blockDim.x + threadIdx.x;
  if (c >= C) return;
  const int begin = blockIdx.y * rowsPerChunk;
  const int end = min(n, begin + rowsPerChunk);
  double sum = 0;
  for (int i = begin; i < end; ++i) sum += (double)R[(size_t)i * C + c];
  partials[(size_t)blockIdx.y * C + c] = sum;
}

// grad[j] += Σ_s split[s * cf + j] for j < cf (the weight gradient's split-K partials, float32, summed in
// float64 in split order); grad[cf + c] += Σ_k colPartials[k * C + c] for c < C when fitIntercept != 0.
// Block 0 also writes *lossOut = Σ_b blockLoss[b] (fixed-order tree). Launch: block (256), any grid ≥ 1.
extern "C" __global__ void __launch_bounds__(256)
lr_finish(const float* __restrict__ split, int splits, int cf, double* __restrict__ grad,
          const double* __restrict__ colPartials, int chunks, int C, int fitIntercept,
          const double* __restrict__ blockLoss, int lossBlocks, double* __restrict__ lossOut) {
  // 64-bit: with cf near 2^31 the grid stride would carry j past INT_MAX.
  const long long total = (long long)cf + (fitIntercept ? C : 0);
  const long long stride = (long long)gridDim.x * blockDim.x;
  for (long long j = (long long)blockIdx.x * blockDim.x + threadIdx.x; j < total; j += stride) {
    double sum = 0;
    if (j < cf) {
      for (int s = 0; s < splits; ++s) sum += (double)split[(size_t)s * cf + j];
    } else {
      const int c = (int)(j - cf);
      for (int k = 0; k < chunks; ++k) sum += colPartials[(size_t)k * C + c];
    }
    grad[j] += sum;
  }
  if (blockIdx.x == 0) {
    __shared__ double part[256];
    double sum = 0;
    for (int b = threadIdx.x; b < lossBlocks; b += blockDim.x) sum += blockLoss[b];
    part[threadIdx.x] = sum;
    __syncthreads();
    for (int width = blockDim.x / 2; width > 0; width /= 2) {
      if ((int)threadIdx.x < width) part[threadIdx.x] += part[threadIdx.x + width];
      __syncthreads();
    }
    if (threadIdx.x == 0) *lossOut = part[0];
  }
}
