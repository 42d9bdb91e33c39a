#!/usr/bin/env bash
# Brings the whole ferrocat stack up on this host from a fresh Debian machine:
# installs what is missing, builds the release binary, then runs `ferrocat up "$@"`.
cd "$(dirname "$0")/.."
. deploy/lib.sh
install_deps
ensure_postgres
ensure_redis
build_console
log "building ferrocat (release; the first build takes several minutes)"
cargo build --release --locked --bin ferrocat
exec "${CARGO_TARGET_DIR:-target}/release/ferrocat" up "$@"
