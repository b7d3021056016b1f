#!/usr/bin/env bash
# Reproduces the table in docs/benchmarks.md: `dynoherd analyze` on 1,000,000 router lines
# (about 250 MB, in the page cache) against `wc -l` and the Python per-line regex baseline, all
# measured in the same run with hyperfine; then the peak memory for 10,000,000 lines on stdin.
#
#   bash bench/run.sh            (make bench builds first, then runs this)
#   BUILD=build LINES=1000000 RUNS=15 bash bench/run.sh
set -euo pipefail

cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
LINES=${LINES:-1000000}
BIG_LINES=${BIG_LINES:-10000000}
RUNS=${RUNS:-15}
PYTHON_RUNS=${PYTHON_RUNS:-3}
OUT=bench/out
DYNOHERD=$BUILD/dynoherd
GEN=$BUILD/bench/router_log_gen

for tool in hyperfine python3 /usr/bin/time; do
  command -v "$tool" >/dev/null || { echo "bench: $tool is required" >&2; exit 1; }
done
for binary in "$DYNOHERD" "$GEN" "$BUILD/bench/parse_bench"; do
  [ -x "$binary" ] || { echo "bench: $binary is missing; run 'make build' first" >&2; exit 1; }
done

mkdir -p "$OUT"
LOG=$OUT/router-$LINES.log
if [ ! -s "$LOG" ]; then
  echo "bench: generating $LINES router lines into $LOG"
  "$GEN" --lines "$LINES" --seed 42 > "$LOG"
fi
BYTES=$(stat -c %s "$LOG")
cat "$LOG" > /dev/null  # into the page cache
echo "bench: $LOG: $LINES lines, $BYTES bytes, $((BYTES / LINES)) bytes a line"
echo "bench: $(nproc) CPUs, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//'), load $(cut -d' ' -f1-3 /proc/loadavg)"

hyperfine -N --style basic --warmup 3 --runs "$RUNS" --export-json "$OUT/fast.json" \
  -n "wc -l" "wc -l $LOG" \
  -n "dynoherd analyze" "$DYNOHERD analyze $LOG" >/dev/null
hyperfine -N --style basic --warmup 1 --runs "$PYTHON_RUNS" --export-json "$OUT/python.json" \
  -n "python slayer-style regex" "python3 bench/slayer_baseline.py $LOG" >/dev/null

PARSE_ONLY=$("$BUILD/bench/parse_bench" "$LOG" 5)

echo "bench: peak memory of 'router_log_gen --lines $BIG_LINES | dynoherd analyze -'"
RSS_KB=$( { "$GEN" --lines "$BIG_LINES" --seed 7 \
  | /usr/bin/time -f "%M" "$DYNOHERD" analyze - >/dev/null; } 2>&1 | tail -1)

python3 - "$OUT/fast.json" "$OUT/python.json" "$LINES" "$RSS_KB" "$BIG_LINES" "$PARSE_ONLY" <<'PY'
import json, statistics, sys
fast, python, lines, rss_kb, big_lines, parse_only = sys.argv[1:]
lines, rss_kb = int(lines), int(rss_kb)
results = json.load(open(fast))["results"] + json.load(open(python))["results"]
by_name = {r["command"]: r for r in results}
def stats(r):
    return min(r["times"]), statistics.median(r["times"])
wc_min, wc_median = stats(by_name["wc -l"])
dh_min, dh_median = stats(by_name["dynoherd analyze"])
py_min, py_median = stats(by_name["python slayer-style regex"])
print()
print("| command | min | median | lines/s (median) | vs dynoherd (median) |")
print("|---|---:|---:|---:|---:|")
for name in ("wc -l", "dynoherd analyze", "python slayer-style regex"):
    lo, med = stats(by_name[name])
    print("| %s | %.1f ms | %.1f ms | %.2f M | %.2fx |" % (name, lo * 1e3, med * 1e3, lines / med / 1e6, med / dh_median))
print()
print("dynoherd analyze: %.2f M lines/s (median), %.2f M lines/s (min)" % (lines / dh_median / 1e6, lines / dh_min / 1e6))
print("time relative to wc -l: %.2fx (median), %.2fx (min)" % (dh_median / wc_median, dh_min / wc_min))
print("speed-up over the Python baseline: %.1fx (median)" % (py_median / dh_median))
print("parser alone (in memory): %s" % parse_only)
print("peak RSS for %d lines on stdin: %.1f MiB" % (int(big_lines), rss_kb / 1024))
PY
