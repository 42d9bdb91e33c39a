//! Integration-test harness for the MCP server (the api tests' pattern): every test gets a fresh
//! UUID-named Postgres database with the migrations applied and its own MCP server on
//! 127.0.0.1:0, whose public URL is that address; one real Temporal dev server serves the whole
//! test binary. A test that runs workflows starts the real DSL worker on its own task queue.
//! Helpers drive the OAuth flow as a browser and an MCP client would, over plain HTTP.

#![allow(dead_code)]

use std::time::Duration;

use base64::Engine as _;
use rand::RngCore as _;
use reqwest::{Client, StatusCode, header};
use serde_json::{Value, json};
use sha2::{Digest as _, Sha256};
use sqlx::PgPool;
use uuid::Uuid;

use ferrocat_app::{accounts as auth, db};
use ferrocat_shared::config::Env;

pub const ADMIN_EMAIL: &str = "admin@example.com";
pub const ADMIN_PASSWORD: &str = "correct-horse-battery-staple";
pub const ENCRYPTION_KEY: &str = "8f1d2c3b4a5968778695a4b3c2d1e0f0112233445566778899aabbccddeeff00";
pub const REDIRECT_URI: &str = "http://127.0.0.1/callback";

use ferrocat_test_support::db::{drop_database, fresh_database, postgres_base};
use ferrocat_test_support::temporal;

/// One MCP server under test.
pub struct TestMcp {
    /// `http://127.0.0.1:<port>`: also its public URL.
    pub url: String,
    pub db: PgPool,
    pub db_name: String,
    pub workspace_id: Uuid,
    task_queue: String,
    env: Vec<(String, String)>,
    owns_db: bool,
    server: tokio::task::JoinHandle<()>,
    worker: Option<tokio::sync::oneshot::Sender<()>>,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
}

/// Starts an MCP server on a fresh database.
pub async fn spawn() -> TestMcp {
    spawn_with(&[]).await
}

/// Starts an MCP server on a fresh database, with these `FERROCAT_*` variables besides the
/// harness's own.
pub async fn spawn_with(extra_env: &[(&str, &str)]) -> TestMcp {
    let (db_name, _, db) = fresh_database("ferrocat_mcp_test").await;
    let mut app = spawn_on(&db_name, None, extra_env).await;
    app.db = db;
    app
}

/// Starts an MCP server on an existing test database, with its own public URL (`public`) or
/// its listening address.
async fn spawn_on(db_name: &str, public: Option<&str>, extra_env: &[(&str, &str)]) -> TestMcp {
    let database_url = format!("{}/{db_name}", postgres_base());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let temporal = temporal().await;
    let task_queue = format!("mcp-test-{}", Uuid::new_v4().simple());
    let executor_queue = format!("{task_queue}-actions");
    // Sign-in lockouts live in Redis: each test database gets keys of its own.
    let redis_prefix = format!("ferrocat-test:{db_name}:");
    let env: Vec<(String, String)> = [
        ("FERROCAT_REDIS_URL", "redis://127.0.0.1:6379"),
        ("FERROCAT_REDIS_PREFIX", redis_prefix.as_str()),
        ("FERROCAT_DATABASE_URL", database_url.as_str()),
        ("FERROCAT_SIGNING_SECRET", "test-signing-secret-0123456789"),
        ("FERROCAT_DB_ENCRYPTION_KEY", ENCRYPTION_KEY),
        ("FERROCAT_ADMIN_EMAIL", ADMIN_EMAIL),
        ("FERROCAT_ADMIN_PASSWORD", ADMIN_PASSWORD),
        ("FERROCAT_TEMPORAL_ADDRESS", temporal.address.as_str()),
        ("FERROCAT_TEMPORAL_TASK_QUEUE", task_queue.as_str()),
        ("FERROCAT_EXECUTOR_QUEUE", executor_queue.as_str()),
        ("FERROCAT_PUBLIC_URL", public.unwrap_or(&url)),
        ("FERROCAT_MCP_SSE_KEEP_ALIVE_SECONDS", "1"),
        ("FERROCAT_MCP_CIMD_ALLOW_INSECURE", "true"),
    ]
    .iter()
    .chain(extra_env)
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect();
    let config = ferrocat_mcp::McpConfig::from_env(&Env::from_pairs(env.clone())).expect("test configuration is valid");
    let state = ferrocat_mcp::build(config).await.expect("build the mcp server");
    // In a deployment the api makes the first admin; here the MCP server runs alone.
    ferrocat_app::accounts::bootstrap(&state.app).await.expect("bootstrap the first admin");
    let db = state.db().clone();
    let router = ferrocat_mcp::router(state, tokio_util::sync::CancellationToken::new());
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(async move {
        ferrocat_mcp::serve(listener, router, async move {
            let _ = rx.await;
        })
        .await
        .expect("serve the mcp server");
    });
    let workspace_id = db::workspaces::ensure_default(&db).await.unwrap();
    TestMcp { url, db, db_name: db_name.to_owned(), workspace_id, task_queue, env, owns_db: true, server, worker: None, shutdown: Some(tx) }
}

