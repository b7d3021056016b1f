#!/usr/bin/env python3
"""The baseline `dynoherd analyze` is measured against (bench/run.sh).

Parses router lines the way the original edX dyno slayer parsed its logs: one regular expression
per line, every timing kept in a list per dyno, statistics computed from the sorted lists at the
end. Prints one row per dyno: requests, mean, p50, p95, p99, max (ms) and router errors.

    python3 bench/slayer_baseline.py FILE|-
"""
import collections
import re
import sys

ROUTER_TAG = " heroku[router]: "
ROUTER_FIELDS = re.compile(
    r" dyno=(?P<dyno>\S*) connect=(?P<connect>\d*)(?:ms)? service=(?P<service>\d*)(?:ms)? "
    r"status=(?P<status>\d*)"
)
ERROR_CODE = re.compile(r" at=error code=(?P<code>\w+)")


def percentile(sorted_values, q):
    rank = max(1, int(-(-q * len(sorted_values) // 1)))
    return sorted_values[min(rank, len(sorted_values)) - 1]


def main(argv):
    path = argv[1] if len(argv) > 1 else "-"
    stream = sys.stdin if path == "-" else open(path, encoding="utf-8", errors="replace")
    timings = collections.defaultdict(list)
    errors = collections.Counter()
    lines = 0
    for line in stream:
        lines += 1
        if ROUTER_TAG not in line:
            continue
        match = ROUTER_FIELDS.search(line)
        if not match:
            continue
        dyno = match.group("dyno")
        if match.group("service"):
            timings[dyno].append(int(match.group("service")))
        if ERROR_CODE.search(line):
            errors[dyno] += 1
    print("read %d lines" % lines)
    for dyno in sorted(set(timings) | set(errors)):
        values = sorted(timings[dyno])
        if not values:
            print("%-10s %8d requests, %d errors" % (dyno, 0, errors[dyno]))
            continue
        print(
            "%-10s %8d requests  mean %7.1f  p50 %6d  p95 %6d  p99 %6d  max %6d  errors %d"
            % (dyno, len(values), sum(values) / len(values), percentile(values, 0.50),
               percentile(values, 0.95), percentile(values, 0.99), values[-1], errors[dyno])
        )
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
