//! The Kubernetes manifests (deploy/k8s), checked offline by deploy/k8s/validate.sh: every
//! overlay renders with `kubectl kustomize` (Debian's kubectl 1.20, the oldest supported),
//! every document is valid under kubernetes-validate --strict, and the rules hold (the
//! executor cannot reach Postgres, Redis or the metrics, only the scrapers' namespaces reach the
//! metrics port, containers are read-only and non-root, only the
//! edge is a LoadBalancer). A broken copy of the manifests is refused with its reason.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn tool(var: &str) -> String {
    std::env::var(var).unwrap_or_else(|_| panic!("{var} must name the tool (deploy/test.sh sets it up)"))
}

fn validate(dir: &Path) -> Output {
    Command::new("bash")
        .arg(dir.join("validate.sh"))
        .env("FERROCAT_KUBECTL", tool("FERROCAT_KUBECTL"))
        .env("FERROCAT_KUBERNETES_VALIDATE", tool("FERROCAT_KUBERNETES_VALIDATE"))
        .output()
        .expect("run validate.sh")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).unwrap();
        }
    }
}

fn manifests() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("deploy/k8s")
}

#[test]
fn every_overlay_renders_is_valid_and_keeps_the_four_networks() {
    let out = validate(&manifests());
    let (stdout, stderr) = (text(&out.stdout), text(&out.stderr));
    assert!(out.status.success(), "validate.sh failed:\n{stdout}\n{stderr}");
    for overlay in ["production", "small"] {
        let line = stdout.lines().find(|l| l.starts_with(&format!("{overlay}: "))).unwrap_or_else(|| panic!("no line for {overlay}:\n{stdout}"));
        assert!(line.contains("documents valid") && line.contains("executor has no 5432/6379/9100 egress, metrics only to the scrapers"), "{line}");
    }
}

#[test]
fn a_broken_copy_is_refused_with_its_reason() {
    for (file, from, to, says) in [
        // The executor let into the Postgres policy.
        ("base/networkpolicies.yaml", "values: [api, worker, mcp, llm-gateway, migrate]", "values: [api, worker, mcp, llm-gateway, migrate, executor]", "executor"),
        // Another service made public.
        ("base/api.yaml", "  type: ClusterIP", "  type: LoadBalancer", "only the edge"),
        // The metrics port opened to any address, not only the scrapers' namespaces.
        (
            "base/networkpolicies.yaml",
            "        - namespaceSelector:\n            matchLabels:\n              ferrocat.io/metrics-scraper: \"true\"",
            "        - ipBlock:\n            cidr: 0.0.0.0/0",
            "metrics port 9100",
        ),
    ] {
        let dir = std::env::temp_dir().join(format!("ferrocat-k8s-{}", std::process::id())).join(file.replace('/', "-"));
        let _ = std::fs::remove_dir_all(&dir);
        copy_dir(&manifests(), &dir);
        let path = dir.join(file);
        let original = std::fs::read_to_string(&path).unwrap();
        assert!(original.contains(from), "{file} no longer has {from:?}: update this test");
        std::fs::write(&path, original.replacen(from, to, 1)).unwrap();
        let out = validate(&dir);
        let stderr = text(&out.stderr);
        assert!(!out.status.success(), "{file}: a broken copy passed");
        assert!(stderr.contains(says), "{file}: {stderr}");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
