#!/usr/bin/env bash
# The platform list under load at scale (issue 16): for SQLite and PostgreSQL, imports COUNT
# (default 100,000) platforms with two secrets each through `keyport import`, starts the
# server (the binary given, default target/release/keyport), and drives a page of 50 of
# the list page, the filtered list, a search and GET /api/platforms with oha at RATE
# requests per second (default 500) for DURATION (default 10s) each, latency-corrected.
# Prints one line per measurement: import rate, start-up to ready, idle RSS, and each
# route's p50/p99, achieved rate, the server's peak RSS and the panics it logged.
# docs/performance.md.
# PostgreSQL: a database keyport_bench_list is (re)created on PG_URL's server (default
# postgres://postgres@127.0.0.1:5432); PG_URL=off skips it.
set -euo pipefail
cd "$(dirname "$0")/.."
bin=${1:-target/release/keyport}
count=${COUNT:-100000}
rate=${RATE:-500}
duration=${DURATION:-10s}
pg=${PG_URL:-postgres://postgres@127.0.0.1:5432}
command -v oha >/dev/null || { echo "oha is missing: scripts/setup.sh --with-bench installs it" >&2; exit 1; }
. scripts/fresh-server.sh
fresh_server 3193
python3 - "$count" > "$work/seed.json" <<'PY'
import json, sys
words = "alpha beta gamma delta stripe mail post ship pay cloud data sync hub link box flow desk chat auth store".split()
n = int(sys.argv[1])
print(json.dumps([{
    "name": f"{words[i % 20].title()} {words[i * 7 % 20]} {i:06}",
    "category": ["payment", "social", "email", "shipping", "crm", "storage", "sms", "analytics", "communication", "authentication", "other"][i % 11],
    "status": ["active", "inactive", "error", "pending"][i % 4],
    "auth_type": "api_key",
    "description": f"The {words[i * 3 % 20]} integration for {words[i * 11 % 20]} number {i}",
    "api_config": {"api_key": f"key-{i:08}-abcdefghijklmnopqrstuvwxyz", "client_secret": f"secret-{i:08}-0123456789"},
} for i in range(n)]))
PY

# oha's JSON report and the server's CPU seconds during the run (argument) → "p50 X ms,
# p99 Y ms, Z req/s, N % 2xx, C ms of server CPU a request": at 500 req/s on 2 cores, the
# CPU a request costs sets how close to full the machine runs, and so the tail.
summarize() {
  python3 -c '
import json, sys
r = json.load(sys.stdin)
p, s = r["latencyPercentiles"], r["summary"]
codes = r.get("statusCodeDistribution", {})
n = max(1, sum(codes.values()))
ok = sum(v for k, v in codes.items() if k.startswith("2")) / n * 100
p50, p99, rps = p["p50"] * 1000, p["p99"] * 1000, s["requestsPerSec"]
cpu = float(sys.argv[1]) * 1000 / n
print(f"p50 {p50:.2f} ms, p99 {p99:.2f} ms, {rps:.0f} req/s, {ok:.1f} % 2xx, {cpu:.2f} ms of server CPU a request")' "$1"
}

# The server's CPU time so far (user + system), in seconds.
cpu_seconds() {
  awk -v hz="$(getconf CLK_TCK)" '{print ($14 + $15) / hz}' "/proc/$server/stat"
}

measure() { # backend label
  local started ready rss line cookie before
  started=$(date +%s.%N)
  "$bin" import "$work/seed.json" >/dev/null 2>"$work/import.log" || { cat "$work/import.log" >&2; exit 1; }
  echo "$1: import of $count platforms (two secrets each): $(python3 -c "print(f'{$count / ($(date +%s.%N) - $started):,.0f} platforms/s')")"
  started=$(date +%s.%N)
  serve_signed_in admin
  ready=$(python3 -c "print(f'{($(date +%s.%N) - $started) * 1000:.0f} ms')")
  echo "$1: start-up to ready with $count platforms (user creation and sign-in included): $ready"
  sleep 2
  echo "$1: idle RSS: $(awk '/VmRSS/ {printf "%.1f MB", $2 / 1024}' "/proc/$server/status")"
  # curl's jar marks HttpOnly cookies (the session) with a #HttpOnly_ prefix.
  cookie=$(sed 's/^#HttpOnly_//' "$work/jar" | awk '!/^#/ && NF >= 7 {printf "%s=%s; ", $6, $7}')
  [ -n "$cookie" ] || { echo "sign-in failed: no session cookie" >&2; exit 1; }
  # PostgreSQL's autovacuum wakes up after an import of this size and ran through the
  # first route's run (p99 68 instead of 8–10 ms): measure after it, as a server runs.
  if [ "$1" = postgres ]; then psql "$DATABASE_URL" -qc "VACUUM (ANALYZE) platforms, secrets, platform_facets"; fi
  # The common word in name order last: until its whole order was kept (server::
  # search_orders) it saturated the server, which then worked through the requests oha
  # gave up on for seconds after, and the route measured next paid.
  for path in /platforms "/platforms?category=payment&status=error" "/platforms?q=004242" /api/platforms "/api/platforms?sort=updated&limit=50" "/platforms?q=stripe" "/platforms?q=stripe&sort=name"; do
    # One request first, as a server that is in use has had: it reads what a route keeps
    # (a search's whole order, server::search_orders) once, before the clock starts.
    curl -s -o /dev/null -H "Cookie: $cookie" "$base$path"; sleep 1
    before=$(cpu_seconds)
    oha --no-tui --output-format json --latency-correction -q "$rate" -z "$duration" -c 16 -H "Cookie: $cookie" -H "Accept-Encoding: gzip, deflate, br" "$base$path" > "$work/oha.json"
    line=$(summarize "$(python3 -c "print($(cpu_seconds) - $before)")" < "$work/oha.json")
    echo "$1: GET $path at $rate req/s: $line"
    sleep 2 # what a run left queued does not count against the next
  done
  echo "$1: server peak RSS: $(awk '/VmHWM/ {printf "%.1f MB", $2 / 1024}' "/proc/$server/status")"
  # A panic in a task the renderer spawned leaves the answer complete: only the log shows it.
  echo "$1: panics the server logged: $(grep -c 'panicked at' "$work/server.log" || true)"
  kill "$server"; wait "$server" 2>/dev/null || true; server=
}

measure sqlite
if [ "$pg" != off ]; then
  psql "$pg/postgres" -qc "DROP DATABASE IF EXISTS keyport_bench_list" -qc "CREATE DATABASE keyport_bench_list"
  export DATABASE_URL="$pg/keyport_bench_list"
  measure postgres
fi
