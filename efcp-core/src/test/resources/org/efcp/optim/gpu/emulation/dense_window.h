// A dense float32 window on the emulation, launched as GpuDenseWindow does (kernels of dense_mfac.cu; keep the two in
// step): insert a gradient into a slot with the dot products of the filled rows, combine u = x/ε − Σ_j M_j x_j, and
// the between-steps check that a row's padding stays zero. Include after harness.h and dense_mfac.cu.
#pragma once
#include <vector>

struct DenseWindow {
  int d, ld, ld4, chunks;
  std::vector<float4> rows;
  std::vector<double> partials;

  // m zero rows of d floats, each padded to a multiple of 4.
  DenseWindow(int d, int m)
      : d(d), ld((d + 3) / 4 * 4), ld4(ld / 4), chunks((ld4 + DM_CHUNK4 - 1) / DM_CHUNK4), rows((size_t)m * ld4),
        partials((size_t)m * chunks) {}

  // Row `slot` = g (float32), then w_j = <x_j, x_slot> for the `filled` rows.
  void insertAndDot(const double* g, int slot, int filled, double* w) {
    int rowTiles = (filled + DM_ROWS - 1) / DM_ROWS;
    LAUNCH((ld + 255) / 256, dmfac_insert, g, (float*)rows.data(), d, ld, slot);
    LAUNCH(rowTiles * chunks, dmfac_dots, rows.data(), ld4, filled, slot, rowTiles, chunks, partials.data());
    LAUNCH((filled + 7) / 8, dmfac_dots_finish, partials.data(), chunks, w, filled);
  }

  // u = x_slot · invScale − Σ_j M_j x_j over the filled rows (u is overwritten entirely); a block covers
  // DM_COMBINE_COLUMNS float4 columns.
  void combine(int filled, const double* M, int slot, double invScale, double* u) {
    LAUNCH((ld4 + DM_COMBINE_COLUMNS - 1) / DM_COMBINE_COLUMNS, dmfac_combine, rows.data(), ld4, d, filled, M, slot,
           invScale, u);
  }

  // Row `slot` (d floats, then its padding), after checking at step t that the padding is zero.
  const float* row(int t, int slot) const {
    const float* r = (const float*)rows.data() + (size_t)slot * ld;
    for (int i = d; i < ld; i++) if (r[i] != 0.0f) die(t, "row padding not zero");
    return r;
  }
};
