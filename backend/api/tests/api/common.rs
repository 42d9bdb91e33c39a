//! Integration-test harness for the api (zero2prod's `spawn_app`): every test gets a fresh
//! UUID-named Postgres database with the migrations applied and its own api served in-process on
//! 127.0.0.1:0; one real Temporal dev server serves the whole test binary (started on free ports
//! on first use, killed when the binary exits). Log lines of every test are captured so tests can
//! assert that nothing secret was logged.

#![allow(dead_code)]

use std::fmt::Write as _;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use reqwest::{Client, Response, StatusCode};
use serde_json::Value;
use sqlx::PgPool;
use uuid::Uuid;

use ferrocat_api::{ApiConfig, AppState};
use ferrocat_app::{accounts as auth, db};
use ferrocat_shared::config::Env;

pub const ADMIN_EMAIL: &str = "admin@example.com";
pub const ADMIN_PASSWORD: &str = "correct-horse-battery-staple";
pub const ENCRYPTION_KEY: &str = "8f1d2c3b4a5968778695a4b3c2d1e0f0112233445566778899aabbccddeeff00";
/// The Redis every test api uses (its keys under a per-test prefix).
pub const REDIS_URL: &str = "redis://127.0.0.1:6379";
/// Requests larger than this are refused (413) by the test api.
pub const MAX_BODY_BYTES: usize = 256 * 1024;

pub use ferrocat_test_support::db::drop_database;
use ferrocat_test_support::db::postgres_base;
use ferrocat_test_support::temporal;

/// Log lines of every test in this binary, at every level.
pub fn logs() -> &'static Arc<Mutex<Vec<u8>>> {
    static LOGS: OnceLock<Arc<Mutex<Vec<u8>>>> = OnceLock::new();
    LOGS.get_or_init(|| {
        let buffer = Arc::new(Mutex::new(Vec::new()));
        let sink = buffer.clone();
        let subscriber = tracing_subscriber::fmt()
            .with_env_filter("trace,h2=info,hyper=info,tonic=info,tower=info,sqlx=info,rustls=info")
            .with_ansi(false)
            .with_writer(move || Capture(sink.clone()))
            .finish();
        let _ = tracing::subscriber::set_global_default(subscriber);
        buffer
    })
}

struct Capture(Arc<Mutex<Vec<u8>>>);

impl std::io::Write for Capture {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// One api under test.
pub struct TestApp {
    /// `http://127.0.0.1:<port>`.
    pub url: String,
    pub db: PgPool,
    pub state: AppState,
    pub db_name: String,
    /// The default workspace (the admin's).
    pub workspace_id: Uuid,
    server: tokio::task::JoinHandle<()>,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
}

/// Starts an api on a fresh database.
pub async fn spawn_app() -> TestApp {
    spawn_app_with(&[]).await
}

/// Starts an api on a fresh database with extra configuration.
pub async fn spawn_app_with(extra: &[(&str, &str)]) -> TestApp {
    let (db_name, database_url, db) = fresh_database().await;
    let (state, router) = build(&database_url, extra).await;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(async move {
        ferrocat_api::serve(listener, router, async move {
            let _ = rx.await;
        })
        .await
        .expect("serve the api");
    });
    let workspace_id = db::workspaces::ensure_default(&db).await.unwrap();
    TestApp { url, db, state, db_name, workspace_id, server, shutdown: Some(tx) }
}

/// A new, migrated database with nothing in it yet: its name, URL and a pool.
pub async fn fresh_database() -> (String, String, PgPool) {
    logs();
    ferrocat_test_support::db::fresh_database("ferrocat_api_test").await
}

/// Builds an api (state and routes) on an existing database, bootstrapping it as a start does.
pub async fn build(database_url: &str, extra: &[(&str, &str)]) -> (AppState, axum::Router) {
    let temporal = temporal().await;
    let max_body = MAX_BODY_BYTES.to_string();
    // Redis keys of one test never meet another's.
    let redis_prefix = format!("ferrocat-test:{}:", database_url.rsplit('/').next().unwrap_or_default());
    let mut vars = vec![
        ("FERROCAT_REDIS_URL", REDIS_URL),
        ("FERROCAT_REDIS_PREFIX", redis_prefix.as_str()),
        ("FERROCAT_DATABASE_URL", database_url),
        ("FERROCAT_SIGNING_SECRET", "test-signing-secret-0123456789"),
        ("FERROCAT_DB_ENCRYPTION_KEY", ENCRYPTION_KEY),
        ("FERROCAT_ADMIN_EMAIL", ADMIN_EMAIL),
        ("FERROCAT_ADMIN_PASSWORD", ADMIN_PASSWORD),
        ("FERROCAT_TEMPORAL_ADDRESS", temporal.address.as_str()),
        ("FERROCAT_MAX_BODY_BYTES", max_body.as_str()),
    ];
    for (k, v) in extra {
        vars.retain(|(key, _)| key != k);
        vars.push((k, v));
    }
    let config = ApiConfig::from_env(&Env::from_pairs(vars.iter().copied())).expect("test configuration is valid");
    ferrocat_api::build(config).await.expect("build the api")
}

impl Drop for TestApp {
    /// Stops the server and drops the database, unless the test failed (kept for inspection).
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        self.server.abort();
        if std::thread::panicking() {
            eprintln!("test database kept for inspection: {}", self.db_name);
            return;
        }
        drop_database(&self.db_name);
    }
}

