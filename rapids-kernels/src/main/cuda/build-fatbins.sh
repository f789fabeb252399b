#!/usr/bin/env bash
# Compiles every src/main/cuda/*.cu (with the *.cuh headers beside it) into OUTDIR/<name>.fatbin holding
# SASS for sm_80 and sm_90 plus compute_90 PTX, removes fatbins in OUTDIR that have no source any more,
# and writes OUTDIR/kernels.sha256: "<sha256>  <file>" for every *.cu and *.cuh, sorted by file name,
# the record of which sources the fatbins were built from.
#
#   build-fatbins.sh [--if-nvcc] OUTDIR
#
# --if-nvcc (the Maven build's mode): when nvcc is not found, say so and exit 0, keeping the fatbins that
# are in OUTDIR (the committed ones); when OUTDIR's kernels.sha256 already matches the sources and every
# fatbin is there, keep them too. Without the flag a missing nvcc is an error and everything is rebuilt.
# Any nvcc error fails the script. NVCC names the compiler (default: nvcc on PATH, else /usr/local/cuda).
set -euo pipefail

optional=false
if [ "${1:-}" = "--if-nvcc" ]; then
  optional=true
  shift
fi
out=${1:?usage: build-fatbins.sh [--if-nvcc] OUTDIR}
src=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

nvcc=${NVCC:-}
if [ -z "$nvcc" ]; then
  nvcc=$(command -v nvcc || true)
  [ -z "$nvcc" ] && [ -x /usr/local/cuda/bin/nvcc ] && nvcc=/usr/local/cuda/bin/nvcc
fi
if [ -z "$nvcc" ]; then
  if $optional; then
    echo "build-fatbins: nvcc not found, keeping the committed fatbins"
    exit 0
  fi
  echo "build-fatbins: nvcc not found (put it on PATH or set NVCC)" >&2
  exit 1
fi

shopt -s nullglob
sources=("$src"/*.cu)
headers=("$src"/*.cuh)
if [ ${#sources[@]} -eq 0 ]; then
  echo "build-fatbins: no .cu files in $src" >&2
  exit 1
fi
mkdir -p "$out"

hashes=$(cd "$src" && for f in "${sources[@]}" "${headers[@]}"; do basename "$f"; done | LC_ALL=C sort \
  | while read -r f; do sha256sum -- "$f"; done)
if $optional && [ -f "$out/kernels.sha256" ] && [ "$hashes" = "$(cat "$out/kernels.sha256")" ]; then
  complete=true
  for cu in "${sources[@]}"; do
    [ -s "$out/$(basename "$cu" .cu).fatbin" ] || complete=false
  done
  if $complete; then
    echo "build-fatbins: fatbins in $out match the sources"
    exit 0
  fi
fi

# One nvcc per source, in parallel; each writes a temporary file renamed only on success.
pids=()
names=()
for cu in "${sources[@]}"; do
  name=$(basename "$cu" .cu)
  "$nvcc" -fatbin -O3 \
    -gencode arch=compute_80,code=sm_80 \
    -gencode 'arch=compute_90,code=[sm_90,compute_90]' \
    -I "$src" -o "$out/$name.fatbin.tmp" "$cu" &
  pids+=($!)
  names+=("$name")
done
failed=()
for i in "${!pids[@]}"; do
  if wait "${pids[$i]}"; then
    mv -f "$out/${names[$i]}.fatbin.tmp" "$out/${names[$i]}.fatbin"
  else
    rm -f "$out/${names[$i]}.fatbin.tmp"
    failed+=("${names[$i]}.cu")
  fi
done
if [ ${#failed[@]} -gt 0 ]; then
  echo "build-fatbins: nvcc failed for: ${failed[*]}" >&2
  exit 1
fi

for fatbin in "$out"/*.fatbin; do
  [ -f "$src/$(basename "$fatbin" .fatbin).cu" ] || rm -f "$fatbin"
done

printf '%s\n' "$hashes" > "$out/kernels.sha256.tmp"
mv -f "$out/kernels.sha256.tmp" "$out/kernels.sha256"
echo "build-fatbins: ${#sources[@]} fatbin(s) in $out"
