#!/usr/bin/env bash
# Webhook benchmark (issue 5): the whole stack (`ferrocat up`, release build) on loopback, a
# committed one-action workflow with a webhook, then ApacheBench posts N webhooks through the
# edge at C at a time. Prints webhook-to-accepted latency (p50, p99), webhooks/s, and checks that
# every accepted webhook made exactly one run (Temporal's count of the workflow's runs) and that
# they all complete.
#
#   deploy/bench-webhook.sh [N] [C]      defaults: 2000 16
#   TEMPORAL_DB=full|memory deploy/bench-webhook.sh ...
#     Temporal's dev server as `ferrocat up` runs it (default: SQLite file in WAL mode,
#     synchronous=normal), or with an fsync per commit (full), or without a file (memory).
#
# Needs what `ferrocat up` needs, plus ab (apt-get install apache2-utils).
set -euo pipefail
N=${1:-2000}
C=${2:-16}
cd "$(dirname "$0")/.."
. deploy/lib.sh
command -v ab >/dev/null || apt_install apache2-utils
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$PWD/target}
SQLX_OFFLINE=true cargo build --quiet --release --locked -p ferrocat
BIN=$CARGO_TARGET_DIR/release/ferrocat

WORK=$(mktemp -d)
PIDS=()
cleanup() {
  for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$WORK"
}
trap cleanup EXIT

# Our own Temporal dev server (file database, as `up` runs it), so runs can be counted on it.
TPORT=$(free_port)
DB_ARGS=(--db-filename "$WORK/temporal.db")
case "${TEMPORAL_DB:-wal}" in
  wal) DB_ARGS+=(--sqlite-pragma journal_mode=wal --sqlite-pragma synchronous=normal) ;;
  full) DB_ARGS+=(--sqlite-pragma synchronous=full) ;;
  memory) DB_ARGS=() ;;
  *) echo "TEMPORAL_DB must be wal, full or memory" >&2; exit 2 ;;
esac
temporal server start-dev --headless --ip 127.0.0.1 --port "$TPORT" --http-port "$(free_port)" \
  --metrics-port "$(free_port)" "${DB_ARGS[@]}" --log-level error >"$WORK/temporal.log" 2>&1 &
PIDS+=($!)
wait_port "$TPORT"

PORT=$(free_port)
# The per-workflow rate limit would refuse a benchmark; everything else is the default.
FERROCAT_TEMPORAL_ADDRESS=http://127.0.0.1:$TPORT FERROCAT_WEBHOOK_RATE_LIMIT=100000000 RUST_LOG=warn \
  "$BIN" up --data-dir "$WORK/data" --port "$PORT" >"$WORK/up.log" 2>&1 &
PIDS+=($!)
wait_up "$WORK/up.log" 600

API=http://127.0.0.1:$PORT/api
admin_login "$API" "$WORK/data" "$WORK/cookies"
reshape_workflow "$WORK/wf.yml"
workflow_with_webhook "$API" "$WORK/cookies" "$WORK/wf.yml"
HOOK=${HOOK/localhost/127.0.0.1}
echo '{"alert":"A-1","severity":3}' >"$WORK/body.json"
# One webhook first: the path works end to end.
curl -sf -X POST "$HOOK/wait" -H 'content-type: application/json' -d @"$WORK/body.json" | grep -q '"kind":"value"' \
  || { echo "a webhook did not run" >&2; exit 1; }

ab -q -k -n 200 -c "$C" -p "$WORK/body.json" -T application/json "$HOOK" >/dev/null   # warm-up
ab -k -n "$N" -c "$C" -p "$WORK/body.json" -T application/json "$HOOK" >"$WORK/ab.txt"
complete=$(awk '/^Complete requests:/ {print $3}' "$WORK/ab.txt")
# ab counts a body whose length differs from the first one's as failed ("Length"): each
# answer carries its own run id, so only connect, receive and exception failures count.
failed=$(awk '/^Failed requests:/ {getline; gsub(/[(),]/, " "); print $2 + $4 + $8}' "$WORK/ab.txt")
failed=${failed:-0}
non2xx=$(awk '/^Non-2xx responses:/ {print $3}' "$WORK/ab.txt"); non2xx=${non2xx:-0}
rps=$(awk '/^Requests per second:/ {print $4}' "$WORK/ab.txt")
p50=$(awk '$1 == "50%" {print $2}' "$WORK/ab.txt")
p99=$(awk '$1 == "99%" {print $2}' "$WORK/ab.txt")
accepted=$((complete - failed - non2xx))
expected_runs=$((accepted + 200 + 1))   # plus the warm-up and the first webhook

count() {
  temporal workflow count --address "127.0.0.1:$TPORT" --query "$1" -o json 2>/dev/null \
    | python3 -c 'import sys,json; print(json.load(sys.stdin).get("count", 0))'
}
# Waits (up to $2 seconds) until Temporal counts at least $expected_runs runs matching $1;
# prints the last count. Visibility trails the starts a little.
wait_count() {
  local n=0 deadline=$((SECONDS + $2))
  while [ $SECONDS -lt $deadline ]; do
    n=$(count "$1")
    [ "$n" -ge "$expected_runs" ] && break
    sleep 0.5
  done
  echo "$n"
}
wait_count "WorkflowType='DSLWorkflow'" 120 >/dev/null
completed=$(wait_count "WorkflowType='DSLWorkflow' AND ExecutionStatus='Completed'" 900)
runs=$(count "WorkflowType='DSLWorkflow'")

echo "webhooks through the edge: $N posted, $C at a time (ab -k), one-action workflow"
printf "%-28s %s\n" "accepted (2xx)" "$accepted" "refused or failed" "$((failed + non2xx))" \
  "webhook-to-accepted p50" "${p50} ms" "webhook-to-accepted p99" "${p99} ms" "webhooks/s" "$rps" \
  "runs started (all posts)" "$runs of $expected_runs" "runs completed" "$completed of $expected_runs"
echo "goals: p50 under 15 ms, p99 under 50 ms, runs == accepted (no run lost or duplicated)"
[ "$runs" -eq "$expected_runs" ] && [ "$completed" -eq "$expected_runs" ] && [ "$failed" -eq 0 ] && [ "$non2xx" -eq 0 ]
