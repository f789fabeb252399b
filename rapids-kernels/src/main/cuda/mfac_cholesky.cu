// The m×m part of dense M-FAC on the device in the CPU's well-conditioned form (org.efcp.optim.MfacCholeskyState;
// algorithms doc §2.4, Woodbury form): with window vectors x_j (slot j), K_ij = <x_i, x_j>, damping λ and n = m,
//
//   A = K/λ + n I,   u = x/λ − Σ_j M_j x_j,   M = (1/λ)² A⁻¹ w,   w_j = <x_j, x>  (x the vector just inserted),
//
// kept as the upper Cholesky factor R of A (RᵀR = A) in chronological order with a rotating head: logical position
// p is slot (head + p) mod m, head (= `old`, the slot the step overwrites) holds the oldest vector, entry (p, q) of R
// lives at R[slot(p) · m + slot(q)] (row-major by slot) and entries below the logical diagonal are exactly 0.
//
// One step replaces the oldest vector by x in O(m²), in one kernel (mchol_step_C) of ONE block of 512 threads:
//   1. drift check of the column of the vector leaving: max_q |(RᵀR − A)_q0| / sqrt(A_qq A_00) with
//      (RᵀR)_q0 = R_00 R_0q (as MfacCholeskyState.oldestColumnError), before anything changes;
//   2. deleting logical row 0 is a rank-1 update of the trailing factor by its off-diagonal part x0 (Givens
//      rotations, no downdates), fused with the forward substitution R'ᵀ y = (w/λ)_{-old} of the new last column,
//      which is stored in physical column `old`; the Schur complement a_old + n − ‖y‖² (≥ n in exact arithmetic; a
//      shortfall within tolerance · alpha is clamped to n, a larger one or a NaN is reported as drift) gives the new
//      diagonal entry; row/column `old` of K becomes w;
//   3. the coefficients as MfacCholeskyState.coefficientsForNewest: z = λ y (the forward solve of Rᵀ z = w is step
//      2's), z_old = (w_old − Σ y_p z_p) / R_old,old, then R M = z by a second sequential pass, M *= (1/λ)².
// The drift (the larger of step 1's residual and step 2's relative Schur shortfall, as the bits of a non-negative
// double so that the integer maximum is the numeric one and a NaN is larger than any number) is folded into
// *driftMax, which the host reads back asynchronously and compares with MfacCholeskyState.driftTolerance(m).
//
// Layout of the block: MCHOL_THREADS (512) threads; thread t owns the physical columns (slots) q = t + 512 c, c < C
// (C = ceil(m / 512) rounded up to a power of two, one instantiation per C); its x0, right-hand side, diagonal and
// prefetched entries live in registers (the loops over c are unrolled). Both passes are sequential over the m logical
// rows, one row per iteration: the thread owning the pivot computes it from its registers and broadcasts it through a
// double-buffered shared slot, ONE __syncthreads per row (double buffering lets a row's broadcast be written while
// slower threads still read the previous one), then every thread applies it to its own columns. The entries of the
// next D rows (update) or columns (back solve) are already in a register ring (D = MCHOL_PREFETCH(C)): a row's loads
// are issued D iterations before it is used, which hides an L2 or HBM round trip (the window passes before this
// kernel evict R from L2). The pivot avoids divisions on the sequential path: the rotation takes one rsqrt
// (r = h · rsqrt(h), c = R_pp / r, s = x / r as products) and the back solve multiplies by reciprocals of the
// diagonal computed in parallel before it. Barriers per step: (m − 1) in the update, m − 1 in the back solve, 1 for
// the drift maximum. All arithmetic is float64. Launch: grid = 1, block = MCHOL_THREADS.
//
// Measured on an H200 at m = 1024 (BENCHMARKS.md, GPU path): 0.68 ms per step, against 1.10 ms with 256 threads,
// one row of prefetch and divisions, and 1.32 ms for a variant in blocks of 32 rows with one warp solving each
// block. A step is latency-bound: ~300 ns per sequential row, mostly the barrier and the shared-memory broadcast
// (ncu: 2.9 barrier + 2.5 short-scoreboard of 11 cycles per issued instruction).
#include "sparse_mfac_block.cuh"

