# Embers — developer entry points. Every target installs what it needs first (scripts/install-deps.sh
# is idempotent and fast when nothing is missing).
#   make run    install deps, build, start `embers` (all components, filesystem bucket under ./data)
#   make test   install deps (incl. test tools), build with warnings as errors, run every test (ctest),
#               then every libFuzzer target briefly (scripts/fuzz.sh, clang-14, own dir build-fuzz)
#   make fuzz   the libFuzzer targets for FUZZ_SECONDS (300) each
#   make chaos  build and run the cluster chaos test (e2e.chaos) for CHAOS_SECONDS (600) of chaos
#   make bench  build and run the benchmarks (numbers go in docs/performance.md, never in tests)
#   make fmt    clang-format the sources;  make lint  check formatting without changing anything

BUILD_DIR ?= build
BUILD_TYPE ?= RelWithDebInfo
JOBS ?= $(shell nproc)
CMAKE_FLAGS ?=
EMBERS_FLAGS ?=
FUZZ_SECONDS ?= 300
FUZZ_QUICK_SECONDS ?= 10
FUZZ_QUICK_SKIP ?=
CHAOS_SECONDS ?= 600
SOURCES = $(shell git ls-files 'src/*.cc' 'src/*.h' 'src/*.cpp' 'bench/*.cc' 'bench/*.cpp' 2>/dev/null)

.PHONY: all deps test-deps configure build run test fuzz chaos bench fmt lint clean

all: build

deps:
	@scripts/install-deps.sh

test-deps:
	@scripts/install-deps.sh --test

configure:
	@cmake -S . -B $(BUILD_DIR) -G Ninja -DCMAKE_BUILD_TYPE=$(BUILD_TYPE) -DEMBERS_WERROR=ON $(CMAKE_FLAGS) >/dev/null

build: deps configure
	@cmake --build $(BUILD_DIR) -j $(JOBS)

run: build
	$(BUILD_DIR)/src/cmd/embers/embers $(EMBERS_FLAGS)

test: test-deps configure
	@cmake --build $(BUILD_DIR) -j $(JOBS)
	@cd $(BUILD_DIR) && ctest --output-on-failure -j $(JOBS) --timeout 600
	@FUZZ_JOBS=$(JOBS) FUZZ_SKIP="$(FUZZ_QUICK_SKIP)" scripts/fuzz.sh $(FUZZ_QUICK_SECONDS)

fuzz: deps
	@FUZZ_JOBS=$(JOBS) scripts/fuzz.sh $(FUZZ_SECONDS)

chaos: test-deps configure
	@cmake --build $(BUILD_DIR) -j $(JOBS)
	@cd $(BUILD_DIR) && EMBERS_CHAOS_SECONDS=$(CHAOS_SECONDS) ctest --output-on-failure -R '^e2e\.chaos$$'

bench: test-deps build
	@scripts/bench.sh $(BUILD_DIR)

fmt:
	@clang-format -i $(SOURCES)

lint:
	@clang-format --dry-run -Werror $(SOURCES)

clean:
	rm -rf $(BUILD_DIR) build-fuzz
