#!/usr/bin/env bash
# Creates .env from .env.template with a fresh random ENCRYPTION_KEY, once. Never
# overwrites an existing .env: losing the key would make stored secrets unreadable.
set -euo pipefail
cd "$(dirname "$0")/.."
[ -f .env ] && exit 0
key=$(head -c 32 /dev/urandom | base64)
umask 077
sed "s|^ENCRYPTION_KEY=.*|ENCRYPTION_KEY=$key|" .env.template > .env
chmod 600 .env
echo "Created .env with a new random ENCRYPTION_KEY (mode 0600). Back it up: without it, stored secrets cannot be decrypted."
