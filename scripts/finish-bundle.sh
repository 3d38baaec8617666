#!/usr/bin/env bash
# After `cargo leptos build --split` (`make build`, and `make release` with --precompress), two
# repairs of cargo-leptos 0.3.5's output in target/site/pkg:
# 1. The split manifest (which page needs which modules; the server reads it to preload them)
#    gets each name's content hash by plain text replacement, so "chunk_14" also rewrites
#    inside "chunk_147" and the server would preload names that do not exist (404s; in the
#    browser a lazy page then failed to load its module, "HTTP status code is not ok"). Each
#    name is rebuilt: its hash segments removed, then the one file of that name looked up.
#    (Only the server reads it, from disk: its compressed copies are removed.)
# 2. Its .gz files are written at a low level (the main keyport.wasm: about 424 KB, where gzip -9
#    makes about 363 KB). A browser that does not take Brotli (over plain http) gets the .gz.
set -euo pipefail
cd "$(dirname "$0")/../target/site/pkg"

python3 - <<'PY'
import glob, json, os, re
hashed = {}
for path in glob.glob('*.wasm'):
    stem, digest, _ = path.rsplit('.', 2)
    hashed[stem] = f'{stem}.{digest}'
for path in glob.glob('__wasm_split_manifest.*.json'):
    with open(path) as f:
        manifest = json.load(f)
    repaired = {page: [hashed[re.sub(r'\.[A-Za-z0-9_-]{22}', '', name)] for name in names] for page, names in manifest.items()}
    with open(path, 'w') as f:
        json.dump(repaired, f, indent=2)
    for stale in glob.glob(path + '.*'):  # its .br and .gz hold the broken names
        os.remove(stale)
PY

shopt -s nullglob # a debug build has no .gz files
for gz in *.gz; do
  gzip -9 -n -c "${gz%.gz}" > "$gz"
done
