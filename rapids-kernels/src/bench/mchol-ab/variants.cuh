// Variants of mchol_step for timing: T threads, C columns per thread (T*C >= m), D rows of prefetch,
// FAST = rsqrt rotation + reciprocal diagonal in the back solve.
template <int T>
__device__ __forceinline__ void v_fold_drift(sm_u64 worst, const sm_u64* shortfallBits, sm_u64* warpMax,
                                             sm_u64* driftMax) {
  worst = sm_warp_max_u64(worst);
  if ((threadIdx.x & 31) == 0) warpMax[threadIdx.x >> 5] = worst;
  __syncthreads();
  if (threadIdx.x == 0) {
    sm_u64 mx = *shortfallBits;
    for (int i = 0; i < T / 32; i++) mx = warpMax[i] > mx ? warpMax[i] : mx;
    atomicMax(driftMax, mx);
  }
}

template <int T, int C, int D, bool FAST>
__global__ void __launch_bounds__(T, 1) vstep(double* R, double* K, const double* __restrict__ w, int m, int old,
                                              double damping, double invDamping, double n, double tolerance,
                                              sm_u64* __restrict__ driftMax, double* __restrict__ M) {
  __shared__ double pivot[2][3];
  __shared__ sm_u64 warpMax[T / 32];
  __shared__ sm_u64 shortfallBits;
  const int t = threadIdx.x;
  const double* kOld = K + (long long)old * m;
  double* rOld = R + (long long)old * m;
  int q[C];
  int lq[C];
  double x[C];
  double a[C];
  double dg[C];
  double buf[D][C];
  const double r00 = rOld[old];
  const double a00 = invDamping * kOld[old] + n;
  sm_u64 worst = 0;
#pragma unroll
  for (int c = 0; c < C; c++) {
    q[c] = t + c * T;
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
  double yy = 0.0;
  double yz = 0.0;
#pragma unroll
  for (int j = 0; j < D; j++) {
    const int p = 1 + j;
    const double* rowp = R + (long long)mchol_slot(old, p < m ? p : 0, m) * m;
#pragma unroll
    for (int c = 0; c < C; c++) buf[j][c] = p < m && lq[c] > p && lq[c] < m ? rowp[q[c]] : 0.0;
  }
  for (int p0 = 1; p0 < m; p0 += D) {
#pragma unroll
    for (int j = 0; j < D; j++) {
      const int p = p0 + j;
      if (p >= m) break;
      const int sp = mchol_slot(old, p, m);
      double* row = R + (long long)sp * m;
#pragma unroll
      for (int c = 0; c < C; c++) {
        if (q[c] == sp) {
          double rr, cs, sn, y;
          if (FAST) {
            const double h = fma(dg[c], dg[c], x[c] * x[c]);
            const double ir = rsqrt(h);
            rr = h * ir;
            cs = dg[c] * ir;
            sn = x[c] * ir;
            y = a[c] * ir;
          } else {
            rr = sqrt(dg[c] * dg[c] + x[c] * x[c]);
            cs = dg[c] / rr;
            sn = x[c] / rr;
            y = a[c] / rr;
          }
          pivot[p & 1][0] = cs;
          pivot[p & 1][1] = sn;
          pivot[p & 1][2] = y;
          dg[c] = rr;
          a[c] = y;
          row[sp] = rr;
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
          const double rq = buf[j][c];
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
        for (int c = 0; c < C; c++) buf[j][c] = lq[c] > pn && lq[c] < m ? next[q[c]] : 0.0;
      }
    }
  }
  double zOld = 0.0;
#pragma unroll
  for (int c = 0; c < C; c++) {
    if (q[c] == old) {
      const double rss = mchol_schur_diagonal(a[c] + n, yy, n, tolerance, &shortfallBits);
      dg[c] = rss;
      zOld = (w[old] - yz) / rss;
    }
  }
  v_fold_drift<T>(worst, &shortfallBits, warpMax, driftMax);
#pragma unroll
  for (int c = 0; c < C; c++) {
    if (q[c] < m) {
      K[(long long)old * m + q[c]] = w[q[c]];
      K[(long long)q[c] * m + old] = w[q[c]];
    }
    if (q[c] == old) rOld[old] = dg[c];
  }
  double* z = x;
  double idg[C];
  const int head = old + 1 < m ? old + 1 : 0;
#pragma unroll
  for (int c = 0; c < C; c++) {
    z[c] = q[c] == old ? zOld : damping * a[c];
    if (q[c] < m) lq[c] = lq[c] == 0 ? m - 1 : lq[c] - 1;
    idg[c] = FAST && q[c] < m ? 1.0 / dg[c] : 0.0;
  }
#pragma unroll
  for (int j = 0; j < D; j++) {
    const int p = m - 1 - j;
    const int sp = mchol_slot(head, p > 0 ? p : 0, m);
#pragma unroll
    for (int c = 0; c < C; c++) buf[j][c] = p > 0 && lq[c] < p ? R[(long long)q[c] * m + sp] : 0.0;
  }
  for (int p0 = m - 1; p0 >= 0; p0 -= D) {
    bool done = false;
#pragma unroll
    for (int j = 0; j < D; j++) {
      const int p = p0 - j;
      if (p < 0) break;
      const int sp = mchol_slot(head, p, m);
#pragma unroll
      for (int c = 0; c < C; c++) {
        if (q[c] == sp) {
          z[c] = FAST ? z[c] * idg[c] : z[c] / dg[c];
          pivot[p & 1][0] = z[c];
        }
      }
      if (p == 0) { done = true; break; }
      __syncthreads();
      const double mp = pivot[p & 1][0];
#pragma unroll
      for (int c = 0; c < C; c++) {
        if (lq[c] < p) z[c] -= buf[j][c] * mp;
      }
      const int pn = p - D;
      if (pn > 0) {
        const int sn = mchol_slot(head, pn, m);
#pragma unroll
        for (int c = 0; c < C; c++) buf[j][c] = lq[c] < pn ? R[(long long)q[c] * m + sn] : 0.0;
      }
    }
    if (done) break;
  }
  const double scale = invDamping * invDamping;
#pragma unroll
  for (int c = 0; c < C; c++) if (q[c] < m) M[q[c]] = z[c] * scale;
}

// Pure read bandwidth: sums the window (float4), one partial per block.
__global__ void vread(const float4* __restrict__ a, long long n4, double* __restrict__ out) {
  double s = 0.0;
  for (long long i = (long long)blockIdx.x * blockDim.x + threadIdx.x; i < n4; i += (long long)gridDim.x * blockDim.x) {
    const float4 v = a[i];
    s += (double)v.x + (double)v.y + (double)v.z + (double)v.w;
  }
  s = sm_warp_sum(s);
  if ((threadIdx.x & 31) == 0) atomicAdd(out, s);
}

// Combine with U float4 columns per thread (ILP), rows unrolled by R.
template <int U, int RU>
__global__ void vcombine(const float4* __restrict__ window, int ld4, int d, int filled, const double* __restrict__ M,
                         int slot, double invDamping, double* __restrict__ u) {
  const long long q0 = ((long long)blockIdx.x * SM_THREADS * U) + threadIdx.x;
  double acc[U][4];
#pragma unroll
  for (int k = 0; k < U; k++) acc[k][0] = acc[k][1] = acc[k][2] = acc[k][3] = 0.0;
#pragma unroll RU
  for (int j = 0; j < filled; j++) {
    const double c = j == slot ? invDamping - M[j] : -M[j];
    const float4* row = window + (long long)j * ld4;
#pragma unroll
    for (int k = 0; k < U; k++) {
      const long long q = q0 + k * SM_THREADS;
      if (q < ld4) {
        const float4 v = row[q];
        acc[k][0] += c * (double)v.x;
        acc[k][1] += c * (double)v.y;
        acc[k][2] += c * (double)v.z;
        acc[k][3] += c * (double)v.w;
      }
    }
  }
#pragma unroll
  for (int k = 0; k < U; k++) {
    const long long q = q0 + k * SM_THREADS;
    if (q < ld4) {
      const long long i = 4 * q;
      for (int e = 0; e < 4; e++) if (i + e < d) u[i + e] = acc[k][e];
    }
  }
}

// K1: drift check of the leaving column + Givens deletion of logical row 0 (no w needed).
template <int T, int C, int D>
__global__ void __launch_bounds__(T, 1) vdelete(double* R, const double* K, int m, int old, double invDamping,
                                                double n, sm_u64* __restrict__ driftMax) {
  __shared__ double pivot[2][2];
  __shared__ sm_u64 warpMax[T / 32];
  __shared__ sm_u64 noShortfall;
  const int t = threadIdx.x;
  const double* kOld = K + (long long)old * m;
  double* rOld = R + (long long)old * m;
  int q[C], lq[C];
  double x[C], dg[C], buf[D][C];
  const double r00 = rOld[old];
  const double a00 = invDamping * kOld[old] + n;
  sm_u64 worst = 0;
#pragma unroll
  for (int c = 0; c < C; c++) {
    q[c] = t + c * T; lq[c] = m; x[c] = 0.0; dg[c] = 0.0;
    if (q[c] < m) {
      const int s = q[c];
      lq[c] = s >= old ? s - old : s - old + m;
      const double r0 = rOld[s];
      const double aq0 = invDamping * kOld[s] + (s == old ? n : 0.0);
      const double aqq = invDamping * K[(long long)s * m + s] + n;
      const double e = fabs(r00 * r0 - aq0) / sqrt(aqq * a00);
      const sm_u64 bits = (sm_u64)__double_as_longlong(e);
      worst = bits > worst ? bits : worst;
      if (s != old) { x[c] = r0; dg[c] = R[(long long)s * m + s]; }
    }
  }
  if (t == 0) noShortfall = 0;
  __syncthreads();  // every read of row `old` before it is zeroed
#pragma unroll
  for (int c = 0; c < C; c++) if (q[c] < m && q[c] != old) rOld[q[c]] = 0.0;
#pragma unroll
  for (int j = 0; j < D; j++) {
    const int p = 1 + j;
    const double* rowp = R + (long long)mchol_slot(old, p < m ? p : 0, m) * m;
#pragma unroll
    for (int c = 0; c < C; c++) buf[j][c] = p < m && lq[c] > p && lq[c] < m ? rowp[q[c]] : 0.0;
  }
  for (int p0 = 1; p0 < m; p0 += D) {
#pragma unroll
    for (int j = 0; j < D; j++) {
      const int p = p0 + j;
      if (p >= m) break;
      const int sp = mchol_slot(old, p, m);
      double* row = R + (long long)sp * m;
#pragma unroll
      for (int c = 0; c < C; c++) {
        if (q[c] == sp) {
          const double h = fma(dg[c], dg[c], x[c] * x[c]);
          const double ir = rsqrt(h);
          pivot[p & 1][0] = dg[c] * ir;
          pivot[p & 1][1] = x[c] * ir;
          dg[c] = h * ir;
          row[sp] = dg[c];
        }
      }
      __syncthreads();
      const double cs = pivot[p & 1][0];
      const double sn = pivot[p & 1][1];
#pragma unroll
      for (int c = 0; c < C; c++) {
        if (lq[c] > p && lq[c] < m) {
          const double rq = buf[j][c];
          row[q[c]] = cs * rq + sn * x[c];
          x[c] = cs * x[c] - sn * rq;
        }
      }
      const int pn = p + D;
      if (pn < m) {
        const double* next = R + (long long)mchol_slot(old, pn, m) * m;
#pragma unroll
        for (int c = 0; c < C; c++) buf[j][c] = lq[c] > pn && lq[c] < m ? next[q[c]] : 0.0;
      }
    }
  }
  v_fold_drift<T>(worst, &noShortfall, warpMax, driftMax);
}

// K2: forward solve of the new column, Schur, K update, back solve, M.
template <int T, int C, int D>
__global__ void __launch_bounds__(T, 1) vsolve(double* R, double* K, const double* __restrict__ w, int m, int old,
                                               double damping, double invDamping, double n, double tolerance,
                                               sm_u64* __restrict__ driftMax, double* __restrict__ M) {
  __shared__ double pivot[2];
  __shared__ sm_u64 warpMax[T / 32];
  __shared__ sm_u64 shortfallBits;
  const int t = threadIdx.x;
  double* rOld = R + (long long)old * m;
  int q[C], lq[C];
  double a[C], idg[C], buf[D][C];
#pragma unroll
  for (int c = 0; c < C; c++) {
    q[c] = t + c * T; lq[c] = m; a[c] = 0.0; idg[c] = 0.0;
    if (q[c] < m) {
      const int s = q[c];
      lq[c] = s >= old ? s - old : s - old + m;
      a[c] = invDamping * w[s];
      if (s != old) idg[c] = 1.0 / R[(long long)s * m + s];
    }
  }
  double yy = 0.0, yz = 0.0;
#pragma unroll
  for (int j = 0; j < D; j++) {
    const int p = 1 + j;
    const double* rowp = R + (long long)mchol_slot(old, p < m ? p : 0, m) * m;
#pragma unroll
    for (int c = 0; c < C; c++) buf[j][c] = p < m && lq[c] > p && lq[c] < m ? rowp[q[c]] : 0.0;
  }
  for (int p0 = 1; p0 < m; p0 += D) {
#pragma unroll
    for (int j = 0; j < D; j++) {
      const int p = p0 + j;
      if (p >= m) break;
      const int sp = mchol_slot(old, p, m);
      double* row = R + (long long)sp * m;
#pragma unroll
      for (int c = 0; c < C; c++) {
        if (q[c] == sp) {
          a[c] *= idg[c];
          pivot[p & 1] = a[c];
          row[old] = a[c];
        }
      }
      __syncthreads();
      const double y = pivot[p & 1];
      yy += y * y;
      yz += y * (damping * y);
#pragma unroll
      for (int c = 0; c < C; c++) if (lq[c] > p && lq[c] < m) a[c] -= buf[j][c] * y;
      const int pn = p + D;
      if (pn < m) {
        const double* next = R + (long long)mchol_slot(old, pn, m) * m;
#pragma unroll
        for (int c = 0; c < C; c++) buf[j][c] = lq[c] > pn && lq[c] < m ? next[q[c]] : 0.0;
      }
    }
  }
  double zOld = 0.0;
#pragma unroll
  for (int c = 0; c < C; c++) {
    if (q[c] == old) {
      const double rss = mchol_schur_diagonal(a[c] + n, yy, n, tolerance, &shortfallBits);
      idg[c] = 1.0 / rss;
      rOld[old] = rss;
      zOld = (w[old] - yz) / rss;
    }
  }
  v_fold_drift<T>(0, &shortfallBits, warpMax, driftMax);
#pragma unroll
  for (int c = 0; c < C; c++) {
    if (q[c] < m) {
      K[(long long)old * m + q[c]] = w[q[c]];
      K[(long long)q[c] * m + old] = w[q[c]];
    }
  }
  double z[C];
  const int head = old + 1 < m ? old + 1 : 0;
#pragma unroll
  for (int c = 0; c < C; c++) {
    z[c] = q[c] == old ? zOld : damping * a[c];
    if (q[c] < m) lq[c] = lq[c] == 0 ? m - 1 : lq[c] - 1;
  }
#pragma unroll
  for (int j = 0; j < D; j++) {
    const int p = m - 1 - j;
    const int sp = mchol_slot(head, p > 0 ? p : 0, m);
#pragma unroll
    for (int c = 0; c < C; c++) buf[j][c] = p > 0 && lq[c] < p ? R[(long long)q[c] * m + sp] : 0.0;
  }
  for (int p0 = m - 1; p0 >= 0; p0 -= D) {
    bool done = false;
#pragma unroll
    for (int j = 0; j < D; j++) {
      const int p = p0 - j;
      if (p < 0) break;
      const int sp = mchol_slot(head, p, m);
#pragma unroll
      for (int c = 0; c < C; c++) {
        if (q[c] == sp) { z[c] *= idg[c]; pivot[p & 1] = z[c]; }
      }
      if (p == 0) { done = true; break; }
      __syncthreads();
      const double mp = pivot[p & 1];
#pragma unroll
      for (int c = 0; c < C; c++) if (lq[c] < p) z[c] -= buf[j][c] * mp;
      const int pn = p - D;
      if (pn > 0) {
        const int sn = mchol_slot(head, pn, m);
#pragma unroll
        for (int c = 0; c < C; c++) buf[j][c] = lq[c] < pn ? R[(long long)q[c] * m + sn] : 0.0;
      }
    }
    if (done) break;
  }
  const double scale = invDamping * invDamping;
#pragma unroll
  for (int c = 0; c < C; c++) if (q[c] < m) M[q[c]] = z[c] * scale;
}

// K2 blocked: the two triangular solves in blocks of VB positions; warp 0 solves each diagonal block
// (shuffles), every thread applies the block to its own columns (fwd) / rows (back) from VB independent loads.
#define VB 32
template <int T, int C>
__global__ void __launch_bounds__(T, 1) vsolveb(double* R, double* K, const double* __restrict__ w, int m, int old,
                                                double damping, double invDamping, double n, double tolerance,
                                                sm_u64* __restrict__ driftMax, double* __restrict__ M) {
  __shared__ double sv[2][VB];
  __shared__ double sums[2];
  __shared__ sm_u64 warpMax[T / 32];
  __shared__ sm_u64 shortfallBits;
  const int t = threadIdx.x, lane = t & 31, warp = t >> 5;
  double* rOld = R + (long long)old * m;
  int q[C], lq[C];
  double a[C];
#pragma unroll
  for (int c = 0; c < C; c++) {
    q[c] = t + c * T; lq[c] = m; a[c] = 0.0;
    if (q[c] < m) {
      const int s = q[c];
      lq[c] = s >= old ? s - old : s - old + m;
      a[c] = invDamping * w[s];
    }
  }
  double yy = 0.0, yz = 0.0;  // thread 0
  int par = 0;
  for (int p0 = 1; p0 < m; p0 += VB, par ^= 1) {
    const int nb = m - p0 < VB ? m - p0 : VB;
#pragma unroll
    for (int c = 0; c < C; c++) if (lq[c] >= p0 && lq[c] < p0 + nb) sv[par][lq[c] - p0] = a[c];
    __syncthreads();
    if (warp == 0) {
      const int j = lane;
      const int sj = j < nb ? mchol_slot(old, p0 + j, m) : 0;
      double rb[VB];
#pragma unroll
      for (int i = 0; i < VB; i++) rb[i] = i < j && j < nb ? R[(long long)mchol_slot(old, p0 + i, m) * m + sj] : 0.0;
      const double inv = j < nb ? 1.0 / R[(long long)sj * m + sj] : 0.0;
      double b = j < nb ? sv[par][j] : 0.0;
#pragma unroll
      for (int i = 0; i < VB; i++) {
        if (i < nb) {
          const double yi = __shfl_sync(0xffffffffu, b * inv, i);
          if (j > i) b -= rb[i] * yi;
          if (j == i) b = yi;
        }
      }
      if (j < nb) { sv[par][j] = b; R[(long long)sj * m + old] = b; }
      __syncwarp();
      if (lane == 0) {
        for (int i = 0; i < nb; i++) { const double y = sv[par][i]; yy += y * y; yz += y * (damping * y); }
      }
    }
    __syncthreads();
#pragma unroll
    for (int c = 0; c < C; c++) {
      if (lq[c] >= p0 && lq[c] < p0 + nb) {
        a[c] = sv[par][lq[c] - p0];
      } else if (lq[c] >= p0 + nb && lq[c] < m) {
        double r[VB];
#pragma unroll
        for (int i = 0; i < VB; i++) r[i] = i < nb ? R[(long long)mchol_slot(old, p0 + i, m) * m + q[c]] : 0.0;
        double acc = a[c];
#pragma unroll
        for (int i = 0; i < VB; i++) if (i < nb) acc -= r[i] * sv[par][i];
        a[c] = acc;
      }
    }
  }
  if (t == 0) { sums[0] = yy; sums[1] = yz; }
  __syncthreads();
  double zOld = 0.0;
#pragma unroll
  for (int c = 0; c < C; c++) {
    if (q[c] == old) {
      const double rss = mchol_schur_diagonal(a[c] + n, sums[0], n, tolerance, &shortfallBits);
      rOld[old] = rss;
      zOld = (w[old] - sums[1]) / rss;
    }
  }
  v_fold_drift<T>(0, &shortfallBits, warpMax, driftMax);
#pragma unroll
  for (int c = 0; c < C; c++) {
    if (q[c] < m) {
      K[(long long)old * m + q[c]] = w[q[c]];
      K[(long long)q[c] * m + old] = w[q[c]];
    }
  }
  double z[C];
  const int head = old + 1 < m ? old + 1 : 0;
#pragma unroll
  for (int c = 0; c < C; c++) {
    z[c] = q[c] == old ? zOld : damping * a[c];
    if (q[c] < m) lq[c] = lq[c] == 0 ? m - 1 : lq[c] - 1;
  }
  for (int p1 = m; p1 > 0; p1 -= VB, par ^= 1) {
    const int p0 = p1 - VB > 0 ? p1 - VB : 0;
    const int nb = p1 - p0;
#pragma unroll
    for (int c = 0; c < C; c++) if (lq[c] >= p0 && lq[c] < p1) sv[par][lq[c] - p0] = z[c];
    __syncthreads();
    if (warp == 0) {
      const int j = lane;
      const int sj = j < nb ? mchol_slot(head, p0 + j, m) : 0;
      double rb[VB];
#pragma unroll
      for (int i = 0; i < VB; i++) rb[i] = j < i && i < nb ? R[(long long)sj * m + mchol_slot(head, p0 + i, m)] : 0.0;
      const double inv = j < nb ? 1.0 / R[(long long)sj * m + sj] : 0.0;
      double b = j < nb ? sv[par][j] : 0.0;
#pragma unroll
      for (int i = VB - 1; i >= 0; i--) {
        if (i < nb) {
          const double mi = __shfl_sync(0xffffffffu, b * inv, i);
          if (j < i) b -= rb[i] * mi;
          if (j == i) b = mi;
        }
      }
      if (j < nb) sv[par][j] = b;
    }
    __syncthreads();
#pragma unroll
    for (int c = 0; c < C; c++) {
      if (lq[c] >= p0 && lq[c] < p1) {
        z[c] = sv[par][lq[c] - p0];
      } else if (lq[c] < p0) {
        const double* row = R + (long long)q[c] * m;
        double r[VB];
#pragma unroll
        for (int i = 0; i < VB; i++) r[i] = i < nb ? row[mchol_slot(head, p0 + i, m)] : 0.0;
        double acc = z[c];
#pragma unroll
        for (int i = VB - 1; i >= 0; i--) if (i < nb) acc -= r[i] * sv[par][i];
        z[c] = acc;
      }
    }
  }
  const double scale = invDamping * invDamping;
#pragma unroll
  for (int c = 0; c < C; c++) if (q[c] < m) M[q[c]] = z[c] * scale;
}

// Single kernel, lean per-row instruction stream: T = 2^LT threads, C columns each, D rows of prefetch.
// Row pointers advance incrementally; the owner of slot s is thread s & (T-1), column index s >> LT.
template <int LT, int C, int D>
__global__ void __launch_bounds__(1 << LT, 1) vstep2(double* R, double* K, const double* __restrict__ w, int m, int old,
                                                     double damping, double invDamping, double n, double tolerance,
                                                     sm_u64* __restrict__ driftMax, double* __restrict__ M) {
  constexpr int T = 1 << LT;
  __shared__ double pivot[2][4];
  __shared__ double sums[2];
  __shared__ sm_u64 warpMax[T / 32];
  __shared__ sm_u64 shortfallBits;
  const int t = threadIdx.x;
  const double* kOld = K + (long long)old * m;
  double* rOld = R + (long long)old * m;
  int lq[C];
  double x[C], a[C], dg[C], buf[D][C];
  const double r00 = rOld[old];
  const double a00 = invDamping * kOld[old] + n;
  sm_u64 worst = 0;
#pragma unroll
  for (int c = 0; c < C; c++) {
    const int s = t + c * T;
    lq[c] = m; x[c] = 0.0; a[c] = 0.0; dg[c] = 0.0;
    if (s < m) {
      lq[c] = s >= old ? s - old : s - old + m;
      const double r0 = rOld[s];
      const double aq0 = invDamping * kOld[s] + (s == old ? n : 0.0);
      const double aqq = invDamping * K[(long long)s * m + s] + n;
      const double e = fabs(r00 * r0 - aq0) / sqrt(aqq * a00);
      const sm_u64 bits = (sm_u64)__double_as_longlong(e);
      worst = bits > worst ? bits : worst;
      if (s != old) { x[c] = r0; rOld[s] = 0.0; dg[c] = R[(long long)s * m + s]; }
      a[c] = invDamping * w[s];
    }
  }
  // prefetch rows 1..D
  int sn = old;  // slot of the next row to prefetch, advanced before use
#pragma unroll
  for (int j = 0; j < D; j++) {
    sn = sn + 1 == m ? 0 : sn + 1;
    const double* rp = R + (long long)sn * m + t;
#pragma unroll
    for (int c = 0; c < C; c++) buf[j][c] = 1 + j < m && lq[c] > 1 + j && lq[c] < m ? rp[c * T] : 0.0;
  }
  double yy = 0.0, yz = 0.0;
  int sp = old;
  for (int p0 = 1; p0 < m; p0 += D) {
#pragma unroll
    for (int j = 0; j < D; j++) {
      const int p = p0 + j;
      if (p >= m) break;
      sp = sp + 1 == m ? 0 : sp + 1;
      double* row = R + (long long)sp * m;
      if ((sp & (T - 1)) == t) {
        const int oc = sp >> LT;
#pragma unroll
        for (int c = 0; c < C; c++) {
          if (c == oc) {
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
      }
      __syncthreads();
      const double cs = pivot[p & 1][0];
      const double sg = pivot[p & 1][1];
      const double y = pivot[p & 1][2];
      if (t < 32) { yy += y * y; yz += y * (damping * y); }
      double* rq = row + t;
#pragma unroll
      for (int c = 0; c < C; c++) {
        if (lq[c] > p && lq[c] < m) {
          const double v = buf[j][c];
          const double nr = cs * v + sg * x[c];
          rq[c * T] = nr;
          x[c] = cs * x[c] - sg * v;
          a[c] -= nr * y;
        }
      }
      sn = sn + 1 == m ? 0 : sn + 1;
      if (p + D < m) {
        const double* rp = R + (long long)sn * m + t;
#pragma unroll
        for (int c = 0; c < C; c++) buf[j][c] = lq[c] > p + D && lq[c] < m ? rp[c * T] : 0.0;
      }
    }
  }
  if (t == 0) { sums[0] = yy; sums[1] = yz; }
  __syncthreads();
  double zOld = 0.0;
#pragma unroll
  for (int c = 0; c < C; c++) {
    if (t + c * T == old) {
      const double rss = mchol_schur_diagonal(a[c] + n, sums[0], n, tolerance, &shortfallBits);
      dg[c] = rss;
      zOld = (w[old] - sums[1]) / rss;
    }
  }
  v_fold_drift<T>(worst, &shortfallBits, warpMax, driftMax);
  double idg[C];
#pragma unroll
  for (int c = 0; c < C; c++) {
    const int s = t + c * T;
    if (s < m) {
      K[(long long)old * m + s] = w[s];
      K[(long long)s * m + old] = w[s];
    }
    if (s == old) rOld[old] = dg[c];
    idg[c] = s < m ? 1.0 / dg[c] : 0.0;
  }
  double* z = x;
  const double* col[C];
#pragma unroll
  for (int c = 0; c < C; c++) {
    const int s = t + c * T;
    z[c] = s == old ? zOld : damping * a[c];
    if (s < m) lq[c] = lq[c] == 0 ? m - 1 : lq[c] - 1;
    col[c] = R + (long long)(s < m ? s : 0) * m;
  }
  // column slots: position p is slot (old + 1 + p) mod m; last position m-1 is `old`
  int sb = old;                          // slot of the next column to prefetch (position m-1 first)
#pragma unroll
  for (int j = 0; j < D; j++) {
    const int p = m - 1 - j;
#pragma unroll
    for (int c = 0; c < C; c++) buf[j][c] = p > 0 && lq[c] < p ? col[c][sb] : 0.0;
    sb = sb == 0 ? m - 1 : sb - 1;
  }
  int sq = old;  // slot of the current position
  for (int p0 = m - 1; p0 >= 0; p0 -= D) {
    bool done = false;
#pragma unroll
    for (int j = 0; j < D; j++) {
      const int p = p0 - j;
      if (p < 0) break;
      if ((sq & (T - 1)) == t) {
        const int oc = sq >> LT;
#pragma unroll
        for (int c = 0; c < C; c++) {
          if (c == oc) { z[c] *= idg[c]; pivot[p & 1][0] = z[c]; }
        }
      }
      if (p == 0) { done = true; break; }
      sq = sq == 0 ? m - 1 : sq - 1;
      __syncthreads();
      const double mp = pivot[p & 1][0];
#pragma unroll
      for (int c = 0; c < C; c++) if (lq[c] < p) z[c] -= buf[j][c] * mp;
      if (p - D > 0) {
#pragma unroll
        for (int c = 0; c < C; c++) buf[j][c] = lq[c] < p - D ? col[c][sb] : 0.0;
      }
      sb = sb == 0 ? m - 1 : sb - 1;
    }
    if (done) break;
  }
  const double scale = invDamping * invDamping;
#pragma unroll
  for (int c = 0; c < C; c++) if (t + c * T < m) M[t + c * T] = z[c] * scale;
}
