// mfac_cholesky.cu's step as GpuMfacCholeskyState launches it (keep the two in step), for the harnesses that
// include harness.h and mfac_cholesky.cu first: the instance for C = mchol_columns_per_thread(m), block
// MCHOL_THREADS, n = m and the Schur clamp's tolerance MfacCholeskyState.driftTolerance(m) = 32 (m + 1) ε. Dies when
// no instance covers m (m > 4096).
#pragma once

// The index of m's instance in the tables below: C = 1, 2, 4, 8.
inline int mchol_instance(int m) {
  switch (mchol_columns_per_thread(m)) {
    case 1: return 0;
    case 2: return 1;
    case 4: return 2;
    case 8: return 3;
  }
  die("m too large for mchol_step (at most 4096)");
}

// The Schur clamp's tolerance, MfacCholeskyState.driftTolerance(m).
inline double mchol_tolerance(int m) { return 32.0 * (m + 1) * 0x1p-52; }

// GpuMfacCholeskyState.update: mchol_wave_C when `wavefront`, else mchol_step_C, grid 1.
inline void mchol_launch(bool wavefront, double* R, double* K, const double* w, int m, int slot, double damping,
                         sm_u64* driftMax, double* M) {
  static void (*const kernels[2][4])(MCHOL_PARAMETERS) = {
      {mchol_step_1, mchol_step_2, mchol_step_4, mchol_step_8},
      {mchol_wave_1, mchol_wave_2, mchol_wave_4, mchol_wave_8}};
  const auto kernel = kernels[wavefront][mchol_instance(m)];
  LAUNCH_T(1, MCHOL_THREADS, kernel, R, K, w, m, slot, damping, 1.0 / damping, (double)m, mchol_tolerance(m),
           driftMax, M);
}

// GpuMfacCholeskyState.updateAndCombine: mchol_overlap_wave_C when `wavefront`, else mchol_overlap_step_C, grid
// 1 + consumers, with the window (m rows of ld4 float4s), the filled slots, u (d doubles) and the 3 block counters.
inline void mchol_overlap_launch(bool wavefront, double* R, double* K, const double* w, int m, int slot,
                                 double damping, sm_u64* driftMax, double* M, const float4* window, int ld4, int d,
                                 int filled, double* u, unsigned int* sync, int consumers) {
  static void (*const kernels[2][4])(MCHOL_COMBINE_PARAMETERS) = {
      {mchol_overlap_step_1, mchol_overlap_step_2, mchol_overlap_step_4, mchol_overlap_step_8},
      {mchol_overlap_wave_1, mchol_overlap_wave_2, mchol_overlap_wave_4, mchol_overlap_wave_8}};
  const auto kernel = kernels[wavefront][mchol_instance(m)];
  LAUNCH_T(1 + consumers, MCHOL_THREADS, kernel, R, K, w, m, slot, damping, 1.0 / damping, (double)m,
           mchol_tolerance(m), driftMax, M, window, ld4, d, filled, u, sync);
}
