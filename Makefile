# The two commands a user needs are `make run` and `make test`; the rest are their parts.
BUILD       ?= build
ASAN_BUILD  ?= build-asan
CLANG_BUILD ?= build-clang
RELEASE_BUILD ?= build-release
PACKAGE_BUILD ?= build-package
JOBS        ?= $(shell nproc 2>/dev/null || echo 2)
CMAKE_FLAGS ?=
GENERATOR   := $(shell command -v ninja >/dev/null 2>&1 && echo "-G Ninja")
# What `make test` and CI add to every build of theirs: the test suite, and warnings as errors.
TEST_FLAGS  := -DDYNOHERD_BUILD_TESTS=ON -DDYNOHERD_WERROR=ON
# The suite's optimised build keeps line tables and function names (backtraces) but not the full
# debug info: -g1 compiles about 28% faster than -g (docs/benchmarks.md, build times).
TEST_OPTIMISED := '-DCMAKE_CXX_FLAGS_RELWITHDEBINFO=-O2 -g1 -DNDEBUG'

.PHONY: all deps deps-test deps-package build build-all test test-release test-asan test-optimised \
        build-clang package run fuzz \
        bench format clean

all: build

deps:
	@bash tools/install-deps.sh build

# The package set too: the test package_deb builds and installs the Debian package.
deps-test:
	@bash tools/install-deps.sh test package

deps-package:
	@bash tools/install-deps.sh package

$(BUILD)/CMakeCache.txt:
	cmake -S . -B $(BUILD) $(GENERATOR) -DCMAKE_BUILD_TYPE=RelWithDebInfo $(CMAKE_FLAGS)

# The binary only: build/dynoherd.
build: deps $(BUILD)/CMakeCache.txt
	cmake --build $(BUILD) -j $(JOBS) --target dynoherd

# The binary, the tests and their helpers, warnings as errors.
build-all: deps-test
	cmake -S . -B $(BUILD) $(GENERATOR) -DCMAKE_BUILD_TYPE=RelWithDebInfo $(TEST_FLAGS) \
	  $(TEST_OPTIMISED) $(CMAKE_FLAGS)
	cmake --build $(BUILD) -j $(JOBS)

# Every test once, under AddressSanitizer and UndefinedBehaviorSanitizer; and the shipped binary,
# optimised, warnings as errors, packaged, installed and run. The suite on the optimised build
# (test-optimised) runs in CI, after this: running it here too took most of the time of
# `make test` (docs/benchmarks.md, build times).
test: test-release test-asan

# The Release binary as `make package` builds it, warnings as errors (some GCC warnings appear only
# when it optimises), its man page, and the tests of what ships: the Debian package and the man
# page (label `release`; the other tests of this tree are not built).
test-release: deps-test
	cmake -S . -B $(RELEASE_BUILD) $(GENERATOR) -DCMAKE_BUILD_TYPE=Release $(TEST_FLAGS) $(CMAKE_FLAGS)
	cmake --build $(RELEASE_BUILD) -j $(JOBS) --target dynoherd dynoherd_man
	cd $(RELEASE_BUILD) && ctest --output-on-failure -L release

test-asan: deps-test
	cmake -S . -B $(ASAN_BUILD) $(GENERATOR) -DCMAKE_BUILD_TYPE=Debug -DDYNOHERD_SANITIZE=ON $(TEST_FLAGS) $(CMAKE_FLAGS)
	cmake --build $(ASAN_BUILD) -j $(JOBS)
	cd $(ASAN_BUILD) && ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
	  UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 ctest --output-on-failure -j $(JOBS)

# Every test on the optimised build (CI runs it after `make test`).
test-optimised: build-all
	cd $(BUILD) && ctest --output-on-failure -j $(JOBS)

# The binary compiled by Clang, warnings as errors (CI runs it after `make test`).
build-clang: deps-test
	cmake -S . -B $(CLANG_BUILD) $(GENERATOR) -DCMAKE_BUILD_TYPE=Release -DCMAKE_CXX_COMPILER=clang++-14 -DDYNOHERD_WERROR=ON $(CMAKE_FLAGS)
	cmake --build $(CLANG_BUILD) -j $(JOBS) --target dynoherd

# The Debian package, build/dynoherd_<version>_<arch>.deb (docs/install.md): a Release build of its
# own without tests, warnings not errors, then CPack (cmake/packaging.cmake).
package: deps-package
	cmake -S . -B $(PACKAGE_BUILD) $(GENERATOR) -DCMAKE_BUILD_TYPE=Release -DDYNOHERD_BUILD_TESTS=OFF \
	  -DDYNOHERD_BUILD_BENCH=OFF -DDYNOHERD_WERROR=OFF $(CMAKE_FLAGS)
	cmake --build $(PACKAGE_BUILD) -j $(JOBS)
	rm -rf $(PACKAGE_BUILD)/deb
	cd $(PACKAGE_BUILD) && cpack -G DEB -B deb
	mkdir -p $(BUILD)
	rm -f $(BUILD)/dynoherd_*.deb
	cp $(PACKAGE_BUILD)/deb/dynoherd_*.deb $(BUILD)/
	@ls -l $(BUILD)/dynoherd_*.deb

# The embedded demo: dynoherd on a simulated shop for about a minute, /metrics on
# 127.0.0.1:9790 meanwhile (a free port, logged, if that one is taken), then a summary.
run: build
	./$(BUILD)/dynoherd run -f examples/demo.yaml

fuzz:
	@bash tools/install-deps.sh fuzz
	@bash tools/fuzz.sh

bench: deps
	@bash tools/install-deps.sh bench
	cmake -S . -B $(BUILD) $(GENERATOR) -DCMAKE_BUILD_TYPE=RelWithDebInfo -DDYNOHERD_BUILD_BENCH=ON $(CMAKE_FLAGS)
	cmake --build $(BUILD) -j $(JOBS)
	@bash bench/run.sh

format:
	clang-format -i $$(git ls-files '*.h' '*.cc')

clean:
	rm -rf $(BUILD) $(ASAN_BUILD) $(CLANG_BUILD) $(PACKAGE_BUILD) $(RELEASE_BUILD)
