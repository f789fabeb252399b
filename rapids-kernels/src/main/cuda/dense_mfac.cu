// Dense M-FAC on the device (algorithms doc §2.4, §3; org.efcp.optim.MfacPreconditioner over a DenseWindow): the
// window-side kernels. The m×m part (K, the Cholesky factor of A = K/λ + m I, its update, the coefficients M and the
// drift check) is mfac_cholesky.cu's mchol_step_C, launched between dmfac_dots_finish and dmfac_combine; see that
// file for the formulas.
//
// The window is m rows of `ld` float32 values (ld = d rounded up to a multiple of 4, the padding zero), row j = slot
// j, so every row starts 16-byte aligned and is read as float4. Per step (one stream, blocks of 256 threads but
// mchol_step_C's 512, 1-D grids):
//   dmfac_insert          grid = ceil(ld / 256)                    row `slot` = (float) g, padding 0
//   dmfac_dots            grid = rowTiles · chunks                 partial dots per (row tile, d-chunk)
//   dmfac_dots_finish     grid = ceil(filled / 8)                  w_j = <x_j, x>
//   mchol_step_C          grid = 1 (mfac_cholesky.cu)              K, R, M = (1/λ)² A⁻¹ w, drift
//   dmfac_combine         grid = ceil(ld / 4 / 512)                u = x/λ − Σ_j M_j x_j
// with rowTiles = ceil(filled / DM_ROWS) and chunks = ceil(ld / 4 / DM_CHUNK4). The window is read once for the
// dots and once for the combination. Every sum has a fixed order (no atomics), so u is deterministic. All arithmetic
// is float64; products of two floats are exact in float64. mfac_cholesky.cu's mchol_overlap_step_C (or _wave_C)
// takes the place of the last two, the combination in the m×m step's launch with the same per-row arithmetic
// (dense_combine.cuh), summed in the back solve's row order.
#include "dense_combine.cuh"
#include "sparse_mfac_block.cuh"

// Rows per dots tile, and float4s per thread per row of a tile.
#define DM_ROWS 8
#define DM_VEC 4
// float4s per d-chunk of a dots tile (4096 floats).
#define DM_CHUNK4 (SM_THREADS * DM_VEC)
#define DM_ROWS_PER_BLOCK SM_WARPS

// Row `slot` of the window = (float) g (round to nearest, as the CPU's Float32Compressor), entries d..ld-1 = 0.
extern "C" __global__ void dmfac_insert(const double* __restrict__ g, float* __restrict__ window, int d, int ld,
                                        int slot) {
  const long long i = (long long)blockIdx.x * SM_THREADS + threadIdx.x;
  if (i < ld) {
    window[(long long)slot * ld + i] = i < d ? (float)g[i] : 0.0f;
  }
}

