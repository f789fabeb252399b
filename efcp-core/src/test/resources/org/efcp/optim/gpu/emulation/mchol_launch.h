// mfac_cholesky.cu's step as GpuMfacCholeskyState.update launches it (keep the two in step), for the harnesses that
// include harness.h and mfac_cholesky.cu first: mchol_wave_C when `wavefront`, else mchol_step_C, with
// C = mchol_columns_per_thread(m), grid 1, block MCHOL_THREADS, n = m and the Schur clamp's tolerance
// MfacCholeskyState.driftTolerance(m) = 32 (m + 1) ε. Dies when no instance covers m (m > 4096).
#pragma once

inline void mchol_launch(bool wavefront, double* R, double* K, const double* w, int m, int slot, double damping,
                         sm_u64* driftMax, double* M) {
  const double invDamping = 1.0 / damping;
  const double tolerance = 32.0 * (m + 1) * 0x1p-52;
  switch (mchol_columns_per_thread(m)) {
#define MCHOL(C)                                                                                                     \
  case C:                                                                                                            \
    if (wavefront) {                                                                                                 \
      LAUNCH_T(1, MCHOL_THREADS, mchol_wave_##C, R, K, w, m, slot, damping, invDamping, (double)m, tolerance,      \
               driftMax, M);                                                                                         \
    } else {                                                                                                         \
      LAUNCH_T(1, MCHOL_THREADS, mchol_step_##C, R, K, w, m, slot, damping, invDamping, (double)m, tolerance,      \
               driftMax, M);                                                                                         \
    }                                                                                                                \
    return;
    MCHOL(1) MCHOL(2) MCHOL(4) MCHOL(8)
#undef MCHOL
  }
  die("m too large for mchol_step (at most 4096)");
}
