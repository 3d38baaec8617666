# The two front doors: `make run` and `make test`. Each installs what it needs first
# (scripts/setup.sh is idempotent and fast when everything is there).
SHELL := /bin/bash
export PATH := $(HOME)/.cargo/bin:$(PATH)
# cargo-leptos writes the WASM bundle, JS and CSS here; the server serves them.
SITE := target/site

.PHONY: run test setup build test-rust test-e2e test-bundle fuzz bench release release-bundle release-tools clean-data

run: setup build
	@scripts/ensure-env.sh
	@scripts/run.sh

test: test-rust build test-e2e

setup:
	@scripts/setup.sh

build: setup
	cargo leptos build --split
	@scripts/finish-bundle.sh
	cargo build --features ssr --bin keyport-sandbox

test-rust:
	@scripts/setup.sh
	@if [ -z "$$TEST_DATABASE_URL" ]; then \
	  echo "*** TEST_DATABASE_URL is not set: the PostgreSQL integration tests will be SKIPPED (SQLite only). ***"; \
	  echo "*** Set it, e.g. TEST_DATABASE_URL=postgres://postgres@127.0.0.1:5432/test, to run them.    ***"; \
	fi
	# In parallel (one thread per core): building a server used to hang other tests'
	# renders until router::page_routes generated the route list once. docs/operations.md.
	cargo test --features ssr

# Release-build benchmarks: prints the table docs/performance.md keeps, with each command.
bench:
	@scripts/setup.sh --with-bench
	@scripts/bench.sh

# Longer runs of what `make test` runs briefly: the property tests (any input to the
# envelope parser, the return-path check, the forwarding headers, dates, provider answers),
# the server-function form fuzzing (tests/it/forms.rs) and schemathesis against the JSON API
# (tests/it/openapi.rs). See docs/security.md.
fuzz: setup
	PROPTEST_CASES=20000 cargo test --features ssr --lib any_
	KEYPORT_FORM_ROUNDS=150 cargo test --features ssr --test it -- --nocapture forms::
	SCHEMATHESIS_EXAMPLES=100 cargo test --features ssr --test it -- --nocapture openapi::schemathesis

test-e2e:
	@scripts/setup.sh --with-browser
	cd end2end && npx playwright test

# A production build: optimized server and WASM bundle. cargo-leptos finds wasm-opt on PATH
# (npm's binaryen, installed by setup.sh --with-release); were it missing, cargo-leptos would
# try to download it from GitHub, fail, and say only "Error:". `release-bundle` builds the
# WASM/JS/CSS bundle alone (CI does, so the release door stays open). `--precompress`
# writes a .gz and a .br beside each file of the bundle, once; the server sends them to a
# browser that accepts them instead of compressing the bundle on every request. `--split`
# moves every page but the platforms list into modules a browser loads when it first shows
# that page (src/app.rs, `lazy_pages!`). Debug builds are split too (`build`): lazy routes
# need it; both get the split manifest repaired (scripts/finish-bundle.sh). `test-bundle` runs the release bundle in a browser.
RELEASE_PATH := $(CURDIR)/scripts/release-tools/node_modules/.bin:$(PATH)

release: release-tools
	PATH="$(RELEASE_PATH)" cargo leptos build --release --precompress --split
	@scripts/finish-bundle.sh

release-bundle: release-tools
	PATH="$(RELEASE_PATH)" cargo leptos build --release --precompress --split --frontend-only
	@ls target/site/pkg/*.wasm.br target/site/pkg/*.wasm.gz >/dev/null || { echo "the bundle was not precompressed" >&2; exit 1; }
	@scripts/finish-bundle.sh

# The release bundle (split) in a browser: every page hydrates and loads its module.
test-bundle: release-bundle
	@scripts/setup.sh --with-browser
	cargo build --features ssr --bin keyport
	cd end2end && npx playwright test --config bundle.config.ts

release-tools: setup
	@scripts/setup.sh --with-release
	@PATH="$(RELEASE_PATH)" scripts/check-release-tools.sh
