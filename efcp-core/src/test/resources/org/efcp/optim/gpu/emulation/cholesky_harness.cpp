// mfac_cholesky.cu's step kernel alone on the CPU emulation, from a given state, as GpuMfacCholeskyState launches it
// (mchol_launch.h: mchol_step_C, or mchol_wave_C when `kernel` is "wavefront").
// Reads from inFile K and R (m×m little-endian doubles each, row-major by slot, R in logical order from `head`), then
// per step w (m doubles); step i writes slot (head + i) mod m. Writes per step M (m doubles) and the drift maximum
// (1 double) to outFile, and K and R after the last step (m×m doubles each).
#include "harness.h"
#include "mfac_cholesky.cu"
#include "mchol_launch.h"
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <vector>

int main(int argc, char** argv) {
  if (argc < 8) { std::fprintf(stderr, "usage: m damping steps head inFile outFile rows|wavefront\n"); return 2; }
  int m = atoi(argv[1]);
  double damping = atof(argv[2]);
  int steps = atoi(argv[3]), head = atoi(argv[4]);
  FILE* in = open_file(argv[5], "rb");
  FILE* out = open_file(argv[6], "wb");
  bool wavefront = std::strcmp(argv[7], "wavefront") == 0;
  if (!wavefront && std::strcmp(argv[7], "rows") != 0) die("kernel must be rows or wavefront");
  size_t mm = (size_t)m * m;
  std::vector<double> K(mm), R(mm), w(m), M(m);
  std::vector<sm_u64> driftMax(1);
  if (!read_all(in, K) || !read_all(in, R)) die("short input (K, R)");
  for (int i = 0; i < steps; i++) {
    if (!read_all(in, w)) die("short input (w)");
    int slot = (head + i) % m;
    std::fill(M.begin(), M.end(), std::nan(""));  // every entry must be written
    mchol_launch(wavefront, R.data(), K.data(), w.data(), m, slot, damping, driftMax.data(), M.data());
    double drift;
    std::memcpy(&drift, &driftMax[0], 8);
    std::fwrite(M.data(), 8, m, out);
    std::fwrite(&drift, 8, 1, out);
  }
  std::fwrite(K.data(), 8, mm, out);
  std::fwrite(R.data(), 8, mm, out);
  std::fprintf(stderr, "harness: %d steps done\n", steps);
  finish(out);
}
