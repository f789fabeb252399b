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
//
// mchol_wave_C takes the same arguments and launch and gives bitwise the same results on the CPU emulation (on the
// device nvcc may contract differently): the same per-column arithmetic, synchronised as a wavefront with no block
// barrier per row (see mchol_wave), 3 barriers per step. It is the candidate for the ~300 ns per row above: a row is
// handed over through shared memory, within one warp for 31 rows of every 32. Not yet measured on a device; the
// pipelines launch mchol_step_C unless told otherwise (GpuMfacCholeskyState, MfacCholeskyKernel).
//
// mchol_overlap_step_C and mchol_overlap_wave_C are those two steps with dense_mfac.cu's combination pass
// u = x/λ − Σ_j M_j x_j in the same launch: one block takes the step and publishes M as its back solve produces it,
// the other blocks read the window meanwhile (see "The overlapped combination" below), so that the pass, ~0.73 ms
// at d = 769,000 on an H200, hides the back solve, about half of the m×m step. Not yet measured on a device; the
// dense pipeline launches the separate pass unless told otherwise (DenseMfacCombine).
#include "dense_combine.cuh"
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

// The head after a step that overwrote slot `old` (0 ≤ old < m): logical position 0, the oldest vector.
__device__ __forceinline__ int mchol_head(int old, int m) { return old + 1 < m ? old + 1 : 0; }

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

// One thread's columns of R in registers, slots q = threadIdx.x + MCHOL_THREADS c (c < C), and what both step
// kernels do to them; the kernels differ only in how the rows' pivots reach the other threads.
template <int C>
struct McholColumns {
  int q[C];     // owned slots (q ≥ m: not a column)
  int lq[C];    // logical position of q (0 for `old` before the back solve; m for q ≥ m, so never active)
  double x[C];  // the rank-1 update vector (row `old` off its diagonal), rotated as rows pass; z in the back solve
  double a[C];  // right-hand side w/λ, reduced as rows pass; y of the column once it was the pivot
  double dg[C];  // R_qq, then the rotated diagonal; the new diagonal

