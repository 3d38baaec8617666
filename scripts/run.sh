#!/usr/bin/env bash
# `make run`: Keyport with keyport-sandbox (the offline OAuth provider) beside it, so the
# "Sandbox" platform is ready to Connect on first start. SANDBOX=off runs Keyport alone.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ "${SANDBOX:-on}" != "off" ]; then
  addr=${SANDBOX_ADDR:-127.0.0.1:3200}
  ./target/debug/keyport-sandbox --addr "$addr" >/dev/null &
  sandbox=$!
  trap 'kill $sandbox 2>/dev/null || true' EXIT
  export SANDBOX_URL=${SANDBOX_URL:-http://$addr}
  export ALLOW_INSECURE_PROVIDERS=1 # the sandbox is a provider on this machine, over http
  # Keyport registers itself with the sandbox at start-up: wait until it listens.
  for _ in $(seq 50); do
    (exec 3<>"/dev/tcp/${addr%:*}/${addr##*:}") 2>/dev/null && break
    sleep 0.1
  done
fi
./target/debug/keyport serve
