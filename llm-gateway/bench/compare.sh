#!/usr/bin/env bash
# Benchmarks the gateway against LiteLLM and against the upstream directly, all three in front of
# the same mock provider (release build of examples/mock_provider.rs), in alternated rounds.
# Prints, per target and connection count: requests/s, p50/p99 latency, overhead over direct,
# CPU per request (utime+stime from /proc/PID/stat), RSS, and streaming time to first byte.
#
#   llm-gateway/bench/compare.sh            # DURATION=10s CONNS="1 16" ROUNDS=2 SKIP_LITELLM=0
#
# Needs: cargo, python3 (venv), and `hey` (apt-get install -y hey) or `oha` (cargo install oha).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
work="${BENCH_DIR:-/tmp/ferrocat-llm-bench}"
DURATION="${DURATION:-10s}"
CONNS="${CONNS:-1 16}"
ROUNDS="${ROUNDS:-2}"
SKIP_LITELLM="${SKIP_LITELLM:-0}"
MOCK_PORT=9710 GW_PORT=9720 LITELLM_PORT=9730
mkdir -p "$work"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$repo/target}"

pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; }
trap cleanup EXIT

echo "== building (release)" >&2
(cd "$repo" && cargo build --release -q -p ferrocat-llm-gateway --example mock_provider --example gateway)
bin="$CARGO_TARGET_DIR/release/examples"

if ! command -v hey >/dev/null; then
    echo "== installing hey" >&2
    apt-get install -y -qq hey >/dev/null
fi

if [ "$SKIP_LITELLM" != 1 ] && [ ! -x "$work/venv/bin/litellm" ]; then
    echo "== installing litellm[proxy] into $work/venv" >&2
    python3 -m venv "$work/venv"
    "$work/venv/bin/pip" install -q 'litellm[proxy]'
fi

wait_http() { for _ in $(seq 1 300); do curl -fs "$1" >/dev/null 2>&1 && return 0; sleep 0.1; done; echo "no answer from $1" >&2; exit 1; }

"$bin/mock_provider" "127.0.0.1:$MOCK_PORT" >"$work/mock.log" 2>&1 & mock_pid=$!; pids+=("$mock_pid")
wait_http "http://127.0.0.1:$MOCK_PORT/v1/models"

cat >"$work/models.toml" <<TOML
[providers.mock]
kind = "openai"
base_url = "http://127.0.0.1:$MOCK_PORT/v1"
credential = "env:BENCH_UPSTREAM_KEY"
[[models]]
name = "mock-gpt"
provider = "mock"
upstream_model = "gpt-4o-mini"
TOML
secret="bench-signing-secret-$(head -c 16 /dev/urandom | od -An -tx1 | tr -d ' \n')"
FERROCAT_LLM_GATEWAY_ADDR="127.0.0.1:$GW_PORT" FERROCAT_LLM_GATEWAY_SIGNING_SECRET="$secret" \
FERROCAT_LLM_GATEWAY_MODELS="$work/models.toml" BENCH_UPSTREAM_KEY=sk-upstream-fake RUST_LOG=warn \
    "$bin/gateway" >"$work/gateway.log" 2>&1 & gw_pid=$!; pids+=("$gw_pid")
wait_http "http://127.0.0.1:$GW_PORT/health"
token="$(python3 - "$secret" <<'PY'
import base64, hashlib, hmac, json, sys, time
b64 = lambda b: base64.urlsafe_b64encode(b).rstrip(b"=").decode()
payload = b64(json.dumps({"workspace_id": "bench", "model": "mock-gpt", "exp": int(time.time()) + 86400}).encode())
print(payload + "." + b64(hmac.new(sys.argv[1].encode(), payload.encode(), hashlib.sha256).digest()))
PY
)"

if [ "$SKIP_LITELLM" != 1 ]; then
    cat >"$work/litellm.yaml" <<YAML
model_list:
  - model_name: mock-gpt
    litellm_params: {model: openai/gpt-4o-mini, api_base: "http://127.0.0.1:$MOCK_PORT/v1", api_key: sk-upstream-fake}
litellm_settings: {callbacks: [], num_retries: 0, request_timeout: 30, telemetry: false}
general_settings: {master_key: os.environ/LITELLM_MASTER_KEY}
YAML
    export LITELLM_MASTER_KEY="sk-bench-$(head -c 16 /dev/urandom | od -An -tx1 | tr -d ' \n')" LITELLM_LOCAL_MODEL_COST_MAP=True LITELLM_LOG=ERROR
    "$work/venv/bin/litellm" --config "$work/litellm.yaml" --host 127.0.0.1 --port "$LITELLM_PORT" --num_workers 1 >"$work/litellm.log" 2>&1 & ll_pid=$!; pids+=("$ll_pid")
    wait_http "http://127.0.0.1:$LITELLM_PORT/health/liveliness"
fi

body="$work/body.json"
echo '{"model":"mock-gpt","messages":[{"role":"user","content":"Say hello."}],"max_tokens":16}' >"$body"

# target name -> url, auth header, pid whose CPU is counted
declare -A url auth pid
url[direct]="http://127.0.0.1:$MOCK_PORT/v1/chat/completions"; auth[direct]="Authorization: Bearer sk-upstream-fake"; pid[direct]=$mock_pid
url[ferrocat]="http://127.0.0.1:$GW_PORT/v1/chat/completions"; auth[ferrocat]="Authorization: Bearer $token"; pid[ferrocat]=$gw_pid
targets="direct ferrocat"
if [ "$SKIP_LITELLM" != 1 ]; then
    url[litellm]="http://127.0.0.1:$LITELLM_PORT/v1/chat/completions"; auth[litellm]="Authorization: Bearer $LITELLM_MASTER_KEY"; pid[litellm]=$ll_pid
    targets="$targets litellm"