  // 1. The drift check of column `old` (the vector leaving) against the current K, returned as the bits of this
  // thread's largest scaled residual; row `old` becomes x0, then zero; a = w/λ.
  __device__ __forceinline__ sm_u64 begin(double* R, const double* K, const double* w, int m, int old,
                                          double invDamping, double n) {
    const double* kOld = K + (long long)old * m;
    double* rOld = R + (long long)old * m;
    const double r00 = rOld[old];
    const double a00 = invDamping * kOld[old] + n;
    sm_u64 worst = 0;
#pragma unroll
    for (int c = 0; c < C; c++) {
      q[c] = threadIdx.x + c * MCHOL_THREADS;
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
    return worst;
  }

  // Row p's entries (`row`, logical position p) in the owned columns it still updates, 0 in the others.
  __device__ __forceinline__ void loadRow(const double* row, int p, int m, double (&r)[C]) const {
#pragma unroll
    for (int c = 0; c < C; c++) {
      r[c] = lq[c] > p && lq[c] < m ? row[q[c]] : 0.0;
    }
  }

  // If this thread owns row p's pivot (slot sp): the rotation that zeroes x into R_pp (r = h · rsqrt(h) with
  // h = R_pp² + x², c = R_pp / r, s = x / r as products) and y = a / r, the new last column's entry p; stores R_pp = r
  // and R_p,old = y in `row`, {c, s, y} in rec[0..2] and y in *y. Returns whether it did.
  __device__ __forceinline__ bool pivot(int sp, int old, double* row, double* rec, double* y) {
    bool owner = false;
#pragma unroll
    for (int c = 0; c < C; c++) {
      if (q[c] == sp) {
        const double h = fma(dg[c], dg[c], x[c] * x[c]);
        const double ir = rsqrt(h);
        *y = a[c] * ir;
        rec[0] = dg[c] * ir;
        rec[1] = x[c] * ir;
        rec[2] = *y;
        dg[c] = h * ir;
        a[c] = *y;
        row[sp] = dg[c];
        row[old] = *y;
        owner = true;
      }
    }
    return owner;
  }

  // Row p's rotation {cs, sn} and y applied to the owned columns below it: their entries of the row (r, prefetched)
  // rotated with x and stored, the forward substitution's right-hand side reduced.
  __device__ __forceinline__ void rotate(double cs, double sn, double y, int p, int m, double* row,
                                         const double (&r)[C]) {
#pragma unroll
    for (int c = 0; c < C; c++) {
      if (lq[c] > p && lq[c] < m) {
        const double nr = cs * r[c] + sn * x[c];
        row[q[c]] = nr;
        x[c] = cs * x[c] - sn * r[c];
        a[c] -= nr * y;
      }
    }
  }

  // After the update, the owner of column `old`: its new diagonal entry from the Schur complement a + n − yy
  // (yy = Σ y_p² in p order; see mchol_schur_diagonal) and the coefficients' z_old = (w_old − yz) / R_old,old
  // (yz = Σ y_p (λ y_p) in p order). Returns z_old (0 elsewhere).
  __device__ __forceinline__ double newDiagonal(int old, const double* w, double n, double yy, double yz,
                                                double tolerance, sm_u64* shortfallBits) {
    double zOld = 0.0;
#pragma unroll
    for (int c = 0; c < C; c++) {
      if (q[c] == old) {
        const double rss = mchol_schur_diagonal(a[c] + n, yy, n, tolerance, shortfallBits);
        dg[c] = rss;
        zOld = (w[old] - yz) / rss;
      }
    }
    return zOld;
  }

  // Row and column `old` of K become w, R_old,old the new diagonal entry; invDg = 1 / R_qq for the back solve. After
  // a barrier behind every read of K and of R_old,old.
  __device__ __forceinline__ void storeNewColumn(double* R, double* K, const double* w, int m, int old,
                                                 double (&invDg)[C]) const {
#pragma unroll
    for (int c = 0; c < C; c++) {
      if (q[c] < m) {
        K[(long long)old * m + q[c]] = w[q[c]];
        K[(long long)q[c] * m + old] = w[q[c]];
      }
      if (q[c] == old) {
        R[(long long)old * m + old] = dg[c];
      }
      invDg[c] = q[c] < m ? 1.0 / dg[c] : 0.0;
    }
  }

  // 3. The back solve's right-hand side z = λ y off `old` and z_old, in x; from here the logical position of slot q
  // is lq − 1 (mod m): `old` is last.
  __device__ __forceinline__ void beginSolve(int old, double zOld, double damping, int m) {
#pragma unroll
    for (int c = 0; c < C; c++) {
      x[c] = q[c] == old ? zOld : damping * a[c];
      if (q[c] < m) {
        lq[c] = lq[c] == 0 ? m - 1 : lq[c] - 1;
      }
    }
  }

  // Column p's entries (slot sp) in the owned rows above it, 0 in the others.
  __device__ __forceinline__ void loadColumn(const double* R, int m, int sp, int p, double (&r)[C]) const {
#pragma unroll
    for (int c = 0; c < C; c++) {
      r[c] = lq[c] < p ? R[(long long)q[c] * m + sp] : 0.0;
    }
  }

  // If this thread owns column p (slot sp): M_p = z_p / R_pp into z and rec[0], and with STORE (the overlapped
  // combination, which reads M while the back solve goes on) M_sp = M_p (1/λ)² into M at once, the value
  // storeCoefficients stores at the end otherwise. Returns whether it did.
  template <bool STORE>
  __device__ __forceinline__ bool solvePivot(int sp, const double (&invDg)[C], double* rec, double* M,
                                             double invDamping) {
    bool owner = false;
#pragma unroll
    for (int c = 0; c < C; c++) {
      if (q[c] == sp) {
        x[c] *= invDg[c];
        rec[0] = x[c];
        if (STORE) {
          M[sp] = x[c] * (invDamping * invDamping);
        }
        owner = true;
      }
    }
    return owner;
  }

  // M_p (mp) eliminated from the owned rows above p (r: their entries of column p, prefetched).
  __device__ __forceinline__ void eliminate(double mp, int p, const double (&r)[C]) {
#pragma unroll
    for (int c = 0; c < C; c++) {
      if (lq[c] < p) {
        x[c] -= r[c] * mp;
      }
    }
  }

  // M = z (1/λ)² for the owned slots.
  __device__ __forceinline__ void storeCoefficients(double* M, int m, double invDamping) const {
    const double scale = invDamping * invDamping;
#pragma unroll
    for (int c = 0; c < C; c++) {
      if (q[c] < m) {
        M[q[c]] = x[c] * scale;
      }
    }
  }
};

// The back solve's coefficients go to the other blocks of mchol_overlap_step_C and mchol_overlap_wave_C (the
// overlapped combination) in groups of MCHOL_PUBLISH_ROWS rows: *published counts the logical positions m − 1,
// m − 2, ... whose M is in global memory. One thread calls it, after (a barrier or a hand-off behind) the stores of
// every row it counts; the fence makes them visible to the grid before the count (cumulatively, as cooperative
// groups' grid sync relies on).
#define MCHOL_PUBLISH_ROWS 32
__device__ __forceinline__ void mchol_publish_rows(unsigned int* published, int rows) {
  __threadfence();
  atomicMax(published, (unsigned int)rows);
}

// The end of a back solve: M stored (PUBLISH: stored row by row already; the last rows published once every
// thread is done). Every thread of the block calls it.
template <bool PUBLISH, int C>
__device__ __forceinline__ void mchol_finish_coefficients(const McholColumns<C>& col, double* M, int m,
                                                          double invDamping, unsigned int* published) {
  if (PUBLISH) {
    __syncthreads();
    if (threadIdx.x == 0) {
      mchol_publish_rows(published, m);
    }
  } else {
    col.storeCoefficients(M, m, invDamping);
  }
}

// PUBLISH: for the overlapped combination (mchol_overlap), each M_p is stored as soon as it is solved and published
// through *published (see mchol_publish_rows); otherwise M is stored at the end and `published` is unused.
template <int C, int D, bool PUBLISH>
__device__ __forceinline__ void mchol_step(double* R, double* K, const double* w, int m, int old, double damping,
                                           double invDamping, double n, double tolerance, sm_u64* driftMax,
                                           double* M, unsigned int* published) {
  // Double-buffered pivot broadcast {c, s, y} (update) or {M_p} (back solve).
  __shared__ double pivot[2][3];
  __shared__ sm_u64 warpMax[MCHOL_WARPS];
  __shared__ sm_u64 shortfallBits;
  McholColumns<C> col;
  double ring[D][C];  // entries of the next D rows (update) or columns (back solve) in the owned columns

  const sm_u64 worst = col.begin(R, K, w, m, old, invDamping, n);

  // 2. Rows p = 1..m−1 (slot sp): Givens rotation of x into row p, fused with the forward substitution. Row p's
  // entries sit in ring[(p − 1) mod D]; once used, that slot loads row p + D.
  double yy = 0.0;  // Σ y_p² in p order (the Schur complement), as the CPU
  double yz = 0.0;  // Σ y_p (λ y_p) in p order (the coefficients' last forward step), as the CPU
#pragma unroll
  for (int j = 0; j < D; j++) {
    const int p = 1 + j;
    col.loadRow(R + (long long)mchol_slot(old, p < m ? p : 0, m) * m, p, m, ring[j]);
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
      double yOwn;
      col.pivot(sp, old, row, pivot[p & 1], &yOwn);
      __syncthreads();
      const double y = pivot[p & 1][2];
      yy += y * y;
      yz += y * (damping * y);
      col.rotate(pivot[p & 1][0], pivot[p & 1][1], y, p, m, row, ring[j]);
      const int pn = p + D;
      if (pn < m) {
        col.loadRow(R + (long long)mchol_slot(old, pn, m) * m, pn, m, ring[j]);
      }
    }
  }

