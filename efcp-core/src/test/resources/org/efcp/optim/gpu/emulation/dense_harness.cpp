// One dense M-FAC pipeline on the CPU emulation: the kernels of dense_mfac.cu and mfac_cholesky.cu launched in
// exactly the order, grids and arguments of GpuDenseMfacPipeline.directionDevice / GpuMfacCholeskyState.update (keep
// them in step), with zeroed state, R = sqrt(m) I and no host refresh. Reads `steps` gradients (d little-endian
// doubles each) from gradFile; writes per step the slot's window row (d float32), u (d doubles), the drift maximum
// of the Cholesky factor (1 double) and, for reference, the drift maximum of the explicit inverse B ≈ A⁻¹ that
// sparse_mfac.cu's rank-2 update would keep on the same K (1 double; GpuMfacState's measure, nothing else uses it).
// Exits with 1 and a message on stderr when a between-steps invariant breaks (row padding zero, K symmetric, R zero
// below its logical diagonal with a positive diagonal, ticket reset).
#include "harness.h"
#include "sparse_mfac.cu"
#include "dense_mfac.cu"
#include "dense_window.h"
#include "mfac_cholesky.cu"
#include "mchol_launch.h"
#include <cstdio>
#include <cstdlib>
#include <vector>

int main(int argc, char** argv) {
  if (argc < 7) { std::fprintf(stderr, "usage: d m damping steps gradFile outFile\n"); return 2; }
  int d = atoi(argv[1]), m = atoi(argv[2]);
  double damping = atof(argv[3]);
  int steps = atoi(argv[4]);
  FILE* gin = open_file(argv[5], "rb");
  FILE* out = open_file(argv[6], "wb");
  double invDamping = 1.0 / damping;
  int rowBlocks = (m + 7) / 8;
  DenseWindow window(d, m);
  std::vector<double> g(d), u(d), K((size_t)m * m), R((size_t)m * m);
  std::vector<double> w(m), M(m);
  std::vector<sm_u64> driftMax(1);
  for (int i = 0; i < m; i++) R[(size_t)i * m + i] = std::sqrt((double)m);
  // The explicit-inverse reference (sparse_mfac.cu on the same K): drift only.
  std::vector<double> refK((size_t)m * m), B((size_t)m * m), col(m), bs(m), p(m), v(m), scalars(2), M0(m), r(m);
  std::vector<sm_u64> ticket(1), refDriftMax(1);
  for (int i = 0; i < m; i++) B[(size_t)i * m + i] = 1.0 / m;
  for (int t = 0; t < steps; t++) {
    if (!read_all(gin, g)) die(t, "short gradient file");
    int slot = t % m;
    int filled = std::min(t + 1, m);
    window.insertAndDot(g.data(), slot, filled, w.data());
    mchol_launch(false, R.data(), K.data(), w.data(), m, slot, damping, driftMax.data(), M.data());
    std::fill(u.begin(), u.end(), std::nan(""));  // every entry must be written
    window.combine(filled, M.data(), slot, invDamping, u.data());

    // The reference: K row/column and the new column of A as mfac_dots writes them, then the rank-2 update.
    for (int j = 0; j < m; j++) {
      refK[(size_t)j * m + slot] = refK[(size_t)slot * m + j] = w[j];
      col[j] = j == slot ? w[j] * invDamping + m : w[j] * invDamping;
    }
    LAUNCH(rowBlocks, mfac_insert_p, B.data(), col.data(), bs.data(), p.data(), v.data(), (unsigned int*)ticket.data(),
           scalars.data(), m, slot);
    LAUNCH(rowBlocks, mfac_insert_update, B.data(), bs.data(), v.data(), scalars.data(), w.data(), M0.data(), m, slot);
    LAUNCH(rowBlocks, mfac_residual, refK.data(), B.data(), M0.data(), w.data(), r.data(), m, slot, invDamping,
           (double)m, refDriftMax.data());

    // Invariants between steps.
    if (ticket[0] != 0) die(t, "ticket not reset");
    const float* row = window.row(t, slot);
    for (size_t i = 0; i < (size_t)m * m; i++) if (K[i] != refK[i]) die(t, "K is not the Gram matrix of the window");
    int head = (slot + 1) % m;
    for (int lp = 0; lp < m; lp++) {
      int sp = (head + lp) % m;
      if (!(R[(size_t)sp * m + sp] > 0)) die(t, "R has a diagonal entry that is not positive");
      for (int lq = 0; lq < lp; lq++) {
        if (R[(size_t)sp * m + (head + lq) % m] != 0.0) die(t, "R is not zero below its logical diagonal");
      }
    }
    double drift, refDrift;
    std::memcpy(&drift, &driftMax[0], 8);
    std::memcpy(&refDrift, &refDriftMax[0], 8);
    std::fwrite(row, 4, d, out);
    std::fwrite(u.data(), 8, d, out);
    std::fwrite(&drift, 8, 1, out);
    std::fwrite(&refDrift, 8, 1, out);
  }
  std::fprintf(stderr, "harness: %d steps done\n", steps);
  finish(out);
}
