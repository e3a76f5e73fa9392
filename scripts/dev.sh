#!/usr/bin/env bash
# Kiln's one entry point on a fresh Debian/Ubuntu machine: installs what is missing (and only
# that), builds, then runs what was asked for.
#
#   bash scripts/dev.sh example   # set up, build, run the demo (a GPT-2 block tuned while it runs)
#   bash scripts/dev.sh test      # set up, build, run the whole test suite (C++ and Python)
#   bash scripts/dev.sh bench     # set up, build, run the kernel and model benchmarks
#   bash scripts/dev.sh setup     # set up and build only
#   bash scripts/dev.sh format    # rewrite the tree in the checked format (clang-format, ruff)
#   bash scripts/dev.sh sanitize [TEST...]  # C++ test programs under AddressSanitizer + UBSan
#                                 # (build-asan/; default all; `test` ends with a fast subset)
set -euo pipefail
cd "$(dirname "$0")/.."

APT_PACKAGES=(build-essential cmake ninja-build ccache python3 python3-pip clang-format-19
              llvm-19-dev libzstd-dev libsleef3 libxgboost-dev libsqlite3-dev nlohmann-json3-dev libssl-dev redis-server
              libgtest-dev libbenchmark-dev libcli11-dev)
# pip name=import name
PIP_PACKAGES=(torch=torch numpy=numpy pytest=pytest torchvision=torchvision
              scikit-build-core=scikit_build_core pybind11=pybind11 matplotlib=matplotlib
              expecttest=expecttest)
# The formatter's version is pinned: another version formats differently.
RUFF_VERSION=0.17.6
BUILD_DIR=${KILN_BUILD_DIR:-build}
# Paths relative to the checkout, so that every clone shares the compiler cache.
export CCACHE_BASEDIR="$PWD"
PYTHON=${PYTHON:-python3}

# Each line carries the time, so a CI log shows what each gate took.
log() { printf '\033[1m[kiln %s]\033[0m %s\n' "$(date +%T)" "$*"; }

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

install_ruff() {
  [ "$("$PYTHON" -m ruff --version 2>/dev/null)" = "ruff $RUFF_VERSION" ] && return
  log "installing ruff $RUFF_VERSION"
  PIP_ROOT_USER_ACTION=ignore "$PYTHON" -m pip install -q "ruff==$RUFF_VERSION"
}

# The tree's format and lint, as CI checks them (about 5 s). `format` rewrites what differs.
check_format() {
  log "checking the format: clang-format-19, ruff format, ruff check"
  git ls-files -z '*.h' '*.cpp' | xargs -0 clang-format-19 --dry-run -Werror
  "$PYTHON" -m ruff format --check --quiet .
  "$PYTHON" -m ruff check --quiet .
}

format() {
  git ls-files -z '*.h' '*.cpp' | xargs -0 clang-format-19 -i
  "$PYTHON" -m ruff format --quiet .
  "$PYTHON" -m ruff check --fix --quiet .
}

build() {
  log "building in $BUILD_DIR"
  # Warnings are errors here and in install_plugin (KILN_WERROR); a plain `pip install .`
  # builds without.
  cmake -S . -B "$BUILD_DIR" -G Ninja -DCMAKE_BUILD_TYPE=Release -DKILN_WERROR=ON >/dev/null
  # Two cores and heavy LLVM headers: two jobs, never more.
  ninja -C "$BUILD_DIR" -j "${KILN_JOBS:-2}"
}

# The C++ test programs (not the torch plugin: libtorch is not built with sanitizers) under
# AddressSanitizer and UndefinedBehaviorSanitizer, in their own build folder. Any report fails.
SANITIZED_TESTS=(test_ir test_runtime test_schedule test_ops test_tune test_tuning_cache test_cuda
                 test_llvm test_jit test_graph test_service test_fleet)
