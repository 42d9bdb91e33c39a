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
CTX=$(mktemp -d)
trap 'rm -rf "$CTX"' EXIT
fail() { echo "image.sh: $*" >&2; exit 1; }
[ -x "$BINARY" ] || fail "$BINARY is not an executable"
command -v docker >/dev/null || fail "no docker client (apt-get install docker.io)"
[ -f /etc/ssl/certs/ca-certificates.crt ] || fail "no CA certificates (apt-get install ca-certificates)"

root=$CTX/rootfs
install -d "$root/usr/local/bin" "$root/etc/ssl/certs" "$root/var/lib/ferrocat" "$CTX/state/objects"
install -d -m 1777 "$root/tmp"
install -m 0755 "$BINARY" "$root/usr/local/bin/ferrocat"
# The libraries as ldd resolves them, at the same paths, and the loader.
ldd "$BINARY" | awk '/=> \//{print $3} /^\t\/[^ ]+ \(/{print $1}' | sort -u | while read -r lib; do
  install -D -m 0755 "$(readlink -f "$lib")" "$root$lib"
done
grep -q "ld-linux" <(find "$root" -name 'ld-linux*') || fail "ldd named no dynamic loader for $BINARY"
install -m 0644 /etc/ssl/certs/ca-certificates.crt "$root/etc/ssl/certs/ca-certificates.crt"
printf 'root:x:0:0:root:/:/nonexistent\nferrocat:x:10001:10001:ferrocat:/var/lib/ferrocat:/nonexistent\nnobody:x:65534:65534:nobody:/:/nonexistent\n' >"$root/etc/passwd"
printf 'root:x:0:\nferrocat:x:10001:\nnogroup:x:65534:\n' >"$root/etc/group"
cp "$HERE/Containerfile" "$CTX/Containerfile"
DOCKER_BUILDKIT=0 docker build --pull=false --quiet -f "$CTX/Containerfile" -t "$TAG" "$CTX" >/dev/null || fail "docker build failed"
echo "built $TAG ($(docker image inspect -f '{{.Size}}' "$TAG") bytes)"
