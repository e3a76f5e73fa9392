#!/usr/bin/env bash
# The GPU checks in one go, for a bare GPU machine whose Python, torch and system libraries
# differ from the development machine's (no LLVM headers, XGBoost, SQLite or GoogleTest there):
# builds only what the CUDA backend needs, runs every op case of the library on the GPU against
# the reference interpreter (tests/cuda/gpu_check.cpp), and writes one log.
#
#   bash scripts/gpu_check.sh [LOG]     # default: gpu_check.log
#
# Exit status: kiln-gpu-check's (0 all match, 1 a mismatch or error, 77 no GPU or NVRTC).
set -euo pipefail
cd "$(dirname "$0")/.."
LOG=${1:-gpu_check.log}
BUILD_DIR=${KILN_GPU_BUILD_DIR:-build-gpu}

{
  echo "[gpu_check] $(date -u +%FT%TZ) on $(hostname)"
  nvidia-smi --query-gpu=name,driver_version,compute_cap --format=csv,noheader 2>&1 || true
  cmake -S . -B "$BUILD_DIR" -G Ninja -DCMAKE_BUILD_TYPE=Release -DKILN_ENABLE_LLVM=OFF \
        -DKILN_BUILD_TESTS=OFF -DKILN_BUILD_BENCHMARKS=OFF -DKILN_BUILD_PLUGIN=OFF \
        -DKILN_ENABLE_SQLITE=OFF -DKILN_ENABLE_XGBOOST=OFF > /dev/null
  echo "[gpu_check] building kiln-gpu-check"
  ninja -C "$BUILD_DIR" -j "$(nproc)" kiln-gpu-check | tail -1
  echo "[gpu_check] every op case on the GPU"
  start=$(date +%s)
  status=0
  "$BUILD_DIR/tests/kiln-gpu-check" || status=$?
  echo "[gpu_check] $(( $(date +%s) - start )) s, exit status $status"
  exit "$status"
} 2>&1 | tee "$LOG"
