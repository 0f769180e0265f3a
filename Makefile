# Every target is idempotent. Node 24 from .tools/ comes first on PATH so npm and every tool run on it.
SHELL := /bin/bash
export PATH := $(CURDIR)/.tools/node_modules/.bin:$(CURDIR)/node_modules/.bin:$(PATH)

.PHONY: all bootstrap k8s-binaries native typecheck clippy lint test-rust test-js test up bench pack clean

all: native

bootstrap:
	@scripts/bootstrap.sh

k8s-binaries: bootstrap
	@scripts/build-k8s-binaries.sh

native: bootstrap
	@npm run --silent build:native

typecheck: bootstrap
	@tsc --noEmit

clippy: bootstrap
	@cargo clippy --quiet --workspace --all-targets -- -D warnings

lint: clippy typecheck

test-rust: bootstrap
	cargo test --workspace --release

# The addon was just built, so every native-vs-TS suite must run (never skip) here.
test-js: native k8s-binaries
	@OVNKIT_REQUIRE_NATIVE=1 npx vitest run

# The one command that runs every test (CI runs exactly this through .ci/run).
test: bootstrap k8s-binaries native typecheck clippy test-rust test-js

# The main job: the embedded local control plane in the foreground (Ctrl-C stops it).
up: native k8s-binaries
	@node src/cli/main.ts up

# Benchmarks print their tables side by side; `make bench BENCH="ipam ovsdb-encode"` picks some.
bench: native k8s-binaries
	@node bench/run.ts $(BENCH)

# npm tarballs (root package + the linux-x64-gnu platform package) into $(OUT).
OUT ?= $(CURDIR)/target/pack
pack: native
	@scripts/pack.sh --reuse-native $(OUT)

clean:
	rm -rf target dist native/*.node native/index.js native/index.d.ts
