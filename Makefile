# The two front doors: `make run` and `make test`. Each installs what it needs first
# (scripts/setup.sh is idempotent and fast when everything is there).
SHELL := /bin/bash
export PATH := $(HOME)/.cargo/bin:$(PATH)
# cargo-leptos writes the WASM bundle, JS and CSS here; the server serves them.
SITE := target/site

.PHONY: run test setup build test-rust test-e2e release clean-data

run: setup build
	@scripts/ensure-env.sh
	@scripts/run.sh

test: test-rust build test-e2e

setup:
	@scripts/setup.sh

build: setup
	cargo leptos build
	cargo build --features ssr --bin keyport-sandbox

test-rust:
	@scripts/setup.sh
	@if [ -z "$$TEST_DATABASE_URL" ]; then \
	  echo "*** TEST_DATABASE_URL is not set: the PostgreSQL integration tests will be SKIPPED (SQLite only). ***"; \
	  echo "*** Set it, e.g. TEST_DATABASE_URL=postgres://postgres@127.0.0.1:5432/test, to run them.    ***"; \
	fi
	# One test at a time: each integration test runs its own server on its own tokio
	# runtime, and Leptos' server rendering occasionally stalls when several such runtimes
	# render in one process at once (a real server has one runtime; 1,500 concurrent
	# requests against it did not stall). See docs/operations.md.
	cargo test --features ssr -- --test-threads=1

test-e2e:
	@scripts/setup.sh --with-browser
	cd end2end && npx playwright test

# A production build: optimized server and WASM bundle (wasm-opt must be binaryen >= 116;
# see docs/operations.md).
release: setup
	cargo leptos build --release
