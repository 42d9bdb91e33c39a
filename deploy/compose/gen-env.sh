#!/usr/bin/env bash
# Writes a .env for compose.yml from .env.example with a fresh random secret (32 bytes, hex)
# for every change-me, readable by its owner only. Refuses to replace an existing file: its
# secrets encrypt data already stored.
# Usage: deploy/compose/gen-env.sh [FILE]   (default: .env beside this script)
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
OUT=${1:-$HERE/.env}
if [ -e "$OUT" ]; then
  echo "gen-env.sh: $OUT exists; its secrets may already protect data (delete it first to start over)" >&2
  exit 1
fi
umask 077
tmp=$(mktemp "$(dirname "$OUT")/.env.XXXXXX")
trap 'rm -f "$tmp"' EXIT
while IFS= read -r line; do
  if [[ $line == *=change-me ]]; then
    line="${line%change-me}$(od -An -tx1 -N 32 /dev/urandom | tr -d ' \n')"
  fi
  printf '%s\n' "$line" >>"$tmp"
done <"$HERE/.env.example"
mv "$tmp" "$OUT"
trap - EXIT
echo "wrote $OUT"