  // The new diagonal entry of column `old` (its owner), the coefficients' z_old, the drift maximum, K.
  const double zOld = col.newDiagonal(old, w, n, yy, yz, tolerance, &shortfallBits);
  mchol_fold_drift(worst, &shortfallBits, warpMax, driftMax);
  // Every read of K and of R_old,old (step 1) is behind a barrier.
  double invDg[C];  // 1 / R_qq for the back solve, off its sequential path
  col.storeNewColumn(R, K, w, m, old, invDg);

  // 3. R M = z column by column, last logical position first. Rows above the pivot read column sp of R (written by
  // this kernel's other threads before a barrier). Column p's entries sit in ring[(m − 1 − p) mod D].
  const int head = mchol_head(old, m);
  col.beginSolve(old, zOld, damping, m);
#pragma unroll
  for (int j = 0; j < D; j++) {
    const int p = m - 1 - j;
    col.loadColumn(R, m, mchol_slot(head, p > 0 ? p : 0, m), p, ring[j]);
  }
  for (int p0 = m - 1; p0 >= 0; p0 -= D) {
    bool done = false;
#pragma unroll
    for (int j = 0; j < D; j++) {
      const int p = p0 - j;
      if (p < 0) {
        break;  // uniform
      }
      col.template solvePivot<PUBLISH>(mchol_slot(head, p, m), invDg, pivot[p & 1], M, invDamping);
      if (p == 0) {
        done = true;  // uniform: no rows above the first
        break;
      }
      __syncthreads();
      if (PUBLISH && threadIdx.x == 0 && (m - p) % MCHOL_PUBLISH_ROWS == 0) {
        mchol_publish_rows(published, m - p);
      }
      col.eliminate(pivot[p & 1][0], p, ring[j]);
      const int pn = p - D;
      if (pn > 0) {
        col.loadColumn(R, m, mchol_slot(head, pn, m), pn, ring[j]);
      }
    }
    if (done) {
      break;
    }
  }
  mchol_finish_coefficients<PUBLISH>(col, M, m, invDamping, published);
}

