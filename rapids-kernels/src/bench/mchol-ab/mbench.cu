// Standalone A/B timing (CUDA events, medians) of dense M-FAC's m×m step variants and window passes at d = 769,000,
// m = 1024, λ = 1e-4, against the kernels as they were at 7eaa8be ("committed"): the measurements behind mfac_cholesky.cu's
// and dmfac_combine's current form (BENCHMARKS.md, GPU path). Not part of the build; run.sh builds and runs it.
#include <cstdio>
#include <cstdlib>
#include <cmath>
#include <vector>
#include <random>
#include <algorithm>
#include <cuda_runtime.h>
#include "base/mfac_cholesky.cu"
#include "base/dense_mfac.cu"
#include "variants.cuh"
#include "host_factor.h"
__global__ void vfill(float* win, long long n, int ld, int d) {
  for (long long i = (long long)blockIdx.x * blockDim.x + threadIdx.x; i < n; i += (long long)gridDim.x * blockDim.x) {
    unsigned long long h = (unsigned long long)i * 0x9E3779B97F4A7C15ull;
    h ^= h >> 29; h *= 0xBF58476D1CE4E5B9ull; h ^= h >> 32;
    const int col = (int)(i % ld);
    win[i] = col < d ? ((float)(h & 0xffffff) / 16777216.0f - 0.5f) * 3.46f : 0.0f;
  }
}

#define CK(x) do { cudaError_t e_ = (x); if (e_ != cudaSuccess) { printf("CUDA %s at %d: %s\n", #x, __LINE__, cudaGetErrorString(e_)); exit(1);} } while (0)

static const int m = 1024;
static double *dR, *dK, *dR0, *dK0, *dW, *dM;
static sm_u64* dDrift;
static std::vector<double> hK;
static double damping = 1e-4, invD = 1e4, nn = 1024, tol = 7.283e-12;

template <typename F>
static double timeSteps(F launch, int warm, int runs, std::vector<double>* Mout, std::vector<double>* Rout) {
  CK(cudaMemcpy(dR, dR0, 8ull * m * m, cudaMemcpyDeviceToDevice));
  CK(cudaMemcpy(dK, dK0, 8ull * m * m, cudaMemcpyDeviceToDevice));
  CK(cudaMemset(dDrift, 0, 8));
  cudaEvent_t a, b;
  cudaEventCreate(&a); cudaEventCreate(&b);
  std::vector<float> ms;
  int old = 0;
  for (int i = 0; i < warm + runs; i++) {
    // w = K row `old` (re-inserting the oldest vector keeps the state consistent)
    CK(cudaMemcpy(dW, dK + (long long)old * m, 8ull * m, cudaMemcpyDeviceToDevice));
    cudaEventRecord(a);
    launch(old);
    cudaEventRecord(b);
    CK(cudaEventSynchronize(b));
    CK(cudaGetLastError());
    float t; cudaEventElapsedTime(&t, a, b);
    if (i >= warm) ms.push_back(t);
    old = old + 1 < m ? old + 1 : 0;
    if (Mout && i == 2) { Mout->resize(m); CK(cudaMemcpy(Mout->data(), dM, 8ull * m, cudaMemcpyDeviceToHost)); }
  }
  if (Rout) { Rout->resize((size_t)m * m); CK(cudaMemcpy(Rout->data(), dR, 8ull * m * m, cudaMemcpyDeviceToHost)); }
  sm_u64 drift; CK(cudaMemcpy(&drift, dDrift, 8, cudaMemcpyDeviceToHost));
  double dr; memcpy(&dr, &drift, 8);
  std::sort(ms.begin(), ms.end());
  printf("   drift %.3e  ", dr);
  return ms[ms.size() / 2];
}

static double relDiff(const std::vector<double>& a, const std::vector<double>& b) {
  double num = 0, den = 0;
  for (size_t i = 0; i < a.size(); i++) { num = std::max(num, fabs(a[i] - b[i])); den = std::max(den, fabs(b[i])); }
  return num / den;
}

template <int T, int C, int D, bool FAST>
static void variant(const char* name, const std::vector<double>& M0, const std::vector<double>& R0) {
  std::vector<double> M1, R1;
  CK(cudaFuncSetAttribute(vstep<T, C, D, FAST>, cudaFuncAttributeMaxDynamicSharedMemorySize, 0));
  cudaFuncAttributes at; cudaFuncGetAttributes(&at, vstep<T, C, D, FAST>);
  printf("%-26s regs %3d spill %4zu", name, at.numRegs, (size_t)at.localSizeBytes);
  double t = timeSteps([&](int old) { vstep<T, C, D, FAST><<<1, T>>>(dR, dK, dW, m, old, damping, invD, nn, tol, dDrift, dM); },
                       10, 60, &M1, &R1);
  printf("median %.4f ms  M diff %.2e  R diff %.2e\n", t, relDiff(M1, M0), relDiff(R1, R0));
}

