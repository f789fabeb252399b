// Sparse M-FAC on the device, after topk.cu has written the new Top-k vector c into window slot `slot`
// (algorithms doc §2.4, §3; org.efcp.optim.MfacPreconditioner). With window vectors x_j (m slots of k
// (int32 index, float32 value) pairs, row-major m×k; empty slots are zero rows), damping λ and n = m:
//
//   F = λ I + (1/n) Σ_j x_j x_jᵀ,   A = K/λ + n I (K_ij = <x_i, x_j>),   u = F⁻¹ c = c/λ − Σ_j M_j x_j,
//   M = A⁻¹ w / λ²,   w_j = <x_j, c>.
//
// The device keeps K (m×m, row-major by slot) and B ≈ A⁻¹ (m×m, kept exactly symmetric). Replacing slot s
// changes row and column s of A to the new column a (a_j = w_j/λ, a_s = w_s/λ + n): a rank-2 update of B, done in
// the numerically stable block form. (The combined Woodbury form B − P S⁻¹ Pᵀ with U = [e_s, δ], S = C + UᵀBU
// cancels catastrophically in det S when large vectors are replaced: in a float64 CPU model of both it needed a
// host refresh every few steps and lost all accuracy at ‖c‖²/(mλ) ≈ 3e6, where this form needed no refresh and
// stayed within 3e-9 of the CPU pipeline.)
//   remove s:  B1 = B_{-s,-s} − b_s b_sᵀ / B_ss          (b_s = B e_s without entry s; Schur complement)
//   insert a:  v = B1 a_{-s} = P − b_s (P_s / B_ss)   with P = B_{:,-s} a_{-s},   γ = a_s − a_{-s}ᵀ v  (≥ n)
//              B'_{-s,-s} = B1 + v vᵀ/γ,   B'_{i,s} = B'_{s,i} = −v_i/γ,   B'_ss = 1/γ.
// Then M0 = B' w, r = w − A' M0, M = (M0 + B' r)/λ² (one step of iterative refinement), and a drift check of one
// column j of B': max_i |(A' B' e_j − e_j)_i|, accumulated as a running maximum for the host.
//
// Launch order per step (one stream), every kernel with blocks of 256 threads:
//   mfac_dots             grid = filled slots (the slots 0..filled-1 written so far)
//   mfac_insert_p         grid = ceil(m / 8)
//   mfac_insert_update    grid = ceil(m / 8)
//   mfac_residual         grid = ceil(m / 8)
//   mfac_scatter          grid = filled slots, after u was zeroed
// All arithmetic is float64 (window values are float32). Vectors of length m (w, col, bs, p, v, M0, r) are
// device arrays of m doubles; w and col must start as zeros (rows of unfilled slots are never written).
#include "sparse_mfac_block.cuh"

#define MFAC_ROWS_PER_BLOCK SM_WARPS

// w_j = <x_j, c> for slot j = blockIdx.x, summing val * scratch[idx] over the entries of x_j whose index is in
// c's support (bit set in `bitmap`); then row and column `slot` of K become w and col_j = w_j/λ (+ n for j = slot)
// is the new column of A.
extern "C" __global__ void mfac_dots(const int* __restrict__ winIdx, const float* __restrict__ winVal, int k,
                                     const unsigned int* __restrict__ bitmap, const double* __restrict__ scratch,
                                     double* __restrict__ K, double* __restrict__ w, double* __restrict__ col,
                                     int m, int slot, double invDamping, double n) {
  const int j = blockIdx.x;
  const int* idx = winIdx + (long long)j * k;
  const float* val = winVal + (long long)j * k;
  double acc = 0.0;
  for (int q = threadIdx.x; q < k; q += SM_THREADS) {
    const int i = idx[q];
    if ((bitmap[i >> 5] >> (i & 31)) & 1u) {
      acc += (double)val[q] * scratch[i];
    }
  }
  const double wj = sm_block_sum(acc);
  if (threadIdx.x == 0) {
    K[(long long)j * m + slot] = wj;
    K[(long long)slot * m + j] = wj;
    w[j] = wj;
    col[j] = j == slot ? wj * invDamping + n : wj * invDamping;
  }
}

// bs = B e_s and P = B_{:,-s} col_{-s} (one warp per row); the last block forms v = P − bs (P_s / B_ss) (v_s = 0)
// and γ = col_s − Σ_{i≠s} col_i v_i, and stores scalars = {1/B_ss, 1/γ}. ticket: a uint32 that is 0 before the
// launch (reset here).
extern "C" __global__ void mfac_insert_p(const double* __restrict__ B, const double* __restrict__ col,
                                         double* __restrict__ bs, double* __restrict__ p, double* __restrict__ v,
                                         unsigned int* __restrict__ ticket, double* __restrict__ scalars, int m,
                                         int slot) {
  const int lane = threadIdx.x & 31;
  const int i = blockIdx.x * MFAC_ROWS_PER_BLOCK + (threadIdx.x >> 5);
  if (i < m) {
    const double* row = B + (long long)i * m;
    double acc = 0.0;
    for (int j = lane; j < m; j += 32) {
      acc += j == slot ? 0.0 : row[j] * col[j];
    }
    acc = sm_warp_sum(acc);
    if (lane == 0) {
      p[i] = acc;
      bs[i] = row[slot];
    }
  }
  if (!sm_last_block(ticket)) {
    return;
  }
  const double bss = __ldcg(&bs[slot]);
  const double ratio = __ldcg(&p[slot]) / bss;
  double own = 0.0;
  for (int q = threadIdx.x; q < m; q += SM_THREADS) {
    double vq = 0.0;
    if (q != slot) {
      vq = __ldcg(&p[q]) - __ldcg(&bs[q]) * ratio;
      own += col[q] * vq;
    }
    v[q] = vq;
  }
  const double av = sm_block_sum(own);
  if (threadIdx.x == 0) {
    scalars[0] = 1.0 / bss;
    scalars[1] = 1.0 / (col[slot] - av);
    *ticket = 0;
  }
}

