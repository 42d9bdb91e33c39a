#!/usr/bin/env bash
# Soak (issue 20): the whole stack (`ferrocat up`, release build unless FERROCAT_BIN names a
# binary) under a steady open-loop webhook stream for DURATION seconds at RATE per second.
# Every SAMPLE seconds it prints each process's resident memory, open files and open sockets;
# at the end, each figure after warm-up (the first sixth of the run) against the last, and
# the books: posted, accepted, refused by status, runs completed.
#
#   deploy/soak.sh [DURATION] [RATE] [SAMPLE]      defaults: 1800 20 60
#
# Not part of the test suite (it takes half an hour); the figures go in the issue's notes.
set -euo pipefail
DURATION=${1:-1800}
RATE=${2:-20}
SAMPLE=${3:-60}
cd "$(dirname "$0")/.."
. deploy/lib.sh
API_METRICS=127.0.0.1:$(free_port)
WORKER_METRICS=127.0.0.1:$(free_port)
bench_up soak FERROCAT_WEBHOOK_RATE_LIMIT=100000000 RUST_LOG=warn FERROCAT_API_METRICS_ADDR="$API_METRICS" FERROCAT_WORKER_METRICS_ADDR="$WORKER_METRICS"
reshape_workflow "$WORK/wf.yml"
workflow_with_webhook "$API" "$WORK/cookies" "$WORK/wf.yml"
HOOK=${HOOK/localhost/127.0.0.1}
SERVICES=(edge api worker executor mcp ui llm-gateway object-store temporal)

# The sender: a post every 1/RATE s on its own thread, whatever the answers; books by status.
python3 - "$HOOK" "$RATE" "$DURATION" >"$WORK/books.json" <<'PY' &
import json, sys, threading, time, urllib.request, urllib.error, collections
hook, rate, duration = sys.argv[1], float(sys.argv[2]), float(sys.argv[3])
books, lock = collections.Counter(), threading.Lock()
def post(seq):
    req = urllib.request.Request(hook, data=json.dumps({"alert": f"S-{seq}", "severity": 3}).encode(), headers={"content-type": "application/json"})
    try:
        with urllib.request.urlopen(req, timeout=30) as r:
            key = str(r.status)
    except urllib.error.HTTPError as e:
        key = str(e.code)
    except Exception:
        key = "unanswered"
    with lock:
        books[key] += 1
start, seq, threads = time.monotonic(), 0, []
while time.monotonic() - start < duration:
    seq += 1
    t = threading.Thread(target=post, args=(seq,)); t.start(); threads.append(t)
    threads = [t for t in threads if t.is_alive()]
    time.sleep(max(0.0, start + seq / rate - time.monotonic()))
for t in threads: t.join()
print(json.dumps({"posted": seq, **books}))
PY
SENDER=$!
BENCH_PIDS+=("$SENDER")

# sample: one line per process (RSS MB, open files, sockets) into $WORK/samples.
sample() {
  local t=$1 svc pid rss fds socks
  for svc in "${SERVICES[@]}"; do
    pid=$(cat "$WORK/data/run/$svc.pid" 2>/dev/null) || continue
    rss=$(awk '/^VmRSS:/ {printf "%.1f", $2 / 1024}' "/proc/$pid/status" 2>/dev/null) || continue
    fds=$(find "/proc/$pid/fd" -mindepth 1 -maxdepth 1 2>/dev/null | wc -l)
    socks=$(find "/proc/$pid/fd" -mindepth 1 -maxdepth 1 -lname 'socket:*' 2>/dev/null | wc -l)
    echo "$t $svc $rss $fds $socks" >>"$WORK/samples"
  done
}
printf "%6s  %s\n" "t (s)" "RSS MB / open files / sockets per service"
t=0
while kill -0 "$SENDER" 2>/dev/null; do
  sample "$t"
  printf "%6s  %s\n" "$t" "$(awk -v t="$t" '$1 == t {printf "%s %s/%s/%s  ", $2, $3, $4, $5}' "$WORK/samples")"
  sleep "$SAMPLE"
  t=$((t + SAMPLE))
done
sample "$t"
wait "$SENDER" || true
BOOKS=$(cat "$WORK/books.json")

echo
echo "after warm-up (t >= $((DURATION / 6)) s) against the end (t = $t s):"
awk -v warm=$((DURATION / 6)) -v end="$t" '
  $1 >= warm && !($2 in first) { first[$2] = $0 }
  $1 == end { last[$2] = $0 }
  END {
    printf "%-13s %12s %12s %10s %10s %10s %10s\n", "service", "RSS MB then", "RSS MB end", "files then", "files end", "socks then", "socks end"
    for (s in last) { split(first[s], a, " "); split(last[s], b, " ");
      printf "%-13s %12s %12s %10s %10s %10s %10s\n", s, a[3], b[3], a[4], b[4], a[5], b[5] }
  }' "$WORK/samples"
echo "books: $BOOKS"
# The books against the services' own counters: every accepted webhook started a run, and
# every run finished (the worker counts them as they complete).
metric() { curl -sf "http://$1/metrics" | awk -v m="$2" 'index($0, m) == 1 {s += $NF} END {print s + 0}'; }
ACCEPTED=$(echo "$BOOKS" | json '.get("200", 0)')
STARTED=$(metric "$API_METRICS" 'ferrocat_runs_started_total{trigger="webhook"}')
for _ in $(seq 1 600); do
  FINISHED=$(metric "$WORKER_METRICS" 'ferrocat_runs_finished_total{status="completed"')
  [ "$FINISHED" -ge "$STARTED" ] && break
  sleep 0.5
done
FAILED=$(metric "$WORKER_METRICS" 'ferrocat_runs_finished_total{status="failed"')
echo "accepted $ACCEPTED, runs started $STARTED, completed $FINISHED, failed $FAILED"
[ "$STARTED" -eq "$ACCEPTED" ] && [ "$FINISHED" -eq "$STARTED" ] && [ "$FAILED" -eq 0 ]
