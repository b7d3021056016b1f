#!/usr/bin/env bash
# Builds the libFuzzer targets with clang (-fsanitize=fuzzer,address,undefined) and runs each for
# a bounded time, starting from the seed corpus in tests/fuzz/corpus/. Used by `make fuzz`.
#
#   FUZZ_SECONDS=60 bash tools/fuzz.sh            (default 60 s per target)
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

# The targets need only the pure parsing code and the time helpers it uses.
SOURCES=(latency/byte_classes.cc latency/dyno_names.cc latency/router_line.cc latency/logplex.cc
         latency/ingest.cc common/time.cc common/status.cc)
FLAGS=(-std=c++20 -O1 -g -fno-omit-frame-pointer -fsanitize=fuzzer,address,undefined
       -fno-sanitize-recover=undefined -I. -DDYNOHERD_VERSION=\"fuzz\")
targets=("$@")
[ ${#targets[@]} -eq 0 ] && targets=(router_line logplex)

mkdir -p "$OUT"
status=0
for target in "${targets[@]}"; do
  echo "fuzz: building $target with $CXX"
  "$CXX" "${FLAGS[@]}" "${SOURCES[@]}" "tests/fuzz/${target}_fuzz.cc" -o "$OUT/${target}_fuzz"
  corpus="$OUT/corpus-$target"
  mkdir -p "$corpus"
  cp -n tests/fuzz/corpus/"$target"/* "$corpus"/ 2>/dev/null || true
  echo "fuzz: running $target for ${FUZZ_SECONDS}s"
  log="$OUT/$target.log"
  if (cd "$OUT" && ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 \
        "./${target}_fuzz" -max_total_time="$FUZZ_SECONDS" -max_len=4096 -timeout=10 \
        -print_final_stats=1 "corpus-$target") >"$log" 2>&1; then
    runs=$(grep -m1 '^stat::number_of_executed_units' "$log" | awk '{print $2}')
    echo "fuzz: $target: ${runs:-?} executions, no crash (log: $log)"
  else
    echo "fuzz: $target FAILED; see $log" >&2
    grep -E "ERROR|SUMMARY|Test unit written" "$log" >&2 || tail -20 "$log" >&2
    status=1
  fi
done
exit $status
