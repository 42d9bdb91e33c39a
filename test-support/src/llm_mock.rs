//! A mock LLM provider: a real HTTP server (port 0 in tests, any port for the benchmark) that
//! speaks OpenAI, Azure OpenAI, Anthropic and Gemini paths and answers from recorded fixtures
//! (`llm-gateway/tests/fixtures/*.json|*.sse`), and records every request it receives (path, headers, body)
//! so tests can check what the gateway injected.
//!
//! The upstream model name picks a behaviour:
//! - contains `fail-429` / `fail-500`: that status with the format's recorded error body
//!   (`Retry-After: 7` on 429);
//! - contains `leak`: 401 whose message echoes the credential it received, as real providers do;
//! - contains `hang`: never answers;
//! - contains `gated`: streams the first frame, then waits for [`MockProvider::release`];
//! - contains `slowhead`: waits for [`MockProvider::release`] before answering at all;
//! - otherwise: the tool-call fixture when the request has tools, else the text fixture;
//!   streamed when the request asks for it (Gemini: the `streamGenerateContent` path).

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::{Request, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};
use tokio::sync::Semaphore;

macro_rules! fixture {
    ($name:literal) => {
        include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/../llm-gateway/tests/fixtures/", $name))
    };
}

/// A request as the mock received it.
#[derive(Debug, Clone)]
pub struct Received {
    pub path: String,
    pub query: Option<String>,
    pub headers: HeaderMap,
    pub body: Value,
}

struct MockState {
    received: Mutex<Vec<Received>>,
    record: bool,
    gate: Semaphore,
    streams_finished: AtomicUsize,
}

/// A running mock provider.
#[derive(Clone)]
pub struct MockProvider {
    pub addr: SocketAddr,
    state: Arc<MockState>,
}

impl MockProvider {
    /// Starts on `127.0.0.1:0`, recording requests.
    pub async fn spawn() -> Self {
        Self::spawn_on("127.0.0.1:0".parse().unwrap(), true).await
    }

    /// Starts on `addr`; `record` keeps every request (off for benchmarks).
    pub async fn spawn_on(addr: SocketAddr, record: bool) -> Self {
        let state = Arc::new(MockState { received: Mutex::default(), record, gate: Semaphore::new(0), streams_finished: AtomicUsize::new(0) });
        let app = Router::new().fallback(handle).with_state(state.clone());
        let listener = tokio::net::TcpListener::bind(addr).await.expect("bind mock provider");
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move { axum::serve(listener, app).await.expect("mock provider serves") });
        Self { addr, state }
    }

    /// `http://addr{path}`.
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    /// Every request received so far.
    pub fn received(&self) -> Vec<Received> {
        self.state.received.lock().unwrap().clone()
    }

    /// Requests received for `model` (body `model`, or the Gemini path).
    pub fn count(&self, model: &str) -> usize {
        self.received().iter().filter(|r| model_of(&r.path, &r.body) == model).count()
    }

    /// Lets one gated (or slow-headed) response go on.
    pub fn release(&self) {
        self.state.gate.add_permits(1);
    }

    /// Streams sent to their end.
    pub fn streams_finished(&self) -> usize {
        self.state.streams_finished.load(Ordering::SeqCst)
    }
}

#[derive(Clone, Copy, PartialEq)]
enum Kind {
    OpenAi,
    OpenAiEmbeddings,
    Anthropic,
    Gemini { stream: bool },
    GeminiEmbeddings,
}

fn model_of(path: &str, body: &Value) -> String {
    if let Some(rest) = path.split("/models/").nth(1) {
        return rest.split(':').next().unwrap_or_default().to_owned();
    }
    if let Some(rest) = path.split("/deployments/").nth(1) {
        return rest.split('/').next().unwrap_or_default().to_owned();
    }
    body["model"].as_str().unwrap_or_default().to_owned()
}

