// The m×m part of dense M-FAC on the device in the CPU's well-conditioned form (org.efcp.optim.MfacCholeskyState;
// algorithms doc §2.4, Woodbury form): with window vectors x_j (slot j), K_ij = <x_i, x_j>, damping λ and n = m,
//
//   A = K/λ + n I,   u = x/λ − Σ_j M_j x_j,   M = (1/λ)² A⁻¹ w,   w_j = <x_j, x>  (x the vector just inserted),
//
// kept as the upper Cholesky factor R of A (RᵀR = A) in chronological order with a rotating head: logical position
// p is slot (head + p) mod m, head (= `old`, the slot the step overwrites) holds the oldest vector, entry (p, q) of R
// lives at R[slot(p) · m + slot(q)] (row-major by slot) and entries below the logical diagonal are exactly 0.
//
// One step replaces the oldest vector by x in O(m²), in one kernel (mchol_step_C) of ONE block of 256 threads:
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
// Layout of the block: thread t owns the physical columns (slots) q = t + 256 c, c < C (C = ceil(m / 256) rounded
// up to a power of two, one instantiation per C); its x0, right-hand side, diagonal and prefetched entries live in
// registers (the loops over c are unrolled). Both passes are sequential over the m logical rows, one row per
// iteration: the thread owning the pivot computes it from its registers and broadcasts it through a double-buffered
// shared slot, ONE __syncthreads per row (double buffering lets a row's broadcast be written while slower threads
// still read the previous one), then every thread applies it to its own columns. The next row's entries are loaded
// into registers before the barrier, so their L2 latency overlaps one iteration. Barriers per step: (m − 1) in the
// update, m − 1 in the back solve, 1 for the drift maximum. R (m² doubles, 8 MB at m = 1024) stays in L2.
// All arithmetic is float64. Launch: grid = 1, block = 256.
// mchol_blocked_step_C (after mchol_step_C) computes the same step with the same arguments and results in blocks of
// 32 rows, about two barriers per block instead of one per row; which one is faster is for the device to tell.
#include "sparse_mfac_block.cuh"

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
    for (int i = 0; i < SM_WARPS; i++) {
      mx = warpMax[i] > mx ? warpMax[i] : mx;
    }
    atomicMax(driftMax, mx);
  }
}

