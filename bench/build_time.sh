#!/usr/bin/env bash
# How long a clean build takes, step by step, the way `make build`, `make test` and CI run them:
#   1. the binary alone (RelWithDebInfo, tests off)              = make build, after its deps
#   2. the Release binary and man page, -Werror; their tests     = make test-release
#   3. every test with AddressSanitizer and UBSan (Debug)        = make test-asan, build then ctest
#   4. every test on the optimised build (CI only; OPTIMISED=0 skips it) = make test-optimised
# `make test` is steps 2 and 3. Each build starts from an empty directory; the Debian packages
# must already be installed (`make deps-test`). Prints wall and CPU time (user + sys, of every
# process of the step) per step and the ten slowest translation units of the sanitizer build.
#
#   bash bench/build_time.sh                         # this checkout, into a temporary directory
#   OUT=/tmp/bt CMAKE_FLAGS=-DDYNOHERD_UNITY_BUILD=OFF bash bench/build_time.sh
set -euo pipefail

SRC=$(cd "$(dirname "$0")/.." && pwd)
OUT=${OUT:-$(mktemp -d /tmp/dynoherd-build-time.XXXXXX)}
JOBS=${JOBS:-$(nproc)}
read -r -a EXTRA <<<"${CMAKE_FLAGS:-}"
TEST_FLAGS=(-DDYNOHERD_BUILD_TESTS=ON -DDYNOHERD_WERROR=ON)
GENERATOR=()
command -v ninja >/dev/null && GENERATOR=(-G Ninja)

results=()
# step NAME COMMAND...: runs COMMAND, records its wall and CPU seconds.
step() {
  local name=$1
  shift
  local times
  times=$(mktemp)
  echo "== $name: $*" >&2
  /usr/bin/time -f "%e %U %S" -o "$times" "$@" >"$OUT/$name.log" 2>&1 ||
    { echo "$name failed; see $OUT/$name.log" >&2; exit 1; }
  read -r wall user sys <"$times"
  rm -f "$times"
  results+=("$(awk -v n="$name" -v w="$wall" -v u="$user" -v s="$sys" \
    'BEGIN { printf "| %s | %.0f s | %.0f s |", n, w, u + s }')")
}

configure() {  # configure DIR ARGS...
  local dir=$1
  shift
  rm -rf "$dir"
  cmake -S "$SRC" -B "$dir" "${GENERATOR[@]}" "$@" "${EXTRA[@]}" >/dev/null
}

mkdir -p "$OUT"
configure "$OUT/binary" -DCMAKE_BUILD_TYPE=RelWithDebInfo
step binary cmake --build "$OUT/binary" -j "$JOBS" --target dynoherd

configure "$OUT/release" -DCMAKE_BUILD_TYPE=Release "${TEST_FLAGS[@]}"  # as test-release
step release-build cmake --build "$OUT/release" -j "$JOBS" --target dynoherd dynoherd_man
step release-ctest bash -c "cd '$OUT/release' && ctest -L release --output-on-failure"

configure "$OUT/asan" -DCMAKE_BUILD_TYPE=Debug -DDYNOHERD_SANITIZE=ON "${TEST_FLAGS[@]}"
step asan-build cmake --build "$OUT/asan" -j "$JOBS"
step asan-ctest bash -c "cd '$OUT/asan' && ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
  UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 ctest -j $JOBS --output-on-failure"

if [[ "${OPTIMISED:-1}" != 0 ]]; then
  configure "$OUT/tests" -DCMAKE_BUILD_TYPE=RelWithDebInfo "${TEST_FLAGS[@]}" \
    "-DCMAKE_CXX_FLAGS_RELWITHDEBINFO=-O2 -g1 -DNDEBUG"  # as the Makefile's build-all
  step optimised-build cmake --build "$OUT/tests" -j "$JOBS"
  step optimised-ctest bash -c "cd '$OUT/tests' && ctest -j $JOBS --output-on-failure"
fi

echo
echo "$(nproc) cores, $(c++ --version | head -1), load $(cut -d' ' -f1-3 /proc/loadavg) at the end"
echo "| step | wall | CPU |"
echo "|---|---:|---:|"
printf '%s\n' "${results[@]}"
echo
echo "Slowest translation units of the sanitizer build (seconds, from .ninja_log):"
if [[ -f "$OUT/asan/.ninja_log" ]]; then
  awk 'NR > 1 && $4 ~ /\.o$/ { printf "%6.1f %s\n", ($2 - $1) / 1000, $4 }' "$OUT/asan/.ninja_log" |
    sort -rn | head -10
fi
