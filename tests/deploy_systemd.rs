//! The systemd units (deploy/systemd) load cleanly in `systemd-analyze verify` (with the binary
//! under test in place of /usr/local/bin/ferrocat), keep the hardening every service shares,
//! keep the database credentials away from the services that have no use for them, and serve
//! each service's metrics on a loopback port of its own.

use std::path::{Path, PathBuf};
use std::process::Command;

fn units() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("deploy/systemd")
}

/// `systemd-analyze verify` of a copy of the units, `edit` applied to each: its exit status and
/// everything it printed.
fn verify(edit: impl Fn(&str, String) -> String) -> (bool, String) {
    let dir = std::env::temp_dir().join(format!("ferrocat-systemd-{}-{}", std::process::id(), uuid::Uuid::new_v4().simple()));
    std::fs::create_dir_all(&dir).unwrap();
    let mut files = Vec::new();
    for entry in std::fs::read_dir(units()).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        if !(name.ends_with(".service") || name.ends_with(".target")) {
            continue;
        }
        let text = std::fs::read_to_string(&path).unwrap().replace("/usr/local/bin/ferrocat", env!("CARGO_BIN_EXE_ferrocat"));
        std::fs::write(dir.join(&name), edit(&name, text)).unwrap();
        files.push(format!("./{name}"));
    }
    let out = Command::new("systemd-analyze").arg("verify").arg("--man=no").args(&files).current_dir(&dir).output().expect("systemd-analyze (deploy/test.sh installs systemd)");
    std::fs::remove_dir_all(&dir).unwrap();
    (out.status.success(), format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr)))
}

fn read(name: &str) -> String {
    std::fs::read_to_string(units().join(name)).unwrap()
}

#[test]
fn the_units_verify_without_a_word() {
    let (ok, said) = verify(|_, text| text);
    assert!(ok && said.trim().is_empty(), "systemd-analyze verify: {said}");
    // It does speak up: a misspelt setting is named.
    let (_, said) = verify(|name, text| if name == "ferrocat-api.service" { text.replace("NoNewPrivileges=", "NoNewPrivilege=") } else { text });
    assert!(said.contains("Unknown key 'NoNewPrivilege'"), "{said}");
}

#[test]
fn every_service_is_hardened_and_only_database_users_get_the_database() {
    let services = ["api", "worker", "executor", "mcp", "llm-gateway", "ui", "object-store", "edge", "migrate"];
    for service in services {
        let unit = read(&format!("ferrocat-{service}.service"));
        for line in ["User=ferrocat", "NoNewPrivileges=yes", "ProtectSystem=strict", "ProtectHome=yes", "PrivateTmp=yes"] {
            assert!(unit.lines().any(|l| l == line), "ferrocat-{service}.service lacks {line}");
        }
        assert!(unit.contains(&format!("ExecStart=/usr/local/bin/ferrocat {service}\n")), "{service} runs its own subcommand");
        let database = unit.contains("EnvironmentFile=/etc/ferrocat/database.env");
        let needs = ["api", "worker", "mcp", "llm-gateway", "migrate"].contains(&service);
        assert_eq!(database, needs, "{service}: database.env only for the services that use the database");
        assert!(Path::new(&units().join("ferrocat.target")).exists());
        if service != "migrate" {
            assert!(read("ferrocat.target").contains(&format!("ferrocat-{service}.service")), "the target starts {service}");
        }
    }
}

#[test]
fn every_service_serves_its_metrics_on_a_loopback_port_of_its_own() {
    let mut ports = std::collections::BTreeSet::new();
    for service in ["api", "worker", "executor", "mcp", "ui", "object-store", "edge"] {
        let unit = read(&format!("ferrocat-{service}.service"));
        let prefix = format!("Environment={}=127.0.0.1:", ferrocat_shared::metrics::addr_var(service));
        let port = unit.lines().find_map(|l| l.strip_prefix(&prefix)).unwrap_or_else(|| panic!("ferrocat-{service}.service sets no loopback {prefix}"));
        assert!(ports.insert(port.to_owned()), "{service} shares metrics port {port}");
        // The operator's ferrocat.env, read after, may move it.
        assert!(unit.find(&prefix) < unit.find("EnvironmentFile=/etc/ferrocat/ferrocat.env"), "{service}");
    }
}
