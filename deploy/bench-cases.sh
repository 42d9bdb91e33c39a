#!/usr/bin/env bash
# Cases benchmark (issue 16): the whole stack (`ferrocat up`, release build) on loopback.
#  1. /cases/search with three filters and a sort over 100,000 cases of one workspace (seeded
#     in SQL), through the edge with a session: p50 and p99 of each query shape, alternated.
#  2. A workflow that creates 1,000 cases with for_each over core.cases.create_case: seconds
#     from the start request to the run's completion, and a check that 1,000 cases exist.
# Goals (the issue's): search p50 under 20 ms and p99 under 100 ms; 1,000 cases under 10 s.
#
#   deploy/bench-cases.sh [REQUESTS_PER_SHAPE]     default 300
#
# Needs what `ferrocat up` needs (and the local Postgres on 5432, as the test suite has).
set -euo pipefail
N=${1:-300}
cd "$(dirname "$0")/.."
. deploy/lib.sh
bench_up cases

# 1. 100,000 cases: statuses, priorities and severities spread over their values, one in three
# tagged phishing, one in five assigned, ages over a year.
psql -h 127.0.0.1 -U postgres -d "$DB" -v ON_ERROR_STOP=1 -q <<'SQL'
INSERT INTO case_tags (id, workspace_id, name, ref, color)
  SELECT gen_random_uuid(), id, 'phishing', 'phishing', '#ff6600' FROM workspaces LIMIT 1;
INSERT INTO cases (id, workspace_id, case_number, summary, description, status, priority, severity, payload, assignee_id, created_at, updated_at)
  SELECT gen_random_uuid(), w.id, n, 'alert ' || n || ' on host-' || (n % 997), 'seeded by the benchmark',
         (ARRAY['new','in_progress','on_hold','resolved','closed'])[1 + n % 5],
         (ARRAY['low','medium','high','critical','unknown'])[1 + (n / 5) % 5],
         (ARRAY['informational','low','medium','high','critical','fatal'])[1 + (n / 7) % 6],
         jsonb_build_object('n', n),
         CASE WHEN n % 5 = 0 THEN (SELECT id FROM users LIMIT 1) END,
         now() - make_interval(mins => n * 5), now() - make_interval(mins => n * 3)
  FROM generate_series(1, 100000) AS n, (SELECT id FROM workspaces LIMIT 1) AS w;
INSERT INTO case_counters (workspace_id, last_number) SELECT id, 100000 FROM workspaces LIMIT 1;
INSERT INTO case_tag_links (case_id, tag_id)
  SELECT c.id, t.id FROM cases c, case_tags t WHERE c.case_number % 3 = 0;
ANALYZE cases; ANALYZE case_tag_links;
SQL

COOKIE=$(awk '$6 == "ferrocat_session" {print $6"="$7}' "$WORK/cookies")
python3 deploy/bench/cases.py "127.0.0.1:$PORT" "$WS" "$COOKIE" "$N"

# 2. 1,000 cases from one workflow's for_each.
cat >"$WORK/wf.yml" <<'YAML'
title: Bench cases
description: opens 1,000 cases
entrypoint: {ref: open}
actions:
  - ref: open
    action: core.cases.create_case
    for_each: ${{ for var.i in FN.range(0, 1000) }}
    args:
      summary: Bench alert ${{ var.i }}
      description: opened by the benchmark
      priority: high
returns: ${{ FN.length(ACTIONS.open.result) }}
YAML
WF=$(curl -sf -b "$WORK/cookies" -F file=@"$WORK/wf.yml" "$API/workflows?workspace_id=$WS" | json '["id"]')
curl -sf -b "$WORK/cookies" -X POST "$API/workflows/$WF/commit?workspace_id=$WS" >/dev/null
start=$(date +%s.%N)
EXEC=$(curl -sf -b "$WORK/cookies" -H 'content-type: application/json' -d "{\"workflow_id\":\"$WF\",\"inputs\":{}}" \
  "$API/workflow-executions?workspace_id=$WS" | json '["wf_exec_id"]')
status=RUNNING
for _ in $(seq 1 3000); do
  status=$(curl -sf -b "$WORK/cookies" "$API/workflow-executions/${EXEC/\//:}?workspace_id=$WS" | json '["status"]')
  [ "$status" != RUNNING ] && break
  sleep 0.05
done
end=$(date +%s.%N)
opened=$(psql -h 127.0.0.1 -U postgres -d "$DB" -Atc "SELECT count(*) FROM cases WHERE summary LIKE 'Bench alert %'")
seconds=$(python3 -c "print(round($end - $start, 2))")
echo
echo "1,000 cases from one workflow's for_each (core.cases.create_case), start to COMPLETED"
printf "%-28s %s\n" "run" "$status" "cases opened" "$opened of 1000" "seconds" "$seconds" \
  "ratio to the 10 s goal" "$(python3 -c "print(round($seconds / 10, 3))")"
[ "$status" = COMPLETED ] && [ "$opened" -eq 1000 ]
