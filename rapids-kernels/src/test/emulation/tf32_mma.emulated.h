// The emulation's tf32_mma.cuh (build-libcuda.sh includes it before every module, so gemm_tf32.cu's own include of
// tf32_mma.cuh finds its guard defined): the same two functions on the CPU.
#ifndef EFCP_TF32_MMA_CUH
#define EFCP_TF32_MMA_CUH

namespace efcp {

// cvt.rna.tf32.f32: keep 10 mantissa bits, rounding the magnitude to nearest with ties away from zero (adding half
// of the last kept bit carries into the exponent when it should); NaN and infinity are kept.
inline float toTf32(float x) {
  uint32_t u = __float_as_uint(x);
  if ((u & 0x7f800000u) != 0x7f800000u) u = (u + 0x1000u) & 0xffffe000u;
  return __uint_as_float(u);
}

// mma.sync.aligned.m16n8k8.row.col.f32.tf32.tf32.f32, every lane of the warp calling it (as on the device). With
// g = lane / 4 and q = lane % 4 (the PTX ISA's fragment layouts): a holds A[g][q], A[g + 8][q], A[g][q + 4],
// A[g + 8][q + 4]; b holds B[q][g], B[q + 4][g]; d holds D[g][2q], D[g][2q + 1], D[g + 8][2q], D[g + 8][2q + 1].
// Products of TF32 values are exact in float32; they are added in k order.
inline void mma16x8x8(float (&d)[4], const uint32_t (&a)[4], const uint32_t (&b)[2]) {
  static uint32_t fragments[32][32][6];  // [warp][lane]: a0..a3, b0, b1 (one block at a time)
  const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
  for (int i = 0; i < 4; i++) fragments[warp][lane][i] = a[i];
  fragments[warp][lane][4] = b[0];
  fragments[warp][lane][5] = b[1];
  emu_warp_sync(warp);
  auto A = [&](int row, int k) {
    return __uint_as_float(fragments[warp][(row & 7) * 4 + (k & 3)][(row >> 3) + 2 * (k >> 2)]);
  };
  auto B = [&](int k, int col) { return __uint_as_float(fragments[warp][col * 4 + (k & 3)][4 + (k >> 2)]); };
  const int g = lane >> 2, q = lane & 3;
  for (int i = 0; i < 4; i++) {
    const int row = g + 8 * (i >> 1), col = 2 * q + (i & 1);
    float sum = d[i];
    for (int k = 0; k < 8; k++) sum += A(row, k) * B(k, col);
    d[i] = sum;
  }
  emu_warp_sync(warp);
}

}  // namespace efcp

#endif  // EFCP_TF32_MMA_CUH