template <int C>
__device__ __forceinline__ void mchol_step(double* R, double* K, const double* w, int m, int old, double damping,
                                           double invDamping, double n, double tolerance, sm_u64* driftMax,
                                           double* M) {
  // Double-buffered pivot broadcast {c, s, y} (update) or {M_p} (back solve).
  __shared__ double pivot[2][3];
  __shared__ sm_u64 warpMax[SM_WARPS];
  __shared__ sm_u64 shortfallBits;
  const int t = threadIdx.x;
  const double* kOld = K + (long long)old * m;
  double* rOld = R + (long long)old * m;

  int q[C];        // owned slots (q ≥ m: not a column)
  int lq[C];       // logical position of q before the step (0 for `old`); m for q ≥ m, so never active
  double x[C];     // the rank-1 update vector (row `old` off its diagonal), rotated as rows pass
  double a[C];     // right-hand side w/λ, reduced as rows pass; y of the column once it was the pivot
  double dg[C];    // R_qq, then the rotated diagonal
  double cur[C];   // the current row's entries in the owned columns
  double nxt[C];   // the next row's (prefetch)

  // 1. Drift check of column `old` (the vector leaving) against the current K; row `old` becomes x0, then zero.
  const double r00 = rOld[old];
  const double a00 = invDamping * kOld[old] + n;
  sm_u64 worst = 0;
#pragma unroll
  for (int c = 0; c < C; c++) {
    q[c] = t + c * SM_THREADS;
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

  // 2. Rows p = 1..m−1 (slot sp): Givens rotation of x into row p, fused with the forward substitution.
  double yy = 0.0;  // Σ y_p² in p order (the Schur complement), as the CPU
  double yz = 0.0;  // Σ y_p (λ y_p) in p order (the coefficients' last forward step), as the CPU
  if (m > 1) {
    const int s1 = mchol_slot(old, 1, m);
#pragma unroll
    for (int c = 0; c < C; c++) {
      cur[c] = lq[c] > 1 && lq[c] < m ? R[(long long)s1 * m + q[c]] : 0.0;
    }
  }
  for (int p = 1; p < m; p++) {
    const int sp = mchol_slot(old, p, m);
    double* row = R + (long long)sp * m;
    // The pivot's owner: x and a of column sp have seen rows 1..p−1 (this thread applied them).
#pragma unroll
    for (int c = 0; c < C; c++) {
      if (q[c] == sp) {
        const double rr = sqrt(dg[c] * dg[c] + x[c] * x[c]);
        const double cs = dg[c] / rr;
        const double sn = x[c] / rr;
        const double y = a[c] / rr;
        pivot[p & 1][0] = cs;
        pivot[p & 1][1] = sn;
        pivot[p & 1][2] = y;
        dg[c] = rr;
        a[c] = y;
        row[sp] = rr;
        row[old] = y;
      }
    }
    if (p + 1 < m) {
      const double* next = R + (long long)mchol_slot(old, p + 1, m) * m;
#pragma unroll
      for (int c = 0; c < C; c++) {
        nxt[c] = lq[c] > p + 1 && lq[c] < m ? next[q[c]] : 0.0;
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
        const double rq = cur[c];
        const double nr = cs * rq + sn * x[c];
        row[q[c]] = nr;
        x[c] = cs * x[c] - sn * rq;
        a[c] -= nr * y;
      }
      cur[c] = nxt[c];
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
#pragma unroll
  for (int c = 0; c < C; c++) {
    if (q[c] < m) {
      K[(long long)old * m + q[c]] = w[q[c]];
      K[(long long)q[c] * m + old] = w[q[c]];
    }
    if (q[c] == old) {
      rOld[old] = dg[c];
    }
  }

  // 3. z = λ y off `old`, z_old above; then R M = z column by column, last logical position first. From here the
  // logical position of slot q is lq − 1 (mod m): `old` is last. Rows above the pivot read column sp of R (written
  // by this kernel's other threads before a barrier).
  double* z = x;
  const int head = old + 1 < m ? old + 1 : 0;
#pragma unroll
  for (int c = 0; c < C; c++) {
    z[c] = q[c] == old ? zOld : damping * a[c];
    if (q[c] < m) {
      lq[c] = lq[c] == 0 ? m - 1 : lq[c] - 1;
    }
    cur[c] = lq[c] < m - 1 ? R[(long long)q[c] * m + old] : 0.0;
  }
  for (int p = m - 1; p >= 0; p--) {
    const int sp = mchol_slot(head, p, m);
#pragma unroll
    for (int c = 0; c < C; c++) {
      if (q[c] == sp) {
        z[c] = z[c] / dg[c];
        pivot[p & 1][0] = z[c];
      }
    }
    if (p == 0) {
      break;  // uniform: no rows above the first
    }
    const int sNext = mchol_slot(head, p - 1, m);
#pragma unroll
    for (int c = 0; c < C; c++) {
      nxt[c] = lq[c] < p - 1 ? R[(long long)q[c] * m + sNext] : 0.0;
    }
    __syncthreads();
    const double mp = pivot[p & 1][0];
#pragma unroll
    for (int c = 0; c < C; c++) {
      if (lq[c] < p) {
        z[c] -= cur[c] * mp;
      }
      cur[c] = nxt[c];
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

// One step for window size m ≤ 256 C (see the file comment): R and K (m×m, by slot) in place, w = (<x_j, x>)_j
// (m doubles, 0 for unfilled slots), `old` = the slot x was written to (the head), tolerance =
// MfacCholeskyState.driftTolerance(m) for the Schur clamp; writes M (m doubles, slot order) and folds the drift
// into *driftMax. Grid 1, block 256. R and K are not __restrict__: threads read entries of R that other threads wrote
// in this launch (behind barriers), which must not go through the non-coherent read-only path.
#define MCHOL_STEP(C)                                                                                              \
  extern "C" __global__ void __launch_bounds__(SM_THREADS, 1)                                                      \
      mchol_step_##C(double* R, double* K, const double* __restrict__ w, int m, int old,                          \
                     double damping, double invDamping, double n, double tolerance, sm_u64* __restrict__ driftMax, \
                     double* __restrict__ M) {                                                                     \
    mchol_step<C>(R, K, w, m, old, damping, invDamping, n, tolerance, driftMax, M);                                \
  }
MCHOL_STEP(1)
MCHOL_STEP(2)
MCHOL_STEP(4)
MCHOL_STEP(8)
MCHOL_STEP(16)

// ---------------------------------------------------------------------------------------------------------------
// The blocked variant mchol_blocked_step_C: the same arguments, results and per-column arithmetic as mchol_step_C,
// for an A/B measurement (GpuMfacCholeskyState's MfacCholeskyKernel picks one). Why: mchol_step_C's two sequential
// passes take one __syncthreads per row, and each row waits for the L2 round trip of its prefetched entries, so at
// m = 1024 the step is ~2047 barrier + L2-latency periods. Here both passes go in blocks of MCHOL_B = 32 rows:
//   * the block's state: the owners of its 32 pivot columns (logical positions p0 .. p0 + nb − 1, nb ≤ 32; the last
//     block of a pass is partial) write x and a (update) or z (back solve) of those columns to shared memory (their
//     diagonal entries are there anyway, see below), barrier;
//   * warp 0 alone, lane j holding column p0 + j and its entries of the block's rows (32 independent loads, into
//     registers), runs the block's rows in order warp-synchronously: lane i computes row i's rotation (c, s, y)
//     respectively M_p = z_p / R_pp, writes it to shared memory, __syncwarp, the lanes right (update) or left (back
//     solve) of i apply it; then it hands the pivot columns' results (a = y, respectively z = M_p) back through
//     shared memory, the rotated diagonal r into dgS, barrier;
//   * every thread applies the block's rows to each of its own columns past the block (update: logical position
//     ≥ p0 + nb; back solve: < p0), one column at a time: the column's nb entries of the block's rows are loaded
//     first (independent loads: memory-level parallelism instead of one L2 round trip per row), then the rows are
//     applied in order and the new entries written back.
// Per column the operations are exactly mchol_step_C's, in the same order: the rotations in increasing p
// (nr = c r + s x, x = c x − s r, a −= nr y), the back solve's z −= R M_p in decreasing p, Σ y² and Σ y (λ y) in p
// order (warp 0 accumulates them, thread 0 then does the Schur step, as the owner of `old` does there); the drift
// check and the K update are mchol_step_C's code. So without FMA contraction (the CPU emulation) R, K, M and the
// drift are bitwise mchol_step_C's; on the device nvcc may contract the two kernels differently.
// The state buffer is double-buffered by block parity: the owners read block k's results after its second barrier
// while other owners already write block k + 1's state; the next write to the same buffer (block k + 2) is behind
// block k + 1's first barrier. The rotation buffer needs no second copy: block k's trailing reads end before block
// k + 1's first barrier, after which warp 0 writes it.
// Barriers per step: 2 ceil((m − 1) / 32) in the update, 2 ceil(m / 32) in the back solve, 1 for the drift maximum:
// 129 at m = 1024 (mchol_step_C: 2047). The warp's serial chain (per row: sqrt, three divisions, a shared-memory
// round trip and a __syncwarp) remains on the critical path; the trailing update keeps one column's 32 entries
// (64 registers) live at a time; to stay within 255 registers at C = 16 without spilling, the owned slots' logical
// positions are recomputed where needed and the diagonal lives in shared memory by slot (dgS; warp 0 reads and
// writes the pivot columns' entries there). Shared memory: 1.8 KB + 2 KB C (34 KB at C = 16).
// Launch: grid = 1, block = 256.
#define MCHOL_B 32

// The logical position of slot q counted from `base` (m for q ≥ m: not a column).
__device__ __forceinline__ int mchol_position(int q, int base, int m) {
  return q >= m ? m : q >= base ? q - base : q - base + m;
}

template <int C>
__device__ __forceinline__ void mchol_blocked_step(double* R, double* K, const double* w, int m, int old,
                                                   double damping, double invDamping, double n, double tolerance,
                                                   sm_u64* driftMax, double* M) {
  __shared__ double rot[3][MCHOL_B];     // the block's rows: {c, s, y} (update), {M_p} in rot[0] (back solve)
  __shared__ double st[2][2][MCHOL_B];   // by block parity: the pivot columns' x, a in and a out (update), z
  __shared__ double dgS[SM_THREADS * C]; // by slot: R_qq, then the rotated diagonal (warp 0 reads and writes it)
  __shared__ double schurOut[2];         // thread 0's new diagonal entry of column `old` and z_old
  __shared__ sm_u64 warpMax[SM_WARPS];
  __shared__ sm_u64 shortfallBits;
  const int t = threadIdx.x;
  const double* kOld = K + (long long)old * m;
  double* rOld = R + (long long)old * m;

  // Fewer registers than mchol_step_C (the trailing update holds 32 entries): the owned slots q = t + 256 c and
  // their logical positions are recomputed where needed, the diagonal lives in shared memory (dgS).
  double x[C];     // the rank-1 update vector (row `old` off its diagonal), rotated as rows pass
  double a[C];     // right-hand side w/λ, reduced as rows pass; y of the column once it was the pivot

  // 1. Drift check of column `old` (the vector leaving), as mchol_step_C.
  const double r00 = rOld[old];
  const double a00 = invDamping * kOld[old] + n;
  sm_u64 worst = 0;
#pragma unroll
  for (int c = 0; c < C; c++) {
    const int s = t + c * SM_THREADS;
    x[c] = 0.0;
    a[c] = 0.0;
    dgS[s] = 0.0;
    if (s < m) {
      const double r0 = rOld[s];
      const double aq0 = invDamping * kOld[s] + (s == old ? n : 0.0);
      const double aqq = invDamping * K[(long long)s * m + s] + n;
      const double e = fabs(r00 * r0 - aq0) / sqrt(aqq * a00);
      const sm_u64 bits = (sm_u64)__double_as_longlong(e);
      worst = bits > worst ? bits : worst;
      if (s != old) {
        x[c] = r0;
        rOld[s] = 0.0;
        dgS[s] = R[(long long)s * m + s];
      }
      a[c] = invDamping * w[s];
    }
  }

  // 2. Rows p = 1..m−1 in blocks [p0, p0 + nb): Givens rotations fused with the forward substitution.
  double yy = 0.0;  // Σ y_p² in p order (warp 0; thread 0 uses it)
  double yz = 0.0;  // Σ y_p (λ y_p) in p order
  int parity = 0;
  for (int p0 = 1; p0 < m; p0 += MCHOL_B, parity ^= 1) {
    const int nb = min(MCHOL_B, m - p0);
    // The owners hand in the block's pivot columns (they have applied rows 1..p0−1).
#pragma unroll
    for (int c = 0; c < C; c++) {
      const int j = mchol_position(t + c * SM_THREADS, old, m) - p0;
      if (j >= 0 && j < nb) {
        st[parity][0][j] = x[c];
        st[parity][1][j] = a[c];
      }
    }
    __syncthreads();
    if (t < 32) {
      // Warp 0: lane j is column p0 + j (slot sj); col[i] its entry of row p0 + i (i < j, above the diagonal).
      const int j = t;
      const bool mine = j < nb;
      const int sj = mine ? mchol_slot(old, p0 + j, m) : 0;
      double xj = 0.0, aj = 0.0, dgj = 0.0;
      if (mine) {
        xj = st[parity][0][j];
        aj = st[parity][1][j];
        dgj = dgS[sj];
      }
      double col[MCHOL_B];
#pragma unroll
      for (int i = 0; i < MCHOL_B; i++) {
        col[i] = i < j && mine ? R[(long long)mchol_slot(old, p0 + i, m) * m + sj] : 0.0;
      }
#pragma unroll
      for (int i = 0; i < MCHOL_B; i++) {
        if (i < nb) {  // uniform over the warp
          const int si = mchol_slot(old, p0 + i, m);
          double* row = R + (long long)si * m;
          if (j == i) {
            const double rr = sqrt(dgj * dgj + xj * xj);
            const double cs = dgj / rr;
            const double sn = xj / rr;
            const double y = aj / rr;
            rot[0][i] = cs;
            rot[1][i] = sn;
            rot[2][i] = y;
            dgj = rr;
            aj = y;
            row[si] = rr;
            row[old] = y;
          }
          __syncwarp();
          const double cs = rot[0][i];
          const double sn = rot[1][i];
          const double y = rot[2][i];
          yy += y * y;
          yz += y * (damping * y);
          if (j > i && mine) {
            const double rq = col[i];
            const double nr = cs * rq + sn * xj;
            row[sj] = nr;
            xj = cs * xj - sn * rq;
            aj -= nr * y;
          }
        }
      }
      if (mine) {
        st[parity][1][j] = aj;
        dgS[sj] = dgj;
      }
    }
    __syncthreads();
    // The owners take the pivot columns' a = y back (warp 0 wrote their new diagonal to dgS); every thread applies the block's rows
    // to its columns past the block, one column at a time: its nb entries first, then the rows in order.
#pragma unroll
    for (int c = 0; c < C; c++) {
      const int j = mchol_position(t + c * SM_THREADS, old, m) - p0;
      if (j >= 0 && j < nb) {
        a[c] = st[parity][1][j];
      }
    }
#pragma unroll
    for (int c = 0; c < C; c++) {
      const int qc = t + c * SM_THREADS;
      const int lqc = mchol_position(qc, old, m);
      if (lqc >= p0 + nb && lqc < m) {
        double e[MCHOL_B];
#pragma unroll
        for (int i = 0; i < MCHOL_B; i++) {
          e[i] = i < nb ? R[(long long)mchol_slot(old, p0 + i, m) * m + qc] : 0.0;
        }
        double xc = x[c];
        double ac = a[c];
#pragma unroll
        for (int i = 0; i < MCHOL_B; i++) {
          if (i < nb) {
            const double cs = rot[0][i];
            const double sn = rot[1][i];
            const double y = rot[2][i];
            const double rq = e[i];
            const double nr = cs * rq + sn * xc;
            R[(long long)mchol_slot(old, p0 + i, m) * m + qc] = nr;
            xc = cs * xc - sn * rq;
            ac -= nr * y;
          }
        }
        x[c] = xc;
        a[c] = ac;
      }
    }
  }

  // The new diagonal entry of column `old` and z_old (thread 0, which holds Σ y² and Σ y (λ y); a_old = w_old/λ was
  // never reduced), the drift maximum, K.
  if (t == 0) {
    const double rss = mchol_schur_diagonal(invDamping * w[old] + n, yy, n, tolerance, &shortfallBits);
    schurOut[0] = rss;
    schurOut[1] = (w[old] - yz) / rss;
  }
  mchol_fold_drift(worst, &shortfallBits, warpMax, driftMax);
  // Every read of K and of R_old,old (step 1) is behind a barrier.
#pragma unroll
  for (int c = 0; c < C; c++) {
    const int s = t + c * SM_THREADS;
    if (s < m) {
      K[(long long)old * m + s] = w[s];
      K[(long long)s * m + old] = w[s];
    }
  }
  if (t == 0) {
    dgS[old] = schurOut[0];
    rOld[old] = schurOut[0];
  }

  // 3. z = λ y off `old`, z_old above; then R M = z in blocks [lo, top] of logical positions (new order from
  // `head`: `old` last), last block first. Every entry of R and dgS read here was written before the drift barrier
  // (dgS[old] and z_old by thread 0 before the next one).
  double* z = x;
  const int head = old + 1 < m ? old + 1 : 0;
#pragma unroll
  for (int c = 0; c < C; c++) {
    z[c] = t + c * SM_THREADS == old ? schurOut[1] : damping * a[c];
  }
  for (int top = m - 1; top >= 0; top -= MCHOL_B, parity ^= 1) {
    const int lo = max(0, top - MCHOL_B + 1);
    const int nb = top - lo + 1;
#pragma unroll
    for (int c = 0; c < C; c++) {
      const int j = mchol_position(t + c * SM_THREADS, head, m) - lo;
      if (j >= 0 && j < nb) {
        st[parity][1][j] = z[c];
      }
    }
    __syncthreads();
    if (t < 32) {
      // Warp 0: lane j is logical position lo + j (slot sj); col[i] = R(lo + j, lo + i) for j < i < nb.
      const int j = t;
      const bool mine = j < nb;
      const int sj = mine ? mchol_slot(head, lo + j, m) : 0;
      double zj = 0.0, dgj = 1.0;
      if (mine) {
        zj = st[parity][1][j];
        dgj = dgS[sj];
      }
      double col[MCHOL_B];
#pragma unroll
      for (int i = 0; i < MCHOL_B; i++) {
        col[i] = j < i && i < nb ? R[(long long)sj * m + mchol_slot(head, lo + i, m)] : 0.0;
      }
#pragma unroll
      for (int i = MCHOL_B - 1; i >= 0; i--) {
        if (i < nb) {  // uniform over the warp
          if (j == i) {
            zj = zj / dgj;
            rot[0][i] = zj;
          }
          __syncwarp();
          const double mp = rot[0][i];
          if (j < i) {
            zj -= col[i] * mp;
          }
        }
      }
      if (mine) {
        st[parity][1][j] = zj;
      }
    }
    __syncthreads();
    // The owners take M_p back; every thread applies the block's M_p to its columns before the block (decreasing p).
#pragma unroll
    for (int c = 0; c < C; c++) {
      const int j = mchol_position(t + c * SM_THREADS, head, m) - lo;
      if (j >= 0 && j < nb) {
        z[c] = st[parity][1][j];
      }
    }
#pragma unroll
    for (int c = 0; c < C; c++) {
      const int qc = t + c * SM_THREADS;
      if (mchol_position(qc, head, m) < lo) {
        double e[MCHOL_B];
        const double* rq = R + (long long)qc * m;
#pragma unroll
        for (int i = 0; i < MCHOL_B; i++) {
          e[i] = i < nb ? rq[mchol_slot(head, lo + i, m)] : 0.0;
        }
        double zc = z[c];
#pragma unroll
        for (int i = MCHOL_B - 1; i >= 0; i--) {
          if (i < nb) {
            zc -= e[i] * rot[0][i];
          }
        }
        z[c] = zc;
      }
    }
  }
  const double scale = invDamping * invDamping;
#pragma unroll
  for (int c = 0; c < C; c++) {
    const int s = t + c * SM_THREADS;
    if (s < m) {
      M[s] = z[c] * scale;
    }
  }
}

// One step as mchol_step_C (same arguments, same results), blocked (see above). Grid 1, block 256.
#define MCHOL_BLOCKED_STEP(C)                                                                                      \
  extern "C" __global__ void __launch_bounds__(SM_THREADS, 1)                                                      \
      mchol_blocked_step_##C(double* R, double* K, const double* __restrict__ w, int m, int old, double damping,   \
                             double invDamping, double n, double tolerance, sm_u64* __restrict__ driftMax,         \
                             double* __restrict__ M) {                                                             \
    mchol_blocked_step<C>(R, K, w, m, old, damping, invDamping, n, tolerance, driftMax, M);                        \
  }
MCHOL_BLOCKED_STEP(1)
MCHOL_BLOCKED_STEP(2)
MCHOL_BLOCKED_STEP(4)
MCHOL_BLOCKED_STEP(8)
MCHOL_BLOCKED_STEP(16)

// Host side (GpuMfacCholeskyState.columnsPerThread, and the emulation harnesses): the instance of mchol_step_C (and
// mchol_blocked_step_C) for a window of m slots, the smallest power of two C with 256 C >= m (at most 16).
static inline int mchol_columns_per_thread(int m) {
  int c = 1;
  while (256 * c < m) c *= 2;
  return c;
}