template <int LT, int C, int D>
static void variant2(const std::vector<double>& M0, const std::vector<double>& R0) {
  std::vector<double> M1, R1;
  cudaFuncAttributes at; cudaFuncGetAttributes(&at, vstep2<LT, C, D>);
  printf("lean T%-4d C%d D%-2d           regs %3d spill %4zu", 1 << LT, C, D, at.numRegs, (size_t)at.localSizeBytes);
  double t = timeSteps([&](int old) { vstep2<LT, C, D><<<1, 1 << LT>>>(dR, dK, dW, m, old, damping, invD, nn, tol, dDrift, dM); },
                       10, 60, &M1, &R1);
  printf("median %.4f ms  M diff %.2e  R diff %.2e\n", t, relDiff(M1, M0), relDiff(R1, R0));
}

int main() {
  cudaDeviceProp prop; CK(cudaGetDeviceProperties(&prop, 0));
  printf("device %s, %d SMs, L2 %d MB\n", prop.name, prop.multiProcessorCount, prop.l2CacheSize >> 20);
  // K = X Xᵀ, X m×dd Gaussian with ‖x‖² ≈ 1e6 (dense synthetic gradients at λ = 1e-4: ‖g‖²/(mλ) ≈ 1e7)
  const int dd = 3000;
  std::mt19937_64 rng(7);
  std::normal_distribution<double> g(0.0, sqrt(1e6 / dd));
  std::vector<float> X((size_t)m * dd);
  for (auto& v : X) v = (float)g(rng);
  hK.assign((size_t)m * m, 0.0);
  for (int i = 0; i < m; i++)
    for (int j = 0; j <= i; j++) {
      double s = 0; const float* a = &X[(size_t)i * dd]; const float* b = &X[(size_t)j * dd];
      for (int k = 0; k < dd; k++) s += (double)a[k] * b[k];
      hK[(size_t)i * m + j] = hK[(size_t)j * m + i] = s;
    }
  std::vector<double> R = hostFactor(hK, m, 0, invD, nn);
  CK(cudaMalloc(&dR, 8ull * m * m)); CK(cudaMalloc(&dK, 8ull * m * m));
  CK(cudaMalloc(&dR0, 8ull * m * m)); CK(cudaMalloc(&dK0, 8ull * m * m));
  CK(cudaMalloc(&dW, 8ull * m)); CK(cudaMalloc(&dM, 8ull * m)); CK(cudaMalloc(&dDrift, 8));
  CK(cudaMemcpy(dR0, R.data(), 8ull * m * m, cudaMemcpyHostToDevice));
  CK(cudaMemcpy(dK0, hK.data(), 8ull * m * m, cudaMemcpyHostToDevice));

  std::vector<double> M0, R0;
  cudaFuncAttributes at; cudaFuncGetAttributes(&at, mchol_step_4);
  printf("%-26s regs %3d spill %4zu", "committed mchol_step_4", at.numRegs, (size_t)at.localSizeBytes);
  double t0 = timeSteps([&](int old) { mchol_step_4<<<1, 256>>>(dR, dK, dW, m, old, damping, invD, nn, tol, dDrift, dM); },
                        10, 60, &M0, &R0);
  printf("median %.4f ms\n", t0);
  cudaFuncGetAttributes(&at, mchol_blocked_step_4);
  printf("%-26s regs %3d spill %4zu", "committed blocked_4", at.numRegs, (size_t)at.localSizeBytes);
  t0 = timeSteps([&](int old) { mchol_blocked_step_4<<<1, 256>>>(dR, dK, dW, m, old, damping, invD, nn, tol, dDrift, dM); },
                 10, 60, nullptr, nullptr);
  printf("median %.4f ms\n", t0);
  variant<512, 2, 16, true>("T512 C2 D16 fast", M0, R0);
  variant2<9, 2, 16>(M0, R0);
  variant2<9, 2, 8>(M0, R0);
  variant2<8, 4, 8>(M0, R0);
  variant2<10, 1, 16>(M0, R0);
  variant2<10, 1, 8>(M0, R0);
  {
    std::vector<double> M1, R1;
    double t = timeSteps([&](int old) { vdelete<512, 2, 16><<<1, 512>>>(dR, dK, m, old, invD, nn, dDrift); }, 10, 60, nullptr, nullptr);
    printf("delete alone T512 C2 D16 (state drifts; timing only) median %.4f ms\n", t);
    t = timeSteps([&](int old) { vsolve<512, 2, 16><<<1, 512>>>(dR, dK, dW, m, old, damping, invD, nn, tol, dDrift, dM); }, 10, 60, nullptr, nullptr);
    printf("solve alone T512 C2 D16 (state drifts; timing only)  median %.4f ms\n", t);
    t = timeSteps([&](int old) {
      vdelete<512, 2, 16><<<1, 512>>>(dR, dK, m, old, invD, nn, dDrift);
      vsolve<512, 2, 16><<<1, 512>>>(dR, dK, dW, m, old, damping, invD, nn, tol, dDrift, dM); }, 10, 60, &M1, &R1);
    printf("delete + solve T512 C2 D16 median %.4f ms  M diff %.2e  R diff %.2e\n", t, relDiff(M1, M0), relDiff(R1, R0));
    t = timeSteps([&](int old) {
      vdelete<256, 4, 8><<<1, 256>>>(dR, dK, m, old, invD, nn, dDrift);
      vsolve<256, 4, 8><<<1, 256>>>(dR, dK, dW, m, old, damping, invD, nn, tol, dDrift, dM); }, 10, 60, &M1, &R1);
    printf("delete + solve T256 C4 D8  median %.4f ms  M diff %.2e  R diff %.2e\n", t, relDiff(M1, M0), relDiff(R1, R0));
#define VSB(T, C) \
    t = timeSteps([&](int old) { \
      vdelete<512, 2, 16><<<1, 512>>>(dR, dK, m, old, invD, nn, dDrift); \
      vsolveb<T, C><<<1, T>>>(dR, dK, dW, m, old, damping, invD, nn, tol, dDrift, dM); }, 10, 60, &M1, &R1); \
    printf("delete + blocked solve T%d C%d median %.4f ms  M diff %.2e  R diff %.2e\n", T, C, t, relDiff(M1, M0), relDiff(R1, R0));
    VSB(512, 2) VSB(256, 4) VSB(1024, 1) VSB(128, 8)
    t = timeSteps([&](int old) {
      vdelete<1024, 1, 16><<<1, 1024>>>(dR, dK, m, old, invD, nn, dDrift);
      vsolve<1024, 1, 16><<<1, 1024>>>(dR, dK, dW, m, old, damping, invD, nn, tol, dDrift, dM); }, 10, 60, &M1, &R1);
    printf("delete + solve T1024 C1 D16 median %.4f ms  M diff %.2e  R diff %.2e\n", t, relDiff(M1, M0), relDiff(R1, R0));
  }

  // Window passes at d = 769,000, m = 1024.
  const int d = 769000, ld = (d + 3) / 4 * 4, ld4 = ld / 4;
  float* win; double *gv, *u, *partials, *w, *Mc, *sum;
  CK(cudaMalloc(&win, 4ull * (m + 1) * ld));
  CK(cudaMalloc(&gv, 8ull * d)); CK(cudaMalloc(&u, 8ull * d)); CK(cudaMalloc(&sum, 8));
  const int chunks = (ld4 + DM_CHUNK4 - 1) / DM_CHUNK4, rowTiles = (m + DM_ROWS - 1) / DM_ROWS;
  CK(cudaMalloc(&partials, 8ull * m * chunks)); CK(cudaMalloc(&w, 8ull * m)); CK(cudaMalloc(&Mc, 8ull * m));
  std::vector<double> hg(d);
  for (auto& v : hg) v = g(rng) * 1e-3;
  CK(cudaMemcpy(gv, hg.data(), 8ull * d, cudaMemcpyHostToDevice));
  vfill<<<8192, 256>>>(win, (long long)(m + 1) * ld, ld, d);
  std::vector<double> hM(m);
  for (auto& v : hM) v = g(rng) * 1e-3;
  CK(cudaMemcpy(Mc, hM.data(), 8ull * m, cudaMemcpyHostToDevice));
  CK(cudaDeviceSynchronize());
  auto med = [&](auto launch, int runs) {
    cudaEvent_t a, b; cudaEventCreate(&a); cudaEventCreate(&b);
    std::vector<float> ms;
    for (int i = 0; i < runs + 5; i++) {
      cudaEventRecord(a); launch(); cudaEventRecord(b); CK(cudaEventSynchronize(b)); CK(cudaGetLastError());
      float t; cudaEventElapsedTime(&t, a, b); if (i >= 5) ms.push_back(t);
    }
    std::sort(ms.begin(), ms.end()); return ms[ms.size() / 2];
  };
  const double gb = 4.0 * m * ld / 1e9;
  double t;
  t = med([&] { cudaMemsetAsync(sum, 0, 8); vread<<<prop.multiProcessorCount * 8, 256>>>((const float4*)win, (long long)m * ld4, sum); }, 30);
  printf("pure read of the window (%.2f GB)          %.4f ms  %.2f TB/s\n", gb, t, gb / t / 1e3);
  t = med([&] { vread<<<prop.multiProcessorCount * 16, 256>>>((const float4*)win, (long long)m * ld4, sum); }, 30);
  printf("pure read, 16 blocks/SM                     %.4f ms  %.2f TB/s\n", t, gb / t / 1e3);
  t = med([&] { dmfac_insert<<<(ld + 255) / 256, 256>>>(gv, win, d, ld, 5); }, 30);
  printf("dmfac_insert                                %.4f ms\n", t);
  t = med([&] { dmfac_dots<<<rowTiles * chunks, 256>>>((const float4*)win, ld4, m, 5, rowTiles, chunks, partials); }, 30);
  printf("dmfac_dots                                  %.4f ms  %.2f TB/s\n", t, gb / t / 1e3);
  t = med([&] { dmfac_dots_finish<<<(m + DM_ROWS_PER_BLOCK - 1) / DM_ROWS_PER_BLOCK, 256>>>(partials, chunks, w, m); }, 30);
  printf("dmfac_dots_finish                           %.4f ms\n", t);
  t = med([&] { dmfac_combine<<<(ld4 + 255) / 256, 256>>>((const float4*)win, ld4, d, m, Mc, 5, invD, u); }, 30);
  printf("dmfac_combine                               %.4f ms  %.2f TB/s\n", t, gb / t / 1e3);
  std::vector<double> u0(d), u1(d);
  CK(cudaMemcpy(u0.data(), u, 8ull * d, cudaMemcpyDeviceToHost));
#define VC(U, RU) \
  t = med([&] { vcombine<U, RU><<<(ld4 + 256 * U - 1) / (256 * U), 256>>>((const float4*)win, ld4, d, m, Mc, 5, invD, u); }, 30); \
  CK(cudaMemcpy(u1.data(), u, 8ull * d, cudaMemcpyDeviceToHost)); \
  printf("vcombine U%d unroll %-2d                      %.4f ms  %.2f TB/s  diff %.1e\n", U, RU, t, gb / t / 1e3, relDiff(u1, u0));
  VC(1, 4) VC(1, 8) VC(1, 16) VC(2, 4) VC(2, 8) VC(4, 4)

  {
    // Consistent state from the window: K_ij = <x_i, x_j> by the dots kernel, A = K/λ + nI, R = chol(A).
    std::vector<double> Kw((size_t)m * m);
    for (int j = 0; j < m; j++) {
      dmfac_dots<<<rowTiles * chunks, 256>>>((const float4*)win, ld4, m, j, rowTiles, chunks, partials);
      dmfac_dots_finish<<<(m + DM_ROWS_PER_BLOCK - 1) / DM_ROWS_PER_BLOCK, 256>>>(partials, chunks, w, m);
      CK(cudaMemcpy(&Kw[(size_t)j * m], w, 8ull * m, cudaMemcpyDeviceToHost));
    }
    for (int i = 0; i < m; i++) for (int j = 0; j < i; j++) Kw[(size_t)i * m + j] = Kw[(size_t)j * m + i];
    std::vector<double> Rw = hostFactor(Kw, m, 0, invD, nn);
    printf("window Gram: K00 %.4e K01 %.4e\n", Kw[0], Kw[1]);
    cudaStream_t sA, sB; CK(cudaStreamCreateWithFlags(&sA, cudaStreamNonBlocking)); CK(cudaStreamCreateWithFlags(&sB, cudaStreamNonBlocking));
    cudaEvent_t e0, e1, eDel; cudaEventCreate(&e0); cudaEventCreate(&e1); cudaEventCreateWithFlags(&eDel, cudaEventDisableTiming);
    auto composed = [&](const char* name, int mode) {
      CK(cudaMemcpy(dR, Rw.data(), 8ull * m * m, cudaMemcpyHostToDevice));
      CK(cudaMemcpy(dK, Kw.data(), 8ull * m * m, cudaMemcpyHostToDevice));
      CK(cudaMemset(dDrift, 0, 8));
      std::vector<float> ms;
      int old = 0;
      for (int i = 0; i < 60; i++) {
        cudaEventRecord(e0, sA);
        if (mode == 2 || mode == 5 || mode == 6) {
          cudaStreamWaitEvent(sB, e0, 0);
          vdelete<512, 2, 16><<<1, 512, 0, sB>>>(dR, dK, m, old, invD, nn, dDrift);
          cudaEventRecord(eDel, sB);
        } else if (mode == 1 || mode == 4 || mode == 7) {
          vdelete<512, 2, 16><<<1, 512, 0, sA>>>(dR, dK, m, old, invD, nn, dDrift);
        }
        dmfac_insert<<<(ld + 255) / 256, 256, 0, sA>>>(gv, win, d, ld, m);  // into a spare row: timing only
        dmfac_dots<<<rowTiles * chunks, 256, 0, sA>>>((const float4*)win, ld4, m, old, rowTiles, chunks, partials);
        dmfac_dots_finish<<<(m + DM_ROWS_PER_BLOCK - 1) / DM_ROWS_PER_BLOCK, 256, 0, sA>>>(partials, chunks, w, m);
        if (mode == 0) {
          mchol_step_4<<<1, 256, 0, sA>>>(dR, dK, w, m, old, damping, invD, nn, tol, dDrift, dM);
        } else if (mode == 3) {
          vstep<512, 2, 16, true><<<1, 512, 0, sA>>>(dR, dK, w, m, old, damping, invD, nn, tol, dDrift, dM);
        } else if (mode == 8 || mode == 9) {
          vstep2<9, 2, 16><<<1, 512, 0, sA>>>(dR, dK, w, m, old, damping, invD, nn, tol, dDrift, dM);
        } else if (mode == 12) {
          vstep<512, 2, 8, true><<<1, 512, 0, sA>>>(dR, dK, w, m, old, damping, invD, nn, tol, dDrift, dM);
        } else if (mode == 10) {
          vstep2<10, 1, 16><<<1, 1024, 0, sA>>>(dR, dK, w, m, old, damping, invD, nn, tol, dDrift, dM);
        } else if (mode >= 4) {
          if (mode == 5 || mode == 6) cudaStreamWaitEvent(sA, eDel, 0);
          vsolveb<512, 2><<<1, 512, 0, sA>>>(dR, dK, w, m, old, damping, invD, nn, tol, dDrift, dM);
        } else {
          if (mode == 2) cudaStreamWaitEvent(sA, eDel, 0);
          vsolve<512, 2, 16><<<1, 512, 0, sA>>>(dR, dK, w, m, old, damping, invD, nn, tol, dDrift, dM);
        }
        if (mode == 6 || mode == 7 || mode == 9 || mode == 10 || mode == 12) {
          vcombine<2, 8><<<(ld4 + 511) / 512, 256, 0, sA>>>((const float4*)win, ld4, d, m, dM, old, invD, u);
        } else {
          dmfac_combine<<<(ld4 + 255) / 256, 256, 0, sA>>>((const float4*)win, ld4, d, m, dM, old, invD, u);
        }
        cudaEventRecord(e1, sA);
        CK(cudaEventSynchronize(e1));
        CK(cudaGetLastError());
        float tt; cudaEventElapsedTime(&tt, e0, e1);
        if (i >= 10) ms.push_back(tt);
        old = old + 1 < m ? old + 1 : 0;
      }
      sm_u64 drift; CK(cudaMemcpy(&drift, dDrift, 8, cudaMemcpyDeviceToHost));
      double dr; memcpy(&dr, &drift, 8);
      std::sort(ms.begin(), ms.end());
      printf("step %-34s median %.4f ms  min %.4f  drift %.2e\n", name, ms[ms.size() / 2], ms[0], dr);
    };
    composed("committed mchol_step_4", 0);
    composed("fast single kernel T512 D16", 3);
    composed("lean T512 D16", 8);
    composed("lean T512 D16 + combine U2x8", 9);
    composed("lean T1024 D16 + combine U2x8", 10);
    composed("delete || dots, two streams", 2);
    composed("delete || dots, blocked, combine U2x8", 6);
    composed("lean T512 D16 + combine U2x8 (again)", 9);
    composed("as committed at 8455efd (512 threads, D8)", 12);
    composed("as committed at 8455efd (again)", 12);
    composed("committed mchol_step_4 (again)", 0);
  }
  return 0;
}
