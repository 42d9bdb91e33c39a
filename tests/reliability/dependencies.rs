//! The stack's dependencies going away under a steady webhook stream, on a Postgres and a Redis
//! of the test's own (the machine's are shared with every other test):
//! - Postgres stopped: the api answers 503 with a reason and `Retry-After` (its health too),
//!   accepts again within 5 s of Postgres's return, and loses no accepted webhook; a run whose
//!   action reads a secret while Postgres is away completes once it is back (the platform's
//!   failure is tried again without spending the author's one attempt).
//! - Redis stopped: webhooks are still accepted. Rate limits and the sign-in lockout fail open
//!   (the limit protects capacity; the webhook's secret, not the limit, guards access), so an
//!   outage of Redis costs no run. Deduplication fails closed: a run that asks whether an
//!   alert is a duplicate while Redis is away waits for it, and then records the alert once.
//! - The object store killed: webhooks are still accepted; runs whose results go to the store
//!   wait for it (an attempt waits out an outage of up to a minute in place, then Temporal's
//!   reserve of attempts takes over) and complete once it is back, none lost or run twice; what
//!   the api must write to it (a case attachment) is refused with 503 and `Retry-After`, and
//!   taken again within 5 s of its return.

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use ferrocat_test_support::eventually;

use crate::books::{SEQ_WORKFLOW, STREAM_RATE_LIMIT, Stream, finished, reconcile, runs_now, seqs_of, settled_runs, start_run, with_webhook};
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

/// Asks whether alert 1 was seen before (a Redis check-and-set, on the executor).
const DEDUP: &str = r#"
title: Is it a duplicate
description: one check of alert 1
entrypoint: {ref: seen}
actions:
  - ref: seen
    action: core.transform.is_duplicate
    args: {item: {id: alert-1}, keys: [id]}
returns: ${{ ACTIONS.seen.result }}
"#;

/// Waits (up to a minute) for run `exec_id` to finish; its execution, which must have completed.
async fn completed(http: &reqwest::Client, stack: &Stack, workspace: &str, exec_id: &str) -> serde_json::Value {
    let run = finished(http, stack, workspace, exec_id, Duration::from_secs(60)).await;
    assert_eq!(run["status"], "COMPLETED", "{run}");
    run
}

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

/// A server of the test's own on a free port (Redis, an object store), stopped with `signal`
/// and started again on the same port.
struct Daemon {
    port: u16,
    command: Box<dyn Fn(u16) -> Command + Send>,
    signal: nix::sys::signal::Signal,
    child: Option<Child>,
}

impl Daemon {
    fn start(command: impl Fn(u16) -> Command + Send + 'static, signal: nix::sys::signal::Signal) -> Daemon {
        let mut daemon = Daemon { port: free_port(), command: Box::new(command), signal, child: None };
        daemon.up();
        daemon
    }

    /// A Redis with no persistence, stopped by SIGTERM.
    fn redis() -> Daemon {
        let command = |port: u16| {
            let mut command = Command::new("redis-server");
            command.args(["--bind", "127.0.0.1", "--port", &port.to_string(), "--save", "", "--appendonly", "no"]);
            command
        };
        Daemon::start(command, nix::sys::signal::Signal::SIGTERM)
    }

    /// `ferrocat object-store` over a folder of its own (which outlives a crash), killed with
    /// SIGKILL.
    fn object_store(dir: PathBuf) -> Daemon {
        let command = move |port: u16| {
            let mut command = Command::new(env!("CARGO_BIN_EXE_ferrocat"));
            command
                .arg("object-store")
                .env("FERROCAT_S3_ADDR", format!("127.0.0.1:{port}"))
                .env("FERROCAT_S3_DIR", &dir)
                .env("FERROCAT_S3_ACCESS_KEY", OBJECT_STORE_KEYS.0)
                .env("FERROCAT_S3_SECRET_KEY", OBJECT_STORE_KEYS.1)
                .stderr(Stdio::null());
            command
        };
        Daemon::start(command, nix::sys::signal::Signal::SIGKILL)
    }

    fn url(&self, scheme: &str) -> String {
        format!("{scheme}://127.0.0.1:{}", self.port)
    }

