#!/usr/bin/env bash
# Before a release build: the tools cargo-leptos would otherwise try to download (which
# this network refuses), each missing one named in one sentence.
set -uo pipefail
cd "$(dirname "$0")/.."
ok=1
version=$(wasm-opt --version 2>/dev/null | grep -oE 'version[ _]+[0-9]+' | grep -oE '[0-9]+' | head -n1)
if [ -z "$version" ]; then
  echo "make release: wasm-opt is not on PATH; run scripts/setup.sh --with-release (it installs npm's binaryen into scripts/release-tools)." >&2
  ok=
elif [ "$version" -lt 116 ]; then
  echo "make release: wasm-opt $version ($(command -v wasm-opt)) is too old (Debian's 108 breaks hydration); run scripts/setup.sh --with-release and put scripts/release-tools/node_modules/.bin first on PATH." >&2
  ok=
fi
wb=$(awk '/^name = "wasm-bindgen"$/ {getline; gsub(/"/, "", $3); print $3; exit}' Cargo.lock)
if ! wasm-bindgen --version 2>/dev/null | grep -q " $wb\$"; then
  echo "make release: wasm-bindgen $wb (the version in Cargo.lock) is not on PATH; run scripts/setup.sh." >&2
  ok=
fi
[ -n "$ok" ]
