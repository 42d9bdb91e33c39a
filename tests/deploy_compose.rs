//! deploy/compose/compose.yml, as docker-compose resolves it (`config`, with .env.example as
//! the .env): the four networks of Tracecat's compose file with the two database networks and
//! Temporal's internal, each service on exactly the networks it needs, the executor on neither
//! database network and without the database's credentials, and only the edge published.
//! Then brought up for real (deploy/compose-test.sh) on a private Docker engine, with the
//! Postgres, Redis and Temporal images built from this machine's packages (nothing can be
//! pulled here): the isolation matrix holds from inside the containers and a webhook runs.

use std::collections::BTreeSet;
use std::path::PathBuf;

use ferrocat_test_support::scripts::{assert_lines, run_deploy_script};
use serde_yaml::Value;

fn resolved() -> Value {
    let src = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("deploy/compose");
    let dir = std::env::temp_dir().join(format!("ferrocat-compose-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::copy(src.join("compose.yml"), dir.join("compose.yml")).unwrap();
    std::fs::copy(src.join(".env.example"), dir.join(".env")).unwrap();
    let out = std::process::Command::new("docker-compose").args(["-f", "compose.yml", "config"]).current_dir(&dir).output().expect("docker-compose (deploy/test.sh installs it)");
    std::fs::remove_dir_all(&dir).unwrap();
    assert!(out.status.success(), "docker-compose config: {}", String::from_utf8_lossy(&out.stderr));
    serde_yaml::from_slice(&out.stdout).unwrap()
}

fn networks(config: &Value, service: &str) -> BTreeSet<String> {
    match &config["services"][service]["networks"] {
        Value::Mapping(m) => m.keys().filter_map(|k| k.as_str().map(str::to_owned)).collect(),
        Value::Sequence(s) => s.iter().filter_map(|k| k.as_str().map(str::to_owned)).collect(),
        other => panic!("{service} has no networks: {other:?}"),
    }
}

#[test]
fn the_compose_file_keeps_the_four_networks() {
    let config = resolved();
    for internal in ["core-db", "temporal", "temporal-db"] {
        assert_eq!(config["networks"][internal]["internal"], Value::Bool(true), "{internal} must be internal");
    }
    let expect: &[(&str, &[&str])] = &[
        ("edge", &["core"]),
        ("ui", &["core"]),
        ("object-store", &["core"]),
        ("executor", &["core", "temporal"]),
        ("api", &["core", "core-db", "temporal"]),
        ("worker", &["core", "core-db", "temporal"]),
        ("mcp", &["core", "core-db", "temporal"]),
        ("llm-gateway", &["core", "core-db"]),
        ("migrate", &["core-db"]),
        ("postgres", &["core-db"]),
        ("redis", &["core-db"]),
        ("temporal", &["temporal", "temporal-db"]),
        ("temporal-db", &["temporal-db"]),
    ];
    let services: BTreeSet<String> = config["services"].as_mapping().unwrap().keys().filter_map(|k| k.as_str().map(str::to_owned)).collect();
    assert_eq!(services, expect.iter().map(|(s, _)| (*s).to_owned()).collect::<BTreeSet<_>>(), "every service is listed here");
    for (service, nets) in expect {
        assert_eq!(networks(&config, service), nets.iter().map(|n| (*n).to_owned()).collect::<BTreeSet<_>>(), "{service}");
    }
    let published: Vec<&str> = expect.iter().map(|(s, _)| *s).filter(|s| !config["services"][*s]["ports"].is_null()).collect();
    assert_eq!(published, ["edge"], "only the edge is published");
    let executor = config["services"]["executor"]["environment"].as_mapping().unwrap();
    for secret in ["FERROCAT_DATABASE_URL", "FERROCAT_REDIS_URL", "FERROCAT_DB_ENCRYPTION_KEY", "FERROCAT_ADMIN_PASSWORD", "FERROCAT_SIGNING_SECRET"] {
        assert!(!executor.contains_key(secret), "the executor gets {secret}");
    }
    assert!(config["services"]["api"]["environment"]["FERROCAT_DATABASE_URL"].as_str().is_some_and(|u| u.contains("@postgres:5432/")));
    for service in ["api", "mcp", "llm-gateway", "ui", "edge"] {
        let check = &config["services"][service]["healthcheck"]["test"];
        assert!(check.as_sequence().is_some_and(|t| t.iter().any(|a| a.as_str() == Some("probe"))), "{service} has no `ferrocat probe` healthcheck: {check:?}");
    }
    for service in ["api", "worker", "executor", "mcp", "edge"] {
        let s = &config["services"][service];
        assert_eq!(s["read_only"], Value::Bool(true), "{service}");
        assert_eq!(s["user"].as_str(), Some("10001:10001"), "{service}");
    }
}

#[test]
fn the_compose_stack_runs_a_webhook_behind_its_four_networks() {
    let stdout = run_deploy_script("compose-test.sh", &[env!("CARGO_BIN_EXE_ferrocat")]);
    assert_lines(
        &stdout,
        &[
            "isolation: executor -> Postgres: no",
            "isolation: executor -> Redis: no",
            "isolation: executor -> Temporal's database: no",
            "isolation: edge -> Postgres: no",
            "isolation: api -> Postgres: yes",
            "isolation: executor -> Temporal: yes",
        ],
    );
    let webhook = stdout.lines().find(|l| l.starts_with("webhook: ")).unwrap_or_else(|| panic!("no webhook line:\n{stdout}"));
    assert!(webhook.contains("\"alert\":\"A-9\"") && webhook.contains("\"loud\":true"), "{webhook}");
    assert!(stdout.lines().any(|l| l.starts_with("logs: no secret")), "{stdout}");
}