# What `test` runs sanitized: no LLVM, no XGBoost, so it builds in a few minutes (the thread pool,
# the IR's ownership, lowering and the interpreter are where memory errors would hide).
SANITIZED_FAST_TESTS=(test_ir test_runtime test_schedule)
# sanitize [TEST...]: the given test programs (default: all of SANITIZED_TESTS).
sanitize() {
  local tests=("$@")
  [ ${#tests[@]} -eq 0 ] && tests=("${SANITIZED_TESTS[@]}")
  local dir=${KILN_ASAN_BUILD_DIR:-build-asan}
  # Debug info names paths relative to the checkout: else ccache hashes the build folder's
  # absolute path into every debug build, and no other clone (CI's) hits the cache.
  local flags="-fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer"
  flags+=" -fdebug-prefix-map=$PWD=."
  log "building the C++ tests with AddressSanitizer + UBSan in $dir"
  # Warnings are the regular build's gate: instrumented code draws false maybe-uninitialized
  # alarms from GCC (std::function inside std::regex).
  cmake -S . -B "$dir" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DKILN_WERROR=OFF \
        -DCMAKE_CXX_FLAGS="$flags" -DCMAKE_C_FLAGS="$flags" \
        -DCMAKE_EXE_LINKER_FLAGS="-fsanitize=address,undefined" >/dev/null
  # (test_jit depends on kiln-measure-worker, so it is built with it.)
  ninja -C "$dir" -j "${KILN_JOBS:-2}" "${tests[@]}"
  # Full stacks at every allocation (LLVM has no frame pointers), so that a leak report names
  # its origin and the suppressions (each with its reason) match only what they mean to.
  # The measurement tests crash candidate kernels on purpose and expect the signal: ASan leaves
  # SIGSEGV and SIGBUS to the process (Kiln's own code is still checked by its instrumentation).
  export ASAN_OPTIONS=detect_leaks=1:fast_unwind_on_malloc=0:malloc_context_size=40:handle_segv=0:handle_sigbus=0
  export LSAN_OPTIONS="suppressions=$PWD/scripts/lsan_suppressions.txt:print_suppressions=0"
  export UBSAN_OPTIONS=print_stacktrace=1
  for t in "${tests[@]}"; do
    log "$t (sanitized)"
    (cd "$dir/tests" && "./$t" --gtest_brief=1)
  done
}

# The Python package (the torch.compile backend): built by pip through scikit-build-core into
# build-py/, incrementally, with the same compiler cache.
install_plugin() {
  log "installing the Python package kiln (pip, no build isolation)"
  PIP_ROOT_USER_ACTION=ignore "$PYTHON" -m pip install -q --no-build-isolation \
    --config-settings=cmake.define.KILN_WERROR=ON .
}

setup() {
  install_apt_packages
  install_pip_packages
  install_ruff
  build
  install_plugin
}

# Steps are separate commands, never `a && b`: bash runs the functions of an && list with errexit
# off, so a failed build or test inside them would go unnoticed.
case "${1:-}" in
  setup) setup ;;
  example)
    setup
    "$PYTHON" examples/tuning_demo.py
    ;;
  format)
    install_apt_packages
    install_ruff
    format
    ;;
  sanitize)
    shift
    install_apt_packages
    sanitize "$@"
    ;;
  test)
    install_apt_packages
    install_ruff
    check_format
    setup
    log "the C++ tests"
    ctest --test-dir "$BUILD_DIR" --output-on-failure -j "${KILN_JOBS:-2}"
    log "the Python tests"
    "$PYTHON" -m pytest -q tests/python tests/plugin
    sanitize "${SANITIZED_FAST_TESTS[@]}"
    log "all tests passed"
    ;;
  bench)
    setup
    "$BUILD_DIR/benchmarks/kernel_benchmark"
    "$PYTHON" benchmarks/model_benchmark.py
    ;;
  *) echo "usage: bash scripts/dev.sh {example|test|bench|setup|format|sanitize}" >&2; exit 2 ;;
esac
