#!/usr/bin/env bash
# deploy/compose/compose.yml brought up for real on a private Docker engine (Debian's
# docker.io, started here on a socket and data folder of its own, stopped at the end), with
# ferrocat's image built from the given binary (deploy/image.sh) and Postgres, Redis and
# Temporal built from this host's packages (compose.local.yml, local-images.sh); nothing is
# pulled. Checks the isolation matrix from inside the containers' network namespaces (the
# executor reaches no database, the api does), that no secret of the .env (gen-env.sh) shows
# in any service's log, and runs a webhook through the published edge to its result.
# Needs root (dockerd, nsenter), docker.io, docker-compose, postgresql, redis-server and the
# temporal CLI. Usage: deploy/compose-test.sh /path/to/ferrocat
# Prints `isolation: …` and `webhook: …` lines; exits non-zero with one line on a failure.
set -euo pipefail
HERE=$(dirname "$(readlink -f "$0")")
. "$HERE/lib.sh"

FERROCAT=$(readlink -f "${1:?usage: deploy/compose-test.sh /path/to/ferrocat}")
W=$(mktemp -d /tmp/ferrocat-compose.XXXXXX)
P=fc$$
export DOCKER_HOST=unix://$W/docker/docker.sock
compose() { (cd "$W" && docker-compose --no-ansi -p "$P" -f compose.yml -f compose.local.yml "$@"); }

fail() {
  echo "compose-test: $*" >&2
  [ -f "$W/.env" ] && compose ps >&2 2>/dev/null && compose logs --no-color --tail 8 >&2 2>/dev/null
  exit 1
}
cleanup() {
  [ -f "$W/.env" ] && compose down -v -t 5 >/dev/null 2>&1
  stop_dockerd "$W/docker"
  rm -rf "$W"
}
trap cleanup EXIT

[ "$(id -u)" -eq 0 ] || fail "needs root (dockerd, nsenter)"
command -v docker-compose >/dev/null || fail "needs docker-compose (apt-get install docker-compose)"
start_dockerd "$W/docker" || fail "the private Docker engine did not start"
bash "$HERE/image.sh" "$FERROCAT" ferrocat:compose-test >/dev/null || fail "deploy/image.sh failed"
bash "$HERE/compose/local-images.sh" >/dev/null || fail "deploy/compose/local-images.sh failed"

# The compose files as shipped, a .env from the generator, then this run's image and port.
cp "$HERE/compose/compose.yml" "$HERE/compose/compose.local.yml" "$W/"
bash "$HERE/compose/gen-env.sh" "$W/.env" >/dev/null || fail "gen-env.sh failed"
PORT=$(free_port)
sed -i -e "s|^FERROCAT_IMAGE=.*|FERROCAT_IMAGE=ferrocat:compose-test|" -e "s|^FERROCAT_PORT=.*|FERROCAT_PORT=$PORT|" \
  -e "s|^FERROCAT_PUBLIC_URL=.*|FERROCAT_PUBLIC_URL=http://127.0.0.1:$PORT|" "$W/.env"
ADMIN_EMAIL=$(sed -n 's/^FERROCAT_ADMIN_EMAIL=//p' "$W/.env")
ADMIN_PASSWORD=$(sed -n 's/^FERROCAT_ADMIN_PASSWORD=//p' "$W/.env")
# `up -d` returns once every service started, after the ones others wait for were healthy.
compose up -d >"$W/up.log" 2>&1 || fail "docker-compose up: $(tail -3 "$W/up.log")"

# The isolation matrix, from inside each container's network namespace (this host's bash
# there; the images have no shell), against every address of the target.
container() { echo "${P}_$1_1"; }
addrs() { docker inspect -f '{{range .NetworkSettings.Networks}}{{.IPAddress}} {{end}}' "$(container "$1")"; }
reach() {
  local pid address
  pid=$(docker inspect -f '{{.State.Pid}}' "$(container "$1")")
  for address in $2; do
    nsenter -t "$pid" -n timeout 2 bash -c "exec 3<>/dev/tcp/$address/$3" 2>/dev/null && return 0
  done
  return 1
}
expect executor "$(addrs postgres)" 5432 no "Postgres"
expect executor "$(addrs redis)" 6379 no "Redis"
expect executor "$(addrs temporal-db)" 5432 no "Temporal's database"
expect edge "$(addrs postgres)" 5432 no "Postgres"
expect edge "$(addrs temporal)" 7233 no "Temporal"
expect ui "$(addrs redis)" 6379 no "Redis"
expect api "$(addrs temporal-db)" 5432 no "Temporal's database"
expect api "$(addrs postgres)" 5432 yes "Postgres"
expect api "$(addrs redis)" 6379 yes "Redis"
expect worker "$(addrs postgres)" 5432 yes "Postgres"
expect executor "$(addrs temporal)" 7233 yes "Temporal"
expect executor "$(addrs api)" 8000 yes "the api"
expect temporal "$(addrs temporal-db)" 5432 yes "Temporal's database"
docker inspect -f '{{range .Config.Env}}{{println .}}{{end}}' "$(container executor)" | grep -q '^FERROCAT_DATABASE_URL=' \
  && fail "the executor was given the database's address"

# A webhook through the published edge, to its result.
API=http://127.0.0.1:$PORT/api
for _ in $(seq 1 300); do curl -sf "$API/health" >/dev/null 2>&1 && break; sleep 0.1; done
curl -sf "$API/health" >/dev/null || fail "the api does not answer through the edge on :$PORT"
webhook_round_trip "$API" "$ADMIN_EMAIL" "$ADMIN_PASSWORD" "$W" A-9

# No secret the .env holds in any service's log.
compose logs --no-color >"$W/logs.txt" 2>&1
while IFS='=' read -r key value; do
  case $key in *PASSWORD | *SECRET* | *ENCRYPTION_KEY) grep -qF "$value" "$W/logs.txt" && fail "$key shows in the services' logs" ;; esac
done < <(grep -v '^#' "$W/.env")
echo "logs: no secret of the .env in $(wc -l <"$W/logs.txt") lines"
