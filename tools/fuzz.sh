#!/usr/bin/env bash
# Builds the libFuzzer targets with clang (-fsanitize=fuzzer,address,undefined) and runs each for
# a bounded time, starting from the seed corpus in tests/fuzz/corpus/. Used by `make fuzz`.
#
#   FUZZ_SECONDS=60 bash tools/fuzz.sh            (default 60 s per target)
#   FUZZ_SECONDS=1800 FUZZ_RUNS=10000000 bash tools/fuzz.sh spec_loader   (the figures of docs/benchmarks.md)
#   bash tools/fuzz.sh router_line                (one target)
# A crash leaves its input in build-fuzz/; replay it with build/tests/fuzz/<target>_fuzz_seeds FILE.
set -euo pipefail

cd "$(dirname "$0")/.."
FUZZ_SECONDS=${FUZZ_SECONDS:-60}
OUT=${FUZZ_BUILD:-build-fuzz}
CXX=${FUZZ_CXX:-}
if [ -z "$CXX" ]; then
  for candidate in clang++-14 clang++; do
    if command -v "$candidate" >/dev/null; then CXX=$candidate; break; fi
  done
fi
if [ -z "$CXX" ]; then
  echo "fuzz: clang++ is required (Debian: clang-14 libclang-rt-14-dev)" >&2
  exit 1
fi

# The targets are CMake targets (tests/fuzz/CMakeLists.txt) linking the project's libraries, all
# compiled with coverage instrumentation, ASan and UBSan.
generator=()
command -v ninja >/dev/null && generator=(-G Ninja)
# shellcheck disable=SC2086 # CMAKE_FLAGS is a word list on purpose
cmake -S . -B "$OUT" "${generator[@]}" \
  -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_CXX_COMPILER="$CXX" -DDYNOHERD_FUZZ=ON \
  -DDYNOHERD_SANITIZE=ON -DDYNOHERD_BUILD_TESTS=ON ${CMAKE_FLAGS:-} >/dev/null

# FUZZ_RUNS=N stops a target after N executions (whichever of it and FUZZ_SECONDS comes first).
FUZZ_RUNS=${FUZZ_RUNS:--1}
ALL_TARGETS=(router_line logplex spec_loader status_codec heroku_json drain_request)
targets=("$@")
[ ${#targets[@]} -eq 0 ] && targets=("${ALL_TARGETS[@]}")

status=0
for target in "${targets[@]}"; do
  echo "fuzz: building $target with $CXX"
  cmake --build "$OUT" -j "${JOBS:-$(nproc)}" --target "${target}_fuzz"
  ln -sf "tests/fuzz/${target}_fuzz" "$OUT/${target}_fuzz"
  corpus="$OUT/corpus-$target"
  mkdir -p "$corpus"
  cp -n tests/fuzz/corpus/"$target"/* "$corpus"/ 2>/dev/null || true
  echo "fuzz: running $target for ${FUZZ_SECONDS}s"
  log="$OUT/$target.log"
  if (cd "$OUT" && ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 \
        "./${target}_fuzz" -max_total_time="$FUZZ_SECONDS" -runs="$FUZZ_RUNS" -max_len=4096 -timeout=10 \
        -print_final_stats=1 "corpus-$target") >"$log" 2>&1; then
    runs=$(grep -m1 '^stat::number_of_executed_units' "$log" | awk '{print $2}')
    seconds=$(grep -m1 '^Done ' "$log" | sed -E 's/.* in ([0-9]+) second.*/\1/')
    units=$(find "$corpus" -type f | wc -l)
    echo "fuzz: $target: ${runs:-?} executions in ${seconds:-?}s, corpus $units inputs, no crash (log: $log)"
  else
    echo "fuzz: $target FAILED; see $log" >&2
    grep -E "ERROR|SUMMARY|Test unit written" "$log" >&2 || tail -20 "$log" >&2
    status=1
  fi
done
exit $status
