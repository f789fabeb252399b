// Error feedback + exact Top-k into a sparse window on the emulation, launched as GpuErrorFeedbackTopK.select does
// (kernels of topk.cu; keep the two in step), with the between-steps checks of what the step's last kernel must
// clear. Include after harness.h and topk.cu.
#pragma once
#include <vector>

struct TopKSelect {
  int d, k, blocks;
  std::vector<double> error, scratch;
  std::vector<unsigned int> hist, bitmap;
  std::vector<sm_u64> st, blockCounts;
  std::vector<int> winIdx;
  std::vector<float> winVal;

  // ξ = 0 and an m-slot window of k entries each.
  TopKSelect(int d, int m, int k)
      : d(d), k(k), blocks((d + 4095) / 4096), error(d), scratch(d), hist(2048), bitmap((d + 31) / 32), st(4),
        blockCounts(blocks), winIdx((size_t)m * k), winVal((size_t)m * k) {}

  // a = ξ + g, its Top-k into window slot `slot`, ξ = a − c, and c's support bits and values.
  void select(const double* g, int slot) {
    static const int passes[5][2] = {{41, 11}, {30, 11}, {19, 11}, {8, 11}, {0, 8}};
    LAUNCH(blocks, topk_ef_hist, error.data(), g, d, hist.data(), st.data(), k);
    for (auto& ps : passes) {
      int shift = ps[0], width = ps[1];
      LAUNCH(blocks, topk_hist, error.data(), d, hist.data(), st.data(), shift, width);
    }
    LAUNCH(blocks, topk_count, error.data(), d, st.data(), blockCounts.data());
    LAUNCH(blocks, topk_write, error.data(), d, st.data(), blockCounts.data(), winIdx.data(), winVal.data(), k, slot,
           bitmap.data(), scratch.data());
  }

  // After a whole step: the histogram, the support bitmap and values cleared, the select ticket reset.
  void checkCleared(int step) const {
    for (auto h : hist) if (h) die(step, "histogram not cleared");
    for (auto b : bitmap) if (b) die(step, "bitmap not cleared");
    for (auto s : scratch) if (s != 0.0) die(step, "scratch not cleared");
    if (st[2] != 0) die(step, "ticket not reset");
  }

  // Writes slot `slot`'s k indices and k values, then ξ.
  void write(FILE* out, int slot) const {
    std::fwrite(&winIdx[(size_t)slot * k], 4, k, out);
    std::fwrite(&winVal[(size_t)slot * k], 4, k, out);
    std::fwrite(error.data(), 8, d, out);
  }
};
