// The MLP gradient on the CPU emulation: the kernels of gemm.cu, lr.cu and mlp.cu launched in exactly the order, grids
// and arguments of GpuMultilayerPerceptron.addLossAndGradient(GpuBlock, DeviceBuffer, DeviceBuffer) (keep the two in
// step); the grids of the products, of lr_finish and of the element-wise kernels come from the Java test, which takes
// them from SgemmPlan and GpuMultilayerPerceptron.
//
//   mlp_harness mlp inFile outFile
//     in (little-endian): int32 L, sizes[0..L], activation code, n, chunkRows; per layer l = 0..L-1 int32
//     forward plan (gridX, gridY, splits, kChunk), gradient plan (4), error plan (4, unused for l = 0), finish blocks,
//     activation blocks (forward, for l + 1 < L), derivative blocks (backward, for l > 0); then float32 features
//     (n x sizes[0]), int32 labels (n), float32 weights (n), float32 params (d), float64 gradAccum (d).
//     out: float64 loss, float64 gradAccum after the call (d).
//   mlp_harness nn inFile outFile
//     in: int32 m, n, k, lda, ldb, ldc, offset (floats before each operand), plan (gridX, gridY, splits, kChunk);
//     float32 A (offset + m * lda), float32 B (offset + k * ldb). out: float32 C (splits * m * ldc), sgemm_nn's result.
#include "harness.h"
#include "gemm.cu"
#include "lr.cu"
#include "mlp.cu"
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

static FILE* in;

template <typename T>
static std::vector<T> read(size_t count) {
  std::vector<T> v(count);
  if (!read_all(in, v)) die("short input file");
  return v;
}

static int readInt() { return read<int>(1)[0]; }

struct Plan {
  int gridX, gridY, splits, kChunk;
};

static Plan readPlan() {
  std::vector<int> p = read<int>(4);
  return {p[0], p[1], p[2], p[3]};
}

