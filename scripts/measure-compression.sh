#!/usr/bin/env bash
# Measures what the compression layer saves on the wire: starts a server (the binary
# given, default target/debug/keyport) on a fresh SQLite database, imports COUNT (default
# 1000) platforms with two secrets each, signs in, and prints the bytes of the platforms
# page, of GET /api/platforms and of the WASM bundle sent plain, gzipped and with Brotli (pages and
# JSON are compressed with gzip only, so they go plain to a Brotli-only client; the release bundle
# has precompressed .br files),
# with the time each took. docs/performance.md.
set -euo pipefail
cd "$(dirname "$0")/.."
bin=${1:-target/debug/keyport}
count=${COUNT:-1000}
. scripts/fresh-server.sh
fresh_server 3191
python3 - "$count" > "$work/platforms.json" <<'PY'
import json, sys
n = int(sys.argv[1])
print(json.dumps([{"name": f"Platform {i:05}", "category": ["payment", "social", "email", "shipping"][i % 4], "auth_type": "api_key",
                   "description": f"Integration number {i}", "api_config": {"api_key": f"key-{i:08}-abcdefghijklmnop", "webhook_secret": f"whsec-{i:08}"}} for i in range(n)]))
PY
"$bin" import "$work/platforms.json" >/dev/null
serve_signed_in admin
wasm=$(curl -s "$base/login" | grep -o '/pkg/[^"]*\.wasm' | head -n1)

# One line per path: its bytes plain, gzipped and with Brotli, and the time each took.
for path in /platforms /api/platforms "${wasm:-/pkg/keyport.wasm}"; do
  line="$path ($count platforms):"
  for encoding in identity gzip br; do
    line+=$(curl -s -b "$work/jar" -H "Accept-Encoding: $encoding" -o /dev/null -w " $encoding %{size_download} B in %{time_total} s;" "$base$path")
  done
  echo "${line%;}"
done
