# CoopEdge: the two commands in the README are `make demo` and `make test`.
SHELL := /bin/bash
export PATH := $(PATH):/opt/swift/usr/bin
SWIFT ?= swift
JOBS ?= $(shell nproc)

.PHONY: deps build demo test bench sweep clean

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

## Issue 8's proof on rooms nobody tuned on: generated channel-weeks of every kind, scored per physics
## band (release build). Override with `make sweep SWEEP_ARGS="--rooms 300 --seed 11,12"`.
SWEEP_ARGS ?= --rooms 150 --seed 101,202
sweep: deps
	$(SWIFT) build -j $(JOBS) -c release --product coop-edge-bench
	.build/release/coop-edge-bench sweep $(SWEEP_ARGS)

clean:
	rm -rf .build demo-state
