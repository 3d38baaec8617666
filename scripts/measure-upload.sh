#!/usr/bin/env bash
# Measures what uploading a large video costs the server's memory: starts a server (the
# binary given, default target/debug/keyport) on a fresh SQLite database and media folder,
# signs in, uploads a SIZE_MB (default 50) MP4 through POST /api/media, and prints the
# server's resident memory before and after and its peak (VmHWM). docs/performance.md.
set -euo pipefail
cd "$(dirname "$0")/.."
bin=${1:-target/debug/keyport}
size=${SIZE_MB:-50}
. scripts/fresh-server.sh
fresh_server 3190
serve_signed_in marketer

# An MP4 header, then random bytes (nothing compresses or deduplicates them).
{ printf '\0\0\0\030ftypmp42\0\0\0\0isommp42'; head -c $((size * 1024 * 1024)) /dev/urandom; } > "$work/clip.mp4"

kib() { awk -v k="$1" '$1 == k":" { print $2 }' "/proc/$server/status"; }
before=$(kib VmRSS)
start=$(date +%s.%N)
answer=$(curl -s -b "$work/jar" -H "Origin: $base" -F "file=@$work/clip.mp4;type=video/mp4" "$base/api/media")
took=$(echo "$(date +%s.%N) - $start" | bc)
after=$(kib VmRSS)
peak=$(kib VmHWM)
echo "$answer" | grep -q '"media_type":"video/mp4"' || { echo "upload failed: $answer" >&2; exit 1; }
printf 'upload of %s MiB: %.2f s; server RSS before %s KiB, after %s KiB, peak %s KiB (peak - before: %s KiB)\n' \
  "$size" "$took" "$before" "$after" "$peak" "$((peak - before))"
