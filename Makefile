# CoopEdge: the two commands in the README are `make demo` and `make test`.
SHELL := /bin/bash
export PATH := $(PATH):/opt/swift/usr/bin
SWIFT ?= swift
JOBS ?= $(shell nproc)

.PHONY: deps build demo test bench bench-footprint sweep release deb clean

deps:
	@scripts/install-deps.sh

build: deps
	$(SWIFT) build -j $(JOBS)

## Simulated sensors + a local Mosquitto + the agent on Firmware-Configs/sites/demo.yaml; Ctrl-C stops all.
demo: build
	@scripts/demo.sh

## The whole test suite: unit tests, and end-to-end tests with a real mosquitto, our simulator,
## a pymodbus server and the real binaries. The release binaries are built first: PackageTests
## packages them (`make deb`), and building them here keeps a long release build from running beside
## the timing-sensitive tests.
test: deps
	@$(MAKE) -s release
	$(SWIFT) build -j $(JOBS) --build-tests
	$(SWIFT) test -j $(JOBS) --skip-build

## Benchmarks in a release build; prints numbers.
bench: deps
	$(SWIFT) build -j $(JOBS) -c release
	.build/release/coop-edge-bench

## Issue 9's numbers: the release agent against a pymodbus server and a local mosquitto at
## 10 devices × 10 registers every 100 ms and at 100 channels every 1 s (Benchmarks/footprint.py;
## `--backlog 24` times a day's backlog drain, `--load wide` is 1,000 channels, `--soak 60` watches RSS).
bench-footprint: deps
	@$(MAKE) -s release
	$(SWIFT) build -j $(JOBS) -c release --product coop-edge-bench
	Benchmarks/footprint.py
	Benchmarks/footprint.py --backlog 24

## Issue 8's proof on rooms nobody tuned on: generated channel-weeks of every kind, scored per physics
## band (release build). Override with `make sweep SWEEP_ARGS="--rooms 300 --seed 11,12"`.
SWEEP_ARGS ?= --rooms 150 --seed 101,202
sweep: deps
	$(SWIFT) build -j $(JOBS) -c release --product coop-edge-bench
	.build/release/coop-edge-bench sweep $(SWEEP_ARGS)

## coop-edge and coop-edge-sim for a board: release build with the Swift runtime linked in, full
## RELRO, stripped, in .build-release/dist, with what each still needs (ldd) printed. The build id
## (scripts/build-id.sh) is linked in, so `coop-edge --version` names the commit. .build-release is
## its own scratch directory: the package test runs `make deb` while `swift test` holds .build's lock.
## Cross builds (README, "Boards"; not tried here): SWIFT_SDK=<swift sdk> DEB_ARCH=arm64|armhf
## BUILD_ID_CC="clang --target=<triple>" STRIP=llvm-strip.
RELEASE_BUILD := .build-release
DEB_ARCH ?= $(shell dpkg --print-architecture)
SWIFT_SDK ?=
BUILD_ID_CC ?= cc
STRIP ?= strip
release: deps
	@SWIFT="$(SWIFT)" JOBS="$(JOBS)" SWIFT_SDK="$(SWIFT_SDK)" BUILD_ID_CC="$(BUILD_ID_CC)" STRIP="$(STRIP)" \
	  DEB_ARCH="$(DEB_ARCH)" scripts/release.sh $(RELEASE_BUILD)

## The Debian package (dpkg-deb, no debhelper) from `make release`'s binaries; prints its path,
## .build-release/coop-edge_VERSION-1_ARCH.deb. lintian checks it when installed (errors fail).
## DEB_COMPRESS=gzip LINTIAN= (the package test's choice) is faster and skips lintian.
DEB_COMPRESS ?= xz
LINTIAN ?= lintian
deb: release
	@DEB_ARCH="$(DEB_ARCH)" DEB_COMPRESS="$(DEB_COMPRESS)" LINTIAN="$(LINTIAN)" \
	  scripts/make-deb.sh $(RELEASE_BUILD)/dist $(RELEASE_BUILD)

clean:
	rm -rf .build $(RELEASE_BUILD) demo-state