/// A browser for single sign-on: keeps cookies, follows no redirect (each hop is checked).
pub fn browser() -> Client {
    Client::builder().cookie_store(true).redirect(reqwest::redirect::Policy::none()).build().unwrap()
}

/// Where a redirect sends the browser.
pub fn location(response: &Response) -> String {
    response.headers().get(reqwest::header::LOCATION).expect("a Location header").to_str().unwrap().to_owned()
}

/// Why a single sign-on (OpenID Connect or SAML) signed nobody in: the browser goes back to the
/// sign-in page with the reason in a cookie for it (never in the URL, where a link could write
/// it), and no session.
pub fn sso_refusal(response: &Response) -> String {
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(response), "/");
    let cookies: Vec<&str> = response.headers().get_all(reqwest::header::SET_COOKIE).iter().filter_map(|c| c.to_str().ok()).collect();
    assert!(cookies.iter().all(|c| !c.starts_with("ferrocat_session=")), "no session: {cookies:?}");
    let why = cookies.iter().find_map(|c| c.strip_prefix("ferrocat_sso_error=")).expect("the reason's cookie").split(';').next().unwrap();
    percent_decode(why)
}

/// `%XX` escapes decoded (as the browser's decodeURIComponent does).
fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match (bytes[i], bytes.get(i + 1..i + 3).and_then(|h| u8::from_str_radix(std::str::from_utf8(h).ok()?, 16).ok())) {
            (b'%', Some(byte)) => {
                out.push(byte);
                i += 3;
            }
            (byte, _) => {
                out.push(byte);
                i += 1;
            }
        }
    }
    String::from_utf8(out).unwrap()
}

/// A client that keeps cookies (one per person).
pub fn client() -> Client {
    Client::builder().cookie_store(true).build().unwrap()
}

impl TestApp {
    /// Builds another api over this test's database (as a restart with other settings would).
    pub async fn rebuild(&self, extra: &[(&str, &str)]) -> AppState {
        let url = format!("{}/{}", postgres_base(), self.db_name);
        build(&url, extra).await.0
    }

    pub fn at(&self, path: &str) -> String {
        format!("{}{path}", self.url)
    }

    /// `POST /auth/login` with a form.
    pub async fn login(&self, client: &Client, email: &str, password: &str) -> Response {
        client.post(self.at("/auth/login")).form(&[("username", email), ("password", password)]).send().await.unwrap()
    }

    /// A client signed in as the bootstrapped admin.
    pub async fn admin(&self) -> Client {
        let client = client();
        let response = self.login(&client, ADMIN_EMAIL, ADMIN_PASSWORD).await;
        assert_eq!(response.status(), StatusCode::NO_CONTENT, "admin login: {}", response.text().await.unwrap());
        client
    }

    /// Creates a user who is `role` in `workspace` (directly in the database: there is no
    /// sign-up route yet).
    pub async fn create_user(&self, email: &str, password: &str, workspace: Uuid, role: &str) -> Uuid {
        let hash = auth::hash_password(password).unwrap();
        let id = db::users::insert(&self.db, email, &hash, false).await.unwrap();
        db::workspaces::upsert_membership(&self.db, id, workspace, role).await.unwrap();
        id
    }

    /// A signed-in client for a new user who is `role` in `workspace`.
    pub async fn user(&self, email: &str, workspace: Uuid, role: &str) -> Client {
        let password = "another-long-password";
        self.create_user(email, password, workspace, role).await;
        let client = client();
        assert_eq!(self.login(&client, email, password).await.status(), StatusCode::NO_CONTENT);
        client
    }

    /// A second workspace (directly in the database).
    pub async fn create_workspace(&self, name: &str) -> Uuid {
        let id = Uuid::now_v7();
        sqlx::query("INSERT INTO workspaces (id, name) VALUES ($1, $2)").bind(id).bind(name).execute(&self.db).await.unwrap();
        id
    }

