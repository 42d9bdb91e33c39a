#!/usr/bin/env bash
# Runs the whole test suite from a fresh Debian machine: installs what is missing, makes sure
# Postgres and Redis answer, then lint and every test (unit, integration, end to end).
cd "$(dirname "$0")/.."
. deploy/lib.sh
install_deps
# The edge's ACME tests run against a real ACME server and its DNS (pebble, pebble-challtestsrv).
apt_install pebble
# The SAML tests sign in through a real identity provider, Debian's SimpleSAMLphp under PHP's
# built-in server (no Apache is started).
apt_install simplesamlphp php-cli php-xml php-mbstring
# The systemd units are checked by systemd-analyze verify.
apt_install systemd
# The image (deploy/Containerfile) is built and run on Debian's docker.io engine, which the
# test starts on a private socket and data folder (the package's own service is not used).
apt_install docker.io
# deploy/compose/compose.yml is resolved by docker-compose (`config`) in tests/deploy_compose.rs.
apt_install docker-compose
# deploy/netns-test.sh puts every service in a network namespace of its own (iproute2), with
# Postgres and Redis servers of its own there.
apt_install iproute2 postgresql redis-server
# The browser tests drive Debian's Chromium through its WebDriver (same source, same version).
apt_install chromium chromium-driver
# Registries sync over ssh with a deploy key from a real sshd the tests start on a free port
# (the package's own service is not started).
apt_install openssh-server
ensure_postgres
ensure_redis
# The MCP server is also driven by the official PyPI `mcp` client, and the api's OpenAPI
# document by schemathesis, from a venv of their own.
apt_install python3-venv
# The single sign-on tests sign in through a real OpenID provider, oidc-provider-mock (pinned).
# The Kubernetes manifests are checked offline by kubernetes-validate (its schemas ship in it).
# An external S3 API is moto's S3 server (moto[server], pinned).
if [ ! -x .ferrocat/py/bin/python ] || ! .ferrocat/py/bin/python -c 'import mcp, schemathesis, oidc_provider_mock, kubernetes_validate, moto.server' 2>/dev/null; then
  log "installing the PyPI mcp client, schemathesis, oidc-provider-mock, kubernetes-validate and moto into .ferrocat/py"
  python3 -m venv .ferrocat/py
  .ferrocat/py/bin/pip install -q mcp schemathesis oidc-provider-mock==0.3.4 kubernetes-validate==1.37.0 'moto[server]==5.1.18'
fi
export FERROCAT_TEST_PYTHON="$PWD/.ferrocat/py/bin/python"
export FERROCAT_KUBERNETES_VALIDATE="$PWD/.ferrocat/py/bin/kubernetes-validate"
# ... after `kubectl kustomize` from Debian's kubernetes-client (the oldest kubectl the manifests
# support), unpacked into .ferrocat/kubectl so that it never clashes with an installed kubectl.
if [ ! -x .ferrocat/kubectl/usr/bin/kubectl ]; then
  log "unpacking Debian's kubernetes-client into .ferrocat/kubectl"
  [ "$apt_updated" -eq 1 ] || { as_root apt-get update -qq; apt_updated=1; }
  deb_dir=$(mktemp -d)
  chmod 755 "$deb_dir"   # apt downloads as _apt
  (cd "$deb_dir" && apt-get download -qq kubernetes-client) || { echo "apt-get download kubernetes-client failed" >&2; exit 1; }
  dpkg -x "$deb_dir"/kubernetes-client_*.deb .ferrocat/kubectl
  rm -rf "$deb_dir"
fi
export FERROCAT_KUBECTL="$PWD/.ferrocat/kubectl/usr/bin/kubectl"
# And by npm programs at the versions test-support/npm's lockfile pins (the MCP inspector CLI;
# oauth2-mock-server, the OAuth server the integration grants are tested against), installed
# into .ferrocat/npm (again only when that lockfile changes).
command -v npm >/dev/null 2>&1 || apt_install nodejs npm
if ! cmp -s test-support/npm/package-lock.json .ferrocat/npm/package-lock.json || [ ! -x .ferrocat/npm/node_modules/.bin/mcp-inspector ]; then
  log "installing the test suite's npm programs into .ferrocat/npm"
  mkdir -p .ferrocat/npm
  cp test-support/npm/package.json test-support/npm/package-lock.json .ferrocat/npm/
  (cd .ferrocat/npm && npm ci --ignore-scripts --no-audit --no-fund --loglevel=error)
fi
export FERROCAT_TEST_INSPECTOR="$PWD/.ferrocat/npm/node_modules/.bin/mcp-inspector"
export FERROCAT_TEST_NODE_MODULES="$PWD/.ferrocat/npm/node_modules"
# The console is built first: the binary under test embeds it, and the browser tests use it.
build_console
# axe-core, which the browser tests inject into pages, comes from the console's packages.
export FERROCAT_TEST_AXE="$PWD/console/node_modules/axe-core/axe.min.js"
# Builds use the committed .sqlx query data, never a live database.
export SQLX_OFFLINE=true
log "clippy"
cargo clippy --locked --workspace --all-targets -- -D warnings
log "tests"
results=$(mktemp)
trap 'rm -f "$results"' EXIT
status=0
cargo test --locked --workspace --all-targets --no-fail-fast 2>&1 | tee "$results" || status=$?
# One closing line for the whole suite (cargo prints one per test binary, the last often empty).
awk '/^test result:/ { for (i = 1; i <= NF; i++) { if ($(i+1) ~ /^passed/) p += $i; if ($(i+1) ~ /^failed/) f += $i } }
     END { printf "summary: %d passed, %d failed\n", p, f }' "$results"
exit "$status"
