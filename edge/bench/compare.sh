#!/usr/bin/env bash
# Compares the ferrocat edge with Caddy (Tracecat's Caddyfile routes) and HAProxy (the same /api
# rewrite and headers) as reverse proxies on loopback, plain HTTP, in front of one toy upstream.
#
#   edge/bench/compare.sh [PATH] [ROUNDS] [SECONDS] [CONNECTIONS]
#   defaults:              /api/bench 3      10        64
#
# Method (see shared/reference/edge.md): each proxy pinned to core 1 (Go sets GOMAXPROCS=1 from
# the mask; the edge runs one worker thread), the upstream and wrk pinned to core 0, a 3 s warm-up
# per round, the order rotated each round so drift hits every proxy alike. Per round: requests/s
# and p99 from wrk, CPU time per request from /proc/PID/stat (utime+stime) over the measured run,
# RSS after it. Prints every round, the medians, and edge/Caddy and edge/HAProxy ratios. The edge
# runs with its default logging (one JSON access line per request, to its stdout, here a file);
# Caddy and HAProxy with none (their defaults).
#
# Needs: cargo, taskset (util-linux), and the Debian packages caddy, haproxy and wrk.
set -euo pipefail

BENCH_PATH=${1:-/api/bench}
ROUNDS=${2:-3}
SECS=${3:-10}
CONNS=${4:-64}

HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
for tool in caddy haproxy wrk taskset; do
    command -v "$tool" >/dev/null || { echo "missing $tool (apt-get install -y caddy haproxy wrk util-linux)" >&2; exit 1; }
done

export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$ROOT/target}
(cd "$ROOT" && cargo build --quiet --release -p ferrocat-edge --examples)
BIN=$CARGO_TARGET_DIR/release/examples

WORK=$(mktemp -d)
PIDS=()
cleanup() {
    for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
    wait 2>/dev/null || true
    rm -rf "$WORK"
}
trap cleanup EXIT

UP=127.0.0.1:18101
EDGE=127.0.0.1:18080
CADDY=127.0.0.1:18081
CADDY_ADMIN=127.0.0.1:18019
HAPROXY=127.0.0.1:18082

taskset -c 0 "$BIN/bench_upstream" "$UP" &
PIDS+=($!)