static int mlp(FILE* out) {
  const int L = readInt();
  std::vector<int> sizes = read<int>(L + 1);
  const int act = readInt();
  const int n = readInt();
  const int chunkRows = readInt();
  std::vector<Plan> fwd(L), grad(L), err(L);
  std::vector<int> finishBlocks(L), activateBlocks(L), backwardBlocks(L);
  for (int l = 0; l < L; l++) {
    fwd[l] = readPlan();
    grad[l] = readPlan();
    err[l] = readPlan();
    finishBlocks[l] = readInt();
    activateBlocks[l] = readInt();
    backwardBlocks[l] = readInt();
  }
  std::vector<int> weightOffsets(L);
  size_t d = 0;
  int widestHidden = 0, widestOut = 0;
  size_t splitFloats = 0;
  for (int l = 0; l < L; l++) {
    weightOffsets[l] = (int)d;
    d += (size_t)sizes[l + 1] * sizes[l] + sizes[l + 1];
    widestOut = std::max(widestOut, sizes[l + 1]);
    if (l > 0) widestHidden = std::max(widestHidden, sizes[l]);
    splitFloats = std::max(splitFloats, (size_t)grad[l].splits * sizes[l + 1] * sizes[l]);
  }
  std::vector<float> features = read<float>((size_t)n * sizes[0]);
  std::vector<int> labels = read<int>(n);
  std::vector<float> weights = read<float>(n);
  std::vector<float> params = read<float>(d);
  std::vector<double> gradAccum = read<double>(d);

  const int softmaxBlocks = (n + 7) / 8;
  const int chunks = (n + chunkRows - 1) / chunkRows;
  std::vector<std::vector<float>> activations(L + 1);
  for (int l = 1; l <= L; l++) activations[l].assign((size_t)n * sizes[l], std::nanf(""));
  std::vector<float> deltaA((size_t)n * widestHidden, std::nanf("")), deltaB = deltaA;
  std::vector<float> split(splitFloats, std::nanf(""));
  std::vector<double> columnSums((size_t)chunks * widestOut, std::nan(""));
  std::vector<double> blockLoss(softmaxBlocks, std::nan(""));
  double loss = std::nan("");

  for (int l = 0; l < L; l++) {
    const int inW = sizes[l], outW = sizes[l + 1];
    const float* input = l == 0 ? features.data() : activations[l].data();
    const float* w = params.data() + weightOffsets[l];
    const float* b = w + (size_t)outW * inW;
    LAUNCH2(fwd[l].gridX, fwd[l].gridY, sgemm_nt, n, outW, inW, input, inW, w, inW, activations[l + 1].data(), outW,
            (long long)n * outW, fwd[l].kChunk, b, 1);
    if (l + 1 < L) {
      LAUNCH2(activateBlocks[l], 1, mlp_activate, activations[l + 1].data(), (long long)n * outW, act);
    }
  }
  LAUNCH2(softmaxBlocks, 1, lr_softmax_residual, activations[L].data(), labels.data(), weights.data(), n, sizes[L],
          blockLoss.data());

  float* delta = activations[L].data();
  for (int l = L - 1; l >= 0; l--) {
    const int inW = sizes[l], outW = sizes[l + 1];
    const float* input = l == 0 ? features.data() : activations[l].data();
    const float* w = params.data() + weightOffsets[l];
    LAUNCH2((outW + 255) / 256, chunks, lr_column_partials, delta, n, outW, chunkRows, columnSums.data());
    LAUNCH2(grad[l].gridX, grad[l].gridY, sgemm_tn, outW, inW, n, delta, outW, input, inW, split.data(), inW,
            (long long)outW * inW, grad[l].kChunk, split.data(), 0);
    LAUNCH2(finishBlocks[l], 1, lr_finish, split.data(), grad[l].splits, outW * inW,
            gradAccum.data() + weightOffsets[l], columnSums.data(), chunks, outW, 1, blockLoss.data(), softmaxBlocks,
            &loss);
    if (l > 0) {
      float* next = delta == deltaA.data() ? deltaB.data() : deltaA.data();
      LAUNCH2(err[l].gridX, err[l].gridY, sgemm_nn, n, inW, outW, delta, outW, w, inW, next, inW, (long long)n * inW,
              err[l].kChunk, next, 0);
      LAUNCH2(backwardBlocks[l], 1, mlp_activation_backward, next, activations[l].data(), (long long)n * inW, act);
      delta = next;
    }
  }
  std::fwrite(&loss, 8, 1, out);
  std::fwrite(gradAccum.data(), 8, d, out);
  return 0;
}

static int nn(FILE* out) {
  std::vector<int> dims = read<int>(7);
  const int m = dims[0], n = dims[1], k = dims[2], lda = dims[3], ldb = dims[4], ldc = dims[5], offset = dims[6];
  const Plan plan = readPlan();
  std::vector<float> a = read<float>(offset + (size_t)m * lda);
  std::vector<float> b = read<float>(offset + (size_t)k * ldb);
  std::vector<float> c((size_t)plan.splits * m * ldc, std::nanf(""));
  LAUNCH2(plan.gridX, plan.gridY, sgemm_nn, m, n, k, a.data() + offset, lda, b.data() + offset, ldb, c.data(), ldc,
          (long long)m * ldc, plan.kChunk, c.data(), 0);
  std::fwrite(c.data(), 4, c.size(), out);
  return 0;
}

int main(int argc, char** argv) {
  if (argc < 4) { std::fprintf(stderr, "usage: mlp_harness (mlp|nn) inFile outFile\n"); return 2; }
  in = open_file(argv[2], "rb");
  FILE* out = open_file(argv[3], "wb");
  const std::string mode = argv[1];
  int rc = mode == "mlp" ? mlp(out) : mode == "nn" ? nn(out) : 2;
  finish(out, rc);
}