// B' in place (one warp per row): off slot s, B'_ij = B_ij − bs_i bs_j / B_ss + v_i v_j / γ; row and column s,
// −v/γ and 1/γ. Also M0 = B' w. Each entry is evaluated in a fixed, contraction-free order that gives bitwise the
// same value for (j, i), so B stays exactly symmetric.
extern "C" __global__ void mfac_insert_update(double* __restrict__ B, const double* __restrict__ bs,
                                              const double* __restrict__ v, const double* __restrict__ scalars,
                                              const double* __restrict__ w, double* __restrict__ M0, int m,
                                              int slot) {
  const int lane = threadIdx.x & 31;
  const int i = blockIdx.x * MFAC_ROWS_PER_BLOCK + (threadIdx.x >> 5);
  if (i >= m) {
    return;
  }
  const double rb = scalars[0];
  const double rg = scalars[1];
  const double bsi = bs[i];
  const double vi = v[i];
  const double edge = -__dmul_rn(vi, rg);  // B'_is for i != s
  double* row = B + (long long)i * m;
  double acc = 0.0;
  for (int j = lane; j < m; j += 32) {
    double b;
    if (i == slot) {
      b = j == slot ? rg : -__dmul_rn(v[j], rg);
    } else if (j == slot) {
      b = edge;
    } else {
      const double removed = __dmul_rn(__dmul_rn(bsi, bs[j]), rb);
      const double inserted = __dmul_rn(__dmul_rn(vi, v[j]), rg);
      b = __dadd_rn(__dsub_rn(row[j], removed), inserted);
    }
    row[j] = b;
    acc += b * w[j];
  }
  acc = sm_warp_sum(acc);
  if (lane == 0) {
    M0[i] = acc;
  }
}

// r = w − A' M0 with A' = K/λ + n I (one warp per row), and the drift of column `col` of B:
// max_i |(A' B e_col)_i − δ_i,col| folded into *driftMax (the bits of a non-negative double, so the integer
// maximum is the numeric one and a NaN counts as larger than any number).
extern "C" __global__ void mfac_residual(const double* __restrict__ K, const double* __restrict__ B,
                                         const double* __restrict__ M0, const double* __restrict__ w,
                                         double* __restrict__ r, int m, int col, double invDamping, double n,
                                         sm_u64* __restrict__ driftMax) {
  __shared__ sm_u64 warpMax[MFAC_ROWS_PER_BLOCK];
  const int lane = threadIdx.x & 31;
  const int warp = threadIdx.x >> 5;
  const int i = blockIdx.x * MFAC_ROWS_PER_BLOCK + warp;
  const double* bcol = B + (long long)col * m;  // row col = column col (B is symmetric)
  sm_u64 drift = 0;
  if (i < m) {
    const double* row = K + (long long)i * m;
    double t1 = 0.0;
    double t2 = 0.0;
    for (int j = lane; j < m; j += 32) {
      const double kij = row[j];
      t1 += kij * M0[j];
      t2 += kij * bcol[j];
    }
    t1 = sm_warp_sum(t1);
    t2 = sm_warp_sum(t2);
    if (lane == 0) {
      r[i] = w[i] - (t1 * invDamping + n * M0[i]);
      const double e = fabs(t2 * invDamping + n * bcol[i] - (i == col ? 1.0 : 0.0));
      drift = (sm_u64)__double_as_longlong(e);
    }
  }
  if (lane == 0) {
    warpMax[warp] = drift;
  }
  __syncthreads();
  if (threadIdx.x == 0) {
    sm_u64 mx = 0;
    for (int q = 0; q < MFAC_ROWS_PER_BLOCK; q++) {
      mx = warpMax[q] > mx ? warpMax[q] : mx;
    }
    atomicMax(driftMax, mx);
  }
}

// u += coef_j x_j for slot j = blockIdx.x, with M_j = (M0_j + (B r)_j)/λ² and coef_j = −M_j, plus 1/λ for
// j = slot (the c/λ term, x_slot = c). u must be zeroed before. The block of slot `slot` also clears c's
// support bits and scratch values (mfac_dots, their last reader, has finished).
extern "C" __global__ void mfac_scatter(const int* __restrict__ winIdx, const float* __restrict__ winVal, int k,
                                        const double* __restrict__ B, const double* __restrict__ M0,
                                        const double* __restrict__ r, int m, int slot, double invDamping,
                                        double* __restrict__ u, unsigned int* __restrict__ bitmap,
                                        double* __restrict__ scratch) {
  const int j = blockIdx.x;
  const double* row = B + (long long)j * m;
  double acc = 0.0;
  for (int l = threadIdx.x; l < m; l += SM_THREADS) {
    acc += row[l] * r[l];
  }
  const double mj = (M0[j] + sm_block_sum(acc)) * (invDamping * invDamping);
  const double coef = sm_window_coefficient(j, slot, mj, invDamping);
  const int* idx = winIdx + (long long)j * k;
  const float* val = winVal + (long long)j * k;
  for (int q = threadIdx.x; q < k; q += SM_THREADS) {
    const int i = idx[q];
    atomicAdd(&u[i], coef * (double)val[q]);
    if (j == slot) {
      // Threads whose indices share a word all store the same 0: a benign race.
      bitmap[i >> 5] = 0u;
      scratch[i] = 0.0;
    }
  }
}
