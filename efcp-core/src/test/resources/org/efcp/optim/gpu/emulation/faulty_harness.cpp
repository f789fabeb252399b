// Three deliberately faulty kernels for KernelEmulationSanitizerTest: built with the sanitizers, each run must fail
// with the sanitizer's report instead of exiting with 0. Argument: device (the last thread writes one float past a
// device buffer), shared (one thread writes past a __shared__ array) or overflow (a signed int index overflows).
#include "harness.h"
#include <climits>
#include <cstring>
#include <vector>

extern "C" __global__ void write_past_buffer(float* out, int n) {
  int i = blockIdx.x * blockDim.x + threadIdx.x;
  if (i <= n) out[i] = 1.0f;  // the fault: i == n
}

extern "C" __global__ void write_past_shared(float* out) {
  __shared__ float tile[256];
  tile[threadIdx.x + (threadIdx.x == 255 ? 1 : 0)] = 1.0f;  // the fault: tile[256]
  __syncthreads();
  out[threadIdx.x] = tile[threadIdx.x];
}

extern "C" __global__ void overflow_index(float* out, int base) {
  int i = base + (int) threadIdx.x;  // the fault: base = INT_MAX − 7
  out[threadIdx.x] = (float) (i & 1);
}

int main(int argc, char** argv) {
  if (argc < 2) die("usage: device|shared|overflow");
  std::vector<float> out(256);
  if (std::strcmp(argv[1], "device") == 0) {
    LAUNCH(2, write_past_buffer, out.data(), 256);
  } else if (std::strcmp(argv[1], "shared") == 0) {
    LAUNCH(1, write_past_shared, out.data());
  } else if (std::strcmp(argv[1], "overflow") == 0) {
    LAUNCH(1, overflow_index, out.data(), INT_MAX - 7);
  } else {
    die("usage: device|shared|overflow");
  }
  harness_exit(0);
}
