// GGT on the device (algorithms doc §4, §13 "GGT ridge"; org.efcp.optim.GgtPreconditioner): the m×m eigen step and
// the sparse combination. With window vectors x_j (the columns of G), the new vector x in slot `slot`, the Gram
// matrix K (m×m, row-major by slot) and w = Gᵀ x (K's new row), both written by the reused dots kernels (mfac_dots of
// sparse_mfac.cu, or dmfac_dots + dmfac_dots_finish of dense_mfac.cu):
//
//   K + ridge·I = V diag(λ) Vᵀ  (leading n×n block, n = filled slots),   s_i = sqrt(λ_i),
//   h_i = −1/(ε s_i (s_i + ε)),   β = V diag(h) Vᵀ w,   u = x/ε + G β.
//
// Eigenpairs with λ_i ≤ cutoff are dropped (h_i = 0): cutoff = 0 with a ridge, max(0, 1e-12·λ_max) without (the
// CPU's rule). Empty slots (warm-up) have zero rows in K and w; only the leading n×n block is decomposed.
//
// The coefficients follow the M-FAC combination's convention, u = x/ε − Σ_j M_j x_j with M = −β, so the dense path
// reuses dense_mfac.cu's dmfac_combine as it is (1/λ → 1/ε). Per step (one stream, blocks of 256 threads):
//   dense only: ggt_gram_row grid = ceil(filled / 256)   K's row and column `slot` = w (dmfac_dots_finish writes w only)
//   ggt_coefficients   grid = 1       M_j = −β_j, j < n; 0 for j ≥ n
//   then dense: dmfac_combine (dense_mfac.cu) with M and 1/ε; sparse: ggt_scatter, grid = filled slots, u zeroed before.
// All arithmetic is float64.
#include "sparse_mfac_block.cuh"

// Window sizes up to this are decomposed by the one-block Jacobi (the Java side rejects larger m).
#define GGT_MAX_M 128
#define GGT_MAX_PAIRS (GGT_MAX_M / 2)
// The sweep loop stops when ||offdiag(A)||_F ≤ GGT_JACOBI_TOL · ||diag(A)||_2, or after GGT_MAX_SWEEPS sweeps.
#define GGT_JACOBI_TOL 1e-15
#define GGT_MAX_SWEEPS 20
// Without a ridge, eigenvalues at or below this fraction of the largest count as zero (GgtPreconditioner).
#define GGT_DROP_RELATIVE 1e-12

