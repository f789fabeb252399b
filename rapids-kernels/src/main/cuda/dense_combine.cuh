// The float64 accumulation of dense M-FAC's combination u = Σ_j c_j x_j over the float32 window, shared by
// dense_mfac.cu's dmfac_combine and mfac_cholesky.cu's overlapped readers: each thread owns V float4 columns of the
// window, STRIDE apart, and walks the rows with one float64 accumulator per coordinate.
#pragma once

// acc[k] += c · row[q0 + k · STRIDE] (its four floats as doubles; the products are exact) for every k with
// q0 + k · STRIDE < limit.
template <int V, int STRIDE>
__device__ __forceinline__ void dmfac_accumulate_row(double (&acc)[V][4], double c, const float4* __restrict__ row,
                                                     long long q0, long long limit) {
#pragma unroll
  for (int k = 0; k < V; k++) {
    const long long q = q0 + k * STRIDE;
    if (q < limit) {
      const float4 v = row[q];
      acc[k][0] += c * (double)v.x;
      acc[k][1] += c * (double)v.y;
      acc[k][2] += c * (double)v.z;
      acc[k][3] += c * (double)v.w;
    }
  }
}

// u[4q + e] = acc[k][e] for q = q0 + k · STRIDE < limit and 4q + e < d.
template <int V, int STRIDE>
__device__ __forceinline__ void dmfac_store_columns(const double (&acc)[V][4], double* __restrict__ u, long long q0,
                                                    long long limit, int d) {
#pragma unroll
  for (int k = 0; k < V; k++) {
    const long long q = q0 + k * STRIDE;
    if (q < limit) {
      const long long i = 4 * q;
#pragma unroll
      for (int e = 0; e < 4; e++) {
        if (i + e < d) {
          u[i + e] = acc[k][e];
        }
      }
    }
  }
}
