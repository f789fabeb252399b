// One AdaGrad-EF pipeline on the CPU emulation: the kernels of topk.cu and adagrad.cu launched in exactly the order,
// grids and arguments of GpuAdagradEfPipeline.directionDevice (keep the two in step), from ξ = 0 and S = 0. Arguments:
// d k eps steps gradFile outFile. Reads `steps` gradients (d little-endian doubles each); writes per step the k
// selected indices (int32) and values (float32), ξ (d doubles), S (d doubles) and u (d doubles). Exits with 1 and a
// message on stderr when a between-steps invariant breaks (histogram, support bitmap and values cleared, ticket reset).
#include "harness.h"
#include "topk.cu"
#include "topk_select.h"
#include "adagrad.cu"
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <vector>

int main(int argc, char** argv) {
  if (argc < 7) { std::fprintf(stderr, "usage: d k eps steps gradFile outFile\n"); return 2; }
  int d = atoi(argv[1]), k = atoi(argv[2]);
  double eps = atof(argv[3]);
  int steps = atoi(argv[4]);
  FILE* gin = open_file(argv[5], "rb");
  FILE* out = open_file(argv[6], "wb");
  TopKSelect topk(d, 1, k);
  std::vector<double> g(d), u(d), S(d, 0.0);
  for (int t = 0; t < steps; t++) {
    if (!read_all(gin, g)) die(t, "short gradient file");
    topk.select(g.data(), 0);
    std::fill(u.begin(), u.end(), 0.0);
    LAUNCH((k + 255) / 256, adagrad_ef_step, topk.winIdx.data(), topk.winVal.data(), k, eps, S.data(), u.data(),
           topk.bitmap.data(), topk.scratch.data());
    topk.checkCleared(t);
    topk.write(out, 0);
    std::fwrite(S.data(), 8, d, out);
    std::fwrite(u.data(), 8, d, out);
  }
  finish(out);
}