fi

cpu_ticks() { # utime+stime of a process and its waited-for children
    awk '{print $14+$15+$16+$17}' "/proc/$1/stat"
}
rss_kb() { awk '/VmRSS/ {print $2}' "/proc/$1/status"; }
hz=$(getconf CLK_TCK)

echo "== warm-up" >&2
for t in $targets; do hey -n 2000 -c 8 -m POST -T application/json -H "${auth[$t]}" -D "$body" "${url[$t]}" >/dev/null; done

results="$work/results.tsv"
: >"$results"
for round in $(seq 1 "$ROUNDS"); do
    for c in $CONNS; do
        for t in $targets; do
            p=${pid[$t]}
            before=$(cpu_ticks "$p")
            out=$(hey -z "$DURATION" -c "$c" -m POST -T application/json -H "${auth[$t]}" -D "$body" "${url[$t]}")
            after=$(cpu_ticks "$p")
            python3 - "$t" "$c" "$round" "$before" "$after" "$hz" "$(rss_kb "$p")" >>"$results" <<PY
import re, sys
t, c, rnd, before, after, hz, rss = sys.argv[1:]
out = """$out"""
rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
total = sum(int(n) for n in re.findall(r"\[2\d\d\]\s+(\d+) responses", out))
errors = sum(int(n) for n in re.findall(r"\[[^2]\d\d\]\s+(\d+) responses", out))
pct = dict(re.findall(r"(\d+)% in ([\d.]+) secs", out))
cpu_ms = (int(after) - int(before)) * 1000 / int(hz) / max(total, 1)
print(f"{t}\t{c}\t{rnd}\t{rps:.0f}\t{float(pct['50'])*1e3:.3f}\t{float(pct['99'])*1e3:.3f}\t{cpu_ms:.4f}\t{int(rss)//1024}\t{errors}")
PY
            echo "round $round c=$c $t: $(tail -1 "$results")" >&2
        done
    done
done

echo "== streaming time to first byte (sequential, 200 requests)" >&2
ttfb="$work/ttfb.tsv"
: >"$ttfb"
for t in $targets; do
    python3 - "$t" "${url[$t]}" "${auth[$t]}" >>"$ttfb" <<'PY'
import http.client, json, sys, time, urllib.parse
name, url, auth = sys.argv[1:]
u = urllib.parse.urlsplit(url)
body = json.dumps({"model": "mock-gpt", "stream": True, "messages": [{"role": "user", "content": "hi"}]})
headers = {"Content-Type": "application/json", auth.split(": ", 1)[0]: auth.split(": ", 1)[1]}
conn = http.client.HTTPConnection(u.hostname, u.port)
firsts, totals = [], []
for i in range(205):
    t0 = time.perf_counter()
    conn.request("POST", u.path, body, headers)
    r = conn.getresponse()
    first = None
    while True:
        line = r.readline()
        if not line:
            break
        if first is None and line.startswith(b"data:"):
            first = time.perf_counter() - t0
    total = time.perf_counter() - t0
    if i >= 5:
        firsts.append(first * 1e3); totals.append(total * 1e3)
q = lambda xs, p: sorted(xs)[min(len(xs) - 1, int(len(xs) * p))]
print(f"{name}\t{q(firsts, .5):.3f}\t{q(firsts, .99):.3f}\t{q(totals, .5):.3f}")
PY
done

python3 - "$results" "$ttfb" <<'PY'
import statistics, sys
rows = [l.split("\t") for l in open(sys.argv[1]).read().split("\n") if l]
ttfb = {l.split("\t")[0]: l.split("\t")[1:] for l in open(sys.argv[2]).read().split("\n") if l}
by = {}
for t, c, _, rps, p50, p99, cpu, rss, err in rows:
    by.setdefault((t, int(c)), []).append((float(rps), float(p50), float(p99), float(cpu), int(rss), int(err)))
med = lambda xs: statistics.median(xs)
print(f"{'target':<10}{'c':>4}{'req/s':>10}{'p50 ms':>9}{'p99 ms':>9}{'+p50 ms':>9}{'+p99 ms':>9}{'CPU ms/req':>12}{'RSS MB':>8}{'errors':>8}")
for (t, c), xs in sorted(by.items(), key=lambda kv: (kv[0][1], ["direct", "ferrocat", "litellm"].index(kv[0][0]))):
    d = by.get(("direct", c))
    rps, p50, p99, cpu = (med([x[i] for x in xs]) for i in range(4))
    dp50, dp99 = (med([x[i] for x in d]) for i in (1, 2)) if d else (0, 0)
    extra = (f"{p50 - dp50:>9.3f}{p99 - dp99:>9.3f}") if t != "direct" else f"{'':>9}{'':>9}"
    print(f"{t:<10}{c:>4}{rps:>10.0f}{p50:>9.3f}{p99:>9.3f}{extra}{cpu:>12.4f}{max(x[4] for x in xs):>8}{sum(x[5] for x in xs):>8}")
print()
print(f"{'target':<10}{'TTFB p50 ms':>13}{'TTFB p99 ms':>13}{'total p50 ms':>14}")
for t, (a, b, c) in ttfb.items():
    print(f"{t:<10}{float(a):>13.3f}{float(b):>13.3f}{float(c):>14.3f}")
PY