// The ring of row records of mchol_wave (c, s, y per row of the update; M_p in the back solve), 24 KB of shared
// memory: row p's record is at p mod MCHOL_RING, so it replaces the record of row p − MCHOL_RING (p + MCHOL_RING in
// the back solve). No record is replaced before every warp has read it, whatever m: the MCHOL_RING − 1 rows in
// between are consecutive slots mod m, which take every residue mod MCHOL_THREADS (512 consecutive slots do, and a
// wrap past slot m − 1 leaves 512 on one side), so every warp owns the pivot of one of them. It produced that row
// before row p (rows are produced in order), and a warp reads the rows in order, so it had read the replaced one.
// (MfacCholeskyKernelEmulationTest lets one warp lag by over 512 rows: a ring of 512 records fails there.)
#define MCHOL_RING 1024

// A spin-wait's body: nothing on the device (the other warps run on their own); the CPU emulation, whose threads
// are fibers taking turns, defines it to let the block's other threads run.
#ifndef EFCP_SPIN_YIELD
#define EFCP_SPIN_YIELD()
#endif

__device__ __forceinline__ int mchol_volatile_load(const int* p) {
  return *(const volatile int*)p;
}

// Polls of `produced` after which a wait is a bug (a row nobody produces): about a second on a device, where a whole
// step takes a millisecond. The kernel then traps, so that its launch fails instead of hanging the stream.
#ifndef MCHOL_MAX_POLLS
#define MCHOL_MAX_POLLS (1 << 26)
#endif

// Row p's record is in the ring (produced > p on the way down, produced < p on the way up ends the wait). Lane 0 of
// a warp that does not produce row p calls it; it returns once the record can be read.
__device__ __forceinline__ void mchol_wait_for_row(const int* produced, int p, bool up) {
  int polls = 0;
  while (up ? mchol_volatile_load(produced) < p : mchol_volatile_load(produced) > p) {
    EFCP_SPIN_YIELD();
    if (++polls == MCHOL_MAX_POLLS) {
      __trap();
    }
  }
  __threadfence_block();  // the record's loads after the producer's stores
}

// Publishes row p's record (written by this thread just before): the records' stores before the counter's.
__device__ __forceinline__ void mchol_publish_row(int* produced, int p) {
  __threadfence_block();
  *(volatile int*)produced = p;
}

