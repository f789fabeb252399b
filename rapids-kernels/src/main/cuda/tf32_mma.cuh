// The two PTX instructions of gemm_tf32.cu: rounding to TF32 and the m16n8k8 tensor-core product. They are kept
// apart, behind a classic include guard, so that the CPU emulation (src/test/emulation/tf32_mma.emulated.h) can
// define the same two functions and this guard first, and so run gemm_tf32.cu unchanged.
#ifndef EFCP_TF32_MMA_CUH
#define EFCP_TF32_MMA_CUH
#include <stdint.h>

namespace efcp {

// x rounded to TF32 (10 mantissa bits; cvt.rna: to nearest, ties away from zero), in a float.
__device__ __forceinline__ float toTf32(float x) {
  uint32_t r;
  asm("cvt.rna.tf32.f32 %0, %1;" : "=r"(r) : "f"(x));
  return __uint_as_float(r);
}

// d += a b for one 16 x 8 x 8 tile (fragment layouts of the PTX ISA for m16n8k8 .tf32).
__device__ __forceinline__ void mma16x8x8(float (&d)[4], const uint32_t (&a)[4], const uint32_t (&b)[2]) {
  asm volatile(
      "mma.sync.aligned.m16n8k8.row.col.f32.tf32.tf32.f32 {%0,%1,%2,%3}, {%4,%5,%6,%7}, {%8,%9}, "
      "{%0,%1,%2,%3};"
      : "+f"(d[0]), "+f"(d[1]), "+f"(d[2]), "+f"(d[3])
      : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b[0]), "r"(b[1]));
}

}  // namespace efcp

#endif  // EFCP_TF32_MMA_CUH
