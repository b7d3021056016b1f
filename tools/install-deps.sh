#!/usr/bin/env bash
# Installs the Debian packages a make target needs, and only those missing.
#
#   bash tools/install-deps.sh            build: compile and run dynoherd (make build, make run)
#   bash tools/install-deps.sh test       build + the test suite and its real peers (make test)
#   bash tools/install-deps.sh bench      build + the benchmark tools (make bench)
#   bash tools/install-deps.sh fuzz       build + clang's libFuzzer (make fuzz)
#   bash tools/install-deps.sh package    build + the Debian packaging tools (make package)
#
# Several sets may be named at once. Needs root (or sudo) and a reachable Debian mirror when
# something is missing; runs `apt-get update` first then.
set -euo pipefail

build=(
  cmake ninja-build g++ make pkg-config git
  libyaml-cpp-dev libcurl4-openssl-dev nlohmann-json3-dev prometheus-cpp-dev
  libcli11-dev libcpp-httplib-dev libfmt-dev
  libhiredis-dev libssl-dev  # the Redis connection: hiredis for the protocol, OpenSSL for rediss://
  ca-certificates
)
test=(
  doctest-dev
  clang-14     # CI also compiles the binary with Clang
  prometheus   # promtool for the metrics and alert-rule tests, prometheus for the live scrape test
  python3      # the end-to-end harness helpers and the benchmark's baseline parser
  redis-server openssl  # the Redis tests run redis-server, plain and TLS with certificates made by openssl
  faketime     # libfaketime: a replica's wall clock moved by an hour in e2e_lease_test
  python3-jsonschema python3-yaml  # tests check `dynoherd schema` with an independent 2020-12 validator
  curl
  chromium zlib1g-dev  # browser tests: pages in headless Chromium, its PNG screenshots decoded
)
bench=(hyperfine python3)           # the whole-process timings in docs/benchmarks.md
fuzz=(clang-14 libclang-rt-14-dev)  # libFuzzer targets built with ASan and UBSan
package=(dpkg-dev file)             # CPack's DEB generator: dpkg-shlibdeps for Depends:

sets=("$@")
[ ${#sets[@]} -eq 0 ] && sets=(build)
packages=("${build[@]}")
for set in "${sets[@]}"; do
  case "$set" in
    build) ;;
    test) packages+=("${test[@]}") ;;
    bench) packages+=("${bench[@]}") ;;
    fuzz) packages+=("${fuzz[@]}") ;;
    package) packages+=("${package[@]}") ;;
    *) echo "deps: unknown set \"$set\" (build, test, bench, fuzz, package)" >&2; exit 1 ;;
  esac
done

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    case " ${missing[*]-} " in *" $p "*) ;; *) missing+=("$p") ;; esac
  fi
done

if [ ${#missing[@]} -eq 0 ]; then
  echo "deps: every package for ${sets[*]} is present"
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
