#!/usr/bin/env bash
# Every service on a host of its own, fenced by the seed's networks, without containers: each
# service (and Postgres with Redis, and Temporal) runs in its own network namespace, joined by
# veth to one bridge per network it belongs to. The bridges carry no address, so nothing routes
# between them, and forwarding is off in every namespace:
#   core     10.231.1.0/24  edge api worker executor mcp llm-gateway ui object-store
#   core-db  10.231.2.0/24  Postgres+Redis, api worker mcp llm-gateway (never the executor)
#   temporal 10.231.3.0/24  Temporal, api worker executor mcp
#   (temporal-db: the dev server keeps its database in-process, so nothing else is on it)
# plus one link from this host to the edge (10.231.9.0/30), the only way in.
# Every service gets the others' addresses from its environment; nothing is on loopback.
# Checks the isolation matrix from inside the namespaces, then runs a webhook through the
# edge to a result. Needs root (ip netns), iproute2, Postgres's and Redis's server binaries and
# the temporal CLI. Usage: deploy/netns-test.sh /path/to/ferrocat
# Prints `isolation: …` and `webhook: …` lines; exits non-zero with one line on a failure.
set -euo pipefail
. "$(dirname "$(readlink -f "$0")")/lib.sh"

FERROCAT=${1:?usage: deploy/netns-test.sh /path/to/ferrocat}
FERROCAT=$(readlink -f "$FERROCAT")
ID=fc$$
W=$(mktemp -d /tmp/ferrocat-netns.XXXXXX)
chmod 755 "$W"
PIDS=()
NSS=()

