#!/usr/bin/env bash
# Installs, idempotently, everything `make run`, `make test` and `make release` need on a
# fresh machine: the wasm32 target, cargo-leptos, wasm-bindgen-cli at the exact version
# Cargo.lock uses, Debian's chromium and the end2end npm packages (--with-browser), and
# wasm-opt for release builds (--with-release). Only package registries are used:
# cargo-leptos would otherwise try to download its helpers from GitHub, which fails here.
set -euo pipefail
cd "$(dirname "$0")/.."

CARGO_LEPTOS_VERSION=0.3.5   # the newest that builds with rustc 1.95 (see docs/operations.md)
export PATH="$HOME/.cargo/bin:$PATH"

step() { printf '\033[1m==> %s\033[0m\n' "$*"; }

if ! rustup target list --installed | grep -qx wasm32-unknown-unknown; then
  step "adding the wasm32-unknown-unknown target"
  rustup target add wasm32-unknown-unknown
fi

# cargo-leptos is built with scripts/cargo-leptos.lock: its own lock file with
# wasm_split_cli_support 0.2.4 (and the rayon, wasmparser and wasm-encoder that needs) instead
# of 0.2.0, whose split of the bundle leaves wasm-bindgen 0.2.130's imports unresolved in the
# browser (docs/operations.md). `cargo install --list` names the folder it was built from.
CARGO_LEPTOS_SHA256=c89e4ae8b89c8cb7bed0d56405e8541be5d3bd55b4af4e04afb29d08ccfefc2a
CARGO_LEPTOS_SRC=${TMPDIR:-/tmp}/keyport-cargo-leptos
if ! cargo install --list | grep -q "^cargo-leptos v$CARGO_LEPTOS_VERSION ($CARGO_LEPTOS_SRC/"; then
  step "installing cargo-leptos $CARGO_LEPTOS_VERSION (about 15 minutes on 2 cores, once)"
  rm -rf "$CARGO_LEPTOS_SRC" && mkdir -p "$CARGO_LEPTOS_SRC"
  crate=$CARGO_LEPTOS_SRC/cargo-leptos.crate
  curl -sSfL -o "$crate" "https://static.crates.io/crates/cargo-leptos/cargo-leptos-$CARGO_LEPTOS_VERSION.crate"
  echo "$CARGO_LEPTOS_SHA256  $crate" | sha256sum -c --quiet
  tar -xzf "$crate" -C "$CARGO_LEPTOS_SRC"
  cp scripts/cargo-leptos.lock "$CARGO_LEPTOS_SRC/cargo-leptos-$CARGO_LEPTOS_VERSION/Cargo.lock"
  cargo install --locked --force --path "$CARGO_LEPTOS_SRC/cargo-leptos-$CARGO_LEPTOS_VERSION"
fi

# wasm-bindgen-cli must match the wasm-bindgen crate in Cargo.lock exactly.
WB_VERSION=$(awk '/^name = "wasm-bindgen"$/ {getline; gsub(/"/, "", $3); print $3; exit}' Cargo.lock)
if ! wasm-bindgen --version 2>/dev/null | grep -q " $WB_VERSION\$"; then
  step "installing wasm-bindgen-cli $WB_VERSION (about 3 minutes, once)"
  # Not --locked: its lock file names a crate version the registry no longer serves.
  cargo install wasm-bindgen-cli --version "$WB_VERSION"
fi

# tests/format_spec.rs checks docs/encryption.md with an independent Python decrypter.
if ! python3 -c "import cryptography" 2>/dev/null; then
  step "installing the Python cryptography package (for the encryption format test)"
  python3 -m pip install --quiet cryptography
fi

# tests/it/media.rs stores media on an S3-compatible server, tests/it/kms.rs wraps data
# keys with a KMS key: moto's server mode.
if ! python3 -c "import moto.server, flask" 2>/dev/null; then
  step "installing moto's server (for the S3 media and AWS KMS tests)"
  python3 -m pip install --quiet "moto[server]==5.2.1"
fi

# tests/it/openapi.rs runs schemathesis against the JSON API and its OpenAPI document.
SCHEMATHESIS_VERSION=4.32.5
if ! python3 -m schemathesis.cli --version 2>/dev/null | grep -q " $SCHEMATHESIS_VERSION\$"; then
  step "installing schemathesis $SCHEMATHESIS_VERSION (for the API conformance test)"
  python3 -m pip install --quiet "schemathesis==$SCHEMATHESIS_VERSION"
fi

for flag in "$@"; do
  case $flag in
    --with-browser) with_browser=1 ;;
    --with-release) with_release=1 ;;
    --with-bench) with_bench=1 ;;
    *) echo "setup.sh: unknown flag $flag (use --with-browser, --with-release or --with-bench)" >&2; exit 2 ;;
  esac
done

if [ -n "${with_release:-}" ]; then
  # Release builds run wasm-opt. npm's binaryen ships it as a Node program and installs in
  # seconds (the Rust registry's wasm-opt takes ~10 minutes to build); Debian's binaryen 108
  # must not be used: its output fails at hydration (docs/operations.md).
  tools=scripts/release-tools
  if [ ! -x $tools/node_modules/.bin/wasm-opt ] || [ $tools/package-lock.json -nt $tools/node_modules/.package-lock.json ]; then
    step "installing wasm-opt (npm binaryen) for release builds"
    (cd $tools && npm ci --no-audit --no-fund)
  fi
fi

if [ -n "${with_bench:-}" ]; then
  # The load generator of `make bench` (scripts/measure-list.sh), from the Rust registry.
  OHA_VERSION=1.16.0
  if ! oha --version 2>/dev/null | grep -q " $OHA_VERSION\$"; then
    step "installing oha $OHA_VERSION (load generator for make bench)"
    cargo install oha --locked --version "$OHA_VERSION"
  fi
fi

if [ -n "${with_browser:-}" ]; then
  if ! command -v chromium >/dev/null 2>&1; then
    step "installing Debian's chromium for the browser tests"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
  fi
  # The Instagram renewal journey moves a token's age in the test database with sqlite3.
  if ! command -v sqlite3 >/dev/null 2>&1; then
    step "installing Debian's sqlite3 for the browser tests"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq sqlite3 >/dev/null
  fi
  if [ ! -d end2end/node_modules/@playwright/test ] || [ end2end/package-lock.json -nt end2end/node_modules/.package-lock.json ]; then
    step "installing the end2end npm packages"
    (cd end2end && npm ci --no-audit --no-fund)
  fi
fi
