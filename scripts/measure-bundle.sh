#!/usr/bin/env bash
# The WASM a browser downloads, from the split release bundle in target/site/pkg (`make
# release-bundle`): the main module (shell and platforms list), then for each other
# page the modules its first visit adds (its own and the shared ones it needs, from the
# split manifest; a later page reuses what an earlier one loaded). Raw, Brotli and gzip -9
# bytes, as the server sends them. docs/performance.md.
set -euo pipefail
cd "$(dirname "$0")/../target/site/pkg"
if ! ls __wasm_split_manifest.*.json >/dev/null 2>&1; then
  echo "measure-bundle: no split release bundle in target/site/pkg; run make release-bundle first" >&2
  exit 1
fi
python3 - <<'PY'
import glob, json, os
def sizes(files):
    return [sum(os.path.getsize(f + ext) for f in files) for ext in ('', '.br', '.gz')]
def line(what, files):
    raw, br, gz = sizes(files)
    print(f"WASM, {what}: {raw:,} B raw, {br:,} B Brotli, {gz:,} B gzip")
line("main module", glob.glob('keyport.*.wasm'))
manifest = json.load(open(glob.glob('__wasm_split_manifest.*.json')[0]))
pages = {page.strip('_').split('_route')[0].replace('_', ' '): [n + '.wasm' for n in names] for page, names in manifest.items()}
for page, files in sorted(pages.items()):
    line(f"first visit to {page} adds", files)
# Journeys: the main module and every module the pages need, each once.
journey = lambda *names: glob.glob('keyport.*.wasm') + sorted({f for n in names for f in pages[n]})
line("sign-in, then the platforms list and a platform's page, in all", journey('login', 'platform'))
line("every page, in all", journey(*pages))
PY