fail() { echo "netns-test: $*" >&2; for f in "$W"/*.log; do [ -s "$f" ] && { echo "--- $(basename "$f")" >&2; tail -5 "$f" >&2; }; done; exit 1; }

cleanup() {
  for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
  sleep 0.3
  for pid in "${PIDS[@]}"; do kill -9 "$pid" 2>/dev/null || true; done
  for ns in "${NSS[@]}"; do ip netns del "$ns" 2>/dev/null || true; done
  for br in core coredb temporal; do ip link del "$ID$br" 2>/dev/null || true; done
  ip link del "${ID}pub" 2>/dev/null || true
  rm -rf "$W"
}
trap cleanup EXIT

[ "$(id -u)" -eq 0 ] || fail "needs root (ip netns)"
command -v ip >/dev/null || fail "needs iproute2 (ip)"

# Namespaces, one per host; loopback up, forwarding off.
ns() { echo "$ID-$1"; }
for host in edge api worker executor mcp llm ui s3 db temporal; do
  ip netns add "$(ns $host)"
  NSS+=("$(ns $host)")
  ip -n "$(ns $host)" link set lo up
  ip netns exec "$(ns $host)" sysctl -qw net.ipv4.ip_forward=0
done
# Bridges without addresses: switches, not routers.
for br in core coredb temporal; do
  ip link add "$ID$br" type bridge
  ip link set "$ID$br" up
done
# join HOST NETWORK ADDRESS: a veth from the host's namespace to the network's bridge.
n=0
join() {
  n=$((n + 1))
  local inside="v$n" outside="${ID}v$n"
  ip link add "$outside" type veth peer name "$inside" netns "$(ns "$1")"
  ip link set "$outside" master "$ID$2" up
  ip -n "$(ns "$1")" addr add "$3/24" dev "$inside"
  ip -n "$(ns "$1")" link set "$inside" up
}
join edge core 10.231.1.2;   join api core 10.231.1.3;    join worker core 10.231.1.4
join executor core 10.231.1.5; join mcp core 10.231.1.6;  join llm core 10.231.1.7
join ui core 10.231.1.8;     join s3 core 10.231.1.9
join db coredb 10.231.2.10;  join api coredb 10.231.2.3;  join worker coredb 10.231.2.4
join mcp coredb 10.231.2.6;  join llm coredb 10.231.2.7
join temporal temporal 10.231.3.10; join api temporal 10.231.3.3; join worker temporal 10.231.3.4
join executor temporal 10.231.3.5;  join mcp temporal 10.231.3.6
# The way in: this host to the edge.
ip link add "${ID}pub" type veth peer name pub netns "$(ns edge)"
ip addr add 10.231.9.1/30 dev "${ID}pub"
ip link set "${ID}pub" up
ip -n "$(ns edge)" addr add 10.231.9.2/30 dev pub
ip -n "$(ns edge)" link set pub up

# run HOST NAME COMMAND...: in the background, logged to $W/NAME.log.
run() {
  local host=$1 name=$2
  shift 2
  ip netns exec "$(ns "$host")" "$@" >"$W/$name.log" 2>&1 &
  PIDS+=($!)
}
# reach HOST ADDRESS PORT: whether a TCP connection from HOST's namespace is accepted.
reach() { ip netns exec "$(ns "$1")" timeout 3 bash -c "exec 3<>/dev/tcp/$2/$3" 2>/dev/null; }
wait_open() { for _ in $(seq 1 300); do reach "$1" "$2" "$3" && return 0; sleep 0.1; done; fail "$4 did not open $2:$3"; }

# Postgres and Redis on the core-db network.
PG=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1)
[ -x "$PG/postgres" ] || fail "no PostgreSQL server binaries (apt-get install postgresql)"
command -v redis-server >/dev/null || fail "no redis-server"
install -d -o postgres -g postgres "$W/pg"
runuser -u postgres -- "$PG/initdb" -D "$W/pg/data" -U postgres --auth=trust -E UTF8 >"$W/initdb.log" 2>&1 || fail "initdb failed"
echo "host all all 10.231.2.0/24 trust" >>"$W/pg/data/pg_hba.conf"
run db postgres runuser -u postgres -- "$PG/postgres" -D "$W/pg/data" -k "$W/pg" -c listen_addresses=10.231.2.10 -p 5432
run db redis redis-server --bind 10.231.2.10 --port 6379 --save "" --appendonly no --protected-mode no
# Temporal on the temporal network (on every address of its namespace: the dev server's
# services also call each other on loopback).
run temporal temporal temporal server start-dev --headless --ip 0.0.0.0 --port 7233 --http-port 7243 --metrics-port 7244 \
  --db-filename "$W/temporal.db" --log-level warn
wait_open api 10.231.2.10 5432 postgres
wait_open api 10.231.2.10 6379 redis
wait_open api 10.231.3.10 7233 temporal
runuser -u postgres -- psql -h "$W/pg" -U postgres -qc "CREATE DATABASE ferrocat" >/dev/null || fail "creating the database"

# The isolation matrix, before any of ours runs.
expect executor 10.231.2.10 5432 no "Postgres"
expect executor 10.231.2.10 6379 no "Redis"
expect edge 10.231.2.10 5432 no "Postgres"
expect ui 10.231.2.10 5432 no "Postgres"
expect edge 10.231.3.10 7233 no "Temporal"
expect api 10.231.2.10 5432 yes "Postgres"
expect worker 10.231.2.10 6379 yes "Redis"
expect executor 10.231.3.10 7233 yes "Temporal"
# Even with routes both ways through the api's host, which is on both networks, nothing
# passes: forwarding is off there.
ip -n "$(ns executor)" route add 10.231.2.0/24 via 10.231.1.3
ip -n "$(ns db)" route add 10.231.1.0/24 via 10.231.2.3
expect executor 10.231.2.10 5432 no "Postgres through the api's host"
ip -n "$(ns executor)" route del 10.231.2.0/24 via 10.231.1.3
ip -n "$(ns db)" route del 10.231.1.0/24 via 10.231.2.3

# The services' settings: every address another host's.
ADMIN_PASSWORD=$(random_hex 12)
common=(
  FERROCAT_PUBLIC_URL=http://10.231.9.2:8080
  FERROCAT_ADMIN_EMAIL=admin@ferrocat.local
  FERROCAT_TEMPORAL_ADDRESS=http://10.231.3.10:7233
  FERROCAT_API_ADDR=10.231.1.3:8000
  FERROCAT_MCP_ADDR=10.231.1.6:8099
  FERROCAT_LLM_GATEWAY_ADDR=10.231.1.7:4000
  FERROCAT_UI_ADDR=10.231.1.8:3000
  FERROCAT_S3_ADDR=10.231.1.9:9000
  FERROCAT_S3_DIR="$W/objects"
  FERROCAT_S3_ACCESS_KEY=ferrocat
  FERROCAT_S3_SECRET_KEY=$(random_hex 24)
  FERROCAT_SIGNING_SECRET=$(random_hex 32)
  FERROCAT_LLM_GATEWAY_SIGNING_SECRET=$(random_hex 32)
  FERROCAT_EDGE_HTTP_ADDR=10.231.9.2:8080
  FERROCAT_EDGE_API_UPSTREAM=http://10.231.1.3:8000
  FERROCAT_EDGE_MCP_UPSTREAM=http://10.231.1.6:8099
  FERROCAT_EDGE_UI_UPSTREAM=http://10.231.1.8:3000
  FERROCAT_EDGE_S3_UPSTREAM=http://10.231.1.9:9000
  FERROCAT_SHUTDOWN_GRACE=2
  RUST_LOG=warn
)
database=(
  FERROCAT_DATABASE_URL=postgres://postgres@10.231.2.10:5432/ferrocat
  FERROCAT_REDIS_URL=redis://10.231.2.10:6379
  FERROCAT_DB_ENCRYPTION_KEY=$(random_hex 32)
  FERROCAT_ADMIN_PASSWORD=$ADMIN_PASSWORD
)
ip netns exec "$(ns api)" env "${common[@]}" "${database[@]}" "$FERROCAT" migrate >"$W/migrate.log" 2>&1 || fail "migrate failed"
for svc in api:api worker:worker mcp:mcp llm:llm-gateway; do
  run "${svc%%:*}" "${svc#*:}" env "${common[@]}" "${database[@]}" "$FERROCAT" "${svc#*:}"
done
# The executor, the UI, the object store and the edge get no database credentials at all.
for svc in executor:executor ui:ui s3:object-store edge:edge; do
  run "${svc%%:*}" "${svc#*:}" env "${common[@]}" "$FERROCAT" "${svc#*:}"
done
wait_open edge 10.231.1.3 8000 "the api"
wait_open edge 10.231.1.9 9000 "the object store"
wait_open edge 10.231.1.8 3000 "the ui"
API=http://10.231.9.2:8080/api
for _ in $(seq 1 300); do curl -sf "$API/health" >/dev/null 2>&1 && break; sleep 0.1; done
curl -sf "$API/health" >/dev/null || fail "the api does not answer through the edge"
# Ours, once running: the executor still reaches neither.
expect executor 10.231.2.10 5432 no "Postgres"
expect executor 10.231.1.3 8000 yes "the api"

# A webhook through the edge, to its result.
webhook_round_trip "$API" admin@ferrocat.local "$ADMIN_PASSWORD" "$W" A-7