impl Drop for TestMcp {
    /// Stops the server (and worker) and drops the database, unless the test failed.
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        self.server.abort();
        if let Some(worker) = self.worker.take() {
            let _ = worker.send(());
        }
        if !self.owns_db {
            return;
        }
        if std::thread::panicking() {
            eprintln!("test database kept for inspection: {}", self.db_name);
            return;
        }
        drop_database(&self.db_name);
    }
}

/// A browser: keeps cookies, never follows redirects (the tests read `Location`).
pub fn browser() -> Client {
    Client::builder().cookie_store(true).redirect(reqwest::redirect::Policy::none()).build().unwrap()
}

/// A PKCE verifier and its S256 challenge.
pub fn pkce() -> (String, String) {
    let mut raw = [0u8; 32];
    rand::thread_rng().fill_bytes(&mut raw);
    let verifier = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(raw);
    let challenge = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()));
    (verifier, challenge)
}

/// The value of the hidden `request_id` field of a page.
pub fn request_id(html: &str) -> String {
    let marker = "name=\"request_id\" value=\"";
    let start = html.find(marker).unwrap_or_else(|| panic!("no request_id in page: {html}")) + marker.len();
    html[start..].split('"').next().unwrap().to_owned()
}

/// The query parameters of a `Location` header.
pub fn location_params(response: &reqwest::Response) -> (String, Vec<(String, String)>) {
    let location = response.headers().get(header::LOCATION).expect("a Location header").to_str().unwrap().to_owned();
    let url = url::Url::parse(&location).unwrap();
    let params = url.query_pairs().map(|(k, v)| (k.into_owned(), v.into_owned())).collect();
    (location, params)
}

pub fn param<'a>(params: &'a [(String, String)], key: &str) -> Option<&'a str> {
    params.iter().find(|(k, _)| k == key).map(|(_, v)| v.as_str())
}

/// Access and refresh token.
#[derive(Debug, Clone)]
pub struct Tokens {
    pub access: String,
    pub refresh: Option<String>,
}

/// An MCP response: status, session id, and the JSON-RPC message (from JSON or SSE).
#[derive(Debug)]
pub struct McpReply {
    pub status: StatusCode,
    pub session: Option<String>,
    pub www_authenticate: Option<String>,
    pub message: Value,
}

impl TestMcp {
    pub fn at(&self, path: &str) -> String {
        format!("{}{path}", self.url)
    }

    /// The resource tokens are minted for.
    pub fn resource(&self) -> String {
        self.at("/mcp")
    }

    /// Another MCP server over this test's database, with another public URL (another
    /// deployment, as far as the tokens go).
    pub async fn sibling(&self, public_url: &str) -> TestMcp {
        let mut other = spawn_on(&self.db_name, Some(public_url), &[]).await;
        // The database belongs to this test's first server.
        other.owns_db = false;
        other
    }

