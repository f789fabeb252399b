// One dense M-FAC pipeline on the CPU emulation: the kernels of dense_mfac.cu and sparse_mfac.cu launched in exactly
// the order, grids and arguments of GpuDenseMfacPipeline.directionDevice (keep the two in step), with zeroed state,
// B = I/m and no host refresh. Reads `steps` gradients (d little-endian doubles each) from gradFile; writes per step
// the slot's window row (d float32), u (d doubles) and the drift maximum (1 double) to outFile. Exits with 1 and a
// message on stderr when a between-steps invariant breaks (ticket reset, row padding zero, B exactly symmetric).
#include "cuda_emulation.h"
#include "sparse_mfac.cu"
#include "dense_mfac.cu"
#include <cstdio>
#include <cstdlib>
#include <vector>

#define LAUNCH(grid, kernel, ...) emu_launch((grid), 256, [&] { kernel(__VA_ARGS__); })

static void die(int t, const char* what) {
  std::fprintf(stderr, "step %d: %s\n", t, what);
  std::fflush(stderr);
  std::_Exit(1);
}

int main(int argc, char** argv) {
  if (argc < 7) { std::fprintf(stderr, "usage: d m damping steps gradFile outFile\n"); return 2; }
  int d = atoi(argv[1]), m = atoi(argv[2]);
  double damping = atof(argv[3]);
  int steps = atoi(argv[4]);
  FILE* gin = std::fopen(argv[5], "rb");
  FILE* out = std::fopen(argv[6], "wb");
  double invDamping = 1.0 / damping;
  int ld = (d + 3) / 4 * 4, ld4 = ld / 4;
  int chunks = (ld4 + DM_CHUNK4 - 1) / DM_CHUNK4;
  int rowBlocks = (m + 7) / 8;
  std::vector<float4> window((size_t)m * ld4);
  std::vector<double> g(d), u(d), K((size_t)m * m), B((size_t)m * m), partials((size_t)m * chunks);
  std::vector<sm_u64> ticket(1), driftMax(1);
  std::vector<double> w(m), col(m), bs(m), p(m), v(m), scalars(2), M0(m), r(m), coef(m);
  for (int i = 0; i < m; i++) B[(size_t)i * m + i] = 1.0 / m;
  for (int t = 0; t < steps; t++) {
    if (std::fread(g.data(), 8, d, gin) != (size_t)d) die(t, "short gradient file");
    int slot = t % m;
    int filled = std::min(t + 1, m);
    int rowTiles = (filled + DM_ROWS - 1) / DM_ROWS;
    int filledBlocks = (filled + 7) / 8;
    LAUNCH((ld + 255) / 256, dmfac_insert, g.data(), (float*)window.data(), d, ld, slot);
    LAUNCH(rowTiles * chunks, dmfac_dots, window.data(), ld4, filled, slot, rowTiles, chunks, partials.data());
    LAUNCH(filledBlocks, dmfac_dots_finish, partials.data(), chunks, K.data(), w.data(), col.data(), m, filled, slot,
           invDamping, (double)m);
    LAUNCH(rowBlocks, mfac_insert_p, B.data(), col.data(), bs.data(), p.data(), v.data(), (unsigned int*)ticket.data(),
           scalars.data(), m, slot);
    LAUNCH(rowBlocks, mfac_insert_update, B.data(), bs.data(), v.data(), scalars.data(), w.data(), M0.data(), m, slot);
    LAUNCH(rowBlocks, mfac_residual, K.data(), B.data(), M0.data(), w.data(), r.data(), m, slot, invDamping,
           (double)m, driftMax.data());
    LAUNCH(filledBlocks, dmfac_coefficients, B.data(), M0.data(), r.data(), m, filled, slot, invDamping, coef.data());
    std::fill(u.begin(), u.end(), std::nan(""));  // every entry must be written
    LAUNCH((ld4 + 255) / 256, dmfac_combine, window.data(), ld4, d, filled, coef.data(), u.data());
    // Invariants between steps.
    if (ticket[0] != 0) die(t, "ticket not reset");
    const float* row = (const float*)window.data() + (size_t)slot * ld;
    for (int i = d; i < ld; i++) if (row[i] != 0.0f) die(t, "row padding not zero");
    for (int i = 0; i < m; i++) for (int j = 0; j < i; j++)
      if (B[(size_t)i * m + j] != B[(size_t)j * m + i]) die(t, "B not symmetric");
    double drift; std::memcpy(&drift, &driftMax[0], 8);
    std::fwrite(row, 4, d, out);
    std::fwrite(u.data(), 8, d, out);
    std::fwrite(&drift, 8, 1, out);
  }
  std::fclose(out);
  std::fprintf(stderr, "harness: %d steps done\n", steps);
  std::fflush(stderr);
  std::_Exit(0);
}
