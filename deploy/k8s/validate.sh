#!/usr/bin/env bash
# Validates the Kubernetes manifests offline: renders every overlay (and the optional
# temporal-db kustomization) with `kubectl kustomize`, checks each document against the
# Kubernetes schemas with kubernetes-validate --strict, then asserts on the rendered YAML:
#   - no NetworkPolicy rule selecting the executor's pods allows egress to port 5432, 6379 or 9100
#     (metrics), and only the namespaces labelled ferrocat.io/metrics-scraper reach 9100;
#   - every Deployment's (and Job's) containers run with readOnlyRootFilesystem and runAsNonRoot;
#   - only the edge's Service is of type LoadBalancer (and it is one);
#   - every document carries the app.kubernetes.io/{name,component,part-of=ferrocat} labels.
# Prints one line per overlay; exits non-zero with a one-line reason on the first problem.
#
#   FERROCAT_KUBECTL              the kubectl that renders (default: on PATH; 1.20 or later,
#                                 deploy/test.sh uses Debian's kubernetes-client)
#   FERROCAT_KUBERNETES_VALIDATE  the kubernetes-validate executable (default: on PATH);
#                                 `python3 -m venv /tmp/kv && /tmp/kv/bin/pip install kubernetes-validate`
#   FERROCAT_K8S_VERSION          the schema version to validate against (default 1.29.0)
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
kv=${FERROCAT_KUBERNETES_VALIDATE:-kubernetes-validate}
kubectl=${FERROCAT_KUBECTL:-kubectl}
version=${FERROCAT_K8S_VERSION:-1.29.0}

fail() { echo "validate.sh: $*" >&2; exit 1; }

command -v "$kubectl" >/dev/null || fail "kubectl not found ($kubectl; it renders the overlays with 'kubectl kustomize'); set FERROCAT_KUBECTL"
command -v "$kv" >/dev/null || fail "kubernetes-validate not found ($kv); set FERROCAT_KUBERNETES_VALIDATE"

# A Python with PyYAML for the assertions: python3, else the one kubernetes-validate runs on.
python=python3
if ! "$python" -c 'import yaml' 2>/dev/null; then
    python=$(head -1 "$(command -v "$kv")" | sed -n 's/^#! *//p' | cut -d' ' -f1)
    [ -n "$python" ] && "$python" -c 'import yaml' 2>/dev/null || fail "no Python with PyYAML found for the assertions"
fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