#define MCHOL_THREADS 512
#define MCHOL_WARPS (MCHOL_THREADS / 32)
// Rows (update) or columns (back solve) of R in flight per thread: C · D ≤ 16 doubles of registers, and one row at
// C = 8, where a second would spill (512 threads leave 128 registers each).
#define MCHOL_PREFETCH(C) ((C) <= 2 ? 8 : (C) == 4 ? 4 : 1)

// The slot `p` logical positions after `base` (0 ≤ p < m, 0 ≤ base < m).
__device__ __forceinline__ int mchol_slot(int base, int p, int m) {
  const int s = base + p;
  return s < m ? s : s - m;
}

// The new diagonal entry of the column a step inserts: sqrt of the Schur complement alpha − yy (alpha = a_old + n,
// yy = Σ y_p² in p order), which is ≥ n in exact arithmetic. A shortfall within tolerance · alpha is clamped to n; a
// larger one, or a NaN, goes to *shortfallBits as drift (0 otherwise). One thread calls it.
__device__ __forceinline__ double mchol_schur_diagonal(double alpha, double yy, double n, double tolerance,
                                                       sm_u64* shortfallBits) {
  const double schur = alpha - yy;
  double shortfall = 0.0;
  double rss;
  if (schur >= n) {
    rss = sqrt(schur);
  } else {
    rss = sqrt(n);
    if (!(n - schur <= tolerance * alpha)) {
      shortfall = fabs((n - schur) / alpha);  // NaN stays NaN
    }
  }
  *shortfallBits = (sm_u64)__double_as_longlong(shortfall);
  return rss;
}

// Folds the step's drift into *driftMax: every thread's drift-check maximum `worst` and the Schur shortfall
// (*shortfallBits, written before the call). Holds a __syncthreads: every thread of the block calls it.
__device__ __forceinline__ void mchol_fold_drift(sm_u64 worst, const sm_u64* shortfallBits, sm_u64* warpMax,
                                                 sm_u64* driftMax) {
  worst = sm_warp_max_u64(worst);
  if ((threadIdx.x & 31) == 0) {
    warpMax[threadIdx.x >> 5] = worst;
  }
  __syncthreads();
  if (threadIdx.x == 0) {
    sm_u64 mx = *shortfallBits;
    for (int i = 0; i < MCHOL_WARPS; i++) {
      mx = warpMax[i] > mx ? warpMax[i] : mx;
    }
    atomicMax(driftMax, mx);
  }
}

