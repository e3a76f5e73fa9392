#!/usr/bin/env bash
# Kiln's one entry point on a fresh Debian/Ubuntu machine: installs what is missing (and only
# that), builds, then runs what was asked for.
#
#   bash scripts/dev.sh example   # set up, build, run the demo (ResNet-18 tuned while it runs)
#   bash scripts/dev.sh test      # set up, build, run the whole test suite (C++ and Python)
#   bash scripts/dev.sh bench     # set up, build, run the kernel and model benchmarks
#   bash scripts/dev.sh setup     # set up and build only
set -euo pipefail
cd "$(dirname "$0")/.."

APT_PACKAGES=(build-essential cmake ninja-build ccache python3 python3-pip
              llvm-19-dev libzstd-dev libxgboost-dev libsqlite3-dev nlohmann-json3-dev libhiredis-dev
              libgtest-dev libbenchmark-dev libcli11-dev)
# pip name=import name
PIP_PACKAGES=(torch=torch numpy=numpy pytest=pytest torchvision=torchvision
              scikit-build-core=scikit_build_core pybind11=pybind11 matplotlib=matplotlib
              expecttest=expecttest)
BUILD_DIR=${KILN_BUILD_DIR:-build}
# Paths relative to the checkout, so that every clone shares the compiler cache.
export CCACHE_BASEDIR="$PWD"
PYTHON=${PYTHON:-python3}

log() { printf '\033[1m[kiln]\033[0m %s\n' "$*"; }

install_apt_packages() {
  local missing=()
  for p in "${APT_PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  [ ${#missing[@]} -eq 0 ] && return
  log "installing Debian packages: ${missing[*]}"
  local sudo=""
  [ "$(id -u)" -ne 0 ] && sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}" >/dev/null
}

install_pip_packages() {
  local missing=()
  for entry in "${PIP_PACKAGES[@]}"; do
    "$PYTHON" -c "import ${entry#*=}" 2>/dev/null || missing+=("${entry%%=*}")
  done
  [ ${#missing[@]} -eq 0 ] && return
  log "installing Python packages: ${missing[*]}"
  PIP_ROOT_USER_ACTION=ignore "$PYTHON" -m pip install -q "${missing[@]}"
}

build() {
  log "building in $BUILD_DIR"
  cmake -S . -B "$BUILD_DIR" -G Ninja -DCMAKE_BUILD_TYPE=Release >/dev/null
  # Two cores and heavy LLVM headers: two jobs, never more.
  ninja -C "$BUILD_DIR" -j "${KILN_JOBS:-2}"
}

# The Python package (the torch.compile backend): built by pip through scikit-build-core into
# build-py/, incrementally, with the same compiler cache.
install_plugin() {
  log "installing the Python package kiln (pip, no build isolation)"
  PIP_ROOT_USER_ACTION=ignore "$PYTHON" -m pip install -q --no-build-isolation .
}

setup() {
  install_apt_packages
  install_pip_packages
  build
  install_plugin
}

case "${1:-}" in
  setup) setup ;;
  example) setup && "$PYTHON" examples/tuning_demo.py ;;
  test)
    setup
    ctest --test-dir "$BUILD_DIR" --output-on-failure -j "${KILN_JOBS:-2}"
    "$PYTHON" -m pytest -q tests/python tests/plugin
    ;;
  bench)
    setup
    "$BUILD_DIR/benchmarks/kernel_benchmark"
    "$PYTHON" benchmarks/model_benchmark.py
    ;;
  *) echo "usage: bash scripts/dev.sh {example|test|bench|setup}" >&2; exit 2 ;;
esac
