//! The `ferrocat` binary as a user meets it: help texts, `--check-config`, and `run FILE`.

use std::process::{Command, Output};

fn ferrocat(args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_ferrocat"));
    command.args(args).env_clear().env("PATH", std::env::var("PATH").unwrap_or_default());
    for (k, v) in env {
        command.env(k, v);
    }
    command.output().expect("run ferrocat")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[test]
fn every_subcommand_explains_itself() {
    let top = ferrocat(&["--help"], &[]);
    assert!(top.status.success());
    let help = text(&top.stdout);
    let commands = ["edge", "api", "worker", "executor", "llm-gateway", "mcp", "ui", "object-store", "migrate", "up", "run", "registry", "probe"];
    for name in commands {
        assert!(help.contains(name), "--help lists {name}:\n{help}");
        let sub = ferrocat(&[name, "--help"], &[]);
        assert!(sub.status.success(), "{name} --help");
        assert!(text(&sub.stdout).contains("Usage: ferrocat"), "{name} --help prints usage");
    }
}

#[test]
fn check_config_accepts_valid_and_rejects_bad_configuration_with_one_line() {
    let ok = ferrocat(&["worker", "--check-config"], &[]);
    assert!(ok.status.success(), "{}", text(&ok.stderr));

    let bad = ferrocat(&["api", "--check-config"], &[("FERROCAT_DATABASE_URL", "postgres://x/y")]);
    assert_eq!(bad.status.code(), Some(64));
    let stderr = text(&bad.stderr);
    assert_eq!(stderr.trim().lines().count(), 1, "{stderr}");
    assert!(stderr.contains("FERROCAT_SIGNING_SECRET"), "{stderr}");

    let bad_port = ferrocat(&["ui", "--check-config"], &[("FERROCAT_UI_ADDR", "not-an-address")]);
    assert_eq!(bad_port.status.code(), Some(64));
    assert!(text(&bad_port.stderr).contains("FERROCAT_UI_ADDR"));

    let edge = ferrocat(&["edge", "--check-config"], &[("FERROCAT_EDGE_API_UPSTREAM", "ftp://nope")]);
    assert_eq!(edge.status.code(), Some(64), "{}", text(&edge.stderr));

    let metrics = ferrocat(&["executor", "--check-config"], &[("FERROCAT_EXECUTOR_METRICS_ADDR", "everywhere")]);
    assert_eq!(metrics.status.code(), Some(64), "{}", text(&metrics.stderr));
    assert!(text(&metrics.stderr).contains("FERROCAT_EXECUTOR_METRICS_ADDR"), "{}", text(&metrics.stderr));
}

/// A tiny HTTP server answering every request with `status`; its address.
fn answering(status: &'static str) -> String {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            use std::io::{Read as _, Write as _};
            let mut stream = stream.unwrap();
            let mut request = [0u8; 1024];
            let _ = stream.read(&mut request);
            let _ = write!(stream, "HTTP/1.1 {status}\r\ncontent-length: 0\r\nconnection: close\r\n\r\n");
        }
    });
    format!("http://{addr}/health")
}

#[test]
fn probe_passes_on_2xx_only_and_says_what_it_got() {
    assert!(ferrocat(&["probe", &answering("200 OK")], &[]).status.success());
    let down = ferrocat(&["probe", &answering("503 Service Unavailable")], &[]);
    assert_eq!(down.status.code(), Some(1));
    assert_eq!(text(&down.stderr).trim().lines().count(), 1, "{}", text(&down.stderr));
    assert!(text(&down.stderr).contains("503"), "{}", text(&down.stderr));
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap();
    let nobody = ferrocat(&["probe", &format!("http://{closed}/health"), "--timeout", "2"], &[]);
    assert_eq!(nobody.status.code(), Some(1), "{}", text(&nobody.stderr));
    let scheme = ferrocat(&["probe", "ftp://127.0.0.1/x"], &[]);
    assert_eq!(scheme.status.code(), Some(64), "{}", text(&scheme.stderr));
    let timeout = ferrocat(&["probe", "http://127.0.0.1:1/", "--timeout", "inf"], &[]);
    assert_eq!(timeout.status.code(), Some(2), "clap's usage error: {}", text(&timeout.stderr));
}