// Diagonalises the symmetric N×N matrix A (row-major, global memory, N even, N ≤ GGT_MAX_M) in place by the
// parallel cyclic Jacobi method, accumulating the rotations into V (row-major; V must hold the identity, or any
// orthogonal start, on entry): afterwards A ≈ diag(λ), the input equals V A Vᵀ, and column i of V is the eigenvector
// of λ_i = A_ii. Round-robin ordering: each of the N−1 rounds of a sweep applies N/2 disjoint rotations at once; the
// rotation of pair (p, q) zeroes A_pq exactly and sets A_pp, A_qq by the classic t-formulas, and every other 2×2 block
// is updated by one thread that writes it and its mirror, so A stays exactly symmetric and the off-diagonal entries
// shrink with no rounding floor. Returns the number of sweeps run. Every thread of the block must call it.
__device__ int ggt_jacobi(double* __restrict__ A, double* __restrict__ V, int N) {
  __shared__ int pairP[GGT_MAX_PAIRS];
  __shared__ int pairQ[GGT_MAX_PAIRS];
  __shared__ double rotC[GGT_MAX_PAIRS];
  __shared__ double rotS[GGT_MAX_PAIRS];
  const int tid = threadIdx.x;
  const int np = N / 2;
  int sweep = 0;
  for (; sweep < GGT_MAX_SWEEPS; sweep++) {
    double off = 0.0;
    double diag = 0.0;
    for (int e = tid; e < N * N; e += SM_THREADS) {
      const double a = A[e];
      if (e / N == e % N) {
        diag += a * a;
      } else {
        off += a * a;
      }
    }
    off = sm_block_sum(off);
    diag = sm_block_sum(diag);
    if (off <= GGT_JACOBI_TOL * GGT_JACOBI_TOL * diag) {
      break;
    }
    for (int round = 0; round < N - 1; round++) {
      // Circle method: N−1 stays, the others turn; pair 0 is (N−1, round).
      if (tid < np) {
        int a;
        int b;
        if (tid == 0) {
          a = N - 1;
          b = round;
        } else {
          a = (round + tid) % (N - 1);
          b = (round - tid + N - 1) % (N - 1);
        }
        const int p = min(a, b);
        const int q = max(a, b);
        const double apq = A[p * N + q];
        double c = 1.0;
        double s = 0.0;
        if (apq != 0.0) {
          const double app = A[p * N + p];
          const double aqq = A[q * N + q];
          const double theta = (aqq - app) / (2.0 * apq);
          double t;
          if (fabs(theta) > 1e150) {
            t = 0.5 / theta;
          } else {
            t = 1.0 / (fabs(theta) + sqrt(theta * theta + 1.0));
            if (theta < 0.0) {
              t = -t;
            }
          }
          c = 1.0 / sqrt(t * t + 1.0);
          s = t * c;
          A[p * N + p] = app - t * apq;
          A[q * N + q] = aqq + t * apq;
          A[p * N + q] = 0.0;
          A[q * N + p] = 0.0;
        }
        pairP[tid] = p;
        pairQ[tid] = q;
        rotC[tid] = c;
        rotS[tid] = s;
      }
      __syncthreads();
      // Off-diagonal blocks (P < Q): A[P,Q] ← R_Pᵀ A[P,Q] R_Q with R = [[c, s], [−s, c]], mirrored into A[Q,P].
      for (int b = tid; b < np * np; b += SM_THREADS) {
        const int P = b / np;
        const int Q = b - P * np;
        if (P >= Q) {
          continue;
        }
        const int p = pairP[P];
        const int q = pairQ[P];
        const int r = pairP[Q];
        const int t = pairQ[Q];
        const double cp = rotC[P];
        const double sp = rotS[P];
        const double cq = rotC[Q];
        const double sq = rotS[Q];
        const double apr = A[p * N + r];
        const double apt = A[p * N + t];
        const double aqr = A[q * N + r];
        const double aqt = A[q * N + t];
        // Rows first (R_Pᵀ ·), then columns (· R_Q).
        const double xpr = cp * apr - sp * aqr;
        const double xpt = cp * apt - sp * aqt;
        const double xqr = sp * apr + cp * aqr;
        const double xqt = sp * apt + cp * aqt;
        const double ypr = cq * xpr - sq * xpt;
        const double ypt = sq * xpr + cq * xpt;
        const double yqr = cq * xqr - sq * xqt;
        const double yqt = sq * xqr + cq * xqt;
        A[p * N + r] = ypr;
        A[p * N + t] = ypt;
        A[q * N + r] = yqr;
        A[q * N + t] = yqt;
        A[r * N + p] = ypr;
        A[t * N + p] = ypt;
        A[r * N + q] = yqr;
        A[t * N + q] = yqt;
      }
      // V ← V R: columns p and q of every row.
      for (int e = tid; e < N * np; e += SM_THREADS) {
        const int row = e / np;
        const int P = e - row * np;
        const double c = rotC[P];
        const double s = rotS[P];
        double* v = V + row * N;
        const double vp = v[pairP[P]];
        const double vq = v[pairQ[P]];
        v[pairP[P]] = c * vp - s * vq;
        v[pairQ[P]] = s * vp + c * vq;
      }
      __syncthreads();
    }
  }
  return sweep;
}