// The same step as mchol_step, bitwise (the same arithmetic on every column in the same order), synchronised as a
// wavefront instead of one __syncthreads per row: each warp walks the rows in order and applies each to its own
// columns; the owner of row p (the thread of its pivot column) computes the rotation as soon as its warp has applied
// rows 1..p−1, writes the record {c, s, y} to the shared ring and raises `produced`; the lane 0 of every other warp
// spins on `produced` for the rows it does not produce, so a row's latency is one shared-memory hand-off, and 32
// consecutive rows (consecutive slots) are produced inside one warp with no hand-off at all. The running Σ y² and
// Σ y (λ y) are carried by the producers in p order (so that yy and yz are the rows kernel's sums). A warp stops
// after its last column's row. The back solve is mirrored: the owner of column p produces M_p once rows above p
// were applied to it. Three barriers per step.
template <int C, int D, bool PUBLISH>
__device__ __forceinline__ void mchol_wave(double* R, double* K, const double* w, int m, int old, double damping,
                                           double invDamping, double n, double tolerance, sm_u64* driftMax,
                                           double* M, unsigned int* published) {
  __shared__ double rec[MCHOL_RING][3];  // row p at p mod MCHOL_RING: c, s, y (update); M_p in [0] (back solve)
  __shared__ double sums[2];             // Σ y², Σ y (λ y) over the rows produced so far
  __shared__ int produced;               // the last row whose record is in the ring
  __shared__ sm_u64 warpMax[MCHOL_WARPS];
  __shared__ sm_u64 shortfallBits;
  const int warp = threadIdx.x >> 5;
  const bool lane0 = (threadIdx.x & 31) == 0;
  McholColumns<C> col;
  double ring[D][C];

  const sm_u64 worst = col.begin(R, K, w, m, old, invDamping, n);
  // The last row this warp needs: its columns' largest logical position (a column's pivot row comes last for it).
  int last = 0;
#pragma unroll
  for (int c = 0; c < C; c++) {
    last = col.lq[c] < m && col.lq[c] > last ? col.lq[c] : last;
  }
  for (int off = 16; off > 0; off >>= 1) {
    const int o = __shfl_xor_sync(0xffffffffu, last, off);
    last = o > last ? o : last;
  }
  if (threadIdx.x == 0) {
    produced = 0;
    sums[0] = 0.0;
    sums[1] = 0.0;
  }
  __syncthreads();

  // 2. Rows p = 1..last, as mchol_step.
#pragma unroll
  for (int j = 0; j < D; j++) {
    const int p = 1 + j;
    col.loadRow(R + (long long)mchol_slot(old, p < m ? p : 0, m) * m, p, m, ring[j]);
  }
  for (int p0 = 1; p0 <= last; p0 += D) {
#pragma unroll
    for (int j = 0; j < D; j++) {
      const int p = p0 + j;
      if (p > last) {
        break;  // warp-uniform
      }
      const int sp = mchol_slot(old, p, m);
      double* row = R + (long long)sp * m;
      double* r = rec[p & (MCHOL_RING - 1)];
      if (((sp & (MCHOL_THREADS - 1)) >> 5) == warp) {
        double y;
        if (col.pivot(sp, old, row, r, &y)) {
          volatile double* sum = sums;  // the previous row's producer may be another thread
          sum[0] = sum[0] + y * y;
          sum[1] = sum[1] + y * (damping * y);
          mchol_publish_row(&produced, p);
        }
      } else if (lane0) {
        mchol_wait_for_row(&produced, p, true);
      }
      __syncwarp();
      const volatile double* v = r;
      col.rotate(v[0], v[1], v[2], p, m, row, ring[j]);
      const int pn = p + D;
      if (pn < m) {
        col.loadRow(R + (long long)mchol_slot(old, pn, m) * m, pn, m, ring[j]);
      }
    }
  }
  __syncthreads();  // every row produced and applied

  // The new diagonal entry of column `old`, z_old, the drift maximum, K: as mchol_step.
  const double zOld = col.newDiagonal(old, w, n, sums[0], sums[1], tolerance, &shortfallBits);
  if (threadIdx.x == 0) {
    produced = m;
  }
  mchol_fold_drift(worst, &shortfallBits, warpMax, driftMax);  // a barrier: the reset above is seen
  double invDg[C];
  col.storeNewColumn(R, K, w, m, old, invDg);

  // 3. R M = z from the last logical position down to this warp's first column's, as mchol_step.
  const int head = mchol_head(old, m);
  col.beginSolve(old, zOld, damping, m);
  int first = m;
#pragma unroll
  for (int c = 0; c < C; c++) {
    first = col.q[c] < m && col.lq[c] < first ? col.lq[c] : first;
  }
  for (int off = 16; off > 0; off >>= 1) {
    const int o = __shfl_xor_sync(0xffffffffu, first, off);
    first = o < first ? o : first;
  }
#pragma unroll
  for (int j = 0; j < D; j++) {
    const int p = m - 1 - j;
    col.loadColumn(R, m, mchol_slot(head, p > 0 ? p : 0, m), p, ring[j]);
  }
  for (int p0 = m - 1; p0 >= first; p0 -= D) {
#pragma unroll
    for (int j = 0; j < D; j++) {
      const int p = p0 - j;
      if (p < first) {
        break;  // warp-uniform
      }
      const int sp = mchol_slot(head, p, m);
      double* r = rec[p & (MCHOL_RING - 1)];
      if (((sp & (MCHOL_THREADS - 1)) >> 5) == warp) {
        // PUBLISH: M_p is stored before the record, since whoever reads the record may publish M_p.
        if (col.template solvePivot<PUBLISH>(sp, invDg, r, M, invDamping)) {
          mchol_publish_row(&produced, p);
          // This thread has read every row above p, each published after its M store, so those are behind it too.
          if (PUBLISH && (m - p) % MCHOL_PUBLISH_ROWS == 0) {
            mchol_publish_rows(published, m - p);
          }
        }
      } else if (lane0) {
        mchol_wait_for_row(&produced, p, false);
      }
      __syncwarp();
      col.eliminate(*(const volatile double*)r, p, ring[j]);
      const int pn = p - D;
      if (pn > 0) {
        col.loadColumn(R, m, mchol_slot(head, pn, m), pn, ring[j]);
      }
    }
  }
  mchol_finish_coefficients<PUBLISH>(col, M, m, invDamping, published);
}

