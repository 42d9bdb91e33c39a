#!/usr/bin/env bash
# Runs Tracecat's own workflow/expected pairs (tests/data/workflows/*_expected.yml in a Tracecat
# checkout) through `ferrocat run --output context` and compares the contexts. A development
# check, not part of the suite: Tracecat's files are AGPL and stay in its checkout.
#
#   deploy/tracecat-check.sh TRACECAT_CHECKOUT/tests/data/workflows
#
# Prints one line per pair (same / DIFFERENT / FAILED) and exits 1 when any is not the same.
set -uo pipefail
DIR=${1:?usage: deploy/tracecat-check.sh DIR_WITH_WORKFLOW_YAML}
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$PWD/target}
cargo build --quiet --locked -p ferrocat || exit 1
BIN=$CARGO_TARGET_DIR/debug/ferrocat
status=0
for expected in "$DIR"/*_expected.yml; do
  name=$(basename "$expected" _expected.yml)
  workflow=$DIR/$name.yml
  [ -f "$workflow" ] || continue
  got=$("$BIN" run "$workflow" --output context 2>/tmp/tracecat-check.err)
  code=$?
  if [ $code -ne 0 ]; then
    echo "FAILED    $name (exit $code): $(head -c 300 /tmp/tracecat-check.err)"
    status=1
    continue
  fi
  # Tracecat's expected files omit empty TRIGGER values and compare the rest exactly.
  if python3 - "$expected" "$got" <<'PY'
import json, sys, yaml
expected = yaml.safe_load(open(sys.argv[1])) or {}
got = json.loads(sys.argv[2])
expected = {k: (v or {}) for k, v in expected.items()}
got = {k: (got.get(k) or {}) for k in expected}
if expected != got:
    print(json.dumps({"expected": expected, "got": got}, indent=1)[:2000], file=sys.stderr)
    sys.exit(1)
PY
  then
    echo "same      $name"
  else
    echo "DIFFERENT $name"
    status=1
  fi
done
exit $status
