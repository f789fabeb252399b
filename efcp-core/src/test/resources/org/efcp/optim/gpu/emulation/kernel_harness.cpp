// One sparse M-FAC pipeline on the CPU emulation: the kernels of topk.cu and sparse_mfac.cu launched in exactly the
// order, grids and arguments of GpuSparseMfacPipeline.directionDevice (keep the two in step), with zeroed state,
// B = I/m and no host refresh. Reads `steps` gradients (d little-endian doubles each) from gradFile; writes per step
// the slot's k indices (int32), k values (float32), the error buffer (d doubles), u (d doubles) and the drift
// maximum (1 double) to outFile. Exits with 1 and a message on stderr when a between-steps invariant breaks
// (histogram, support bitmap and scratch cleared, tickets reset, B exactly symmetric).
#include "harness.h"
#include "topk.cu"
#include "topk_select.h"
#include "sparse_mfac.cu"
#include <cstdio>
#include <cstdlib>
#include <vector>

int main(int argc, char** argv) {
  if (argc < 8) { std::fprintf(stderr, "usage: d m k damping steps gradFile outFile\n"); return 2; }
  int d = atoi(argv[1]), m = atoi(argv[2]), k = atoi(argv[3]);
  double damping = atof(argv[4]);
  int steps = atoi(argv[5]);
  FILE* gin = open_file(argv[6], "rb");
  FILE* out = open_file(argv[7], "wb");
  double invDamping = 1.0 / damping;
  int rowBlocks = (m + 7) / 8;
  TopKSelect topk(d, m, k);
  std::vector<int>& winIdx = topk.winIdx;
  std::vector<float>& winVal = topk.winVal;
  std::vector<double> g(d), u(d), K((size_t)m * m), B((size_t)m * m);
  std::vector<sm_u64> ticket(1), driftMax(1);
  std::vector<double> w(m), col(m), bs(m), p(m), v(m), scalars(2), M0(m), r(m);
  for (int i = 0; i < m; i++) B[(size_t)i * m + i] = 1.0 / m;
  for (int t = 0; t < steps; t++) {
    if (!read_all(gin, g)) die(t, "short gradient file");
    int slot = t % m;
    int filled = std::min(t + 1, m);
    topk.select(g.data(), slot);
    LAUNCH(filled, mfac_dots, winIdx.data(), winVal.data(), k, topk.bitmap.data(), topk.scratch.data(), K.data(),
           w.data(), col.data(), m, slot, invDamping, (double)m);
    LAUNCH(rowBlocks, mfac_insert_p, B.data(), col.data(), bs.data(), p.data(), v.data(), (unsigned int*)ticket.data(),
           scalars.data(), m, slot);
    LAUNCH(rowBlocks, mfac_insert_update, B.data(), bs.data(), v.data(), scalars.data(), w.data(), M0.data(), m, slot);
    LAUNCH(rowBlocks, mfac_residual, K.data(), B.data(), M0.data(), w.data(), r.data(), m, slot, invDamping,
           (double)m, driftMax.data());
    std::fill(u.begin(), u.end(), 0.0);
    LAUNCH(filled, mfac_scatter, winIdx.data(), winVal.data(), k, B.data(), M0.data(), r.data(), m, slot, invDamping,
           u.data(), topk.bitmap.data(), topk.scratch.data());
    // Invariants between steps.
    topk.checkCleared(t);
    if (ticket[0] != 0) die(t, "ticket not reset");
    for (int i = 0; i < m; i++) for (int j = 0; j < i; j++)
      if (B[(size_t)i * m + j] != B[(size_t)j * m + i]) die(t, "B not symmetric at %d,%d", i, j);
    double drift; std::memcpy(&drift, &driftMax[0], 8);
    topk.write(out, slot);
    std::fwrite(u.data(), 8, d, out);
    std::fwrite(&drift, 8, 1, out);
  }
  std::fprintf(stderr, "harness: %d steps done\n", steps);
  finish(out);
}