// ---------------------------------------------------------------------------------------------------------------
// The overlapped combination (mchol_overlap_step_C, mchol_overlap_wave_C): dense_mfac.cu's dmfac_combine,
// u = x/λ − Σ_j M_j x_j over the float32 window, in the same launch as the step, so that it reads the window while
// the back solve is still producing M. The block that starts first (ticket 0 of sync[0]) runs the step, storing
// each M_p as it is solved and publishing them in groups (mchol_publish_rows; sync[1] counts the rows); every other
// block is a consumer that owns a range of the window's float4 columns and walks the rows in the order the back
// solve produces them (logical positions m − 1 down to 0, slots head − 1 down to head), waiting only when it
// reaches rows not yet published. The producer is resident before any consumer takes a ticket, so the waits end
// whatever the number of blocks and however the device schedules them. The last block to finish (sync[2]) sets the
// three counters back to 0 for the next launch on the stream.

// float4 columns per consumer thread and column tile.
#define MCHOL_COMBINE_VEC 3

// A wait on another block: back off instead of hammering the counter's L2 line (the CPU emulation, which runs the
// blocks of a launch one at a time, redefines both: there such a wait can never end, so it traps at once).
#ifndef MCHOL_GRID_BACKOFF
#define MCHOL_GRID_BACKOFF() __nanosleep(64)
#endif
#ifndef MCHOL_MAX_GRID_POLLS
#define MCHOL_MAX_GRID_POLLS (1 << 24)
#endif

// Returns *published once it is ≥ need; the fence (with the barrier behind the caller) orders the block's loads of
// M after the producer's stores. One thread per consumer block polls, so that ~130 pollers, not 2,000 warps, load
// the counter's L2 line while the producer works.
__device__ __forceinline__ unsigned int mchol_wait_published(const unsigned int* published, unsigned int need) {
  unsigned int seen;
  int polls = 0;
  while ((seen = *(const volatile unsigned int*)published) < need) {
    MCHOL_GRID_BACKOFF();
    if (++polls == MCHOL_MAX_GRID_POLLS) {
      __trap();
    }
  }
  __threadfence();
  return seen;
}

// The float4 columns [*begin, *end) of the window that reader `consumer` of `consumers` combines: equal ranges in
// whole warps (so the last ones may be empty). Also for the emulation harness, which checks each reader's range.
__host__ __device__ __forceinline__ void mchol_reader_columns(long long ld4, int consumer, int consumers,
                                                              long long* begin, long long* end) {
  const long long span = ((ld4 + consumers - 1) / consumers + 31) / 32 * 32;
  *begin = span * consumer;
  *end = *begin + span < ld4 ? *begin + span : ld4;
}

