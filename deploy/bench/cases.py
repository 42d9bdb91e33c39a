"""Times /cases/search through the edge: each query shape (three filters and a sort) in turn,
alternated request by request on one keep-alive connection, and prints p50 and p99 per shape
and over all, with their ratio to the issue's goals (p50 20 ms, p99 100 ms).

    python3 deploy/bench/cases.py HOST:PORT WORKSPACE_ID COOKIE REQUESTS_PER_SHAPE
"""

import http.client
import json
import statistics
import sys
import time

host, workspace, cookie, per_shape = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])

SHAPES = {
    "status+priority+severity, newest first": "status=new&status=in_progress&priority=high&priority=critical&severity=high&order_by=created_at&sort=desc",
    "status+priority+tag, by priority": "status=new&priority=high&priority=critical&tags=phishing&order_by=priority&sort=desc",
    "text+status+unassigned, by updated": "search_term=host-42&status=in_progress&assignee_id=unassigned&order_by=updated_at&sort=desc",
    "severity+tag+created range, by severity": "severity=critical&severity=fatal&tags=phishing&start_time=2026-01-01T00:00:00Z&order_by=severity&sort=asc",
}

conn = http.client.HTTPConnection(host, timeout=30)


def get(query):
    path = f"/api/cases/search?workspace_id={workspace}&limit=20&{query}"
    started = time.perf_counter()
    conn.request("GET", path, headers={"Cookie": cookie})
    response = conn.getresponse()
    body = response.read()
    elapsed = (time.perf_counter() - started) * 1000
    if response.status != 200:
        sys.exit(f"{path}: {response.status} {body[:300]!r}")
    return elapsed, json.loads(body)


# Warm-up, and each shape finds something.
for name, query in SHAPES.items():
    for _ in range(20):
        _, page = get(query)
    if not page["items"]:
        sys.exit(f"the shape {name!r} found no case: the seed or the filters are wrong")

times = {name: [] for name in SHAPES}
for _ in range(per_shape):
    for name, query in SHAPES.items():
        times[name].append(get(query)[0])


def p(values, q):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


print(f"/cases/search over 100,000 cases, limit 20, {per_shape} requests per shape, alternated, one keep-alive connection")
print(f"{'shape':44} {'p50 ms':>8} {'p99 ms':>8}")
everything = []
for name, values in times.items():
    everything += values
    print(f"{name:44} {statistics.median(values):8.2f} {p(values, 0.99):8.2f}")
p50, p99 = statistics.median(everything), p(everything, 0.99)
print(f"{'all':44} {p50:8.2f} {p99:8.2f}")
print(f"ratio to the goals: p50 {p50 / 20:.3f} of 20 ms, p99 {p99 / 100:.3f} of 100 ms")
