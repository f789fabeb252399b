// Low-rank M-FAC on the device (algorithms doc §5, §13; org.efcp.optim.LowRankCompressor, ErrorFeedback,
// LowRankWindow): the compressor with per-tensor error feedback and the window-side kernels. The m×m part is dense
// M-FAC's: dense_mfac.cu's dmfac_dots_finish (sum of the per-tensor dot partials into w) and mfac_cholesky.cu's
// mchol_step_C (the chronological Cholesky factor of A and M = (1/λ)² A⁻¹ w), reused unchanged; low-rank windows
// are as badly conditioned as dense ones.
//
// Per matrix tensor (rows p1 × cols p2', row-major at offset `off` of the flat vectors, rank ρ ≤ LR_MAX_RANK):
//   A = E + G (in place in the error buffer E),  P = A Q,  P = MGS(P) (col_i /= (‖col_i‖ + 1e-8), then
//   col_j −= (col_i·col_j) col_i for j > i),  Q = Aᵀ P (un-normalised: the next warm start),  E = A − P Qᵀ.
// 1-D tensors: c = g, no error feedback (their E stays 0). Every matrix is row-major: P (p1 × ρ), Q and the warm
// start (p2' × ρ); the window holds, per matrix tensor, m slots of P and of Q (slot s at s·p1·ρ and s·p2'·ρ), per
// 1-D tensor m slots of its raw values, all float64 like the CPU's LowRankWindow. P is computed in its window slot.
//
// Launch order per step (one stream, blocks of 256 threads; T = number of tensors, `filled` = slots written so far):
//   per matrix tensor: lr_power_p        grid = ceil(p1 / 8)
//                      lr_orthonormalise grid = 1
//                      lr_power_q        grid = (ceil(p2' / 256), ceil(p1 / LR_QROWS))
//                      lr_power_q_finish grid = ceil(p2'·ρ / 256)
//                      lr_residual       grid = ceil(p1·p2' / 256)
//   per 1-D tensor:    (a device-to-device copy of g into the slot; no kernel)
//   per tensor ℓ:      lr_dots_matrix or lr_dots_vector   grid = filled      partials[j·T + ℓ] = <x_j, c>_ℓ
//   dmfac_dots_finish (chunks = T), mchol_step_C
//   per matrix tensor: lr_combine_matrix grid = (ceil(p2' / 64), ceil(p1 / 64))   U = Σ_j coef_j P_j Q_jᵀ
//   per 1-D tensor:    lr_combine_vector grid = ceil(n / 256)                   u = Σ_j coef_j x_j
// with coef_j = −M_j, plus 1/λ at the new slot.
// Every sum runs in a fixed order (no atomics), so results are deterministic. All arithmetic is float64.
#include "sparse_mfac_block.cuh"

#define LR_MAX_RANK 8
#define LR_ROWS_PER_BLOCK SM_WARPS
// Rows of A per block of lr_power_q (its partial sums are reduced by lr_power_q_finish).
#define LR_QROWS 64
// Output tile (LR_TILE × LR_TILE) and inner-dimension chunk of lr_combine_matrix; each thread owns 4 × 4 outputs.
#define LR_TILE 64
#define LR_KCHUNK 16
#define LR_GS_EPS 1e-8

// A = E + G written back into E, and P = A Q (one warp per row i; lanes stride the columns, each keeps ρ sums).
extern "C" __global__ void lr_power_p(double* __restrict__ E, const double* __restrict__ G, int rows, int cols,
                                      int rank, const double* __restrict__ Q, double* __restrict__ P) {
  const int lane = threadIdx.x & 31;
  const int i = blockIdx.x * LR_ROWS_PER_BLOCK + (threadIdx.x >> 5);
  if (i >= rows) {
    return;
  }
  double acc[LR_MAX_RANK];
#pragma unroll
  for (int r = 0; r < LR_MAX_RANK; r++) {
    acc[r] = 0.0;
  }
  double* e = E + (long long)i * cols;
  const double* g = G + (long long)i * cols;
  for (int j = lane; j < cols; j += 32) {
    const double a = e[j] + g[j];
    e[j] = a;
    const double* q = Q + (long long)j * rank;
#pragma unroll
    for (int r = 0; r < LR_MAX_RANK; r++) {
      if (r < rank) {
        acc[r] += a * q[r];
      }
    }
  }
#pragma unroll
  for (int r = 0; r < LR_MAX_RANK; r++) {
    if (r < rank) {
      const double s = sm_warp_sum(acc[r]);
      if (lane == 0) {
        P[(long long)i * rank + r] = s;
      }
    }
  }
}

