#!/usr/bin/env bash
# Spark GPU discovery script (spark.{driver,executor,worker}.resource.gpu.discoveryScript): prints the
# resource JSON Spark reads, one address per GPU index that nvidia-smi lists, e.g.
#   {"name":"gpu","addresses":["0","1"]}
# Without nvidia-smi, or when it fails (no driver loaded), it prints an empty address list; Spark then
# refuses to start a driver or executor that asks for a GPU, naming the resource.
set -u
addresses=""
if command -v nvidia-smi >/dev/null 2>&1 \
    && indices=$(nvidia-smi --query-gpu=index --format=csv,noheader 2>/dev/null); then
  while IFS= read -r index; do
    index=${index//[[:space:]]/}
    # Only plain indices: nvidia-smi prints warnings on stdout on some driver versions.
    if [[ $index =~ ^[0-9]+$ ]]; then
      addresses+="${addresses:+,}\"$index\""
    fi
  done <<< "$indices"
fi
printf '{"name":"gpu","addresses":[%s]}\n' "$addresses"
