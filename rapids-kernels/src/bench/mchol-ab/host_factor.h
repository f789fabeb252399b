// The A/B program's starting state on the host: the upper Cholesky factor R of A = K/λ + n I (RᵀR = A) in logical
// order from `head` (position p is slot (head + p) mod m), stored by slot as mchol_step_C keeps it.
#pragma once
#include <cmath>
#include <vector>

inline std::vector<double> hostFactor(const std::vector<double>& K, int m, int head, double invDamping, double n) {
  auto slot = [&](int p) { return (size_t)((head + p) % m); };
  std::vector<double> L((size_t)m * m, 0.0);  // by logical position
  for (int j = 0; j < m; j++) {
    double s = invDamping * K[slot(j) * m + slot(j)] + n;
    for (int k = 0; k < j; k++) s -= L[(size_t)k * m + j] * L[(size_t)k * m + j];
    const double rjj = std::sqrt(s);
    L[(size_t)j * m + j] = rjj;
    for (int i = j + 1; i < m; i++) {
      double t = invDamping * K[slot(j) * m + slot(i)];
      for (int k = 0; k < j; k++) t -= L[(size_t)k * m + j] * L[(size_t)k * m + i];
      L[(size_t)j * m + i] = t / rjj;
    }
  }
  std::vector<double> R((size_t)m * m, 0.0);
  for (int p = 0; p < m; p++)
    for (int q = 0; q < m; q++) R[slot(p) * m + slot(q)] = L[(size_t)p * m + q];
  return R;
}
