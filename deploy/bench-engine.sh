#!/usr/bin/env bash
# Engine benchmark: starts a Temporal dev server with a file database on free ports, then runs
# workers/examples/bench_engine.rs (release build) against it and prints medians and ratios.
# EXAMPLE=bench_start runs workers/examples/bench_start.rs instead (the dev server's own floor
# under webhook latency: StartWorkflowExecution from a bare client, N starts, C in flight).
# BENCH_PROFILE=dev uses the debug build instead of the release one.
# The server's SQLite runs as `ferrocat up` runs it (WAL, synchronous=normal);
# TEMPORAL_SYNCHRONOUS=full fsyncs every commit instead.
set -euo pipefail
cd "$(dirname "$0")/.."
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
dir=$(mktemp -d)
port=$(free_port)
temporal server start-dev --headless --ip 127.0.0.1 --port "$port" --http-port "$(free_port)" \
  --metrics-port "$(free_port)" --db-filename "$dir/temporal.db" \
  --sqlite-pragma journal_mode=wal --sqlite-pragma synchronous="${TEMPORAL_SYNCHRONOUS:-normal}" --log-level error >"$dir/temporal.log" 2>&1 &
server=$!
trap 'kill $server 2>/dev/null; wait $server 2>/dev/null; rm -rf "$dir"' EXIT
for _ in $(seq 1 100); do (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && break; sleep 0.1; done
FERROCAT_TEMPORAL_ADDRESS="http://127.0.0.1:$port" RUST_LOG=error \
  cargo run --profile "${BENCH_PROFILE:-release}" --locked -q -p ferrocat-workers --example "${EXAMPLE:-bench_engine}"
