#!/usr/bin/env bash
# Builds ferrocat's OCI image (deploy/Containerfile) from a ferrocat binary: lays out a root
# filesystem with the binary, every library `ldd` lists (and the dynamic loader), the CA
# certificates, /etc/passwd and /etc/group naming the user ferrocat (10001), and /tmp; then
# `docker build` without pulling anything (DOCKER_HOST picks the engine).
# Usage: deploy/image.sh BINARY [TAG]   (default TAG ferrocat:latest)
set -euo pipefail
BINARY=$(readlink -f "${1:?usage: deploy/image.sh BINARY [TAG]}")
TAG=${2:-ferrocat:latest}
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/lib.sh"
CTX=$(mktemp -d)
trap 'rm -rf "$CTX"' EXIT
fail() { echo "image.sh: $*" >&2; exit 1; }
[ -x "$BINARY" ] || fail "$BINARY is not an executable"
command -v docker >/dev/null || fail "no docker client (apt-get install docker.io)"
[ -f /etc/ssl/certs/ca-certificates.crt ] || fail "no CA certificates (apt-get install ca-certificates)"

root=$CTX/rootfs
install -d "$root/usr/local/bin" "$root/etc/ssl/certs" "$root/var/lib/ferrocat" "$CTX/state/objects"
install -d -m 1777 "$root/tmp"
# The binary at /usr/local/bin, its libraries at the paths ldd resolves them to.
install -m 0755 "$BINARY" "$root/usr/local/bin/ferrocat"
rootfs_libs "$root" "$BINARY"
install -m 0644 /etc/ssl/certs/ca-certificates.crt "$root/etc/ssl/certs/ca-certificates.crt"
rootfs_user "$root" ferrocat 10001 /var/lib/ferrocat
cp "$HERE/Containerfile" "$CTX/Containerfile"
# The legacy builder (BuildKit would want its own image); its deprecation notice only on failure.
out=$(DOCKER_BUILDKIT=0 docker build --pull=false --quiet -f "$CTX/Containerfile" -t "$TAG" "$CTX" 2>&1) || fail "docker build failed: $out"
echo "built $TAG ($(docker image inspect -f '{{.Size}}' "$TAG") bytes)"
