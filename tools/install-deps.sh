#!/usr/bin/env bash
# Installs the Debian packages dynoherd needs to build, test and run its demo, and only those missing.
# Used by `make deps`. Needs root (or sudo) and a reachable Debian mirror when something is missing.
set -euo pipefail

packages=(
  cmake ninja-build g++ make pkg-config git
  libyaml-cpp-dev libcurl4-openssl-dev nlohmann-json3-dev prometheus-cpp-dev
  doctest-dev libcli11-dev libcpp-httplib-dev libfmt-dev
  prometheus   # promtool for the metrics and alert-rule tests, prometheus for the live scrape test
  python3      # the end-to-end harness helpers and the benchmark's baseline parser
  python3-jsonschema python3-yaml  # tests check `dynoherd schema` with an independent 2020-12 validator
  curl ca-certificates
  clang-14 libclang-rt-14-dev  # make fuzz: libFuzzer targets built with ASan and UBSan
  hyperfine                    # make bench: the whole-process timings in docs/benchmarks.md
  chromium zlib1g-dev          # browser tests: pages in headless Chromium, its PNG screenshots
)

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

if [ ${#missing[@]} -eq 0 ]; then
  echo "deps: all ${#packages[@]} Debian packages present"
  exit 0
fi

echo "deps: installing ${missing[*]}"
sudo=""
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1; then
    sudo="sudo"
  else
    echo "deps: missing packages (${missing[*]}) and not root; install them or run 'make deps' as root" >&2
    exit 1
  fi
fi
export DEBIAN_FRONTEND=noninteractive
if ! $sudo apt-get update -qq; then
  echo "deps: apt-get update failed; is a Debian mirror reachable? missing: ${missing[*]}" >&2
  exit 1
fi
if ! $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"; then
  echo "deps: apt-get install failed for: ${missing[*]}" >&2
  exit 1
fi
echo "deps: installed ${missing[*]}"
