#!/usr/bin/env bash
# Lookup tables benchmark (issue 17): the whole stack (`ferrocat up`, release build) on loopback.
#  1. core.table.lookup on the unique column of a 1,000,000-row table, from inside a workflow
#     (for_each over 1,000 values, half of them present): each lookup's time inside the action
#     (its `table action ran` debug line), p50 and p99; beside it the whole for_each, which runs
#     its lookups in one activity, inside the executor (`action ran`) and as Temporal saw it.
#  2. core.table.is_in over 1,000 values in one call (values:), 30 runs: p50 and p99 inside the
#     action.
#  3. CSV import of 100,000 rows (POST /tables/import), 3 runs: median seconds.
# Goals (the issue's): lookup p50 under 5 ms; is_in of 1,000 values under 20 ms; import under 5 s.
#
#   deploy/bench-tables.sh [LOOKUPS]     default 1000
#
# Needs what `ferrocat up` needs (and the local Postgres on 5432, as the test suite has).
set -euo pipefail
N=${1:-1000}
cd "$(dirname "$0")/.."
. deploy/lib.sh
bench_up tables RUST_LOG=warn,ferrocat_workers::executor=debug,ferrocat_registry::actions::tables=debug FERROCAT_LOG_FORMAT=json

# The table through the api, its million rows seeded in SQL into the table the api made.
TABLE=$(curl -sf -b "$WORK/cookies" -H 'content-type: application/json' "$API/tables?workspace_id=$WS" -d '{"name": "known_bad_ips",
  "columns": [{"name": "ip", "type": "TEXT", "is_index": true}, {"name": "verdict", "type": "TEXT"}, {"name": "score", "type": "INTEGER"}]}')
read -r PHYS C_IP C_VERDICT C_SCORE < <(echo "$TABLE" | python3 -c '
import sys, json
t = json.load(sys.stdin)
h = lambda u: u.replace("-", "")
print("t_" + h(t["id"]), *["c_" + h(c["id"]) for c in t["columns"]])')
psql -h 127.0.0.1 -U postgres -d "$DB" -v ON_ERROR_STOP=1 -q <<SQL
INSERT INTO table_rows."$PHYS" ("$C_IP", "$C_VERDICT", "$C_SCORE")
  SELECT '10.' || (n >> 16) || '.' || ((n >> 8) & 255) || '.' || (n & 255), (ARRAY['malicious','suspicious','benign'])[1 + n % 3], n % 100
  FROM generate_series(1, 1000000) AS n;
ANALYZE table_rows."$PHYS";
SQL
echo "seeded $(psql -h 127.0.0.1 -U postgres -d "$DB" -Atc "SELECT count(*) FROM table_rows.\"$PHYS\"") rows"

# Runs a committed workflow with inputs (a JSON file) and waits for it; prints the execution id.
run_workflow() {
  local wf=$1 inputs=$2 exec status
  exec=$(python3 -c "import json,sys; print(json.dumps({'workflow_id': sys.argv[1], 'inputs': json.load(open(sys.argv[2]))}))" "$wf" "$inputs" |
    curl -sf -b "$WORK/cookies" -H 'content-type: application/json' -d @- "$API/workflow-executions?workspace_id=$WS" | json '["wf_exec_id"]')
  for _ in $(seq 1 6000); do
    status=$(curl -sf -b "$WORK/cookies" "$API/workflow-executions/${exec/\//:}?workspace_id=$WS" | json '["status"]')
    [ "$status" != RUNNING ] && break
    sleep 0.05
  done
  [ "$status" = COMPLETED ] || { echo "run $exec ended $status" >&2; exit 1; }
  echo "$exec"
}
commit() {
  local wf
  wf=$(curl -sf -b "$WORK/cookies" -F file=@"$1" "$API/workflows?workspace_id=$WS" | json '["id"]')
  curl -sf -b "$WORK/cookies" -X POST "$API/workflows/$wf/commit?workspace_id=$WS" >/dev/null
  echo "$wf"
}

# 1. Lookups from inside a workflow.
python3 - "$N" >"$WORK/ips.json" <<'PY'
import json, random, sys
n = int(sys.argv[1]); random.seed(7)
ips = [f"10.{(k >> 16)}.{(k >> 8) & 255}.{k & 255}" if i % 2 == 0 else f"192.0.2.{i % 250}-{i}"
       for i, k in enumerate(random.randint(1, 1000000) for _ in range(n))]
print(json.dumps({"ips": ips}))
PY
cat >"$WORK/lookup.yml" <<'YAML'
title: Bench lookups
description: looks each ip up in the million-row table
entrypoint: {ref: look}
actions:
  - ref: look
    action: core.table.lookup
    for_each: ${{ for var.ip in TRIGGER.ips }}
    args:
      table: known_bad_ips
      column: ip
      value: ${{ var.ip }}
returns: ${{ FN.length(ACTIONS.look.result) }}
YAML
LOOKUP=$(commit "$WORK/lookup.yml")
EXEC=$(run_workflow "$LOOKUP" "$WORK/ips.json")
curl -sf -b "$WORK/cookies" "$API/workflow-executions/${EXEC/\//:}?workspace_id=$WS" >"$WORK/lookup-detail.json"

