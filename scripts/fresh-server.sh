# Sourced by the measure-*.sh scripts: a Keyport server ($bin) on a fresh SQLite database
# and media folder in a temporary directory, removed (and the server stopped) on exit.
#   fresh_server PORT       sets $work, $base and the environment, with a new key
#   serve_signed_in ROLE    creates bench@example.com with ROLE, starts the server, waits
#                           for it and signs in (cookie jar: $work/jar); sets $server; the
#                           server's log is $work/server.log

fresh_server() {
  work=$(mktemp -d)
  trap 'kill "${server:-}" 2>/dev/null || true; rm -rf "$work"' EXIT
  base="http://127.0.0.1:$1"
  export KEYPORT_DOTENV=off DATABASE_URL="sqlite://$work/keyport.db" MEDIA_DIR="$work/media" LEPTOS_SITE_ADDR="127.0.0.1:$1" RUST_LOG=warn
  # As a production server runs: a logged panic with a symbolized backtrace holds its
  # thread for milliseconds, and leptos_router's "already disposed" panics come under load.
  unset RUST_BACKTRACE
  ENCRYPTION_KEY=$("$bin" keys generate)
  export ENCRYPTION_KEY
}

serve_signed_in() {
  echo "correct horse battery" | "$bin" user create --email bench@example.com --role "$1" >/dev/null
  "$bin" serve >/dev/null 2>"$work/server.log" &
  server=$!
  for _ in $(seq 100); do curl -sf "$base/healthz" >/dev/null && break; sleep 0.2; done
  curl -sf "$base/healthz" >/dev/null || { cat "$work/server.log" >&2; echo "the server did not start" >&2; exit 1; }
  local action
  action=$(curl -s "$base/login" | grep -o 'action="/api/sign_in[^"]*"' | head -n1 | cut -d'"' -f2)
  curl -s -c "$work/jar" -o /dev/null -H "Origin: $base" --data-urlencode email=bench@example.com --data-urlencode "password=correct horse battery" "$base$action"
}