    /// Starts the real DSL worker on this server's task queue.
    pub fn start_worker(&mut self) {
        let config = ferrocat_workers::WorkerConfig::from_env(&Env::from_pairs(self.env.clone())).expect("worker configuration");
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        // The worker gets a runtime of its own: the SDK's futures need not be `Send`.
        std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
            runtime.block_on(async move {
                let shutdown = async move {
                    let _ = stopped.await;
                };
                // The DSL worker, and the executor for the actions (both stop when one does).
                let (stop_executor, executor_stopped) = tokio::sync::oneshot::channel::<()>();
                let worker = async {
                    let result = ferrocat_workers::run_worker(config.clone(), shutdown).await;
                    let _ = stop_executor.send(());
                    result
                };
                let executor = ferrocat_workers::run_executor(config.clone(), async move {
                    let _ = executor_stopped.await;
                });
                let (worker, executor) = tokio::join!(worker, executor);
                if let Err(e) = worker.and(executor) {
                    eprintln!("worker stopped: {e:#}");
                }
            });
        });
        self.worker = Some(stop);
    }

    /// Creates a user who is `role` in `workspace`.
    pub async fn create_user(&self, email: &str, password: &str, workspace: Uuid, role: &str) -> Uuid {
        let hash = auth::hash_password(password).unwrap();
        let id = db::users::insert(&self.db, email, &hash, false).await.unwrap();
        db::workspaces::upsert_membership(&self.db, id, workspace, role).await.unwrap();
        id
    }

    /// A second workspace.
    pub async fn create_workspace(&self, name: &str) -> Uuid {
        let id = Uuid::now_v7();
        sqlx::query("INSERT INTO workspaces (id, name) VALUES ($1, $2)").bind(id).bind(name).execute(&self.db).await.unwrap();
        id
    }

    /// Registers a public client (DCR) with these redirect URIs; its client id.
    pub async fn register(&self, redirect_uris: &[&str]) -> String {
        let response = Client::new()
            .post(self.at("/register"))
            .json(&json!({
                "client_name": "test client",
                "redirect_uris": redirect_uris,
                "grant_types": ["authorization_code", "refresh_token"],
                "response_types": ["code"],
                "token_endpoint_auth_method": "none",
            }))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::CREATED);
        let body: Value = response.json().await.unwrap();
        assert!(body.get("client_secret").is_none(), "a public client gets no secret");
        body["client_id"].as_str().unwrap().to_owned()
    }

    /// `GET /authorize` with these parameters, from `browser`.
    pub async fn authorize(&self, browser: &Client, params: &[(&str, &str)]) -> reqwest::Response {
        browser.get(self.at("/authorize")).query(params).send().await.unwrap()
    }

    /// The standard parameters of an authorization request.
    pub fn authorize_params<'a>(&'a self, client_id: &'a str, challenge: &'a str, resource: &'a str) -> Vec<(&'a str, &'a str)> {
        vec![
            ("response_type", "code"),
            ("client_id", client_id),
            ("redirect_uri", "http://127.0.0.1:43117/callback"),
            ("code_challenge", challenge),
            ("code_challenge_method", "S256"),
            ("state", "xyz-state"),
            ("resource", resource),
            ("scope", "mcp"),
        ]
    }

    /// Signs in on the page of `authorize` and allows access; the code sent to the redirect URI.
    pub async fn sign_in_and_allow(&self, browser: &Client, authorize: reqwest::Response, email: &str, password: &str) -> String {
        assert_eq!(authorize.status(), StatusCode::OK);
        let page = authorize.text().await.unwrap();
        assert!(page.contains("Sign in to ferrocat"), "{page}");
        let response = browser
            .post(self.at("/authorize/sign-in"))
            .form(&[("request_id", request_id(&page).as_str()), ("email", email), ("password", password)])
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::OK);
        let consent = response.text().await.unwrap();
        assert!(consent.contains("Allow access?"), "{consent}");
        self.allow(browser, &consent).await
    }

    /// Posts `decision=allow` on a consent page; the code.
    pub async fn allow(&self, browser: &Client, consent: &str) -> String {
        let response = browser
            .post(self.at("/consent"))
            .form(&[("request_id", request_id(consent).as_str()), ("decision", "allow")])
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::SEE_OTHER);
        let (location, params) = location_params(&response);
        assert!(location.starts_with("http://127.0.0.1:43117/callback?"), "{location}");
        assert_eq!(param(&params, "state"), Some("xyz-state"));
        assert_eq!(param(&params, "iss"), Some(self.url.as_str()));
        param(&params, "code").expect("a code").to_owned()
    }

    /// `POST /token` with a form.
    pub async fn token(&self, form: &[(&str, &str)]) -> reqwest::Response {
        Client::new().post(self.at("/token")).form(form).send().await.unwrap()
    }

    /// Redeems a code.
    pub async fn exchange(&self, client_id: &str, code: &str, verifier: &str) -> reqwest::Response {
        self.token(&[
            ("grant_type", "authorization_code"),
            ("client_id", client_id),
            ("code", code),
            ("code_verifier", verifier),
            ("redirect_uri", "http://127.0.0.1:43117/callback"),
            ("resource", &self.resource()),
        ])
        .await
    }

    /// The whole flow for a user: register, authorize, sign in, consent, token.
    pub async fn sign_in(&self, email: &str, password: &str) -> (String, Tokens) {
        let client_id = self.register(&[REDIRECT_URI]).await;
        let (verifier, challenge) = pkce();
        let browser = browser();
        let resource = self.resource();
        let authorize = self.authorize(&browser, &self.authorize_params(&client_id, &challenge, &resource)).await;
        let code = self.sign_in_and_allow(&browser, authorize, email, password).await;
        let response = self.exchange(&client_id, &code, &verifier).await;
        assert_eq!(response.status(), StatusCode::OK);
        let body: Value = response.json().await.unwrap();
        assert_eq!(body["token_type"], "Bearer");
        let tokens = Tokens {
            access: body["access_token"].as_str().unwrap().to_owned(),
            refresh: body["refresh_token"].as_str().map(str::to_owned),
        };
        (client_id, tokens)
    }

    /// POSTs one JSON-RPC message to `/mcp`.
    pub async fn mcp(&self, token: Option<&str>, headers: &[(&str, &str)], body: &Value) -> McpReply {
        let mut request = Client::new()
            .post(self.at("/mcp"))
            .header(header::ACCEPT, "application/json, text/event-stream")
            .header(header::CONTENT_TYPE, "application/json")
            .json(body);
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        for (k, v) in headers {
            request = request.header(*k, *v);
        }
        let response = tokio::time::timeout(Duration::from_secs(60), request.send()).await.expect("mcp answered in time").unwrap();
        let status = response.status();
        let session = response.headers().get("mcp-session-id").map(|v| v.to_str().unwrap().to_owned());
        let www_authenticate = response.headers().get(header::WWW_AUTHENTICATE).map(|v| v.to_str().unwrap().to_owned());
        let sse = response.headers().get(header::CONTENT_TYPE).is_some_and(|v| v.to_str().unwrap().starts_with("text/event-stream"));
        let text = tokio::time::timeout(Duration::from_secs(120), response.text()).await.expect("mcp finished in time").unwrap();
        let message = if sse {
            // The JSON-RPC message is the `data:` of the event that has one with an id or error.
            text.lines()
                .filter_map(|l| l.strip_prefix("data:"))
                .filter_map(|d| serde_json::from_str::<Value>(d.trim()).ok())
                .find(|m| m.get("result").is_some() || m.get("error").is_some())
                .unwrap_or(Value::Null)
        } else {
            serde_json::from_str(&text).unwrap_or(Value::String(text))
        };
        McpReply { status, session, www_authenticate, message }
    }

    /// `initialize` (2025-11-25) and `notifications/initialized`; the session id.
    pub async fn initialize(&self, token: &str) -> String {
        let reply = self
            .mcp(
                Some(token),
                &[],
                &json!({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
                    "protocolVersion": "2025-11-25", "capabilities": {}, "clientInfo": {"name": "mcp-test", "version": "1"}}}),
            )
            .await;
        assert_eq!(reply.status, StatusCode::OK, "{reply:?}");
        assert_eq!(reply.message["result"]["protocolVersion"], "2025-11-25", "{reply:?}");
        let session = reply.session.expect("a session id");
        let headers = [("mcp-session-id", session.as_str()), ("mcp-protocol-version", "2025-11-25")];
        let done = self.mcp(Some(token), &headers, &json!({"jsonrpc": "2.0", "method": "notifications/initialized"})).await;
        assert_eq!(done.status, StatusCode::ACCEPTED);
        session
    }

    /// A request in an initialized session (2025-11-25).
    pub async fn legacy(&self, token: &str, session: &str, id: u64, method: &str, params: Value) -> McpReply {
        let headers = [("mcp-session-id", session), ("mcp-protocol-version", "2025-11-25")];
        self.mcp(Some(token), &headers, &json!({"jsonrpc": "2.0", "id": id, "method": method, "params": params})).await
    }

    /// A stateless 2026-07-28 request: version, capabilities and client in `_meta`, with the
    /// `Mcp-Method` (and, for a tool call, `Mcp-Name`) headers.
    pub async fn modern(&self, token: &str, id: u64, method: &str, mut params: Value) -> McpReply {
        params["_meta"] = json!({
            "io.modelcontextprotocol/protocolVersion": "2026-07-28",
            "io.modelcontextprotocol/clientInfo": {"name": "mcp-test", "version": "1"},
            "io.modelcontextprotocol/clientCapabilities": {},
        });
        // `Mcp-Name` repeats the tool's name or the resource's URI.
        let name = params.get("name").or_else(|| params.get("uri")).and_then(Value::as_str).map(str::to_owned);
        let mut headers = vec![("mcp-protocol-version", "2026-07-28"), ("mcp-method", method)];
        if let Some(name) = &name {
            headers.push(("mcp-name", name.as_str()));
        }
        self.mcp(Some(token), &headers, &json!({"jsonrpc": "2.0", "id": id, "method": method, "params": params})).await
    }

    /// Calls a tool in a legacy session; the result object (`isError`, `structuredContent`).
    pub async fn call(&self, token: &str, session: &str, name: &str, arguments: Value) -> Value {
        let reply = self.legacy(token, session, 7, "tools/call", json!({"name": name, "arguments": arguments})).await;
        assert_eq!(reply.status, StatusCode::OK, "{reply:?}");
        assert!(reply.message.get("error").is_none(), "{name}: {reply:?}");
        reply.message["result"].clone()
    }
}

/// A simple workflow: one reshape of the trigger.
pub const ECHO_WORKFLOW: &str = r#"
title: Echo
description: returns its input
entrypoint:
  expects:
    name: {type: str}
actions:
  - ref: greet
    action: core.transform.reshape
    args:
      value:
        greeting: Hello ${{ TRIGGER.name }}
returns: ${{ ACTIONS.greet.result }}
"#;