// M = −β from K (m×m, row-major) and w over the leading n×n block (1 ≤ n ≤ m ≤ GGT_MAX_M), one
// block. A and V are scratch of at least N×N doubles (N = n rounded up to even; the padding row and column are zero,
// so the padding index is never rotated and its eigenpair (0, e_N−1) is ignored). *sweeps receives the Jacobi sweep
// count (GGT_MAX_SWEEPS when it stopped unconverged).
extern "C" __global__ void ggt_coefficients(const double* __restrict__ K, const double* __restrict__ w, int m, int n,
                                            int slot, double ridge, double eps, double* __restrict__ A,
                                            double* __restrict__ V, double* __restrict__ M,
                                            int* __restrict__ sweeps) {
  __shared__ double z[GGT_MAX_M];
  __shared__ double cutoff;
  const int tid = threadIdx.x;
  const int N = n + (n & 1);
  for (int e = tid; e < N * N; e += SM_THREADS) {
    const int i = e / N;
    const int j = e - i * N;
    double a = 0.0;
    if (i < n && j < n) {
      a = K[(long long)i * m + j];
      if (i == j) {
        a += ridge;
      }
    }
    A[e] = a;
    V[e] = i == j ? 1.0 : 0.0;
  }
  __syncthreads();
  const int swept = ggt_jacobi(A, V, N);
  if (tid == 0) {
    double top = A[0];
    for (int i = 1; i < n; i++) {
      top = fmax(top, A[i * N + i]);
    }
    cutoff = ridge > 0.0 ? 0.0 : fmax(0.0, GGT_DROP_RELATIVE * top);
    *sweeps = swept;
  }
  __syncthreads();
  // z_i = h_i (Vᵀ w)_i for the kept eigenpairs.
  if (tid < n) {
    const double lambda = A[tid * N + tid];
    double zi = 0.0;
    if (lambda > cutoff) {
      double proj = 0.0;
      for (int r = 0; r < n; r++) {
        proj += V[r * N + tid] * w[r];
      }
      const double si = sqrt(lambda);
      zi = proj * (-1.0 / (eps * si * (si + eps)));
    }
    z[tid] = zi;
  }
  __syncthreads();
  for (int r = tid; r < m; r += SM_THREADS) {
    double beta = 0.0;
    if (r < n) {
      const double* v = V + r * N;
      for (int i = 0; i < n; i++) {
        beta += v[i] * z[i];
      }
    }
    M[r] = -beta;
  }
}

// u += c_j x_j, c_j = (1/ε at `slot`) − M_j, for slot j = blockIdx.x (sparse window: m rows of k (int32 index,
// float32 value) pairs); u must be zeroed before. The block of slot `slot` also clears the new vector's support bits and scratch values (set by
// topk_write; mfac_dots, their last reader, has finished).
extern "C" __global__ void ggt_scatter(const int* __restrict__ winIdx, const float* __restrict__ winVal, int k,
                                       const double* __restrict__ M, int slot, double invEps,
                                       double* __restrict__ u, unsigned int* __restrict__ bitmap,
                                       double* __restrict__ scratch) {
  const int j = blockIdx.x;
  const double c = sm_window_coefficient(j, slot, M[j], invEps);
  const int* idx = winIdx + (long long)j * k;
  const float* val = winVal + (long long)j * k;
  for (int q = threadIdx.x; q < k; q += SM_THREADS) {
    const int i = idx[q];
    atomicAdd(&u[i], c * (double)val[q]);
    if (j == slot) {
      // Threads whose indices share a word all store the same 0: a benign race.
      bitmap[i >> 5] = 0u;
      scratch[i] = 0.0;
    }
  }
}

// Row and column `slot` of the Gram matrix K (m×m, row-major) = w over the filled slots j < filled (dense GGT: its
// dots come from dmfac_dots_finish, which writes w only). Entries of empty slots stay 0.
extern "C" __global__ void ggt_gram_row(double* __restrict__ K, const double* __restrict__ w, int m, int filled,
                                        int slot) {
  const int j = blockIdx.x * SM_THREADS + threadIdx.x;
  if (j < filled) {
    K[(long long)slot * m + j] = w[j];
    K[(long long)j * m + slot] = w[j];
  }
}
