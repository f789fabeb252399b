// One low-rank M-FAC pipeline on the CPU emulation: the kernels of lowrank.cu, dense_mfac.cu and mfac_cholesky.cu
// launched in exactly the order, grids and arguments of GpuLowRankMfacPipeline.directionDevice (keep the two in
// step), with zeroed state, R = sqrt(m) I and no host refresh. Arguments: m rank damping steps layout inFile outFile, where
// layout is TensorLayout's "37x19,8x50,30" (a tensor of two or more extents is the matrix p1 × p2·…·ps). inFile holds
// the initial warm-start Q (cols × rank, row-major) of every matrix tensor in layout order, then `steps` gradients of
// d doubles (all little-endian). Per step outFile receives u (d doubles), the error buffer (d doubles), the new slot's
// P (rows × rank) and Q (cols × rank) of every matrix tensor in layout order, and the drift maximum (1 double). Exits
// with 1 and a message on stderr when a between-steps invariant breaks (K exactly symmetric, the 1-D tensors' error
// exactly 0).
#include "harness.h"
#include "sparse_mfac.cu"
#include "dense_mfac.cu"
#include "mfac_cholesky.cu"
#include "mchol_launch.h"
#include "lowrank.cu"
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

struct Tensor {
  bool matrix;
  int rows, cols, size, offset;
  std::vector<double> warmQ, winP, winQ, winRaw;
};

static unsigned int blocks(long long n) { return (unsigned int)((n + 255) / 256); }

