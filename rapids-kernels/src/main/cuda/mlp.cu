// The element-wise parts of the multilayer-perceptron gradient, around the SGEMMs of gemm.cu (or gemm_tf32.cu)
// and the softmax and reductions of lr.cu. Forward, per hidden layer: Z = H Wᵀ + b (sgemm_nt with bias), then
// mlp_activate turns Z into H' = f(Z) in place. Backward, per hidden layer: Δ = Δ' W (sgemm_nn), then
// mlp_activation_backward multiplies Δ by f'(Z), written through the stored activations H' = f(Z) as the CPU
// model (org.efcp.model.Activation) does. float32 throughout, like the products around them. Activation codes:
// 0 relu, 1 sigmoid, 2 tanh. Launch: block (256), any grid ≥ 1 (grid-stride loops over the count values).
#include <math.h>

#include "efcp_cuda.cuh"

namespace {

constexpr int kRelu = 0;
constexpr int kSigmoid = 1;

}  // namespace

// z[k] = f(z[k]) for k < count: relu max(z, 0) (NaN stays NaN, −0 becomes 0, as Java's Math.max),
// sigmoid 1 / (1 + e^−z), tanh.
extern "C" __global__ void __launch_bounds__(256)
mlp_activate(float* __restrict__ z, long long count, int activation) {
  for (long long k = efcp_thread_index(); k < count; k += efcp_grid_stride()) {
    const float v = z[k];
    float a;
    if (activation == kRelu) {
      a = v <= 0.f ? 0.f : v;
    } else if (activation == kSigmoid) {
      a = 1.f / (1.f + expf(-v));
    } else {
      a = tanhf(v);
    }
    z[k] = a;
  }
}

// delta[k] *= f'(z_k) for k < count, given activated[k] = f(z_k): relu 1 if a > 0 else 0 (the product is then
// exactly 0), sigmoid a (1 − a), tanh 1 − a².
extern "C" __global__ void __launch_bounds__(256)
mlp_activation_backward(float* __restrict__ delta, const float* __restrict__ activated, long long count,
                        int activation) {
  for (long long k = efcp_thread_index(); k < count; k += efcp_grid_stride()) {
    const float a = activated[k];
    const float d = delta[k];
    float r;
    if (activation == kRelu) {
      r = a > 0.f ? d : 0.f;
    } else if (activation == kSigmoid) {
      r = d * (a * (1.f - a));
    } else {
      r = d * (1.f - a * a);
    }
    delta[k] = r;
  }
}
