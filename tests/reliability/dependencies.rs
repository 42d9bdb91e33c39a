//! The stack's dependencies going away under a steady webhook stream, on a Postgres and a Redis
//! of the test's own (the machine's are shared with every other test):
//! - Postgres stopped: the api answers 503 with a reason and `Retry-After` (its health too),
//!   accepts again within 5 s of Postgres's return, and loses no accepted webhook; a run whose
//!   action reads a secret while Postgres is away completes once it is back (the platform's
//!   failure is tried again without spending the author's one attempt).
//! - Redis stopped: webhooks are still accepted. Rate limits and the sign-in lockout fail open
//!   (the limit protects capacity; the webhook's secret, not the limit, guards access), so an
//!   outage of Redis costs no run.

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use ferrocat_test_support::eventually;

use crate::books::{SEQ_WORKFLOW, STREAM_RATE_LIMIT, Stream, reconcile, seqs_of, settled_runs, with_webhook};
use crate::common::{Stack, commit_workflow, free_port, json_of, login};
use serde_json::json;

/// Reads a secret two seconds after it starts (on the executor: it reads SECRETS).
const SECRET_READER: &str = r#"
title: Reads a secret later
description: waits, then reads a secret
entrypoint: {ref: later}
actions:
  - ref: later
    action: core.transform.reshape
    start_delay: 2
    args: {value: "${{ FN.length(SECRETS.reliability.TOKEN) }}"}
returns: ${{ ACTIONS.later.result }}
"#;

/// Runs `program` as the postgres user when this test runs as root (PostgreSQL refuses root).
fn as_postgres(program: &str) -> Command {
    let root = nix::unistd::Uid::effective().is_root();
    let bin = std::fs::read_dir("/usr/lib/postgresql")
        .ok()
        .and_then(|versions| versions.filter_map(|v| v.ok()).map(|v| v.path().join("bin")).max())
        .map(|dir| dir.join(program).to_string_lossy().into_owned())
        .unwrap_or_else(|| program.to_owned());
    if root {
        let mut command = Command::new("runuser");
        command.args(["-u", "postgres", "--", &bin]);
        command
    } else {
        Command::new(bin)
    }
}

/// A PostgreSQL of the test's own (trust auth, loopback, a free port), stopped and started
/// with pg_ctl; removed when dropped.
struct Postgres {
    dir: PathBuf,
    port: u16,
}