    /// Every row of every table, as text, for "the database is unchanged" assertions. Columns
    /// that record a successful authentication (a key's last use) are left out.
    pub async fn snapshot(&self) -> String {
        let tables: Vec<String> = sqlx::query_scalar(
            "SELECT table_name::text FROM information_schema.tables
             WHERE table_schema = 'public' AND table_name <> '_sqlx_migrations' ORDER BY table_name",
        )
        .fetch_all(&self.db)
        .await
        .unwrap();
        let mut out = String::new();
        for table in tables {
            let sql = format!(
                "SELECT COALESCE(string_agg(row, E'\\n' ORDER BY row), '') FROM
                 (SELECT (to_jsonb(t) - 'last_used_at')::text AS row FROM \"{table}\" t) rows"
            );
            let rows: String = sqlx::query_scalar(sqlx::AssertSqlSafe(sql)).fetch_one(&self.db).await.unwrap();
            writeln!(out, "== {table}\n{rows}").unwrap();
        }
        out
    }

    /// Imports and commits a workflow; returns its `wf_…` id.
    pub async fn committed_workflow(&self, client: &Client, yaml: &str) -> String {
        let response = client
            .post(self.at("/workflows"))
            .header("content-type", "application/yaml")
            .body(yaml.to_owned())
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::CREATED);
        let id = response.json::<Value>().await.unwrap()["id"].as_str().unwrap().to_owned();
        let response = client.post(self.at(&format!("/workflows/{id}/commit"))).send().await.unwrap();
        assert_eq!(response.status(), StatusCode::OK, "commit: {}", response.text().await.unwrap());
        id
    }
}

/// A simple workflow: one reshape of the trigger.
pub const ECHO_WORKFLOW: &str = r#"
title: Echo
description: returns its input
entrypoint:
  ref: echo
actions:
  - ref: echo
    action: core.transform.reshape
    args:
      value: ${{ TRIGGER }}
"#;

pub use ferrocat_test_support::eventually;

/// A stand-in DSL worker on `task_queue`: it polls Temporal for workflow tasks and completes each
/// run at once with its `trigger` as the result, so `/wait` has something to wait for without
/// the real worker (which another crate owns). Runs until the returned task is aborted.
pub fn echo_worker(state: &AppState, task_queue: &str) -> tokio::task::JoinHandle<()> {
    use temporalio_client::NamespacedClient as _;
    use temporalio_client::grpc::WorkflowService;
    use temporalio_client::tonic::IntoRequest as _;
    use temporalio_common::protos::temporal::api::command::v1::{
        Command, CompleteWorkflowExecutionCommandAttributes, command::Attributes as CommandAttributes,
    };
    use temporalio_common::protos::temporal::api::common::v1::Payloads;
    use temporalio_common::protos::temporal::api::enums::v1::CommandType;
    use temporalio_common::protos::temporal::api::history::v1::history_event::Attributes;
    use temporalio_common::protos::temporal::api::taskqueue::v1::TaskQueue;
    use temporalio_common::protos::temporal::api::workflowservice::v1::{
        PollWorkflowTaskQueueRequest, RespondWorkflowTaskCompletedRequest,
    };

    let mut client = state.temporal.clone();
    let task_queue = task_queue.to_owned();
    tokio::spawn(async move {
        loop {
            let poll = PollWorkflowTaskQueueRequest {
                namespace: client.namespace(),
                task_queue: Some(TaskQueue { name: task_queue.clone(), kind: 1, ..Default::default() }),
                identity: "api-test-echo-worker".into(),
                ..Default::default()
            };
            let Ok(task) = WorkflowService::poll_workflow_task_queue(&mut client, poll.into_request()).await else {
                tokio::time::sleep(Duration::from_millis(100)).await;
                continue;
            };
            let task = task.into_inner();
            if task.task_token.is_empty() {
                continue; // the long poll ended without a task
            }
            let input = task.history.iter().flat_map(|h| &h.events).find_map(|e| match &e.attributes {
                Some(Attributes::WorkflowExecutionStartedEventAttributes(a)) => a.input.clone(),
                _ => None,
            });
            let args: Value = input
                .and_then(|p| p.payloads.into_iter().next())
                .and_then(|p| serde_json::from_slice(&p.data).ok())
                .unwrap_or(Value::Null);
            let mut result = input_payload(&args["trigger"]);
            result.metadata.insert("encoding".into(), b"json/plain".to_vec());
            let complete = Command {
                command_type: CommandType::CompleteWorkflowExecution as i32,
                attributes: Some(CommandAttributes::CompleteWorkflowExecutionCommandAttributes(
                    CompleteWorkflowExecutionCommandAttributes { result: Some(Payloads { payloads: vec![result] }) },
                )),
                ..Default::default()
            };
            let respond = RespondWorkflowTaskCompletedRequest {
                task_token: task.task_token,
                commands: vec![complete],
                identity: "api-test-echo-worker".into(),
                namespace: client.namespace(),
                ..Default::default()
            };
            let _ = WorkflowService::respond_workflow_task_completed(&mut client, respond.into_request()).await;
        }
    })
}

fn input_payload(value: &Value) -> temporalio_common::protos::temporal::api::common::v1::Payload {
    temporalio_common::protos::temporal::api::common::v1::Payload {
        data: serde_json::to_vec(value).unwrap(),
        ..Default::default()
    }
}

/// The ids of the runs Temporal lists for a workflow (via the api), newest first.
pub async fn runs_of(app: &TestApp, client: &Client, wf_id: &str) -> Vec<String> {
    let response = client.get(app.at(&format!("/workflow-executions?workflow_id={wf_id}"))).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let listed: Value = response.json().await.unwrap();
    listed.as_array().unwrap().iter().map(|r| r["id"].as_str().unwrap().to_owned()).collect()
}