// Modified Gram–Schmidt of P's ρ columns in place, in one block (§13, as LowRankCompressor.orthonormalise). Thread t
// owns rows t, t + 256, …, so between the block sums it only touches its own entries.
extern "C" __global__ void lr_orthonormalise(double* __restrict__ P, int rows, int rank) {
  for (int i = 0; i < rank; i++) {
    double sq = 0.0;
    for (int r = threadIdx.x; r < rows; r += SM_THREADS) {
      const double x = P[(long long)r * rank + i];
      sq += x * x;
    }
    const double denom = sqrt(sm_block_sum(sq)) + LR_GS_EPS;
    for (int r = threadIdx.x; r < rows; r += SM_THREADS) {
      P[(long long)r * rank + i] /= denom;
    }
    for (int j = i + 1; j < rank; j++) {
      double dot = 0.0;
      for (int r = threadIdx.x; r < rows; r += SM_THREADS) {
        dot += P[(long long)r * rank + i] * P[(long long)r * rank + j];
      }
      dot = sm_block_sum(dot);
      for (int r = threadIdx.x; r < rows; r += SM_THREADS) {
        P[(long long)r * rank + j] -= dot * P[(long long)r * rank + i];
      }
    }
  }
}

// partials[(c·cols + j)·ρ + r] = Σ_{i in row chunk c} A[i][j] P[i][r] for chunk c = blockIdx.y (LR_QROWS rows) and
// column j = blockIdx.x·256 + thread; rows in order within the chunk.
extern "C" __global__ void lr_power_q(const double* __restrict__ A, const double* __restrict__ P, int rows, int cols,
                                      int rank, double* __restrict__ partials) {
  __shared__ double ps[LR_QROWS * LR_MAX_RANK];
  const int i0 = blockIdx.y * LR_QROWS;
  const int n = min(LR_QROWS, rows - i0);
  for (int q = threadIdx.x; q < n * rank; q += SM_THREADS) {
    ps[q] = P[(long long)i0 * rank + q];
  }
  __syncthreads();
  const int j = blockIdx.x * SM_THREADS + threadIdx.x;
  if (j >= cols) {
    return;
  }
  double acc[LR_MAX_RANK];
#pragma unroll
  for (int r = 0; r < LR_MAX_RANK; r++) {
    acc[r] = 0.0;
  }
  const double* a = A + (long long)i0 * cols + j;
  for (int i = 0; i < n; i++) {
    const double x = a[(long long)i * cols];
#pragma unroll
    for (int r = 0; r < LR_MAX_RANK; r++) {
      if (r < rank) {
        acc[r] += x * ps[i * rank + r];
      }
    }
  }
  double* out = partials + ((long long)blockIdx.y * cols + j) * rank;
#pragma unroll
  for (int r = 0; r < LR_MAX_RANK; r++) {
    if (r < rank) {
      out[r] = acc[r];
    }
  }
}

// Q = Σ_c partials[c] (chunks in order) for the cols·ρ entries, written to the warm start and to the window slot.
extern "C" __global__ void lr_power_q_finish(const double* __restrict__ partials, int chunks, int n,
                                             double* __restrict__ warmQ, double* __restrict__ slotQ) {
  const long long e = (long long)blockIdx.x * SM_THREADS + threadIdx.x;
  if (e >= n) {
    return;
  }
  double s = 0.0;
  for (int c = 0; c < chunks; c++) {
    s += partials[(long long)c * n + e];
  }
  warmQ[e] = s;
  slotQ[e] = s;
}