int main(int argc, char** argv) {
  if (argc < 8) { std::fprintf(stderr, "usage: m rank damping steps layout inFile outFile\n"); return 2; }
  int m = atoi(argv[1]), rank = atoi(argv[2]);
  double damping = atof(argv[3]);
  int steps = atoi(argv[4]);
  std::string spec = argv[5];
  FILE* in = open_file(argv[6], "rb");
  FILE* out = open_file(argv[7], "wb");
  double invDamping = 1.0 / damping;

  std::vector<Tensor> tensors;
  int d = 0;
  size_t start = 0;
  while (start <= spec.size()) {
    size_t end = spec.find(',', start);
    if (end == std::string::npos) end = spec.size();
    std::string part = spec.substr(start, end - start);
    Tensor t{};
    int extents = 0, size = 1, first = 0;
    size_t s = 0;
    while (s <= part.size()) {
      size_t x = part.find('x', s);
      if (x == std::string::npos) x = part.size();
      int e = atoi(part.substr(s, x - s).c_str());
      if (extents == 0) first = e;
      size *= e;
      extents++;
      s = x + 1;
    }
    t.matrix = extents >= 2;
    t.size = size;
    t.rows = first;
    t.cols = size / first;
    t.offset = d;
    d += size;
    tensors.push_back(t);
    start = end + 1;
  }
  const int T = (int)tensors.size();
  int maxChunkEntries = 0;
  for (Tensor& t : tensors) {
    if (t.matrix) {
      t.warmQ.resize((size_t)t.cols * rank);
      if (!read_all(in, t.warmQ)) die(-1, "short Q0");
      t.winP.assign((size_t)m * t.rows * rank, 0.0);
      t.winQ.assign((size_t)m * t.cols * rank, 0.0);
      int chunks = (t.rows + LR_QROWS - 1) / LR_QROWS;
      maxChunkEntries = std::max(maxChunkEntries, chunks * t.cols * rank);
    } else {
      t.winRaw.assign((size_t)m * t.size, 0.0);
    }
  }

  std::vector<double> g(d), u(d), error(d, 0.0), K((size_t)m * m), R((size_t)m * m);
  std::vector<double> qPartials(std::max(maxChunkEntries, 1)), dotPartials((size_t)m * T);
  std::vector<sm_u64> driftMax(1);
  std::vector<double> w(m), M(m);
  for (int i = 0; i < m; i++) R[(size_t)i * m + i] = std::sqrt((double)m);  // R = sqrt(n) I: the empty window

  for (int step = 0; step < steps; step++) {
    if (!read_all(in, g)) die(step, "short gradient file");
    int slot = step % m;
    int filled = std::min(step + 1, m);
    int filledBlocks = (filled + 7) / 8;
    // Compression, tensor by tensor.
    for (Tensor& t : tensors) {
      double* e = error.data() + t.offset;
      const double* gt = g.data() + t.offset;
      if (!t.matrix) {
        std::copy(gt, gt + t.size, t.winRaw.data() + (size_t)slot * t.size);  // the pipeline's device-to-device copy
        continue;
      }
      double* slotP = t.winP.data() + (size_t)slot * t.rows * rank;
      double* slotQ = t.winQ.data() + (size_t)slot * t.cols * rank;
      int chunks = (t.rows + LR_QROWS - 1) / LR_QROWS;
      LAUNCH((t.rows + 7) / 8, lr_power_p, e, gt, t.rows, t.cols, rank, t.warmQ.data(), slotP);
      LAUNCH(1, lr_orthonormalise, slotP, t.rows, rank);
      LAUNCH2(blocks(t.cols), chunks, lr_power_q, e, slotP, t.rows, t.cols, rank, qPartials.data());
      LAUNCH(blocks((long long)t.cols * rank), lr_power_q_finish, qPartials.data(), chunks, t.cols * rank,
             t.warmQ.data(), slotQ);
      LAUNCH(blocks((long long)t.rows * t.cols), lr_residual, e, slotP, slotQ, t.rows, t.cols, rank);
    }
    // Dots of every filled slot with the new one, per tensor, then summed over tensors.
    for (int l = 0; l < T; l++) {
      Tensor& t = tensors[l];
      if (t.matrix) {
        LAUNCH(filled, lr_dots_matrix, t.winP.data(), t.winQ.data(), t.rows, t.cols, rank, slot, T, l,
               dotPartials.data());
      } else {
        LAUNCH(filled, lr_dots_vector, t.winRaw.data(), t.size, slot, T, l, dotPartials.data());
      }
    }
    LAUNCH(filledBlocks, dmfac_dots_finish, dotPartials.data(), T, w.data(), filled);
    mchol_launch(false, R.data(), K.data(), w.data(), m, slot, damping, driftMax.data(), M.data());
    // The combination, tensor by tensor.
    std::fill(u.begin(), u.end(), std::nan(""));  // every entry must be written
    for (Tensor& t : tensors) {
      double* ut = u.data() + t.offset;
      if (t.matrix) {
        LAUNCH2((t.cols + LR_TILE - 1) / LR_TILE, (t.rows + LR_TILE - 1) / LR_TILE, lr_combine_matrix,
                t.winP.data(), t.winQ.data(), t.rows, t.cols, rank, filled, M.data(), slot, invDamping, ut);
      } else {
        LAUNCH(blocks(t.size), lr_combine_vector, t.winRaw.data(), t.size, filled, M.data(), slot, invDamping, ut);
      }
    }
    // Invariants between steps.
    for (int i = 0; i < m; i++) for (int j = 0; j < m; j++)
      if (K[(size_t)i * m + j] != K[(size_t)j * m + i]) die(step, "K not symmetric");
    for (Tensor& t : tensors) {
      if (!t.matrix) {
        for (int i = 0; i < t.size; i++) if (error[t.offset + i] != 0.0) die(step, "1-D tensor with error feedback");
      }
    }
    double drift; std::memcpy(&drift, &driftMax[0], 8);
    std::fwrite(u.data(), 8, d, out);
    std::fwrite(error.data(), 8, d, out);
    for (Tensor& t : tensors) {
      if (t.matrix) {
        std::fwrite(t.winP.data() + (size_t)slot * t.rows * rank, 8, (size_t)t.rows * rank, out);
        std::fwrite(t.winQ.data() + (size_t)slot * t.cols * rank, 8, (size_t)t.cols * rank, out);
      }
    }
    std::fwrite(&drift, 8, 1, out);
  }
  std::fprintf(stderr, "harness: %d steps done\n", steps);
  finish(out);
}
