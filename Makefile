# CoopEdge: the two commands in the README are `make demo` and `make test`.
SHELL := /bin/bash
export PATH := $(PATH):/opt/swift/usr/bin
SWIFT ?= swift
JOBS ?= $(shell nproc)

.PHONY: deps build demo test bench clean

deps:
	@scripts/install-deps.sh

build: deps
	$(SWIFT) build -j $(JOBS)

## Simulated sensors + a local Mosquitto + the agent on Firmware-Configs/sites/demo.yaml; Ctrl-C stops all.
demo: build
	@scripts/demo.sh

## The whole test suite: unit tests, and end-to-end tests with a real mosquitto, our simulator,
## a pymodbus server and the real binaries.
test: deps
	$(SWIFT) build -j $(JOBS) --build-tests
	$(SWIFT) test -j $(JOBS) --skip-build

## Benchmarks in a release build; prints numbers.
bench: deps
	$(SWIFT) build -j $(JOBS) -c release
	.build/release/coop-edge-bench

clean:
	rm -rf .build demo-state
