#!/usr/bin/env bash
# Builds and runs the m×m step A/B benchmark (mbench.cu) on a machine with nvcc and an sm_90 GPU. The baseline kernels
# are the ones of commit 7eaa8be (before the change this benchmark decided), taken from git into base/.
set -euo pipefail
cd "$(dirname "$0")"
mkdir -p base
for f in mfac_cholesky.cu dense_mfac.cu sparse_mfac_block.cuh; do
  [ -f "base/$f" ] || git show "7eaa8be:rapids-kernels/src/main/cuda/$f" > "base/$f"
done
nvcc -O3 -std=c++17 -arch=sm_90 -I base -o base/mbench mbench.cu
nvidia-smi --query-gpu=name,driver_version --format=csv,noheader || true
base/mbench
