#!/usr/bin/env bash
# Runs the whole test suite from a fresh Debian machine: installs what is missing, makes sure
# Postgres and Redis answer, then lint and every test (unit, integration, end to end).
cd "$(dirname "$0")/.."
. deploy/lib.sh
install_deps
ensure_postgres
ensure_redis
# Builds use the committed .sqlx query data, never a live database.
export SQLX_OFFLINE=true
log "clippy"
cargo clippy --locked --workspace --all-targets -- -D warnings
log "tests"
cargo test --locked --workspace --all-targets --no-fail-fast