template <int C, int D>
__device__ __forceinline__ void mchol_step(double* R, double* K, const double* w, int m, int old, double damping,
                                           double invDamping, double n, double tolerance, sm_u64* driftMax,
                                           double* M) {
  // Double-buffered pivot broadcast {c, s, y} (update) or {M_p} (back solve).
  __shared__ double pivot[2][3];
  __shared__ sm_u64 warpMax[MCHOL_WARPS];
  __shared__ sm_u64 shortfallBits;
  const int t = threadIdx.x;
  const double* kOld = K + (long long)old * m;
  double* rOld = R + (long long)old * m;

  int q[C];        // owned slots (q ≥ m: not a column)
  int lq[C];       // logical position of q before the step (0 for `old`); m for q ≥ m, so never active
  double x[C];     // the rank-1 update vector (row `old` off its diagonal), rotated as rows pass
  double a[C];     // right-hand side w/λ, reduced as rows pass; y of the column once it was the pivot
  double dg[C];    // R_qq, then the rotated diagonal
  double ring[D][C];  // entries of the next D rows (update) or columns (back solve) in the owned columns

  // 1. Drift check of column `old` (the vector leaving) against the current K; row `old` becomes x0, then zero.
  const double r00 = rOld[old];
  const double a00 = invDamping * kOld[old] + n;
  sm_u64 worst = 0;
#pragma unroll
  for (int c = 0; c < C; c++) {
    q[c] = t + c * MCHOL_THREADS;
    lq[c] = m;
    x[c] = 0.0;
    a[c] = 0.0;
    dg[c] = 0.0;
    if (q[c] < m) {
      const int s = q[c];
      lq[c] = s >= old ? s - old : s - old + m;
      const double r0 = rOld[s];
      const double aq0 = invDamping * kOld[s] + (s == old ? n : 0.0);
      const double aqq = invDamping * K[(long long)s * m + s] + n;
      const double e = fabs(r00 * r0 - aq0) / sqrt(aqq * a00);
      const sm_u64 bits = (sm_u64)__double_as_longlong(e);
      worst = bits > worst ? bits : worst;
      if (s != old) {
        x[c] = r0;
        rOld[s] = 0.0;
        dg[c] = R[(long long)s * m + s];
      }
      a[c] = invDamping * w[s];
    }
  }

  // 2. Rows p = 1..m−1 (slot sp): Givens rotation of x into row p, fused with the forward substitution. Row p's
  // entries sit in ring[(p − 1) mod D]; once used, that slot loads row p + D.
  double yy = 0.0;  // Σ y_p² in p order (the Schur complement), as the CPU
  double yz = 0.0;  // Σ y_p (λ y_p) in p order (the coefficients' last forward step), as the CPU
#pragma unroll
  for (int j = 0; j < D; j++) {
    const int p = 1 + j;
    const double* row = R + (long long)mchol_slot(old, p < m ? p : 0, m) * m;
#pragma unroll
    for (int c = 0; c < C; c++) {
      ring[j][c] = p < m && lq[c] > p && lq[c] < m ? row[q[c]] : 0.0;
    }
  }
  for (int p0 = 1; p0 < m; p0 += D) {
#pragma unroll
    for (int j = 0; j < D; j++) {
      const int p = p0 + j;
      if (p >= m) {
        break;  // uniform
      }
      const int sp = mchol_slot(old, p, m);
      double* row = R + (long long)sp * m;
      // The pivot's owner: x and a of column sp have seen rows 1..p−1 (this thread applied them).
#pragma unroll
      for (int c = 0; c < C; c++) {
        if (q[c] == sp) {
          const double h = fma(dg[c], dg[c], x[c] * x[c]);
          const double ir = rsqrt(h);
          const double y = a[c] * ir;
          pivot[p & 1][0] = dg[c] * ir;
          pivot[p & 1][1] = x[c] * ir;
          pivot[p & 1][2] = y;
          dg[c] = h * ir;
          a[c] = y;
          row[sp] = dg[c];
          row[old] = y;
        }
      }
      __syncthreads();
      const double cs = pivot[p & 1][0];
      const double sn = pivot[p & 1][1];
      const double y = pivot[p & 1][2];
      yy += y * y;
      yz += y * (damping * y);
#pragma unroll
      for (int c = 0; c < C; c++) {
        if (lq[c] > p && lq[c] < m) {
          const double rq = ring[j][c];
          const double nr = cs * rq + sn * x[c];
          row[q[c]] = nr;
          x[c] = cs * x[c] - sn * rq;
          a[c] -= nr * y;
        }
      }
      const int pn = p + D;
      if (pn < m) {
        const double* next = R + (long long)mchol_slot(old, pn, m) * m;
#pragma unroll
        for (int c = 0; c < C; c++) {
          ring[j][c] = lq[c] > pn && lq[c] < m ? next[q[c]] : 0.0;
        }
      }
    }
  }

  // The new diagonal entry of column `old` (its owner), the coefficients' z_old, the drift maximum, K.
  double zOld = 0.0;
#pragma unroll
  for (int c = 0; c < C; c++) {
    if (q[c] == old) {
      const double rss = mchol_schur_diagonal(a[c] + n, yy, n, tolerance, &shortfallBits);
      dg[c] = rss;
      zOld = (w[old] - yz) / rss;
    }
  }
  mchol_fold_drift(worst, &shortfallBits, warpMax, driftMax);
  // Every read of K and of R_old,old (step 1) is behind a barrier.
  double invDg[C];  // 1 / R_qq for the back solve, off its sequential path
#pragma unroll
  for (int c = 0; c < C; c++) {
    if (q[c] < m) {
      K[(long long)old * m + q[c]] = w[q[c]];
      K[(long long)q[c] * m + old] = w[q[c]];
    }
    if (q[c] == old) {
      rOld[old] = dg[c];
    }
    invDg[c] = q[c] < m ? 1.0 / dg[c] : 0.0;
  }

  // 3. z = λ y off `old`, z_old above; then R M = z column by column, last logical position first. From here the
  // logical position of slot q is lq − 1 (mod m): `old` is last. Rows above the pivot read column sp of R (written
  // by this kernel's other threads before a barrier). Column p's entries sit in ring[(m − 1 − p) mod D].
  double* z = x;
  const int head = old + 1 < m ? old + 1 : 0;
#pragma unroll
  for (int c = 0; c < C; c++) {
    z[c] = q[c] == old ? zOld : damping * a[c];
    if (q[c] < m) {
      lq[c] = lq[c] == 0 ? m - 1 : lq[c] - 1;
    }
  }
#pragma unroll
  for (int j = 0; j < D; j++) {
    const int p = m - 1 - j;
    const int sp = mchol_slot(head, p > 0 ? p : 0, m);
#pragma unroll
    for (int c = 0; c < C; c++) {
      ring[j][c] = p > 0 && lq[c] < p ? R[(long long)q[c] * m + sp] : 0.0;
    }
  }
  for (int p0 = m - 1; p0 >= 0; p0 -= D) {
    bool done = false;
#pragma unroll
    for (int j = 0; j < D; j++) {
      const int p = p0 - j;
      if (p < 0) {
        break;  // uniform
      }
      const int sp = mchol_slot(head, p, m);
#pragma unroll
      for (int c = 0; c < C; c++) {
        if (q[c] == sp) {
          z[c] *= invDg[c];
          pivot[p & 1][0] = z[c];
        }
      }
      if (p == 0) {
        done = true;  // uniform: no rows above the first
        break;
      }
      __syncthreads();
      const double mp = pivot[p & 1][0];
#pragma unroll
      for (int c = 0; c < C; c++) {
        if (lq[c] < p) {
          z[c] -= ring[j][c] * mp;
        }
      }
      const int pn = p - D;
      if (pn > 0) {
        const int sNext = mchol_slot(head, pn, m);
#pragma unroll
        for (int c = 0; c < C; c++) {
          ring[j][c] = lq[c] < pn ? R[(long long)q[c] * m + sNext] : 0.0;
        }
      }
    }
    if (done) {
      break;
    }
  }
  const double scale = invDamping * invDamping;
#pragma unroll
  for (int c = 0; c < C; c++) {
    if (q[c] < m) {
      M[q[c]] = z[c] * scale;
    }
  }
}

