#!/usr/bin/env bash
# Console benchmark: builds the console and the binary, starts `ferrocat up` on a free port with
# a fresh data dir, then deploy/bench/console.py drives Debian's Chromium (chromium-driver) at it
# and prints medians against the console's budgets: first-load size, first paint, workflows list
# interactive, a 1,000-action run's page, a 200-action graph's layout and typing latency.
# FERROCAT_BENCH_PROFILE=debug uses the test build instead of a release build.
set -euo pipefail
cd "$(dirname "$0")/.."
. deploy/lib.sh
apt_install chromium chromium-driver
build_console
profile="${FERROCAT_BENCH_PROFILE:-release}"
target="${CARGO_TARGET_DIR:-target}"
if [ "$profile" = release ]; then
  cargo build --release --locked --bin ferrocat
  bin="$target/release/ferrocat"
else
  cargo build --locked --bin ferrocat
  bin="$target/debug/ferrocat"
fi
dir=$(mktemp -d)
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
export FERROCAT_ADMIN_EMAIL=bench@example.com FERROCAT_ADMIN_PASSWORD="bench-$(head -c 12 /dev/urandom | od -An -tx1 | tr -d ' \n')"
"$bin" up --bind 127.0.0.1 --port "$port" --data-dir "$dir" >"$dir/up.out" 2>"$dir/up.log" &
up=$!
trap 'kill -INT $up 2>/dev/null; wait $up 2>/dev/null; rm -rf "$dir"' EXIT
for _ in $(seq 1 1200); do grep -q "ferrocat is up" "$dir/up.out" 2>/dev/null && break; kill -0 $up 2>/dev/null || { tail -20 "$dir/up.log" >&2; exit 1; }; sleep 0.25; done
grep -q "ferrocat is up" "$dir/up.out" || { echo "ferrocat up did not come up" >&2; tail -20 "$dir/up.log" >&2; exit 1; }
echo "stack: http://127.0.0.1:$port ($profile build)"
python3 deploy/bench/console.py "http://127.0.0.1:$port" "${FERROCAT_BENCH_SAMPLES:-7}"