#[test]
fn run_executes_a_workflow_file_locally() {
    let dir = std::env::temp_dir().join(format!("ferrocat-cli-{}", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("wf.yml");
    std::fs::write(
        &file,
        r#"
title: Local
description: reshape twice
entrypoint: {ref: a}
actions:
  - ref: a
    action: core.transform.reshape
    args: {value: "${{ TRIGGER.n + 1 }}"}
  - ref: b
    action: core.transform.reshape
    depends_on: [a]
    args: {value: "${{ ACTIONS.a.result * 10 }}"}
  - ref: skipped
    action: core.transform.reshape
    depends_on: [a]
    run_if: "${{ ACTIONS.a.result > 100 }}"
    args: {value: never}
returns:
  b: ${{ ACTIONS.b.result }}
  skipped: ${{ ACTIONS.skipped.result }}
"#,
    )
    .unwrap();
    let out = ferrocat(&["run", file.to_str().unwrap(), "--trigger", r#"{"n": 4}"#], &[]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let value: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(value, serde_json::json!({"b": 50, "skipped": null}));

    // An invalid workflow is refused before anything runs, naming the problem.
    std::fs::write(&file, "title: x\ndescription: y\nentrypoint: {}\nactions:\n  - ref: a\n    action: core.transform.reshape\n    depends_on: [ghost]\n").unwrap();
    let out = ferrocat(&["run", file.to_str().unwrap()], &[]);
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("ghost"), "{}", text(&out.stderr));

    let out = ferrocat(&["run", dir.join("missing.yml").to_str().unwrap()], &[]);
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("missing.yml"));

    // A run that fails exits 1 with the error on stderr.
    std::fs::write(&file, "title: x\ndescription: y\nentrypoint: {}\nactions:\n  - {ref: a, action: core.transform.reshape, args: {value: \"${{ 1/0 }}\"}}\n").unwrap();
    let out = ferrocat(&["run", file.to_str().unwrap()], &[]);
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out.stderr).contains("Cannot divide by zero"), "{}", text(&out.stderr));

    // An expression nested 100,000 levels deep is refused by its limit, not a stack overflow.
    let deep = format!("{}1{}", "(".repeat(100_000), ")".repeat(100_000));
    std::fs::write(&file, format!("title: x\ndescription: y\nentrypoint: {{ref: a}}\nactions:\n  - {{ref: a, action: core.transform.reshape, args: {{value: \"${{{{ {deep} }}}}\"}}}}\n")).unwrap();
    let out = ferrocat(&["run", file.to_str().unwrap()], &[]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stderr));
    let stderr = text(&out.stderr);
    assert!(stderr.contains("the limit is 65536") && stderr.len() < 2_000, "{stderr}");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn workflow_caps_are_settings_checked_at_start() {
    let out = ferrocat(&["api", "--check-config"], &[("FERROCAT_MAX_ACTIONS", "0")]);
    assert_eq!(out.status.code(), Some(64));
    assert!(text(&out.stderr).contains("FERROCAT_MAX_ACTIONS"), "{}", text(&out.stderr));
    let dir = std::env::temp_dir().join(format!("ferrocat-cli-{}", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("wf.yml");
    std::fs::write(&file, "title: x\ndescription: y\nentrypoint: {ref: a}\nactions:\n  - {ref: a, action: core.transform.reshape, args: {value: 1}}\n  - {ref: b, action: core.transform.reshape, depends_on: [a], args: {value: \"${{ FN.range(5) }}\"}, for_each: \"${{ for var.x in FN.range(3) }}\"}\n").unwrap();
    let f = file.to_str().unwrap();
    assert!(ferrocat(&["run", f], &[]).status.success());
    let out = ferrocat(&["run", f], &[("FERROCAT_MAX_ACTIONS", "1")]);
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("at most 1 actions (FERROCAT_MAX_ACTIONS)"), "{}", text(&out.stderr));
    let out = ferrocat(&["run", f], &[("FERROCAT_MAX_FOR_EACH_ITEMS", "2")]);
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out.stderr).contains("at most 2 iterations (FERROCAT_MAX_FOR_EACH_ITEMS)"), "{}", text(&out.stderr));
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn run_is_permissive_about_egress_unless_told_to_be_strict() {
    let dir = std::env::temp_dir().join(format!("ferrocat-cli-{}", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir_all(&dir).unwrap();
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        use std::io::{Read as _, Write as _};
        for mut stream in listener.incoming().flatten() {
            let mut buf = [0u8; 2048];
            let _ = stream.read(&mut buf);
            let _ = stream.write_all(b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 12\r\nconnection: close\r\n\r\n{\"ok\": true}");
        }
    });
    let file = dir.join("wf.yml");
    std::fs::write(&file, format!("title: x\ndescription: y\nentrypoint: {{ref: a}}\nactions:\n  - {{ref: a, action: core.http_request, args: {{url: \"http://127.0.0.1:{port}/\"}}}}\nreturns: ${{{{ ACTIONS.a.result.data }}}}\n")).unwrap();
    let out = ferrocat(&["run", file.to_str().unwrap()], &[]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(serde_json::from_slice::<serde_json::Value>(&out.stdout).unwrap(), serde_json::json!({"ok": true}));
    let out = ferrocat(&["run", file.to_str().unwrap(), "--egress", "strict"], &[]);
    assert_eq!(out.status.code(), Some(1));
    let stderr = text(&out.stderr);
    assert!(stderr.contains(&format!("egress to 127.0.0.1:{port} refused")) && stderr.contains("FERROCAT_EGRESS_ALLOW"), "{stderr}");
    let out = ferrocat(&["run", file.to_str().unwrap(), "--egress", "strict"], &[("FERROCAT_EGRESS_ALLOW", &format!("127.0.0.1:{port}"))]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn run_reads_secrets_masks_them_and_prints_the_context() {
    let dir = std::env::temp_dir().join(format!("ferrocat-cli-{}", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir_all(&dir).unwrap();
    let (file, secrets, trigger) = (dir.join("wf.yml"), dir.join("secrets.yml"), dir.join("trigger.json"));
    std::fs::write(
        &file,
        "title: s\ndescription: secrets\nentrypoint: {}\nactions:\n  - {ref: a, action: core.transform.reshape, args: {value: \"token=${{ SECRETS.api.TOKEN }} for ${{ TRIGGER.who }}\"}}\nreturns: ${{ ACTIONS.a.result }}\n",
    )
    .unwrap();
    std::fs::write(&secrets, "api:\n  TOKEN: very-secret-value\n").unwrap();
    std::fs::write(&trigger, r#"{"who": "me"}"#).unwrap();
    let (f, s, t) = (file.to_str().unwrap(), secrets.to_str().unwrap(), trigger.to_str().unwrap());
    let out = ferrocat(&["run", f, "--secrets", s, "--trigger-file", t], &[]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let printed = text(&out.stdout);
    assert!(!printed.contains("very-secret-value"), "{printed}");
    assert_eq!(serde_json::from_str::<serde_json::Value>(&printed).unwrap(), serde_json::json!("token=*** for me"));

    let out = ferrocat(&["run", f, "--secrets", s, "--trigger", r#"{"who": "you"}"#, "--output", "context"], &[]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let context: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(context["ACTIONS"]["a"]["result"], serde_json::json!("token=*** for you"));
    assert_eq!(context["ACTIONS"]["a"]["result_typename"], serde_json::json!("str"));
    assert_eq!(context["TRIGGER"], serde_json::json!({"who": "you"}));

    let out = ferrocat(&["run", f, "--trigger", "{not json"], &[]);
    assert_eq!(out.status.code(), Some(2));
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn run_reads_variables_and_refuses_a_malformed_file() {
    let dir = std::env::temp_dir().join(format!("ferrocat-cli-{}", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir_all(&dir).unwrap();
    let (file, vars, bad) = (dir.join("wf.yml"), dir.join("vars.yml"), dir.join("bad.yml"));
    std::fs::write(
        &file,
        "title: v\ndescription: vars\nentrypoint: {}\nactions:\n  - {ref: a, action: core.transform.reshape, args: {value: \"${{ VARS.siem.url }}/search\"}}\nreturns: ${{ ACTIONS.a.result }}\n",
    )
    .unwrap();
    std::fs::write(&vars, "siem:\n  url: https://siem.example.com\n").unwrap();
    std::fs::write(&bad, "siem: not-a-mapping\n").unwrap();
    let (f, v, b) = (file.to_str().unwrap(), vars.to_str().unwrap(), bad.to_str().unwrap());
    let out = ferrocat(&["run", f, "--vars", v], &[]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(serde_json::from_slice::<serde_json::Value>(&out.stdout).unwrap(), serde_json::json!("https://siem.example.com/search"));
    let out = ferrocat(&["run", f, "--vars", b], &[]);
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("variables 'siem' must be a mapping"), "{}", text(&out.stderr));
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn llm_gateway_token_mints_a_signed_token_and_needs_the_secret() {
    let secret = [("FERROCAT_LLM_GATEWAY_SIGNING_SECRET", "a-test-signing-secret-of-length")];
    let args = ["llm-gateway", "token", "--workspace", "ws_1", "--model", "gpt-4o-mini", "--ttl", "10m"];
    let out = ferrocat(&args, &secret);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let token = text(&out.stdout).trim().to_owned();
    let (claims, signature) = token.split_once('.').expect("claims.signature");
    assert!(!claims.is_empty() && !signature.is_empty() && !token.contains(' '), "{token}");
    let other = ferrocat(&args, &[("FERROCAT_LLM_GATEWAY_SIGNING_SECRET", "another-signing-secret-entirely")]);
    assert_ne!(text(&other.stdout).trim().rsplit('.').next(), Some(signature), "the signature depends on the secret");
    let out = ferrocat(&args, &[]);
    assert_eq!(out.status.code(), Some(64), "{}", text(&out.stderr));
    assert!(text(&out.stderr).contains("SIGNING_SECRET"), "{}", text(&out.stderr));
    assert!(!text(&out.stdout).contains('.'), "no token without a secret");
}

#[test]
fn concurrent_migrations_serialize_and_a_rerun_changes_nothing() {
    let url = format!("postgres://postgres@127.0.0.1:5432/ferrocat_migrate_{}", uuid::Uuid::new_v4().simple());
    let env = [("FERROCAT_DATABASE_URL", url.as_str())];
    let runners: Vec<_> = (0..3)
        .map(|_| {
            let url = url.clone();
            std::thread::spawn(move || ferrocat(&["migrate"], &[("FERROCAT_DATABASE_URL", url.as_str())]))
        })
        .collect();
    for runner in runners {
        let out = runner.join().unwrap();
        assert!(out.status.success(), "{}", text(&out.stderr));
    }
    let again = ferrocat(&["migrate"], &env);
    assert!(again.status.success(), "{}", text(&again.stderr));
    // Exactly one row per migration: nobody applied one twice.
    let count = Command::new("psql")
        .args([&url, "-tAc", "SELECT count(*), count(DISTINCT version) FROM _sqlx_migrations"])
        .output()
        .expect("psql");
    let counts = text(&count.stdout);
    let (all, distinct) = counts.trim().split_once('|').expect("two columns");
    assert_eq!(all, distinct, "{counts}");
    assert!(all.parse::<u32>().unwrap() >= 1);
    let _ = Command::new("psql")
        .args(["postgres://postgres@127.0.0.1:5432/postgres", "-qc", &format!("DROP DATABASE \"{}\"", url.rsplit('/').next().unwrap())])
        .status();
}

#[test]
fn up_refuses_a_bad_setting_before_starting_anything() {
    let dir = std::env::temp_dir().join(format!("ferrocat-cli-up-{}", uuid::Uuid::new_v4().simple()));
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port().to_string();
    let out = ferrocat(
        &["up", "--bind", "127.0.0.1", "--port", &port, "--data-dir", &dir.to_string_lossy()],
        &[("FERROCAT_TEMPORAL_SQLITE_SYNCHRONOUS", "sometimes"), ("HOME", "/tmp")],
    );
    assert!(!out.status.success());
    let stderr = text(&out.stderr);
    let errors: Vec<_> = stderr.lines().filter(|l| l.contains("FERROCAT_TEMPORAL_SQLITE_SYNCHRONOUS")).collect();
    assert_eq!(errors.len(), 1, "{stderr}");
    assert!(errors[0].contains("normal or full"), "{stderr}");
    // Nothing was started: no service logged a line.
    assert!(!stderr.contains(" | "), "{stderr}");
    let _ = std::fs::remove_dir_all(&dir);
}

/// Review finding 9: what a workflow derives from a secret (case-folded, base64, URL-encoded)
/// is masked like the secret itself, in the result a run shows.
#[test]
fn run_masks_derived_forms_of_secrets() {
    let dir = std::env::temp_dir().join(format!("ferrocat-cli-{}", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir_all(&dir).unwrap();
    let (file, secrets) = (dir.join("wf.yml"), dir.join("secrets.yml"));
    std::fs::write(
        &file,
        r#"title: leak
description: derives secrets
entrypoint: {}
actions:
  - ref: a
    action: core.transform.reshape
    args:
      value:
        b64: ${{ FN.to_base64(SECRETS.spec.T) }}
        b64url: ${{ FN.to_base64url(SECRETS.spec.V) }}
        up: ${{ FN.uppercase(SECRETS.spec.T) }}
        low: ${{ FN.lowercase(SECRETS.spec.V) }}
        urlenc: ${{ FN.url_encode(SECRETS.spec.V) }}
        basic: ${{ FN.to_base64("admin:" + SECRETS.spec.T) }}
returns: ${{ ACTIONS.a.result }}
"#,
    )
    .unwrap();
    std::fs::write(&secrets, "spec:\n  T: tokAAAA1111\n  V: \"p@ss w0rd/Zq&SPECIAL-77\"\n").unwrap();
    let out = ferrocat(&["run", file.to_str().unwrap(), "--secrets", secrets.to_str().unwrap()], &[]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let printed: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    for field in ["b64", "b64url", "up", "low", "urlenc"] {
        assert_eq!(printed[field], "***", "{field}: {printed}");
    }
    // Inside a longer base64 text only the prefix's characters are left.
    let basic = printed["basic"].as_str().unwrap();
    assert!(basic.starts_with("YWRtaW46") && basic.contains("***") && basic.len() <= 16, "{basic}");
    std::fs::remove_dir_all(&dir).unwrap();
}

/// A stand-in vendor on loopback: answers every request with `body` (JSON) and sends the
/// request's head (request line and headers, lowercased) down the channel.
fn vendor(body: &'static str) -> (u16, std::sync::mpsc::Receiver<String>) {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let (seen, heads) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        use std::io::{Read as _, Write as _};
        for mut stream in listener.incoming().flatten() {
            let mut buf = [0u8; 4096];
            let n = stream.read(&mut buf).unwrap_or(0);
            let _ = seen.send(String::from_utf8_lossy(&buf[..n]).to_lowercase());
            let answer = format!("HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}", body.len());
            let _ = stream.write_all(answer.as_bytes());
        }
    });
    (port, heads)
}

const TRIAGE_TEMPLATE: &str = "type: action
definition:
  name: triage
  namespace: tools.acme
  title: Triage a hash
  display_group: ACME
  expects:
    file_hash: {type: str}
    threshold: {type: int, default: 3}
  steps:
    - ref: report
      action: tools.virustotal.lookup_file_hash
      args:
        file_hash: ${{ inputs.file_hash }}
    - ref: verdict
      action: core.transform.reshape
      args:
        value:
          malicious: ${{ steps.report.result.data.attributes.last_analysis_stats.malicious >= inputs.threshold }}
          names: ${{ steps.report.result.data.attributes.names }}
  returns: ${{ steps.verdict.result }}
";

#[test]
fn run_uses_the_library_and_templates_from_a_registry_folder() {
    let dir = std::env::temp_dir().join(format!("ferrocat-cli-{}", uuid::Uuid::new_v4().simple()));
    let registry = dir.join("registry/acme");
    std::fs::create_dir_all(&registry).unwrap();
    std::fs::write(registry.join("triage.yml"), TRIAGE_TEMPLATE).unwrap();
    let (port, heads) = vendor(r#"{"data": {"attributes": {"names": ["invoice.exe"], "last_analysis_stats": {"malicious": 5}}}}"#);
    // Tracecat's VirusTotal playbook, with the lookup as a template action and the email left out.
    let file = dir.join("wf.yml");
    std::fs::write(
        &file,
        "definition:
  title: Triage a VirusTotal report
  description: Look a hash up and decide
  entrypoint: {ref: triage}
  triggers: [{type: webhook, ref: my_webhook, entrypoint: triage}]
  actions:
    - ref: triage
      action: tools.acme.triage
      args:
        file_hash: ${{ TRIGGER.hash }}
  returns: ${{ ACTIONS.triage.result }}
",
    )
    .unwrap();
    std::fs::write(dir.join("secrets.yml"), "virustotal:\n  VIRUSTOTAL_API_KEY: vt-key-123\n").unwrap();
    std::fs::write(dir.join("vars.yml"), format!("virustotal:\n  base_url: http://127.0.0.1:{port}\n")).unwrap();
    let path = |name: &str| dir.join(name).to_str().unwrap().to_owned();
    let (f, s, v, r) = (path("wf.yml"), path("secrets.yml"), path("vars.yml"), path("registry"));
    let trigger = r#"{"hash": "44d88612fea8a8f36de82e1278abb02f"}"#;

    let out = ferrocat(&["run", &f, "--secrets", &s, "--vars", &v, "--trigger", trigger, "--registry", &r], &[]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(serde_json::from_slice::<serde_json::Value>(&out.stdout).unwrap(), serde_json::json!({"malicious": true, "names": ["invoice.exe"]}));
    let head = heads.recv_timeout(std::time::Duration::from_secs(5)).unwrap();
    assert!(head.starts_with("get /api/v3/files/44d88612fea8a8f36de82e1278abb02f http/1.1"), "{head}");
    assert!(head.contains("x-apikey: vt-key-123"), "{head}");

    // Without the folder the workflow names an action no registry has: refused before it runs.
    let out = ferrocat(&["run", &f, "--secrets", &s, "--vars", &v, "--trigger", trigger], &[]);
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("actions.triage.action: unknown action 'tools.acme.triage'"), "{}", text(&out.stderr));
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn registry_check_counts_the_templates_and_names_each_problem_by_file_and_line() {
    let dir = std::env::temp_dir().join(format!("ferrocat-cli-{}", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir_all(dir.join("good/acme")).unwrap();
    std::fs::write(dir.join("good/acme/triage.yml"), TRIAGE_TEMPLATE).unwrap();
    let good = dir.join("good");
    let out = ferrocat(&["registry", "check", good.to_str().unwrap()], &[]);
    assert!(out.status.success(), "{}{}", text(&out.stdout), text(&out.stderr));
    assert_eq!(text(&out.stdout).trim(), format!("{}: 1 files, 1 actions in 1 namespaces, no problems", good.display()));

    std::fs::create_dir_all(dir.join("bad/acme")).unwrap();
    std::fs::write(dir.join("bad/acme/triage.yml"), TRIAGE_TEMPLATE.replace("tools.virustotal.lookup_file_hash", "tools.virustotal.lookup_hash")).unwrap();
    std::fs::write(dir.join("bad/acme/broken.yaml"), "type: action\ndefinition:\n  name: broken\n  title: [\n").unwrap();
    let bad = dir.join("bad");
    let out = ferrocat(&["registry", "check", bad.to_str().unwrap()], &[]);
    assert_eq!(out.status.code(), Some(1));
    let printed = text(&out.stdout);
    let lines: Vec<&str> = printed.lines().collect();
    assert_eq!(lines.len(), 3, "{printed}");
    assert!(lines[0].starts_with(&format!("{}:4: definition.title: invalid type", bad.join("acme/broken.yaml").display())), "{printed}");
    assert_eq!(lines[1], format!("{}:11: step 'report': unknown action 'tools.virustotal.lookup_hash'", bad.join("acme/triage.yml").display()));
    assert_eq!(lines[2], format!("{}: 2 files, 2 problems in 2 of them", bad.display()));

    let out = ferrocat(&["registry", "check", dir.join("nowhere").to_str().unwrap()], &[]);
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out.stderr).contains("nowhere"), "{}", text(&out.stderr));
    std::fs::remove_dir_all(&dir).unwrap();
}