cat >"$WORK/Caddyfile" <<EOF
{
    admin $CADDY_ADMIN
    auto_https off
}
http://$CADDY {
    handle_path /s3/* {
        reverse_proxy $UP {
            header_up Host {host}
            header_up -Server
        }
    }
    handle_path /api* {
        reverse_proxy $UP {
            header_up X-Real-IP {remote_host}
            header_up X-Forwarded-Host {host}
        }
    }
    handle /mcp* {
        reverse_proxy $UP {
            flush_interval -1
        }
    }
    @oauth path /.well-known/oauth-authorization-server /.well-known/oauth-protected-resource* /authorize* /token /register /consent* /auth/callback*
    handle @oauth {
        reverse_proxy $UP
    }
    handle {
        reverse_proxy $UP
    }
}
EOF
taskset -c 1 caddy run --config "$WORK/Caddyfile" --adapter caddyfile >"$WORK/caddy.log" 2>&1 &
CADDY_PID=$!
PIDS+=($CADDY_PID)

# HAProxy: one thread, keep-alive both sides, Caddy's /api rewrite and forwarding headers.
cat >"$WORK/haproxy.cfg" <<EOF
global
    nbthread 1
    maxconn 4096
defaults
    mode http
    timeout connect 5s
    timeout client 60s
    timeout server 60s
    option http-keep-alive
    http-reuse always
frontend bench
    bind $HAPROXY
    acl is_api path_beg -i /api
    http-request set-header X-Real-IP %[src] if is_api
    http-request set-header X-Forwarded-Host %[req.hdr(host),field(1,:)] if is_api
    http-request set-header X-Forwarded-Proto http
    http-request del-header X-Forwarded-For
    option forwardfor
    http-request replace-path ^/[aA][pP][iI]/?(.*) /\\1 if is_api
    default_backend up
backend up
    server up $UP
EOF
taskset -c 1 haproxy -f "$WORK/haproxy.cfg" >"$WORK/haproxy.log" 2>&1 &
HAPROXY_PID=$!
PIDS+=($HAPROXY_PID)

FERROCAT_EDGE_HTTP_ADDR=$EDGE FERROCAT_EDGE_THREADS=1 \
    FERROCAT_EDGE_API_UPSTREAM=http://$UP FERROCAT_EDGE_MCP_UPSTREAM=http://$UP \
    FERROCAT_EDGE_UI_UPSTREAM=http://$UP FERROCAT_EDGE_S3_UPSTREAM=http://$UP \
    FERROCAT_LOG_FORMAT=json \
    taskset -c 1 "$BIN/edge" >"$WORK/edge.log" 2>&1 &
EDGE_PID=$!
PIDS+=($EDGE_PID)

for addr in $UP $EDGE $CADDY $HAPROXY; do
    for _ in $(seq 100); do
        curl -s -o /dev/null "http://$addr$BENCH_PATH" && break
        sleep 0.1
    done
done
for addr in $EDGE $CADDY $HAPROXY; do
    body=$(curl -s "http://$addr$BENCH_PATH")
    [ "$body" = "hello, bench" ] || { echo "proxy at $addr answered: $body" >&2; exit 1; }
done

TCK=$(getconf CLK_TCK)
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
rss_kb() { awk '/^VmRSS:/ {print $2}' "/proc/$1/status"; }

# One measured run: prints "req_per_s p99_ms cpu_us_per_req rss_mb".
measure() {
    local addr=$1 pid=$2
    taskset -c 0 wrk -t1 -c"$CONNS" -d3s "http://$addr$BENCH_PATH" >/dev/null
    local before after out
    before=$(cpu_ticks "$pid")
    out=$(taskset -c 0 wrk -t1 -c"$CONNS" -d"${SECS}s" --latency "http://$addr$BENCH_PATH")
    after=$(cpu_ticks "$pid")
    local rss
    rss=$(rss_kb "$pid")
    echo "$out" | awk -v ticks=$((after - before)) -v tck="$TCK" -v rss="$rss" '
        function ms(v) {
            if (v ~ /us$/) { sub(/us$/, "", v); return v / 1000 }
            if (v ~ /ms$/) { sub(/ms$/, "", v); return v + 0 }
            if (v ~ /s$/)  { sub(/s$/, "", v);  return v * 1000 }
            return v
        }
        / requests in / { reqs = $1 }
        /Requests\/sec:/ { rps = $2 }
        /^ +99%/ { p99 = ms($2) }
        /Non-2xx or 3xx/ { bad = $NF }
        END {
            if (bad > 0) { print "non-2xx responses: " bad > "/dev/stderr"; exit 1 }
            printf "%.0f %.2f %.1f %.1f\n", rps, p99, ticks / tck * 1e6 / reqs, rss / 1024
        }'
}

median() { sort -g | awk '{a[NR] = $1} END {print (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2}'; }

: >"$WORK/edge.txt"
: >"$WORK/caddy.txt"
: >"$WORK/haproxy.txt"
declare -A ADDR=([edge]=$EDGE [caddy]=$CADDY [haproxy]=$HAPROXY)
declare -A PID=([edge]=$EDGE_PID [caddy]=$CADDY_PID [haproxy]=$HAPROXY_PID)
PROXIES=(edge caddy haproxy)
printf "%-6s %-8s %10s %9s %12s %8s\n" round proxy "req/s" "p99 ms" "CPU us/req" "RSS MB"
for round in $(seq "$ROUNDS"); do
    # Rotate the order: round 1 edge caddy haproxy, round 2 caddy haproxy edge, ...
    for i in 0 1 2; do
        proxy=${PROXIES[$(((round - 1 + i) % 3))]}
        r=$(measure "${ADDR[$proxy]}" "${PID[$proxy]}")
        echo "$r" >>"$WORK/$proxy.txt"
        printf "%-6s %-8s %10s %9s %12s %8s\n" "$round" "$proxy" $r
    done
done

echo
echo "medians over $ROUNDS rounds ($BENCH_PATH, ${SECS}s, $CONNS connections, each proxy on 1 core):"
printf "%-14s %10s %9s %12s %8s\n" proxy "req/s" "p99 ms" "CPU us/req" "RSS MB"
declare -A MED
for proxy in "${PROXIES[@]}"; do
    for col in 1 2 3 4; do
        MED[$proxy$col]=$(cut -d' ' -f$col "$WORK/$proxy.txt" | median)
    done
    printf "%-14s %10s %9s %12s %8s\n" "$proxy" "${MED[${proxy}1]}" "${MED[${proxy}2]}" "${MED[${proxy}3]}" "${MED[${proxy}4]}"
done
ratio() { awk -v a="$1" -v b="$2" 'BEGIN {printf "%.2fx", a / b}'; }
for other in caddy haproxy; do
    printf "%-14s %10s %9s %12s %8s\n" "edge/$other" "$(ratio "${MED[edge1]}" "${MED[${other}1]}")" \
        "$(ratio "${MED[edge2]}" "${MED[${other}2]}")" "$(ratio "${MED[edge3]}" "${MED[${other}3]}")" \
        "$(ratio "${MED[edge4]}" "${MED[${other}4]}")"
done
echo "edge access-log lines written: $(grep -c '"target":"ferrocat_edge::access"' "$WORK/edge.log" || true)"