// One step for window size m ≤ 512 C (see the file comment): R and K (m×m, by slot) in place, w = (<x_j, x>)_j
// (m doubles, 0 for unfilled slots), `old` = the slot x was written to (the head), tolerance =
// MfacCholeskyState.driftTolerance(m) for the Schur clamp; writes M (m doubles, slot order) and folds the drift
// into *driftMax. Grid 1, block MCHOL_THREADS. R and K are not __restrict__: threads read entries of R that other
// threads wrote in this launch (behind barriers), which must not go through the non-coherent read-only path.
#define MCHOL_STEP(C)                                                                                              \
  extern "C" __global__ void __launch_bounds__(MCHOL_THREADS, 1)                                                   \
      mchol_step_##C(double* R, double* K, const double* __restrict__ w, int m, int old,                          \
                     double damping, double invDamping, double n, double tolerance, sm_u64* __restrict__ driftMax, \
                     double* __restrict__ M) {                                                                     \
    mchol_step<C, MCHOL_PREFETCH(C)>(R, K, w, m, old, damping, invDamping, n, tolerance, driftMax, M);             \
  }
MCHOL_STEP(1)
MCHOL_STEP(2)
MCHOL_STEP(4)
MCHOL_STEP(8)

// ---------------------------------------------------------------------------------------------------------------
// Host side (GpuMfacCholeskyState.columnsPerThread, and the emulation harnesses): the instance of mchol_step_C for a
// window of m ≤ 4096 slots, the smallest power of two C with MCHOL_THREADS · C >= m (at most 8).
static inline int mchol_columns_per_thread(int m) {
  int c = 1;
  while (MCHOL_THREADS * c < m) c *= 2;
  return c;
}
