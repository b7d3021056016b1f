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

# Each target compiles only the code it exercises (and links what that code needs).
COMMON=(common/time.cc common/status.cc common/logging.cc common/env.cc)
LATENCY=(latency/byte_classes.cc latency/dyno_names.cc latency/router_line.cc latency/logplex.cc
         latency/ingest.cc latency/histogram.cc latency/latency_window.cc)
SPEC=(spec/policy.cc spec/fields.cc spec/env.cc spec/suggest.cc spec/loader.cc spec/schema.cc
      spec/redis_url.cc)
MODEL=(model/observation.cc model/status.cc model/codec.cc model/status_validation.cc model/report.cc)
sources_of() {
  case "$1" in
    router_line|logplex) echo "${LATENCY[*]} ${MODEL[*]} ${SPEC[*]} ${COMMON[*]}" ;;
    spec_loader) echo "${SPEC[*]} ${COMMON[*]}" ;;
    status_codec) echo "${MODEL[*]} ${SPEC[*]} ${COMMON[*]}" ;;
    heroku_json) echo "providers/heroku/heroku_json.cc ${MODEL[*]} ${SPEC[*]} ${COMMON[*]}" ;;
    drain_request) echo "providers/sources/drain.cc providers/sources/http_fields.cc" \
                        "providers/sources/router_log_common.cc ${LATENCY[*]} ${MODEL[*]}" \
                        "${SPEC[*]} ${COMMON[*]}" ;;
    *) echo "fuzz: unknown target $1" >&2; return 1 ;;
  esac
}
libs_of() {
  case "$1" in
    *) echo "-lyaml-cpp" ;;
  esac
}
FLAGS=(-std=c++20 -O1 -g -fno-omit-frame-pointer -fsanitize=fuzzer,address,undefined
       -fno-sanitize-recover=undefined -I. -DDYNOHERD_VERSION=\"fuzz\")
# FUZZ_RUNS=N stops a target after N executions (whichever of it and FUZZ_SECONDS comes first).
FUZZ_RUNS=${FUZZ_RUNS:--1}
ALL_TARGETS=(router_line logplex spec_loader status_codec heroku_json drain_request)
targets=("$@")
[ ${#targets[@]} -eq 0 ] && targets=("${ALL_TARGETS[@]}")

# Each source is compiled once into $OUT/obj (again only when it changed), then linked per target.
object_of() {
  local object="$OUT/obj/${1%.cc}.o"
  if [ ! -f "$object" ] || [ "$1" -nt "$object" ]; then
    mkdir -p "$(dirname "$object")"
    "$CXX" "${FLAGS[@]}" -c "$1" -o "$object"
  fi
  echo "$object"
}

mkdir -p "$OUT"
status=0
for target in "${targets[@]}"; do
  echo "fuzz: building $target with $CXX"
  objects=()
  for source in $(sources_of "$target") "tests/fuzz/${target}_fuzz.cc"; do
    objects+=("$(object_of "$source")")
  done
  # shellcheck disable=SC2046 # a word list on purpose
  "$CXX" "${FLAGS[@]}" "${objects[@]}" -o "$OUT/${target}_fuzz" $(libs_of "$target")
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
