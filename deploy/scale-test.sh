#!/usr/bin/env bash
# Scale-out and a rolling upgrade: two workers and two executors against one Temporal, 500
# webhook runs (each a call from an executor, then a durable timer, then a reshape on a
# worker). A third of the way in, one worker and one executor are killed (SIGKILL); half way,
# a new generation (a third worker and executor) joins; two thirds in, the old generation's
# last worker and executor are stopped (SIGTERM) and drain. Every run must complete, once:
# 500 distinct runs, all COMPLETED, none failed, each with its own result.
# Each run's action calls a counting HTTP server from an executor, and both executors must
# have run some (their logs count the actions they ran); calls that were in flight on the killed executor are retried by Temporal
# (at least once, as activities are), which the script reports.
# Uses Postgres on 127.0.0.1:5432 (trust, user postgres), Redis on 127.0.0.1:6379 and the
# temporal CLI. Usage: deploy/scale-test.sh /path/to/ferrocat [runs]
# Prints `runs: …`, `killed: …`, `joined: …`, `rolled: …`, `drained: …`, `completed: …` and
# `executor N: …` lines; exits non-zero with one line on a failure.
set -euo pipefail
. "$(dirname "$(readlink -f "$0")")/lib.sh"

FERROCAT=$(readlink -f "${1:?usage: deploy/scale-test.sh /path/to/ferrocat [runs]}")
RUNS=${2:-500}
W=$(mktemp -d /tmp/ferrocat-scale.XXXXXX)
DB=ferrocat_scale_$$
PIDS=()