// E = A − P Qᵀ in place (E holds A), each entry's ρ products summed in order r = 0..ρ−1 as LowRankVector.addTo.
extern "C" __global__ void lr_residual(double* __restrict__ E, const double* __restrict__ P,
                                       const double* __restrict__ Q, int rows, int cols, int rank) {
  const long long e = (long long)blockIdx.x * SM_THREADS + threadIdx.x;
  if (e >= (long long)rows * cols) {
    return;
  }
  const long long i = e / cols;
  const long long j = e - i * cols;
  const double* p = P + i * rank;
  const double* q = Q + j * rank;
  double s = 0.0;
  for (int r = 0; r < rank; r++) {
    s += p[r] * q[r];
  }
  E[e] -= s;
}

// partials[j·T + tensor] = Σ_{a,b} (P_jᵀ P_s)_{ab} (Q_jᵀ Q_s)_{ab} for slot j = blockIdx.x and the new slot s. Thread t
// sums pair (a, b) = (t mod ρ²) / ρ, (t mod ρ²) mod ρ over the rows t / ρ², + G, … (G = 256 / ρ² thread groups);
// the groups, then the pairs, are added in order.
extern "C" __global__ void lr_dots_matrix(const double* __restrict__ winP, const double* __restrict__ winQ,
                                          int rows, int cols, int rank, int slot, int tensors, int tensor,
                                          double* __restrict__ partials) {
  __shared__ double gp[SM_THREADS];
  __shared__ double gq[SM_THREADS];
  __shared__ double prod[LR_MAX_RANK * LR_MAX_RANK];
  const int j = blockIdx.x;
  const int pairs = rank * rank;
  const int groups = SM_THREADS / pairs;
  const int pair = threadIdx.x % pairs;
  const int group = threadIdx.x / pairs;
  const int a = pair / rank;
  const int b = pair % rank;
  double sp = 0.0;
  double sq = 0.0;
  if (group < groups) {
    const double* pj = winP + (long long)j * rows * rank;
    const double* pv = winP + (long long)slot * rows * rank;
    for (int i = group; i < rows; i += groups) {
      sp += pj[(long long)i * rank + a] * pv[(long long)i * rank + b];
    }
    const double* qj = winQ + (long long)j * cols * rank;
    const double* qv = winQ + (long long)slot * cols * rank;
    for (int i = group; i < cols; i += groups) {
      sq += qj[(long long)i * rank + a] * qv[(long long)i * rank + b];
    }
  }
  gp[threadIdx.x] = sp;
  gq[threadIdx.x] = sq;
  __syncthreads();
  if (threadIdx.x < pairs) {
    double tp = 0.0;
    double tq = 0.0;
    for (int g = 0; g < groups; g++) {
      tp += gp[g * pairs + threadIdx.x];
      tq += gq[g * pairs + threadIdx.x];
    }
    prod[threadIdx.x] = tp * tq;
  }
  __syncthreads();
  if (threadIdx.x == 0) {
    double s = 0.0;
    for (int p = 0; p < pairs; p++) {
      s += prod[p];
    }
    partials[(long long)j * tensors + tensor] = s;
  }
}

// partials[j·T + tensor] = <raw_j, raw_s> for slot j = blockIdx.x of a 1-D tensor of n values.
extern "C" __global__ void lr_dots_vector(const double* __restrict__ winRaw, int n, int slot, int tensors, int tensor,
                                          double* __restrict__ partials) {
  const int j = blockIdx.x;
  const double* x = winRaw + (long long)j * n;
  const double* v = winRaw + (long long)slot * n;
  double acc = 0.0;
  for (int i = threadIdx.x; i < n; i += SM_THREADS) {
    acc += x[i] * v[i];
  }
  const double s = sm_block_sum(acc);
  if (threadIdx.x == 0) {
    partials[(long long)j * tensors + tensor] = s;
  }
}