// One consumer's part of u: its columns (mchol_reader_columns) in tiles of MCHOL_COMBINE_VEC float4s per thread; per
// tile every filled row in back-solve order, float64 accumulators. The rows go in chunks of 32: the block waits
// (thread 0 polls) until the chunk is published, then lane i of each warp loads the coefficient of the chunk's row i
// through L2 (__ldcg: M changes during the launch) and the lanes take each row's from it by a shuffle, so that the
// ~2,000 warps, which all read the same row at about the same time, send one request per chunk to M's L2 line
// instead of one per row.
__device__ __forceinline__ void mchol_combine(const float4* __restrict__ window, int ld4, int d, int m, int filled,
                                              int old, double invDamping, const double* M,
                                              const unsigned int* published, int consumer, int consumers,
                                              double* __restrict__ u) {
  __shared__ unsigned int seenShared[2];  // thread 0's last two polls: a slow thread may still read the previous
  const int lane = threadIdx.x & 31;
  const int head = mchol_head(old, m);
  long long begin, end;
  mchol_reader_columns(ld4, consumer, consumers, &begin, &end);
  unsigned int seen = 0;  // block-uniform
  int waits = 0;
  for (long long t0 = begin; t0 < end; t0 += (long long)MCHOL_THREADS * MCHOL_COMBINE_VEC) {
    double acc[MCHOL_COMBINE_VEC][4] = {};
    for (int p0 = m - 1; p0 >= 0; p0 -= 32) {
      const int rows = p0 + 1 < 32 ? p0 + 1 : 32;  // logical positions p0, p0 − 1, ..., p0 − rows + 1
      const unsigned int need = m - p0 + rows - 1;  // how many rows: m − 1 down to p0 − rows + 1
      if (need > seen) {  // uniform
        if (threadIdx.x == 0) {
          seenShared[waits & 1] = mchol_wait_published(published, need);
        }
        __syncthreads();
        seen = seenShared[waits & 1];
        waits++;
      }
      double laneCoefficient = 0.0;  // row p0 − lane's, 0 for an empty slot
      if (lane < rows) {
        const int s = mchol_slot(head, p0 - lane, m);
        if (s < filled) {
          laneCoefficient = sm_window_coefficient(s, old, __ldcg(M + s), invDamping);
        }
      }
#pragma unroll 4
      for (int j = 0; j < rows; j++) {
        const double c = __shfl_sync(0xffffffffu, laneCoefficient, j);
        const int s = mchol_slot(head, p0 - j, m);
        if (s >= filled) {
          continue;  // uniform: an empty slot is a zero row
        }
        dmfac_accumulate_row<MCHOL_COMBINE_VEC, MCHOL_THREADS>(acc, c, window + (long long)s * ld4,
                                                               t0 + threadIdx.x, end);
      }
    }
    dmfac_store_columns<MCHOL_COMBINE_VEC, MCHOL_THREADS>(acc, u, t0 + threadIdx.x, end, d);
  }
}

// The step (wavefront: mchol_wave, else mchol_step) by the first block, the combination by the others; see above.
template <int C, bool WAVEFRONT>
__device__ __forceinline__ void mchol_overlap(double* R, double* K, const double* w, int m, int old, double damping,
                                              double invDamping, double n, double tolerance, sm_u64* driftMax,
                                              double* M, const float4* __restrict__ window, int ld4, int d,
                                              int filled, double* __restrict__ u, unsigned int* sync) {
  __shared__ unsigned int ticket;
  if (threadIdx.x == 0) {
    ticket = atomicAdd(sync, 1u);
  }
  __syncthreads();
  if (ticket == 0) {
    if (WAVEFRONT) {
      mchol_wave<C, MCHOL_PREFETCH(C), true>(R, K, w, m, old, damping, invDamping, n, tolerance, driftMax, M,
                                             sync + 1);
    } else {
      mchol_step<C, MCHOL_PREFETCH(C), true>(R, K, w, m, old, damping, invDamping, n, tolerance, driftMax, M,
                                             sync + 1);
    }
  } else {
    mchol_combine(window, ld4, d, m, filled, old, invDamping, M, sync + 1, (int)ticket - 1, (int)gridDim.x - 1, u);
  }
  __syncthreads();
  if (threadIdx.x == 0) {
    __threadfence();
    if (atomicAdd(sync + 2, 1u) == gridDim.x - 1) {
      sync[0] = 0;
      sync[1] = 0;
      sync[2] = 0;
    }
  }
}