check() { # name dir
    local name=$1 dir=$2 rendered="$work/$1.yaml" out count passed
    "$kubectl" kustomize "$dir" >"$rendered" 2>"$work/err" || fail "$name: kubectl kustomize failed: $(grep -m1 . "$work/err")"
    count=$("$python" -c 'import sys,yaml; print(sum(1 for d in yaml.safe_load_all(open(sys.argv[1])) if d))' "$rendered")
    [ "$count" -gt 0 ] || fail "$name: rendered no documents"
    if ! out=$("$kv" --strict -k "$version" - <"$rendered" 2>&1); then
        fail "$name: $(grep -m1 -E 'ERROR|rror' <<<"$out" || grep -m1 . <<<"$out")"
    fi
    # Every document must have been checked and passed: no warnings (unknown kinds, skipped).
    if grep -v -E '^INFO .* passed for resource ' <<<"$out" | grep -q .; then
        fail "$name: $(grep -v -E '^INFO .* passed for resource ' <<<"$out" | grep -m1 .)"
    fi
    passed=$(grep -c -E '^INFO .* passed for resource ' <<<"$out" || true)
    [ "$passed" -eq "$count" ] || fail "$name: $passed of $count documents validated"
    "$python" - "$rendered" "$name" <<'PY' || exit 1
import sys, yaml

path, name = sys.argv[1], sys.argv[2]
docs = [d for d in yaml.safe_load_all(open(path)) if d]

def fail(reason):
    print(f"validate.sh: {name}: {reason}", file=sys.stderr)
    sys.exit(1)

def ident(d):
    return f"{d['kind']}/{d['metadata']['name']}"

for d in docs:
    labels = d.get("metadata", {}).get("labels") or {}
    for key in ("app.kubernetes.io/name", "app.kubernetes.io/component"):
        if key not in labels:
            fail(f"{ident(d)} has no {key} label")
    if labels.get("app.kubernetes.io/part-of") != "ferrocat":
        fail(f"{ident(d)} is not labelled app.kubernetes.io/part-of: ferrocat")

# Containers: read-only root and non-root, for every Deployment (and Job).
workloads = [d for d in docs if d["kind"] in ("Deployment", "Job")]
for d in workloads:
    pod = d["spec"]["template"]["spec"]
    pod_nonroot = (pod.get("securityContext") or {}).get("runAsNonRoot")
    for c in pod.get("initContainers", []) + pod.get("containers", []):
        sc = c.get("securityContext") or {}
        if sc.get("readOnlyRootFilesystem") is not True:
            fail(f"{ident(d)} container {c['name']} lacks readOnlyRootFilesystem: true")
        if sc.get("runAsNonRoot", pod_nonroot) is not True:
            fail(f"{ident(d)} container {c['name']} lacks runAsNonRoot: true")
if not any(d["kind"] == "Deployment" for d in docs) and name != "temporal-db":
    fail("no Deployment rendered")

# Services: the edge's is the one LoadBalancer.
services = [d for d in docs if d["kind"] == "Service"]
for s in services:
    component = s["metadata"]["labels"].get("app.kubernetes.io/component")
    if s["spec"].get("type") == "LoadBalancer" and component != "edge":
        fail(f"{ident(s)} is of type LoadBalancer; only the edge's Service may be")
    if component == "edge" and s["spec"].get("type") != "LoadBalancer":
        fail(f"{ident(s)} (the edge) is not of type LoadBalancer")
if services and not any(s["spec"].get("type") == "LoadBalancer" for s in services):
    fail("no LoadBalancer Service for the edge")

# The executor never reaches Postgres (5432) or Redis (6379).
def matches(selector, labels):
    for k, v in (selector.get("matchLabels") or {}).items():
        if labels.get(k) != v:
            return False
    for e in selector.get("matchExpressions") or []:
        k, op, vals = e["key"], e["operator"], e.get("values") or []
        if op == "In" and labels.get(k) not in vals: return False
        if op == "NotIn" and k in labels and labels[k] in vals: return False
        if op == "Exists" and k not in labels: return False
        if op == "DoesNotExist" and k in labels: return False
    return True

def opens_port(rule, wanted):
    ports = rule.get("ports")
    if not ports:
        return "all ports"
    for p in ports:
        if p.get("protocol", "TCP") != "TCP":
            continue
        port, end = p.get("port"), p.get("endPort")
        if port is None:
            return "every TCP port"
        if isinstance(port, str):
            return f"named port {port!r} (cannot tell)"
        for one in wanted:
            if port == one or (end is not None and port <= one <= end):
                return f"port {one}"
    return None
def opens_db_port(rule):
    return opens_port(rule, (5432, 6379, 9100))
# The metrics port (9100) admits only the scraper's namespaces, never an address or a pod here.
for np in (d for d in docs if d["kind"] == "NetworkPolicy"):
    for i, rule in enumerate(np["spec"].get("ingress") or []):
        if opens_port(rule, (9100,)) is None:
            continue
        peers = rule.get("from") or []
        scrapers = [p for p in peers if set(p) == {"namespaceSelector"}
                    and (p["namespaceSelector"].get("matchLabels") or {}).get("ferrocat.io/metrics-scraper") == "true"]
        if not peers or len(scrapers) != len(peers):
            fail(f"{ident(np)} ingress rule {i} opens the metrics port 9100 to more than the namespaces labelled ferrocat.io/metrics-scraper")

executors = [d for d in workloads if d["kind"] == "Deployment"
             and d["metadata"]["labels"].get("app.kubernetes.io/component") == "executor"]
if name != "temporal-db" and not executors:
    fail("no executor Deployment rendered")
for ex in executors:
    ns = ex["metadata"].get("namespace")
    pod_labels = ex["spec"]["template"]["metadata"]["labels"]
    for np in (d for d in docs if d["kind"] == "NetworkPolicy" and d["metadata"].get("namespace") == ns):
        spec = np["spec"]
        types = spec.get("policyTypes") or (["Ingress", "Egress"] if "egress" in spec else ["Ingress"])
        if "Egress" not in types or not matches(spec.get("podSelector") or {}, pod_labels):
            continue
        for i, rule in enumerate(spec.get("egress") or []):
            why = opens_db_port(rule)
            if why:
                fail(f"{ident(np)} egress rule {i} opens {why} to the executor's pods (Postgres, Redis and the metrics must stay out of its reach)")
PY
    if [ "$name" = temporal-db ]; then
        echo "$name (optional, Temporal's namespace): $count documents valid (kubernetes-validate --strict, schemas $version)"
    else
        echo "$name: $count documents valid (kubernetes-validate --strict, schemas $version); executor has no 5432/6379/9100 egress, metrics only to the scrapers, containers read-only and non-root, only the edge is a LoadBalancer"
    fi
}

for dir in "$here"/overlays/*/; do
    check "$(basename "$dir")" "$dir"
done
check "temporal-db" "$here/temporal-db"
