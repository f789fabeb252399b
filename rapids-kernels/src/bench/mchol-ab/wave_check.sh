#!/usr/bin/env bash
# Builds and runs wave_check.cpp on the CPU CUDA emulation (g++; no GPU needed).
set -euo pipefail
cd "$(dirname "$0")"
root=../../..
mkdir -p base
g++ -std=c++20 -O2 -ffp-contract=off -pthread -Wno-unknown-pragmas -I "$root/src/test/emulation" \
  -I "$root/src/main/cuda" -I . -o base/wave_check wave_check.cpp "$root/src/test/emulation/cuda_emulation.cpp"
time base/wave_check
