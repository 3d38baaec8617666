#!/usr/bin/env bash
# `make bench`: runs the release-build benchmarks and prints the table docs/performance.md
# keeps, one row per measurement with the command that reproduces it. The rotation
# benchmark also runs on PostgreSQL when TEST_DATABASE_URL is set.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$HOME/.cargo/bin:$PATH"

rows=()
criterion() { # bench name → the rows of its criterion results written by this run
  python3 - "$1" <<'PY'
import json, pathlib, sys
bench = sys.argv[1]
for est in sorted(pathlib.Path("target/criterion").glob("*/*/new/estimates.json")):
    if est.stat().st_mtime < float(open("target/.bench-start").read()):
        continue  # from an earlier run
    meta = json.loads((est.parent / "benchmark.json").read_text())
    median = json.loads(est.read_text())["median"]["point_estimate"]
    unit = next((u for u, s in (("s", 1e9), ("ms", 1e6), ("µs", 1e3)) if median >= s), "ns")
    scale = {"s": 1e9, "ms": 1e6, "µs": 1e3, "ns": 1}[unit]
    print(f"| {meta['group_id']}: {meta['function_id']} | {median / scale:.3g} {unit} (median) | `cargo bench --features ssr --bench {bench}` |")
PY
}

for bench in envelope calendar; do
  date +%s > target/.bench-start
  cargo bench --features ssr --bench "$bench" >&2
  while IFS= read -r row; do rows+=("$row"); done < <(criterion "$bench")
done
publish=$(cargo bench --features ssr --bench publish 2>/dev/null | grep '^worker' | sed 's/^worker *: //')
rows+=("| 1,000 deliveries through the worker | ${publish:-see output} | \`cargo bench --features ssr --bench publish\` |")
cargo build --release --features ssr --bin keyport >&2
upload=$(scripts/measure-upload.sh target/release/keyport)
rows+=("| 50 MiB video upload (server memory) | ${upload#upload of 50 MiB: } | \`scripts/measure-upload.sh target/release/keyport\` |")
while IFS= read -r line; do
  rows+=("| bytes on the wire, ${line%%:*} | ${line#*: } | \`scripts/measure-compression.sh target/release/keyport\` |")
done < <(scripts/measure-compression.sh target/release/keyport)
if scripts/measure-bundle.sh >/dev/null 2>&1; then
  while IFS= read -r line; do
    rows+=("| ${line%%: *} | ${line#*: } | \`make release-bundle && scripts/measure-bundle.sh\` |")
  done < <(scripts/measure-bundle.sh)
else
  rows+=("| WASM bundle | not measured: no split release bundle in target/site | \`make release-bundle && scripts/measure-bundle.sh\` |")
fi
while IFS= read -r line; do
  rows+=("| ${line%: *} | ${line##*: } | \`scripts/measure-list.sh target/release/keyport\` |")
done < <(scripts/measure-list.sh target/release/keyport)

echo
echo "| measurement | result | command |"
echo "| --- | --- | --- |"
printf '%s\n' "${rows[@]}"
