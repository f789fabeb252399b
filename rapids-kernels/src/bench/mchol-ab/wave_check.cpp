// The wavefront variant (variants.cuh: vwave) against the current mchol_step_C on the CPU emulation, from the same
// consistent state, for a few steps: M, R, K and the drift maximum. Build and run: wave_check.sh.
#include "cuda_emulation.h"
#define MCHOL_SPIN_YIELD() emu_yield()
#include "mfac_cholesky.cu"
#include "variants.cuh"
#include "host_factor.h"
#include <cmath>
#include <cstdio>
#include <random>
#include <vector>

// State for window size m, head h: K from random vectors (d = 48 < m: badly conditioned, as the tests' windows),
// R = the upper Cholesky factor of A = K/λ + m I in logical order from h, stored by slot.
static void state(int m, int h, double invD, std::vector<double>& K, std::vector<double>& R) {
  const int d = 48;
  std::mt19937_64 rng(11);
  std::normal_distribution<double> g(0.0, 1.0);
  std::vector<float> X((size_t)m * d);
  for (auto& v : X) v = (float)g(rng);
  K.assign((size_t)m * m, 0.0);
  for (int i = 0; i < m; i++)
    for (int j = 0; j < m; j++) {
      double s = 0;
      for (int k = 0; k < d; k++) s += (double)X[(size_t)i * d + k] * X[(size_t)j * d + k];
      K[(size_t)i * m + j] = s;
    }
  R = hostFactor(K, m, h, invD, m);
}

template <int C, int D>
static int check(int m, int h, int steps) {
  const double damping = 1e-4, invD = 1e4, tol = 32.0 * (m + 1) * 0x1p-52;
  std::vector<double> K0, R0;
  state(m, h, invD, K0, R0);
  std::vector<double> Ka = K0, Ra = R0, Kb = K0, Rb = R0, w(m), Ma(m), Mb(m);
  sm_u64 da = 0, db = 0;
  double worstM = 0;
  for (int i = 0; i < steps; i++) {
    const int old = (h + i) % m;
    for (int j = 0; j < m; j++) w[j] = Ka[(size_t)old * m + j];  // re-insert the oldest vector
    emu_launch(1, 512, [&] { mchol_step<C, MCHOL_PREFETCH(C)>(Ra.data(), Ka.data(), w.data(), m, old, damping, invD,
                                                              (double)m, tol, &da, Ma.data()); });
    emu_launch(1, 512, [&] { vwave<C, D>(Rb.data(), Kb.data(), w.data(), m, old, damping, invD, (double)m, tol, &db,
                                         Mb.data()); });
    double num = 0, den = 0;
    for (int j = 0; j < m; j++) { num = std::fmax(num, std::fabs(Ma[j] - Mb[j])); den = std::fmax(den, std::fabs(Ma[j])); }
    worstM = std::fmax(worstM, num / den);
  }
  double rDiff = 0, rMax = 0, kDiff = 0;
  for (size_t k = 0; k < Ra.size(); k++) {
    rDiff = std::fmax(rDiff, std::fabs(Ra[k] - Rb[k]));
    rMax = std::fmax(rMax, std::fabs(Ra[k]));
    kDiff = std::fmax(kDiff, std::fabs(Ka[k] - Kb[k]));
  }
  double dra, drb;
  std::memcpy(&dra, &da, 8);
  std::memcpy(&drb, &db, 8);
  const bool ok = worstM <= 1e-12 && rDiff <= 1e-13 * rMax && kDiff == 0 && dra == drb;
  std::printf("m %4d head %4d steps %d C %d D %d: M %.2e  R %.2e  K %.1e  drift %.3e / %.3e  %s\n", m, h, steps, C, D,
              worstM, rDiff / rMax, kDiff, dra, drb, ok ? "ok" : "DIFFERENT");
  return ok ? 0 : 1;
}

int main() {
  int bad = 0;
  bad += check<2, 8>(1024, 0, 3);
  bad += check<2, 8>(1024, 1022, 3);
  bad += check<2, 8>(600, 509, 3);
  bad += check<1, 8>(300, 254, 3);
  bad += check<1, 8>(5, 3, 4);
  bad += check<1, 8>(1, 0, 2);
  std::fflush(stdout);
  std::_Exit(bad);
}