# 2. is_in over 1,000 values in one call, 30 runs.
python3 -c "
import json, random; random.seed(9)
print(json.dumps({'ips': [f'10.{k >> 16}.{(k >> 8) & 255}.{k & 255}' if i % 2 else f'198.51.100.{i % 250}' for i, k in enumerate(random.randint(1, 1000000) for _ in range(1000))]}))" >"$WORK/many.json"
cat >"$WORK/is_in.yml" <<'YAML'
title: Bench is_in
description: checks 1,000 values in one call
entrypoint: {ref: check}
actions:
  - ref: check
    action: core.table.is_in
    args:
      table: known_bad_ips
      column: ip
      values: ${{ TRIGGER.ips }}
returns: ${{ FN.length(ACTIONS.check.result) }}
YAML
IS_IN=$(commit "$WORK/is_in.yml")
for _ in $(seq 1 30); do run_workflow "$IS_IN" "$WORK/many.json" >/dev/null; done

# 3. CSV import of 100,000 rows, 3 runs.
python3 - >"$WORK/import.csv" <<'PY'
import random
random.seed(11)
print("ip,verdict,score,first_seen,context")
for n in range(100000):
    print(f"172.16.{n >> 8 & 255}.{n & 255},{random.choice(['malicious','suspicious','benign'])},{n % 100},"
          f"2026-12-{1 + n % 28:02d}T{n % 24:02d}:00:00Z,\"{{\"\"feed\"\": \"\"bench\"\", \"\"n\"\": {n}}}\"")
PY
IMPORTS=()
for i in 1 2 3; do
  start=$(date +%s.%N)
  rows=$(curl -sf -b "$WORK/cookies" -F file=@"$WORK/import.csv" -F "table_name=imported_$i" "$API/tables/import?workspace_id=$WS" | json '["rows_inserted"]')
  end=$(date +%s.%N)
  [ "$rows" = 100000 ] || { echo "import $i wrote $rows rows" >&2; exit 1; }
  IMPORTS+=("$(python3 -c "print($end - $start)")")
done

python3 - "$WORK/up.log" "$WORK/lookup-detail.json" "$(du -k "$WORK/import.csv" | cut -f1)" "${IMPORTS[@]}" <<'PY'
import json, re, statistics, sys
from datetime import datetime
log, detail_path, csv_kib, *imports = sys.argv[1:]
micros = {"core.table.lookup": [], "core.table.is_in": []}
activity = []
# JSON lines: {"message":"table action ran","action":…,"micros":…,"ok":true} per call, and the
# executor's {"message":"action ran",…} per activity.
for line in open(log, errors="replace"):
    if '"ok":true' not in line:
        continue
    action, took = re.search(r'"action":"([^"]+)"', line), re.search(r'"micros":(\d+)', line)
    if not (action and took):
        continue
    if '"table action ran"' in line and action.group(1) in micros:
        micros[action.group(1)].append(int(took.group(1)) / 1000)
    elif '"action ran"' in line and action.group(1) == "core.table.lookup":
        activity.append(int(took.group(1)) / 1000)
def pct(xs, p):
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(round(p / 100 * (len(xs) - 1))))]
detail = json.load(open(detail_path))
outer = []
for e in detail.get("events", []):
    if e.get("action_name") == "core.table.lookup" and e.get("start_time") and e.get("close_time"):
        t = lambda s: datetime.fromisoformat(s.replace("Z", "+00:00"))
        outer.append((t(e["close_time"]) - t(e["start_time"])).total_seconds() * 1000)
print()
print(f"{'measure':<52} {'n':>5} {'p50':>9} {'p99':>9} {'goal':>8} {'p50/goal':>9}")
rows = [
    ("core.table.lookup, 1M rows, one call (ms)", micros["core.table.lookup"], 5),
    ("  the for_each of them, one activity, executor (ms)", activity, None),
    ("  the same activity, Temporal started-closed (ms)", outer, None),
    ("core.table.is_in, 1,000 values, one call (ms)", micros["core.table.is_in"], 20),
]
ok = True
for name, xs, goal in rows:
    if not xs:
        print(f"{name:<52} {0:>5} (no samples)"); ok = False; continue
    p50, p99 = statistics.median(xs), pct(xs, 99)
    ratio = f"{p50 / goal:.3f}" if goal else ""
    print(f"{name:<52} {len(xs):>5} {p50:>9.2f} {p99:>9.2f} {goal or '':>8} {ratio:>9}")
    if goal and p50 >= goal: ok = False
secs = sorted(float(x) for x in imports)
median = statistics.median(secs)
print(f"{'CSV import, 100,000 rows (' + csv_kib + ' KiB), seconds':<52} {len(secs):>5} {median:>9.2f} {max(secs):>9.2f} {5:>8} {median / 5:>9.3f}")
if median >= 5: ok = False
sys.exit(0 if ok else 1)
PY