impl Postgres {
    fn start() -> Postgres {
        let dir = std::env::temp_dir().join(format!("ferrocat-reliability-pg-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        if nix::unistd::Uid::effective().is_root() {
            let status = Command::new("chown").args(["postgres:postgres"]).arg(&dir).status().unwrap();
            assert!(status.success());
        }
        let out = as_postgres("initdb")
            .args(["-U", "postgres", "--auth=trust", "-E", "UTF8", "--no-locale", "-D"])
            .arg(dir.join("data"))
            .output()
            .expect("initdb (apt-get install postgresql)");
        assert!(out.status.success(), "initdb: {}", String::from_utf8_lossy(&out.stderr));
        let pg = Postgres { dir, port: free_port() };
        pg.up();
        pg
    }

    fn url(&self) -> String {
        format!("postgres://postgres@127.0.0.1:{}/ferrocat", self.port)
    }

    fn pg_ctl(&self, args: &[&str]) {
        let out = as_postgres("pg_ctl").arg("-D").arg(self.dir.join("data")).args(args).stdin(Stdio::null()).output().unwrap();
        assert!(out.status.success(), "pg_ctl {args:?}: {}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    }

    /// Starts the server and waits until it accepts connections.
    fn up(&self) {
        let options = format!("-p {} -k {} -c listen_addresses=127.0.0.1", self.port, self.dir.display());
        let log = self.dir.join("postgres.log");
        self.pg_ctl(&["start", "-w", "-t", "60", "-o", &options, "-l", log.to_str().unwrap()]);
    }

    /// Stops the server, disconnecting everyone (fast shutdown).
    fn down(&self) {
        self.pg_ctl(&["stop", "-w", "-m", "fast"]);
    }
}

impl Drop for Postgres {
    fn drop(&mut self) {
        let _ = as_postgres("pg_ctl").arg("-D").arg(self.dir.join("data")).args(["stop", "-m", "immediate"]).output();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// A Redis of the test's own (no persistence), stopped by SIGTERM and started again on the
/// same port.
struct Redis {
    port: u16,
    child: Option<Child>,
}

impl Redis {
    fn start() -> Redis {
        let mut redis = Redis { port: free_port(), child: None };
        redis.up();
        redis
    }

    fn url(&self) -> String {
        format!("redis://127.0.0.1:{}", self.port)
    }

    fn up(&mut self) {
        let child = Command::new("redis-server")
            .args(["--bind", "127.0.0.1", "--port", &self.port.to_string(), "--save", "", "--appendonly", "no"])
            .stdout(Stdio::null())
            .spawn()
            .expect("redis-server (apt-get install redis-server)");
        self.child = Some(child);
        let addr = format!("127.0.0.1:{}", self.port);
        let deadline = std::time::Instant::now() + Duration::from_secs(30);
        while std::net::TcpStream::connect(&addr).is_err() {
            assert!(std::time::Instant::now() < deadline, "redis-server did not open {addr}");
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    fn down(&mut self) {
        if let Some(mut child) = self.child.take() {
            nix::sys::signal::kill(nix::unistd::Pid::from_raw(child.id() as i32), nix::sys::signal::Signal::SIGTERM).unwrap();
            child.wait().unwrap();
        }
    }
}

impl Drop for Redis {
    fn drop(&mut self) {
        self.down();
    }
}

/// The api's health through the edge: (status, Retry-After, detail).
async fn health(api: &str) -> (u16, Option<String>, String) {
    let response = reqwest::get(format!("{api}/health")).await.unwrap();
    let status = response.status().as_u16();
    let retry_after = response.headers().get("retry-after").and_then(|v| v.to_str().ok()).map(str::to_owned);
    (status, retry_after, response.text().await.unwrap())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_and_redis_outages_cost_no_accepted_webhook() {
    let _alone = crate::ONE_AT_A_TIME.lock().await;
    let (pg, mut redis) = tokio::task::spawn_blocking(|| (Postgres::start(), Redis::start())).await.unwrap();
    let env = [("FERROCAT_DATABASE_URL", pg.url()), ("FERROCAT_REDIS_URL", redis.url()), ("FERROCAT_WEBHOOK_RATE_LIMIT", STREAM_RATE_LIMIT.into())];
    let stack = tokio::task::spawn_blocking(move || Stack::up_with(&env)).await.unwrap();
    let api = format!("{}/api", stack.url);
    let (http, workspace) = login(&stack.url).await;
    let (wf_id, hook) = with_webhook(&http, &stack, &workspace, SEQ_WORKFLOW).await;
    let stream = Stream::start(hook, 20);
    let more_than = |stream: &Stream, n: usize| stream.accepted() > n;
    eventually(Duration::from_secs(60), "the stream to run", || async { more_than(&stream, 10).then_some(()) }).await;

    // A run that will read a secret two seconds from now, in the middle of the outage.
    let api_secrets = format!("{api}/secrets?workspace_id={workspace}");
    let body = json!({"name": "reliability", "keys": [{"key": "TOKEN", "value": "s3cr3t"}]});
    let (status, created) = json_of(http.post(&api_secrets).json(&body).send().await.unwrap()).await;
    assert!(status == 200 || status == 201, "{created}");
    let reader = commit_workflow(&http, &stack.url, &workspace, SECRET_READER.to_owned()).await;
    let (status, started) = json_of(
        http.post(format!("{api}/workflow-executions?workspace_id={workspace}")).json(&json!({"workflow_id": reader, "inputs": {}})).send().await.unwrap(),
    )
    .await;
    assert!(status == 200 || status == 201, "{started}");
    let reader_exec = started["wf_exec_id"].as_str().unwrap_or_else(|| panic!("{started}")).to_owned();

    // Postgres goes away: 503s with a reason and Retry-After, the health check says why.
    let pg = tokio::task::spawn_blocking(move || {
        pg.down();
        pg
    })
    .await
    .unwrap();
    let refused_before = stream.refused(503);
    eventually(Duration::from_secs(30), "a webhook refused with 503 while Postgres is down", || async {
        (stream.refused(503) > refused_before).then_some(())
    })
    .await;
    let (status, retry_after, detail) = health(&api).await;
    assert_eq!(status, 503, "{detail}");
    assert_eq!(retry_after.as_deref(), Some("5"));
    assert!(detail.contains("database"), "{detail}");

    // It comes back: accepting again within 5 s.
    let pg = tokio::task::spawn_blocking(move || {
        pg.up();
        pg
    })
    .await
    .unwrap();
    let accepted = stream.accepted();
    eventually(Duration::from_secs(5), "webhooks accepted again within 5 s of Postgres's return", || async {
        more_than(&stream, accepted).then_some(())
    })
    .await;
    assert_eq!(health(&api).await.0, 200);

    // Redis goes away: webhooks are still accepted (the rate limit fails open).
    tokio::task::block_in_place(|| redis.down());
    let accepted = stream.accepted();
    eventually(Duration::from_secs(30), "10 webhooks accepted while Redis is down", || async {
        more_than(&stream, accepted + 10).then_some(())
    })
    .await;
    tokio::task::block_in_place(|| redis.up());
    let accepted = stream.accepted();
    eventually(Duration::from_secs(30), "webhooks accepted after Redis's return", || async { more_than(&stream, accepted + 10).then_some(()) }).await;

    let books = stream.stop().await;
    eprintln!("books: {} posted, {} accepted, refused {:?}, {} unanswered", books.posted, books.accepted.len(), books.refused, books.unanswered.len());
    let only_503: Vec<&u16> = books.refused.keys().filter(|s| **s != 503).collect();
    assert!(only_503.is_empty(), "refusals other than 503: {:?}", books.refused);
    let runs = settled_runs(&http, &stack, &workspace, &wf_id, Duration::from_secs(120)).await;
    let seqs = seqs_of(&http, &stack, &workspace, &runs).await;
    reconcile(&books, &runs, &seqs);
    assert!(stack.logs().contains("webhook rate limit unavailable; request let through"), "the fail-open was not logged");
    let read = eventually(Duration::from_secs(60), "the secret reader to finish", || async {
        let (status, run) = json_of(http.get(format!("{api}/workflow-executions/{reader_exec}?workspace_id={workspace}")).send().await.unwrap()).await;
        (status == 200 && run["status"] != "RUNNING").then_some(run)
    })
    .await;
    assert_eq!(read["status"], "COMPLETED", "a read of the database during its outage failed the run: {read}");
    assert_eq!(read["result"], json!(6), "{read}");
    drop(pg);
}