fail() { echo "scale-test: $*" >&2; for f in "$W"/*.log; do [ -s "$f" ] && { echo "--- $(basename "$f")" >&2; tail -5 "$f" >&2; }; done; exit 1; }
cleanup() {
  for pid in "${PIDS[@]}" $(cat "$W/joined.pids" 2>/dev/null); do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  psql -h 127.0.0.1 -U postgres -qc "DROP DATABASE IF EXISTS $DB WITH (FORCE)" >/dev/null 2>&1 || true
  rm -rf "$W"
}
trap cleanup EXIT

open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
wait_open() { for _ in $(seq 1 600); do open "$1" && return 0; sleep 0.1; done; fail "$2 did not open port $1"; }
start() { local name=$1; shift; "$@" >"$W/$name.log" 2>&1 & PIDS+=($!); eval "PID_${name//-/_}=$!"; }

psql -h 127.0.0.1 -U postgres -qc "CREATE DATABASE $DB" >/dev/null || fail "no Postgres on 127.0.0.1:5432 for user postgres"
TPORT=$(free_port); HPORT=$(free_port); APORT=$(free_port); CPORT=$(free_port)
start temporal temporal server start-dev --headless --ip 127.0.0.1 --port "$TPORT" --http-port "$(free_port)" --metrics-port "$(free_port)" \
  --db-filename "$W/temporal.db" --log-level warn
# The counting server the runs call: one line per request, a little work per request.
cat >"$W/counter.py" <<'PY'
import http.server, sys, threading, time
lock = threading.Lock()
out = open(sys.argv[2], "a")
class H(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("content-length", 0)))
        time.sleep(0.2)
        with lock:
            out.write(body.decode() + "\n"); out.flush()
        self.send_response(200); self.send_header("content-type", "application/json"); self.end_headers()
        self.wfile.write(b'{"ok": true}')
    def log_message(self, *a): pass
http.server.ThreadingHTTPServer(("127.0.0.1", int(sys.argv[1])), H).serve_forever()
PY
start counter python3 "$W/counter.py" "$CPORT" "$W/hits.txt"
wait_open "$TPORT" temporal
wait_open "$CPORT" "the counting server"

ADMIN_PASSWORD=$(random_hex 12)
export FERROCAT_DATABASE_URL="postgres://postgres@127.0.0.1:5432/$DB" FERROCAT_REDIS_URL=redis://127.0.0.1:6379 \
  FERROCAT_REDIS_PREFIX="ferrocat:scale$$:" FERROCAT_TEMPORAL_ADDRESS="http://127.0.0.1:$TPORT" \
  FERROCAT_API_ADDR="127.0.0.1:$APORT" FERROCAT_PUBLIC_URL="http://127.0.0.1:$APORT" \
  FERROCAT_DB_ENCRYPTION_KEY=$(random_hex 32) FERROCAT_SIGNING_SECRET=$(random_hex 32) FERROCAT_LLM_GATEWAY_SIGNING_SECRET=$(random_hex 32) \
  FERROCAT_ADMIN_EMAIL=admin@ferrocat.local FERROCAT_ADMIN_PASSWORD="$ADMIN_PASSWORD" \
  FERROCAT_EGRESS_ALLOW="127.0.0.1:$CPORT" FERROCAT_WEBHOOK_RATE_LIMIT=0 FERROCAT_SHUTDOWN_GRACE=2 RUST_LOG=warn
"$FERROCAT" migrate >"$W/migrate.log" 2>&1 || fail "migrate failed"
start api "$FERROCAT" api
for i in 1 2; do
  start "worker$i" "$FERROCAT" worker
  # Each action an executor runs is a debug line in its log: both must have worked.
  start "executor$i" env RUST_LOG=warn,ferrocat_workers::executor=debug "$FERROCAT" executor
done
wait_open "$APORT" "the api"
for _ in $(seq 1 300); do curl -sf "http://127.0.0.1:$APORT/health" >/dev/null && break; sleep 0.1; done
# The workers are ready once their build is the current version of Temporal's worker
# deployment (a run posted before that waits for it, and the executors would idle).
current() { temporal worker deployment describe --name ferrocat --address "127.0.0.1:$TPORT" -o json 2>/dev/null | grep -q '"currentVersionBuildID": "[^"]'; }
for _ in $(seq 1 300); do current && break; sleep 0.2; done
current || fail "the workers' build never became current in Temporal"

API=http://127.0.0.1:$APORT
J="$W/cookies"
sign_in "$API" admin@ferrocat.local "$ADMIN_PASSWORD" "$J" || fail "signing in"
cat >"$W/wf.yml" <<YAML
title: Scale-out
description: a call from an executor, then a reshape on a worker
entrypoint: {ref: call}
actions:
  - ref: call
    action: core.http_request
    args:
      url: http://127.0.0.1:$CPORT/hit
      method: POST
      payload: {n: "\${{ TRIGGER.n }}"}
  - ref: shape
    action: core.transform.reshape
    depends_on: [call]
    start_delay: 1
    args:
      value: {n: "\${{ TRIGGER.n }}", ok: "\${{ ACTIONS.call.result.data.ok }}"}
returns: \${{ ACTIONS.shape.result }}
YAML
workflow_with_webhook "$API" "$J" "$W/wf.yml" || fail "creating the workflow and its webhook"
# The public URL names the edge's /api prefix; this test talks to the api itself.
HOOK=${HOOK/\/api\/webhooks\//\/webhooks\/}

# Post the runs from 8 threads; a third of the way in, kill one worker and one executor; half
# way, start the new generation; two thirds in, stop the old generation's last two.
python3 - "$HOOK" "$RUNS" "$PID_worker1" "$PID_executor1" "$W/posted.txt" "$PID_worker2" "$PID_executor2" "$FERROCAT" "$W" <<'PY' || fail "posting the runs"
import concurrent.futures, json, os, signal, subprocess, sys, threading, urllib.request
hook, runs, worker, executor, out = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), sys.argv[5]
old_worker, old_executor, ferrocat, work = int(sys.argv[6]), int(sys.argv[7]), sys.argv[8], sys.argv[9]
done = 0
lock = threading.Lock()
def join():
    pids = []
    for name, env in (("worker3", {}), ("executor3", {"RUST_LOG": "warn,ferrocat_workers::executor=debug"})):
        log = open(f"{work}/{name}.log", "w")
        pids.append(subprocess.Popen([ferrocat, name[:-1]], stdout=log, stderr=log, env={**os.environ, **env}).pid)
    with open(f"{work}/joined.pids", "w") as f:
        f.write(" ".join(map(str, pids)))
    print(f"joined: worker {pids[0]} and executor {pids[1]} after {done} runs posted", flush=True)
def post(n):
    global done
    req = urllib.request.Request(hook, data=json.dumps({"n": n}).encode(), headers={"content-type": "application/json"})
    with urllib.request.urlopen(req, timeout=30) as r:
        exec_id = json.load(r)["wf_exec_id"]
    with lock:
        done += 1
        if done == runs // 3:
            os.kill(worker, signal.SIGKILL)
            os.kill(executor, signal.SIGKILL)
            print(f"killed: worker {worker} and executor {executor} after {done} runs posted", flush=True)
        elif done == runs // 2:
            join()
        elif done == 2 * runs // 3:
            os.kill(old_worker, signal.SIGTERM)
            os.kill(old_executor, signal.SIGTERM)
            print(f"rolled: worker {old_worker} and executor {old_executor} stopped after {done} runs posted", flush=True)
    return n, exec_id
with concurrent.futures.ThreadPoolExecutor(8) as pool:
    posted = list(pool.map(post, range(runs)))
with open(out, "w") as f:
    json.dump(posted, f)
print(f"runs: {len(posted)} posted, {len({e for _, e in posted})} distinct", flush=True)
PY

# Wait for every run to finish (on the survivors), then check each one's result.
python3 - "$API" "$WS" "$WF" "$J" "$W/posted.txt" "$W/hits.txt" <<'PY' || fail "the runs did not all complete once"
import http.cookiejar, json, sys, time, urllib.request
api, ws, wf, jar_path, posted_path, hits_path = sys.argv[1:]
jar = http.cookiejar.MozillaCookieJar(jar_path); jar.load(ignore_discard=True, ignore_expires=True)
opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
posted = json.load(open(posted_path))
want = {e: n for n, e in posted}
def runs(status):
    url = f"{api}/workflow-executions?workspace_id={ws}&workflow_id={wf}&limit=500&status={status}"
    return opener.open(url, timeout=30).read()
# Polled gently: listing runs is a visibility query, and the dev server's SQLite is busy.
deadline = time.time() + 420
while True:
    completed = json.loads(runs("COMPLETED"))
    if len(completed) >= len(want) or time.time() > deadline:
        break
    time.sleep(3)
failed = json.loads(runs("FAILED")) + json.loads(runs("TIMED_OUT")) + json.loads(runs("TERMINATED"))
if failed:
    sys.exit(f"{len(failed)} runs did not complete: {failed[:2]}")
ids = [r.get("id") or r.get("wf_exec_id") or r.get("execution_id") for r in completed]
if len(ids) != len(set(ids)):
    sys.exit("a run is listed twice")
missing = set(want) - {i for i in ids}
extra = {i for i in ids} - set(want)
if missing or extra or len(completed) != len(want):
    sys.exit(f"{len(completed)} completed of {len(want)}: {len(missing)} missing, {len(extra)} unexpected (first: {sorted(missing)[:1] or sorted(extra)[:1]})")
# Each run's own result (a sample of every tenth, through the api).
for exec_id, n in list(want.items())[::10]:
    run = json.loads(opener.open(f"{api}/workflow-executions/{exec_id}?workspace_id={ws}", timeout=30).read())
    result = run.get("result")
    if not (isinstance(result, dict) and str(result.get("n")) == str(n) and result.get("ok") is True):
        sys.exit(f"run {exec_id} (n={n}) has the result {result!r}")
hits = [json.loads(l)["n"] for l in open(hits_path) if l.strip()]
called = {str(h) for h in hits}
if called != {str(n) for n in want.values()}:
    sys.exit(f"the counting server saw {len(called)} distinct runs of {len(want)}")
print(f"completed: {len(completed)} of {len(want)} runs, each once; {len(hits) - len(called)} calls repeated after the kill", flush=True)
PY
# The old generation drained: each stopped with its work done (within FERROCAT_SHUTDOWN_GRACE).
wait "$PID_worker2" && worker_exit=0 || worker_exit=$?
wait "$PID_executor2" && executor_exit=0 || executor_exit=$?
echo "drained: worker exit $worker_exit, executor exit $executor_exit"
for i in 1 2 3; do
  ran=$(grep -c "action ran" "$W/executor$i.log" || true)
  [ "$ran" -gt 0 ] || fail "executor $i ran no action: the work was not shared"
  echo "executor $i: $ran actions"
done
