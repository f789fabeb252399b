// Small element-wise helpers: used by the launch-layer tests and handy as building blocks.
// Launch with any 1-D grid: the grid-stride loops cover all n elements whatever the grid size.
#include "efcp_cuda.cuh"

// x[i] = v for 0 <= i < n.
extern "C" __global__ void efcp_fill_f64(double* x, double v, int n) {
  for (long long i = efcp_thread_index(); i < n; i += efcp_grid_stride()) {
    x[i] = v;
  }
}

// x[i] = v for 0 <= i < n.
extern "C" __global__ void efcp_fill_f32(float* x, float v, int n) {
  for (long long i = efcp_thread_index(); i < n; i += efcp_grid_stride()) {
    x[i] = v;
  }
}

// y[i] += a * x[i] for 0 <= i < n (x and y must not overlap unless they are the same array).
extern "C" __global__ void efcp_axpy_f64(double* y, const double* x, double a, int n) {
  for (long long i = efcp_thread_index(); i < n; i += efcp_grid_stride()) {
    y[i] = fma(a, x[i], y[i]);
  }
}

// Row gather for mini-batches of a device-resident block: row i of the output is row rows[i] of the input
// (features f floats per row, one int32 label and one float32 weight per row), 0 <= i < n. The caller checks that
// every rows[i] lies in [0, source rows).
extern "C" __global__ void efcp_gather_rows(const float* x, const int* y, const float* w, int f, const int* rows,
                                            int n, float* ox, int* oy, float* ow) {
  long long total = (long long)n * f;
  for (long long e = efcp_thread_index(); e < total; e += efcp_grid_stride()) {
    long long i = e / f;
    long long j = e - i * f;
    ox[e] = x[(long long)rows[i] * f + j];
  }
  for (long long i = efcp_thread_index(); i < n; i += efcp_grid_stride()) {
    oy[i] = y[rows[i]];
    ow[i] = w[rows[i]];
  }
}
