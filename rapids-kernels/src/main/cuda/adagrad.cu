// Diagonal AdaGrad with error feedback on the device (paper Algorithm 5, algorithms doc §1.3, §13; the CPU
// DiagonalAdagradPreconditioner): on the support of the Top-k selection c (topk.cu's window slot 0),
//   S_i += c_i²,   u_i = c_i / (sqrt(S_i) + ε)   (0 when the denominator is 0),
// and u_i = 0 elsewhere (u zeroed before). Each selected index appears once, so no two threads touch one i. The
// products and sums are the CPU's, rounded alike (no fused multiply-add), so u and S are bitwise the CPU's.
#include "sparse_mfac_block.cuh"

// Launch: grid = ceil(k / 256). Also clears the selection's support bits and values (set by topk_write).
extern "C" __global__ void adagrad_ef_step(const int* __restrict__ idx, const float* __restrict__ val, int k,
                                           double eps, double* __restrict__ S, double* __restrict__ u,
                                           unsigned int* __restrict__ bitmap, double* __restrict__ scratch) {
  const int q = blockIdx.x * SM_THREADS + threadIdx.x;
  if (q >= k) {
    return;
  }
  const int i = idx[q];
  const double c = (double)val[q];
  const double s = __dadd_rn(S[i], __dmul_rn(c, c));
  S[i] = s;
  const double denominator = __dadd_rn(sqrt(s), eps);
  u[i] = denominator == 0.0 ? 0.0 : c / denominator;
  // Threads whose indices share a word all store the same 0: a benign race.
  bitmap[i >> 5] = 0u;
  scratch[i] = 0.0;
}