// partials[j · chunks + c] = Σ_{i in chunk c} x_j[i] · x_slot[i] for the DM_ROWS rows j of tile blockIdx.x mod
// rowTiles (j < filled), chunk c = blockIdx.x / rowTiles (row tiles vary fastest, so the blocks running together share
// the chunk of x_slot, which each thread keeps in registers). Each thread sums its DM_VEC float4s in a fixed order,
// then the warps and the block's warp totals in a fixed order.
extern "C" __global__ void dmfac_dots(const float4* __restrict__ window, int ld4, int filled, int slot, int rowTiles,
                                      int chunks, double* __restrict__ partials) {
  __shared__ double warpSums[DM_ROWS][SM_WARPS];
  const int lane = threadIdx.x & 31;
  const int warp = threadIdx.x >> 5;
  const int tile = blockIdx.x % rowTiles;
  const int chunk = blockIdx.x / rowTiles;
  const float4* x = window + (long long)slot * ld4;
  float4 xv[DM_VEC];
  int at[DM_VEC];
#pragma unroll
  for (int q = 0; q < DM_VEC; q++) {
    at[q] = chunk * DM_CHUNK4 + q * SM_THREADS + threadIdx.x;
    xv[q] = at[q] < ld4 ? x[at[q]] : make_float4(0.0f, 0.0f, 0.0f, 0.0f);
  }
  for (int r = 0; r < DM_ROWS; r++) {
    const int j = tile * DM_ROWS + r;
    double acc = 0.0;
    if (j < filled) {
      const float4* row = window + (long long)j * ld4;
#pragma unroll
      for (int q = 0; q < DM_VEC; q++) {
        if (at[q] < ld4) {
          const float4 v = row[at[q]];
          acc += (double)v.x * (double)xv[q].x;
          acc += (double)v.y * (double)xv[q].y;
          acc += (double)v.z * (double)xv[q].z;
          acc += (double)v.w * (double)xv[q].w;
        }
      }
    }
    acc = sm_warp_sum(acc);
    if (lane == 0) {
      warpSums[r][warp] = acc;
    }
  }
  __syncthreads();
  if (threadIdx.x < DM_ROWS) {
    const int j = tile * DM_ROWS + threadIdx.x;
    if (j < filled) {
      double s = 0.0;
      for (int q = 0; q < SM_WARPS; q++) {
        s += warpSums[threadIdx.x][q];
      }
      partials[(long long)j * chunks + chunk] = s;
    }
  }
}

// w_j = Σ_c partials[j · chunks + c] (one warp per row j < filled). Entries j ≥ filled (zero vectors) stay 0.
extern "C" __global__ void dmfac_dots_finish(const double* __restrict__ partials, int chunks, double* __restrict__ w,
                                             int filled) {
  const int lane = threadIdx.x & 31;
  const int j = blockIdx.x * DM_ROWS_PER_BLOCK + (threadIdx.x >> 5);
  if (j >= filled) {
    return;
  }
  const double* p = partials + (long long)j * chunks;
  double acc = 0.0;
  for (int c = lane; c < chunks; c += 32) {
    acc += p[c];
  }
  const double wj = sm_warp_sum(acc);
  if (lane == 0) {
    w[j] = wj;
  }
}

// u[i] = Σ_{j < filled} coef_j x_j[i] for i < d with coef_j = −M_j, plus 1/λ for j = slot (the x/λ term,
// x_slot = x): each thread owns DM_COMBINE_VEC float4s of coordinates, DM_COMBINE_STRIDE apart (a warp reads 512
// contiguous bytes per row and float4), and walks the rows in order, float64 accumulators, no atomics. Two float4s
// per thread and eight rows unrolled keep more loads in flight: 0.73 ms instead of 0.77 ms per pass over a 3.15 GB
// window on an H200 (a pure read of it takes 0.71-0.73 ms). Grid = ceil(ld4 / DM_COMBINE_COLUMNS), block 256.
#define DM_COMBINE_VEC 2
#define DM_COMBINE_STRIDE SM_THREADS
#define DM_COMBINE_COLUMNS (DM_COMBINE_VEC * DM_COMBINE_STRIDE)
extern "C" __global__ void dmfac_combine(const float4* __restrict__ window, int ld4, int d, int filled,
                                         const double* __restrict__ M, int slot, double invDamping,
                                         double* __restrict__ u) {
  const long long q0 = (long long)blockIdx.x * DM_COMBINE_COLUMNS + threadIdx.x;
  double acc[DM_COMBINE_VEC][4] = {};
#pragma unroll 8
  for (int j = 0; j < filled; j++) {
    const double c = sm_window_coefficient(j, slot, M[j], invDamping);
    dmfac_accumulate_row<DM_COMBINE_VEC, DM_COMBINE_STRIDE>(acc, c, window + (long long)j * ld4, q0, ld4);
  }
  dmfac_store_columns<DM_COMBINE_VEC, DM_COMBINE_STRIDE>(acc, u, q0, ld4, d);
}