async fn handle(State(state): State<Arc<MockState>>, request: Request) -> Response {
    let (parts, body) = request.into_parts();
    let bytes = axum::body::to_bytes(body, 64 << 20).await.unwrap_or_default();
    let body: Value = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
    let path = parts.uri.path().to_owned();
    if state.record {
        state.received.lock().unwrap().push(Received {
            path: path.clone(),
            query: parts.uri.query().map(str::to_owned),
            headers: parts.headers.clone(),
            body: body.clone(),
        });
    }
    let kind = if path.ends_with(":streamGenerateContent") {
        Kind::Gemini { stream: true }
    } else if path.ends_with(":generateContent") {
        Kind::Gemini { stream: false }
    } else if path.ends_with(":batchEmbedContents") {
        Kind::GeminiEmbeddings
    } else if path.ends_with("/v1/messages") {
        Kind::Anthropic
    } else if path.ends_with("/embeddings") {
        Kind::OpenAiEmbeddings
    } else if path.ends_with("/chat/completions") {
        Kind::OpenAi
    } else if path.ends_with("/models") {
        return axum::Json(json!({"object": "list", "data": [{"id": "gpt-4o-mini", "object": "model"}]})).into_response();
    } else {
        return (StatusCode::NOT_FOUND, "no such mock route").into_response();
    };
    let model = model_of(&path, &body);
    let error = |status: StatusCode, openai: &'static str, anthropic: &'static str, gemini: &'static str| {
        let text = match kind {
            Kind::Anthropic => anthropic,
            Kind::Gemini { .. } | Kind::GeminiEmbeddings => gemini,
            _ => openai,
        };
        let mut r = (status, [(header::CONTENT_TYPE, "application/json")], text).into_response();
        if status == StatusCode::TOO_MANY_REQUESTS {
            r.headers_mut().insert(header::RETRY_AFTER, "7".parse().unwrap());
        }
        r
    };
    if model.contains("fail-429") {
        return error(StatusCode::TOO_MANY_REQUESTS, fixture!("openai_error_429.json"), fixture!("anthropic_error_429.json"), fixture!("gemini_error_429.json"));
    }
    if model.contains("fail-500") {
        return error(StatusCode::INTERNAL_SERVER_ERROR, fixture!("openai_error_500.json"), fixture!("anthropic_error_500.json"), fixture!("gemini_error_500.json"));
    }
    if model.contains("leak") {
        let key = ["authorization", "x-api-key", "api-key", "x-goog-api-key"]
            .iter()
            .find_map(|h| parts.headers.get(*h))
            .and_then(|v| v.to_str().ok())
            .unwrap_or("none");
        let message = format!("Incorrect API key provided: {key}. You can find your API key at https://platform.openai.com/account/api-keys.");
        let body = json!({"error": {"message": message, "type": "invalid_request_error", "param": null, "code": "invalid_api_key", "received": key}});
        return (StatusCode::UNAUTHORIZED, axum::Json(body)).into_response();
    }
    if model.contains("hang") {
        std::future::pending::<()>().await;
    }
    if model.contains("slowhead") {
        state.gate.acquire().await.unwrap().forget();
    }
    let tools = body.get("tools").is_some_and(|t| t.as_array().is_some_and(|a| !a.is_empty()));
    let stream = match kind {
        Kind::Gemini { stream } => stream,
        _ => body["stream"] == true,
    };
    let json_fixture = |text: &'static str| ([(header::CONTENT_TYPE, "application/json")], text).into_response();
    match (kind, stream, tools) {
        (Kind::OpenAiEmbeddings, _, _) => json_fixture(fixture!("openai_embeddings.json")),
        (Kind::GeminiEmbeddings, _, _) => json_fixture(fixture!("gemini_embeddings.json")),
        (Kind::OpenAi, false, false) => json_fixture(fixture!("openai_chat.json")),
        (Kind::OpenAi, false, true) => json_fixture(fixture!("openai_chat_tools.json")),
        (Kind::Anthropic, false, false) => json_fixture(fixture!("anthropic_message.json")),
        (Kind::Anthropic, false, true) => json_fixture(fixture!("anthropic_message_tools.json")),
        (Kind::Gemini { .. }, false, false) => json_fixture(fixture!("gemini_generate.json")),
        (Kind::Gemini { .. }, false, true) => json_fixture(fixture!("gemini_generate_tools.json")),
        (Kind::OpenAi, true, false) => sse(state, fixture!("openai_stream.sse"), &model),
        (Kind::OpenAi, true, true) => sse(state, fixture!("openai_stream_tools.sse"), &model),
        (Kind::Anthropic, true, false) => sse(state, fixture!("anthropic_stream.sse"), &model),
        (Kind::Anthropic, true, true) => sse(state, fixture!("anthropic_stream_tools.sse"), &model),
        (Kind::Gemini { .. }, true, _) => sse(state, fixture!("gemini_stream.sse"), &model),
    }
}

/// The fixture's frames, one body chunk each; after the first, a `gated` model waits for a
/// release.
fn sse(state: Arc<MockState>, fixture: &'static str, model: &str) -> Response {
    let sep = if fixture.contains("\r\n\r\n") { "\r\n\r\n" } else { "\n\n" };
    let frames: Vec<Bytes> = fixture.split_inclusive(sep).map(|f| Bytes::from_static(f.as_bytes())).collect();
    let gated = model.contains("gated");
    let (tx, rx) = tokio::sync::mpsc::channel::<Bytes>(4);
    tokio::spawn(async move {
        for (i, frame) in frames.into_iter().enumerate() {
            if i == 1 && gated {
                state.gate.acquire().await.unwrap().forget();
            }
            if tx.send(frame).await.is_err() {
                return;
            }
        }
        state.streams_finished.fetch_add(1, Ordering::SeqCst);
    });
    let body = futures::stream::unfold(rx, |mut rx| async move { rx.recv().await.map(|b| (Ok::<_, Infallible>(b), rx)) });
    ([(header::CONTENT_TYPE, "text/event-stream"), (header::CACHE_CONTROL, "no-cache")], Body::from_stream(body)).into_response()
}