    fn up(&mut self) {
        let mut program = (self.command)(self.port);
        let name = program.get_program().to_string_lossy().into_owned();
        self.child = Some(program.stdout(Stdio::null()).spawn().unwrap_or_else(|e| panic!("{name}: {e}")));
        let addr = format!("127.0.0.1:{}", self.port);
        let deadline = std::time::Instant::now() + Duration::from_secs(30);
        while std::net::TcpStream::connect(&addr).is_err() {
            assert!(std::time::Instant::now() < deadline, "{name} did not open {addr}");
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    fn down(&mut self) {
        if let Some(mut child) = self.child.take() {
            nix::sys::signal::kill(nix::unistd::Pid::from_raw(child.id() as i32), self.signal).unwrap();
            child.wait().unwrap();
        }
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        self.down();
    }
}

/// The test's object store's access and secret keys.
const OBJECT_STORE_KEYS: (&str, &str) = ("reliability", "reliability-object-store-secret");

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
    let (pg, mut redis) = tokio::task::spawn_blocking(|| (Postgres::start(), Daemon::redis())).await.unwrap();
    let env = [("FERROCAT_DATABASE_URL", pg.url()), ("FERROCAT_REDIS_URL", redis.url("redis")), ("FERROCAT_WEBHOOK_RATE_LIMIT", STREAM_RATE_LIMIT.into())];
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
    let reader_exec = start_run(&http, &stack, &workspace, &reader).await;

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

    // Redis goes away: webhooks are still accepted (the rate limit fails open), and a run that
    // asks whether an alert is a duplicate waits for Redis instead (deduplication fails
    // closed: its first attempt is the platform's failure, not the author's).
    let dedup = commit_workflow(&http, &stack.url, &workspace, DEDUP.to_owned()).await;
    tokio::task::block_in_place(|| redis.down());
    let dedup_exec = start_run(&http, &stack, &workspace, &dedup).await;
    let accepted = stream.accepted();
    eventually(Duration::from_secs(30), "10 webhooks accepted while Redis is down", || async {
        more_than(&stream, accepted + 10).then_some(())
    })
    .await;
    eventually(Duration::from_secs(30), "the duplicate check to find Redis away", || async {
        stack.logs().contains("the deduplication store (Redis) is unavailable").then_some(())
    })
    .await;
    tokio::task::block_in_place(|| redis.up());
    let accepted = stream.accepted();
    eventually(Duration::from_secs(30), "webhooks accepted after Redis's return", || async { more_than(&stream, accepted + 10).then_some(()) }).await;

    let books = stream.stop().await;
    eprintln!("books: {}", books.summary());
    let only_503: Vec<&u16> = books.refused.keys().filter(|s| **s != 503).collect();
    assert!(only_503.is_empty(), "refusals other than 503: {:?}", books.refused);
    let runs = settled_runs(&http, &stack, &workspace, &wf_id, &books, Duration::from_secs(120)).await;
    let seqs = seqs_of(&http, &stack, &workspace, &runs).await;
    reconcile(&books, &runs, &seqs);
    assert!(stack.logs().contains("webhook rate limit unavailable; request let through"), "the fail-open was not logged");
    let read = completed(&http, &stack, &workspace, &reader_exec).await;
    assert_eq!(read["result"], json!(6), "{read}");
    // The duplicate check made during the outage completed once Redis was back, and recorded
    // the alert: the same check again finds it.
    assert_eq!(completed(&http, &stack, &workspace, &dedup_exec).await["result"], json!(false));
    let again = start_run(&http, &stack, &workspace, &dedup).await;
    assert_eq!(completed(&http, &stack, &workspace, &again).await["result"], json!(true));
    drop(pg);
}

/// Keeps a result in object storage and reads it back (the test's stack stores anything over
/// 64 bytes), then returns the seq it was sent.
const STORED_SEQ: &str = r#"
title: Reliability stored seq
description: a stored result, read back
entrypoint: {ref: big}
actions:
  - ref: big
    action: core.transform.reshape
    args: {value: {seq: "${{ TRIGGER.seq }}", padding: "0123456789012345678901234567890123456789012345678901234567890123456789"}}
  - ref: back
    action: core.transform.reshape
    depends_on: [big]
    args: {value: {seq: "${{ ACTIONS.big.result.seq }}"}}
returns: ${{ ACTIONS.back.result }}
"#;

/// Uploads a small file to case `case_id`: (status, Retry-After, body).
async fn attach(http: &reqwest::Client, api: &str, workspace: &str, case_id: &str, name: &str) -> (u16, Option<String>, serde_json::Value) {
    let part = reqwest::multipart::Part::bytes(format!("evidence {name}").into_bytes()).file_name(name.to_owned()).mime_str("text/plain").unwrap();
    let form = reqwest::multipart::Form::new().part("file", part);
    let response = http.post(format!("{api}/cases/{case_id}/attachments?workspace_id={workspace}")).multipart(form).send().await.unwrap();
    let retry_after = response.headers().get("retry-after").and_then(|v| v.to_str().ok()).map(str::to_owned);
    let (status, body) = json_of(response).await;
    (status, retry_after, body)
}

/// Every file under `dir`.
fn walk(dir: &std::path::Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let path = entry.path();
        if path.is_dir() { files.extend(walk(&path)) } else { files.push(path) }
    }
    files
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_object_store_outage_costs_runs_time_not_results() {
    let _alone = crate::ONE_AT_A_TIME.lock().await;
    let dir = std::env::temp_dir().join(format!("ferrocat-reliability-objects-{}", std::process::id()));
    let objects_dir = dir.clone();
    let mut store = tokio::task::spawn_blocking(move || Daemon::object_store(objects_dir)).await.unwrap();
    let env = [
        ("FERROCAT_S3_ENDPOINT", store.url("http")),
        ("FERROCAT_S3_ACCESS_KEY", OBJECT_STORE_KEYS.0.to_owned()),
        ("FERROCAT_S3_SECRET_KEY", OBJECT_STORE_KEYS.1.to_owned()),
        ("FERROCAT_RESULT_THRESHOLD_BYTES", "64".to_owned()),
        ("FERROCAT_WEBHOOK_RATE_LIMIT", STREAM_RATE_LIMIT.into()),
    ];
    let stack = tokio::task::spawn_blocking(move || Stack::up_with(&env)).await.unwrap();
    let api = format!("{}/api", stack.url);
    let (http, workspace) = login(&stack.url).await;
    let (wf_id, hook) = with_webhook(&http, &stack, &workspace, STORED_SEQ).await;
    let (status, case) = json_of(http.post(format!("{api}/cases?workspace_id={workspace}")).json(&json!({"summary": "outage"})).send().await.unwrap()).await;
    assert_eq!(status, 201, "{case}");
    let case_id = case["id"].as_str().unwrap().to_owned();
    let (status, _, attached) = attach(&http, &api, &workspace, &case_id, "before.txt").await;
    assert_eq!(status, 201, "{attached}");

    let stream = Stream::start(hook, 20);
    eventually(Duration::from_secs(60), "the stream to run", || async { (stream.accepted() > 10).then_some(()) }).await;
    let results = dir.join("ferrocat-workflow");
    let stored_before = eventually(Duration::from_secs(60), "results in the object store", || async {
        let stored = walk(&results).len();
        (stored > 0).then_some(stored)
    })
    .await;

    // The store dies: webhooks are still taken, the runs wait, an upload is refused clearly.
    tokio::task::block_in_place(|| store.down());
    let accepted = stream.accepted();
    eventually(Duration::from_secs(30), "20 webhooks accepted while the object store is down", || async {
        (stream.accepted() > accepted + 20).then_some(())
    })
    .await;
    let (status, retry_after, refused) = attach(&http, &api, &workspace, &case_id, "during.txt").await;
    assert_eq!((status, retry_after.as_deref()), (503, Some("5")), "{refused}");
    assert!(refused["detail"].as_str().unwrap().contains("object store is unavailable"), "{refused}");
    let runs = runs_now(&http, &stack, &workspace, &wf_id).await;
    let waiting = runs.values().filter(|s| *s == "RUNNING").count();
    assert!(waiting > 0, "no run waited for the object store: {runs:?}");

    // It comes back: uploads are taken within 5 s, and the waiting runs finish.
    tokio::task::block_in_place(|| store.up());
    eventually(Duration::from_secs(5), "an upload taken within 5 s of the object store's return", || async {
        let (status, _, _) = attach(&http, &api, &workspace, &case_id, "after.txt").await;
        (status == 201).then_some(())
    })
    .await;
    let accepted = stream.accepted();
    eventually(Duration::from_secs(30), "webhooks accepted after the object store's return", || async {
        (stream.accepted() > accepted + 10).then_some(())
    })
    .await;
    let books = stream.stop().await;
    eprintln!("books: {}; {waiting} runs waited", books.summary());
    assert!(books.refused.is_empty(), "webhooks refused while only the object store was down: {:?}", books.refused);
    let runs = settled_runs(&http, &stack, &workspace, &wf_id, &books, Duration::from_secs(120)).await;
    let seqs = seqs_of(&http, &stack, &workspace, &runs).await;
    reconcile(&books, &runs, &seqs);
    assert!(walk(&results).len() > stored_before, "the runs after the outage stored nothing");
    // The refused upload left nothing behind: the case has the two files that were taken.
    let (_, files) = json_of(http.get(format!("{api}/cases/{case_id}/attachments?workspace_id={workspace}")).send().await.unwrap()).await;
    let names: Vec<&str> = files.as_array().unwrap().iter().map(|f| f["file_name"].as_str().unwrap()).collect();
    assert_eq!(names, ["before.txt", "after.txt"], "{files}");
    drop(store);
    let _ = std::fs::remove_dir_all(&dir);
}