// U = Σ_{j < filled} coef_j P_j Q_jᵀ (rows × cols, row-major, every entry written): a GEMM with inner dimension
// k = j·ρ + r < filled·ρ, the P side scaled by coef_j as it is staged in shared memory. Block (x, y) computes the
// LR_TILE × LR_TILE tile at rows y·64, cols x·64; thread (ty, tx) = (t / 16, t mod 16) owns rows ty + 16a and cols
// tx + 16b (a, b < 4), each summed over k in order.
extern "C" __global__ void lr_combine_matrix(const double* __restrict__ winP, const double* __restrict__ winQ,
                                             int rows, int cols, int rank, int filled,
                                             const double* __restrict__ M, int slot, double invDamping,
                                             double* __restrict__ U) {
  // One padding column keeps the k-fastest staging stores free of bank conflicts.
  __shared__ double ps[LR_KCHUNK][LR_TILE + 1];
  __shared__ double qs[LR_KCHUNK][LR_TILE + 1];
  const int tx = threadIdx.x & 15;
  const int ty = threadIdx.x >> 4;
  const int i0 = blockIdx.y * LR_TILE;
  const int j0 = blockIdx.x * LR_TILE;
  const int kTotal = filled * rank;
  double acc[4][4];
#pragma unroll
  for (int a = 0; a < 4; a++) {
#pragma unroll
    for (int b = 0; b < 4; b++) {
      acc[a][b] = 0.0;
    }
  }
  for (int k0 = 0; k0 < kTotal; k0 += LR_KCHUNK) {
#pragma unroll
    for (int q = 0; q < (LR_KCHUNK * LR_TILE) / SM_THREADS; q++) {
      const int e = threadIdx.x + q * SM_THREADS;
      const int kk = e % LR_KCHUNK;
      const int t = e / LR_KCHUNK;
      const int k = k0 + kk;
      const int s = k / rank;
      const int r = k - s * rank;
      const int i = i0 + t;
      const int j = j0 + t;
      ps[kk][t] = k < kTotal && i < rows ? sm_window_coefficient(s, slot, M[s], invDamping) * winP[((long long)s * rows + i) * rank + r] : 0.0;
      qs[kk][t] = k < kTotal && j < cols ? winQ[((long long)s * cols + j) * rank + r] : 0.0;
    }
    __syncthreads();
#pragma unroll
    for (int kk = 0; kk < LR_KCHUNK; kk++) {
      double pv[4];
      double qv[4];
#pragma unroll
      for (int a = 0; a < 4; a++) {
        pv[a] = ps[kk][ty + 16 * a];
        qv[a] = qs[kk][tx + 16 * a];
      }
#pragma unroll
      for (int a = 0; a < 4; a++) {
#pragma unroll
        for (int b = 0; b < 4; b++) {
          acc[a][b] += pv[a] * qv[b];
        }
      }
    }
    __syncthreads();
  }
#pragma unroll
  for (int a = 0; a < 4; a++) {
    const int i = i0 + ty + 16 * a;
#pragma unroll
    for (int b = 0; b < 4; b++) {
      const int j = j0 + tx + 16 * b;
      if (i < rows && j < cols) {
        U[(long long)i * cols + j] = acc[a][b];
      }
    }
  }
}

// u[i] = Σ_{j < filled} coef_j raw_j[i] for a 1-D tensor of n values (one thread per coordinate, slots in order).
extern "C" __global__ void lr_combine_vector(const double* __restrict__ winRaw, int n, int filled,
                                             const double* __restrict__ M, int slot, double invDamping,
                                             double* __restrict__ u) {
  const long long i = (long long)blockIdx.x * SM_THREADS + threadIdx.x;
  if (i >= n) {
    return;
  }
  double acc = 0.0;
  for (int j = 0; j < filled; j++) {
    acc += sm_window_coefficient(j, slot, M[j], invDamping) * winRaw[(long long)j * n + i];
  }
  u[i] = acc;
}
