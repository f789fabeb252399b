// GGT on the CPU emulation: the kernels of topk.cu, sparse_mfac.cu, dense_mfac.cu and ggt.cu launched in exactly the
// order, grids and arguments of GpuSparseGgtPipeline / GpuDenseGgtPipeline.directionDevice (keep them in step), with
// zeroed state. Three modes:
//   sparse d m k eps ridge steps gradFile outFile: per step the slot's k indices (int32) and k values (float32), the
//     error buffer (d doubles), u (d doubles) and the Jacobi sweep count (int32);
//   dense d m eps ridge steps gradFile outFile: per step the slot's window row (d float32), u (d doubles) and the
//     sweep count (int32);
//   eigen n ridge matrixFile outFile: ggt_coefficients alone on one n×n matrix K (n² doubles, row-major; m = n,
//     w = 0): the sweep count (int32), the eigenvalues diag(A) (n doubles) and V's leading n×n block (row-major).
// Gradients are d little-endian doubles per step. Exits with 1 and a message on stderr when an invariant breaks
// (histogram, support bitmap and scratch cleared, tickets reset, window padding zero, the Jacobi padding untouched).
#include "harness.h"
#include "topk.cu"
#include "topk_select.h"
#include "sparse_mfac.cu"
#include "dense_mfac.cu"
#include "dense_window.h"
#include "ggt.cu"
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <vector>

static int paddedSize(int m) { return m + (m & 1); }

static void runSparse(int d, int m, int k, double eps, double ridge, int steps, FILE* gin, FILE* out) {
  int mp = paddedSize(m);
  TopKSelect topk(d, m, k);
  std::vector<int>& winIdx = topk.winIdx;
  std::vector<float>& winVal = topk.winVal;
  std::vector<double> g(d), u(d), K((size_t)m * m), w(m), col(m), M(m);
  std::vector<double> A((size_t)mp * mp), V((size_t)mp * mp);
  std::vector<int> sweeps(1);
  for (int t = 0; t < steps; t++) {
    if (!read_all(gin, g)) die(t, "short gradient file");
    int slot = t % m;
    int filled = std::min(t + 1, m);
    topk.select(g.data(), slot);
    LAUNCH(filled, mfac_dots, winIdx.data(), winVal.data(), k, topk.bitmap.data(), topk.scratch.data(), K.data(),
           w.data(), col.data(), m, slot, 0.0, 0.0);
    LAUNCH(1, ggt_coefficients, K.data(), w.data(), m, filled, slot, ridge, eps, A.data(), V.data(), M.data(),
           sweeps.data());
    std::fill(u.begin(), u.end(), 0.0);
    LAUNCH(filled, ggt_scatter, winIdx.data(), winVal.data(), k, M.data(), slot, 1.0 / eps, u.data(),
           topk.bitmap.data(), topk.scratch.data());
    topk.checkCleared(t);
    topk.write(out, slot);
    std::fwrite(u.data(), 8, d, out);
    std::fwrite(sweeps.data(), 4, 1, out);
  }
}

static void runDense(int d, int m, double eps, double ridge, int steps, FILE* gin, FILE* out) {
  int mp = paddedSize(m);
  DenseWindow window(d, m);
  std::vector<double> g(d), u(d), K((size_t)m * m), w(m), M(m);
  std::vector<double> A((size_t)mp * mp), V((size_t)mp * mp);
  std::vector<int> sweeps(1);
  for (int t = 0; t < steps; t++) {
    if (!read_all(gin, g)) die(t, "short gradient file");
    int slot = t % m;
    int filled = std::min(t + 1, m);
    window.insertAndDot(g.data(), slot, filled, w.data());
    LAUNCH((filled + 255) / 256, ggt_gram_row, K.data(), w.data(), m, filled, slot);
    LAUNCH(1, ggt_coefficients, K.data(), w.data(), m, filled, slot, ridge, eps, A.data(), V.data(), M.data(),
           sweeps.data());
    std::fill(u.begin(), u.end(), std::nan(""));  // every entry must be written
    window.combine(filled, M.data(), slot, 1.0 / eps, u.data());
    const float* row = window.row(t, slot);
    std::fwrite(row, 4, d, out);
    std::fwrite(u.data(), 8, d, out);
    std::fwrite(sweeps.data(), 4, 1, out);
  }
}

static void runEigen(int n, double ridge, FILE* in, FILE* out) {
  int np = paddedSize(n);
  std::vector<double> K((size_t)n * n), w(n), M(n), A((size_t)np * np), V((size_t)np * np);
  std::vector<int> sweeps(1);
  if (!read_all(in, K)) die(0, "short matrix file");
  LAUNCH(1, ggt_coefficients, K.data(), w.data(), n, n, 0, ridge, 1e-5, A.data(), V.data(), M.data(),
         sweeps.data());
  for (int i = 0; i < n; i++) if (M[i] != 0.0) die(0, "M with w = 0 is not 0");
  if (np > n) {
    for (int i = 0; i < np; i++) {
      double expect = i == n ? 1.0 : 0.0;
      if (V[(size_t)i * np + n] != expect || V[(size_t)n * np + i] != expect) die(0, "padding of V rotated");
      if (A[(size_t)i * np + n] != 0.0 || A[(size_t)n * np + i] != 0.0) die(0, "padding of A not zero");
    }
  }
  std::fwrite(sweeps.data(), 4, 1, out);
  for (int i = 0; i < n; i++) std::fwrite(&A[(size_t)i * np + i], 8, 1, out);
  for (int i = 0; i < n; i++) std::fwrite(&V[(size_t)i * np], 8, n, out);
}

int main(int argc, char** argv) {
  const char* usage = "usage: sparse d m k eps ridge steps gradFile outFile"
                      " | dense d m eps ridge steps gradFile outFile | eigen n ridge matrixFile outFile\n";
  if (argc < 2) { std::fputs(usage, stderr); return 2; }
  FILE* out = nullptr;
  if (!std::strcmp(argv[1], "sparse") && argc == 10) {
    FILE* in = open_file(argv[8], "rb");
    out = open_file(argv[9], "wb");
    runSparse(atoi(argv[2]), atoi(argv[3]), atoi(argv[4]), atof(argv[5]), atof(argv[6]), atoi(argv[7]), in, out);
  } else if (!std::strcmp(argv[1], "dense") && argc == 9) {
    FILE* in = open_file(argv[7], "rb");
    out = open_file(argv[8], "wb");
    runDense(atoi(argv[2]), atoi(argv[3]), atof(argv[4]), atof(argv[5]), atoi(argv[6]), in, out);
  } else if (!std::strcmp(argv[1], "eigen") && argc == 6) {
    FILE* in = open_file(argv[4], "rb");
    out = open_file(argv[5], "wb");
    runEigen(atoi(argv[2]), atof(argv[3]), in, out);
  } else {
    std::fputs(usage, stderr);
    return 2;
  }
  std::fprintf(stderr, "ggt harness: done\n");
  finish(out);
}