// One step for window size m ≤ 512 C (see the file comment), by mchol_step_C or mchol_wave_C (the same arguments,
// launch and results): R and K (m×m, by slot) in place, w = (<x_j, x>)_j (m doubles, 0 for unfilled slots), `old` =
// the slot x was written to (the head), tolerance = MfacCholeskyState.driftTolerance(m) for the Schur clamp; writes
// M (m doubles, slot order) and folds the drift into *driftMax. Grid 1, block MCHOL_THREADS. R and K are not
// __restrict__: threads read entries of R that other threads wrote in this launch (behind barriers or flags), which
// must not go through the non-coherent read-only path.
#define MCHOL_PARAMETERS                                                                                    \
  double* R, double* K, const double* __restrict__ w, int m, int old, double damping, double invDamping,   \
      double n, double tolerance, sm_u64* __restrict__ driftMax, double* __restrict__ M
#define MCHOL_ARGUMENTS R, K, w, m, old, damping, invDamping, n, tolerance, driftMax, M
// mchol_overlap_step_C and mchol_overlap_wave_C take these and then the combination's: the window (m rows of ld4
// float4s, dense_mfac.cu's layout), ld4, d, the filled slots, u (d doubles) and sync (3 counters, 0 before the first
// launch; the kernel leaves them 0). Grid = 1 + the consumers (best one per multiprocessor but the producer's),
// block MCHOL_THREADS; M is written as in the other two. u is x/λ − Σ_j M_j x_j as dmfac_combine's, summed in
// back-solve order instead of slot order.
#define MCHOL_COMBINE_PARAMETERS                                                                            \
  MCHOL_PARAMETERS, const float4* __restrict__ window, int ld4, int d, int filled, double* __restrict__ u,   \
      unsigned int* __restrict__ sync
#define MCHOL_KERNELS(C)                                                                                    \
  extern "C" __global__ void __launch_bounds__(MCHOL_THREADS, 1) mchol_step_##C(MCHOL_PARAMETERS) {         \
    mchol_step<C, MCHOL_PREFETCH(C), false>(MCHOL_ARGUMENTS, nullptr);                                      \
  }                                                                                                         \
  extern "C" __global__ void __launch_bounds__(MCHOL_THREADS, 1) mchol_wave_##C(MCHOL_PARAMETERS) {         \
    mchol_wave<C, MCHOL_PREFETCH(C), false>(MCHOL_ARGUMENTS, nullptr);                                      \
  }                                                                                                         \
  extern "C" __global__ void __launch_bounds__(MCHOL_THREADS, 1)                                            \
      mchol_overlap_step_##C(MCHOL_COMBINE_PARAMETERS) {                                                    \
    mchol_overlap<C, false>(MCHOL_ARGUMENTS, window, ld4, d, filled, u, sync);                              \
  }                                                                                                         \
  extern "C" __global__ void __launch_bounds__(MCHOL_THREADS, 1)                                            \
      mchol_overlap_wave_##C(MCHOL_COMBINE_PARAMETERS) {                                                    \
    mchol_overlap<C, true>(MCHOL_ARGUMENTS, window, ld4, d, filled, u, sync);                               \
  }
MCHOL_KERNELS(1)
MCHOL_KERNELS(2)
MCHOL_KERNELS(4)
MCHOL_KERNELS(8)

// ---------------------------------------------------------------------------------------------------------------
// Host side (GpuMfacCholeskyState.columnsPerThread, and the emulation harnesses): the instance of the kernels for a
// window of m ≤ 4096 slots, the smallest power of two C with MCHOL_THREADS · C >= m (at most 8).
static inline int mchol_columns_per_thread(int m) {
  int c = 1;
  while (MCHOL_THREADS * c < m) c *= 2;
  return c;
}
