//! Test harness: echo upstreams on port 0, the edge on a free loopback port in a thread of its
//! own (Pingora owns its runtimes), and a raw HTTP/1.1 client for targets that an URL parser
//! would clean up before sending (`/mcp/../api/x`).

#![allow(dead_code)] // each test binary uses a different part of the harness

use std::collections::BTreeMap;
use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::{Request, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use ferrocat_edge::EdgeConfig;
use ferrocat_shared::config::Env;
use futures::channel::mpsc;
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::oneshot;

/// An upstream that answers every request with what it received, as JSON:
/// `{"upstream", "method", "uri", "headers": {name: [values]}, "body_len"}`.
/// `/hang` never answers; `/mcp/sse` streams events controlled by [`SseControl`].
pub async fn spawn_echo(name: &'static str) -> (SocketAddr, SseControl) {
    let control = SseControl::default();
    let app = Router::new()
        .route("/hang", axum::routing::any(std::future::pending::<()>))
        .route("/mcp/sse", axum::routing::get(sse))
        .fallback(echo)
        .with_state(Upstream {
            name,
            control: control.clone(),
        });
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (addr, control)
}

#[derive(Clone)]
struct Upstream {
    name: &'static str,
    control: SseControl,
}

async fn echo(State(upstream): State<Upstream>, request: Request) -> axum::Json<Value> {
    let (parts, body) = request.into_parts();
    let body = axum::body::to_bytes(body, usize::MAX).await.unwrap();
    let mut headers: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for (name, value) in &parts.headers {
        headers
            .entry(name.as_str().to_owned())
            .or_default()
            .push(value.to_str().unwrap().to_owned());
    }
    axum::Json(json!({
        "upstream": upstream.name,
        "method": parts.method.as_str(),
        "uri": parts.uri.to_string(),
        "headers": headers,
        "body_len": body.len(),
    }))
}

/// Lets a test release the rest of an SSE stream once it has seen the first event, so the test
/// proves streaming without timing: a buffering proxy would never deliver the first event.
#[derive(Clone, Default)]
pub struct SseControl(Arc<Mutex<Option<EventSender>>>);

type EventSender = mpsc::UnboundedSender<Result<Bytes, Infallible>>;

impl SseControl {
    /// Sends the second (last) event and ends the stream.
    pub fn finish(&self) {
        let tx = self
            .0
            .lock()
            .unwrap()
            .take()
            .expect("an SSE stream is open");
        tx.unbounded_send(Ok(Bytes::from_static(b"data: two\n\n")))
            .unwrap();
    }
}

async fn sse(State(upstream): State<Upstream>) -> Response {
    let (tx, rx) = mpsc::unbounded();
    tx.unbounded_send(Ok(Bytes::from_static(b"data: one\n\n")))
        .unwrap();
    *upstream.control.0.lock().unwrap() = Some(tx);
    (
        [
            (header::CONTENT_TYPE, "text/event-stream"),
            (header::CACHE_CONTROL, "no-cache"),
        ],
        Body::from_stream(rx),
    )
        .into_response()
}

/// A loopback address where nothing listens (bound, then released).
pub fn dead_addr() -> SocketAddr {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
}

/// An edge running on its own thread; stopped (gracefully) when dropped.
pub struct TestEdge {
    pub addr: SocketAddr,
    pub base: String,
    shutdown: Option<oneshot::Sender<()>>,
    thread: Option<JoinHandle<anyhow::Result<()>>>,
}

/// The upstreams an edge under test points at.
pub struct Upstreams {
    pub api: SocketAddr,
    pub mcp: SocketAddr,
    pub ui: SocketAddr,
    pub s3: SocketAddr,
}

/// Starts an edge in front of `upstreams` with a 1 s read timeout and no grace period, and waits
/// (bounded) until its health endpoint answers.
pub async fn spawn_edge(upstreams: &Upstreams) -> TestEdge {
    spawn_edge_with(upstreams, &[]).await
}

/// [`spawn_edge`] with more (or overriding) `FERROCAT_EDGE_*` settings.
pub async fn spawn_edge_with(upstreams: &Upstreams, extra: &[(&str, String)]) -> TestEdge {
    let addr = extra
        .iter()
        .find(|(key, _)| *key == "FERROCAT_EDGE_HTTP_ADDR")
        .map_or_else(dead_addr, |(_, addr)| addr.parse().unwrap());
    let mut pairs = vec![
        ("FERROCAT_EDGE_HTTP_ADDR", addr.to_string()),
        (
            "FERROCAT_EDGE_API_UPSTREAM",
            format!("http://{}", upstreams.api),
        ),
        (
            "FERROCAT_EDGE_MCP_UPSTREAM",
            format!("http://{}", upstreams.mcp),
        ),
        (
            "FERROCAT_EDGE_UI_UPSTREAM",
            format!("http://{}", upstreams.ui),
        ),
        (
            "FERROCAT_EDGE_S3_UPSTREAM",
            format!("http://{}", upstreams.s3),
        ),
        ("FERROCAT_EDGE_THREADS", "1".to_owned()),
        ("FERROCAT_EDGE_READ_TIMEOUT_SECS", "1".to_owned()),
        ("FERROCAT_EDGE_GRACE_PERIOD_SECS", "0".to_owned()),
    ];
    pairs.extend(extra.iter().cloned());
    let mut config = EdgeConfig::from_env(&Env::from_pairs(pairs)).unwrap();
    // Exercise re-resolution while the tests run (the default is every 10 s).
    config.resolve_interval = Duration::from_millis(100);
    let (tx, rx) = oneshot::channel::<()>();
    let thread = std::thread::spawn(move || {
        ferrocat_edge::run_until(config, async move {
            let _ = rx.await;
        })
    });
    let mut edge = TestEdge {
        addr,
        base: format!("http://{addr}"),
        shutdown: Some(tx),
        thread: Some(thread),
    };
    edge.wait_ready().await;
    edge
}

impl TestEdge {
    async fn wait_ready(&mut self) {
        let client = client();
        for _ in 0..400 {
            if self.thread.as_ref().is_some_and(|t| t.is_finished()) {
                let result = self.thread.take().unwrap().join().unwrap();
                panic!("the edge exited before it was ready: {result:?}");
            }
            let health = client
                .get(format!("{}/__edge/healthz", self.base))
                .send()
                .await;
            if health.is_ok_and(|r| r.status() == 200) {
                return;
            }
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
        panic!("the edge did not become ready within 10 s");
    }

    /// Stops the edge gracefully and returns what `run_until` returned.
    pub fn stop(mut self) -> anyhow::Result<()> {
        let _ = self.shutdown.take().unwrap().send(());
        self.thread
            .take()
            .unwrap()
            .join()
            .expect("edge thread panicked")
    }
}

impl Drop for TestEdge {
    fn drop(&mut self) {
        if let Some(shutdown) = self.shutdown.take() {
            let _ = shutdown.send(());
        }
    }
}

/// An HTTP client that ignores proxy settings from the environment.
pub fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .no_proxy()
        .timeout(Duration::from_secs(10))
        .build()
        .unwrap()
}

/// A response read off the wire.
#[derive(Debug)]
pub struct RawResponse {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl RawResponse {
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap_or_else(|e| {
            panic!(
                "body is not JSON ({e}): {}",
                String::from_utf8_lossy(&self.body)
            )
        })
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// Sends `GET target` exactly as written (no client-side path cleaning) with `Connection: close`
/// and reads the whole response.
pub async fn raw_get(addr: SocketAddr, target: &str, headers: &[(&str, &str)]) -> RawResponse {
    let mut request = format!("GET {target} HTTP/1.1\r\n");
    if !headers.iter().any(|(n, _)| n.eq_ignore_ascii_case("host")) {
        request.push_str(&format!("Host: {addr}\r\n"));
    }
    for (name, value) in headers {
        request.push_str(&format!("{name}: {value}\r\n"));
    }
    request.push_str("Connection: close\r\n\r\n");
    raw_request(addr, &request).await
}

/// Sends `request` (a whole request head, and body if any) exactly as given and reads the
/// response until the edge closes the connection.
pub async fn raw_request(addr: SocketAddr, request: &str) -> RawResponse {
    let read = async {
        let mut stream = TcpStream::connect(addr).await.unwrap();
        stream.write_all(request.as_bytes()).await.unwrap();
        let mut raw = Vec::new();
        stream.read_to_end(&mut raw).await.unwrap();
        raw
    };
    let raw = tokio::time::timeout(Duration::from_secs(10), read)
        .await
        .expect("response within 10 s");
    parse_response(&raw)
}

fn parse_response(raw: &[u8]) -> RawResponse {
    let split = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .expect("a complete response head");
    let head = std::str::from_utf8(&raw[..split]).unwrap();
    let mut lines = head.split("\r\n");
    let status = lines
        .next()
        .unwrap()
        .split(' ')
        .nth(1)
        .unwrap()
        .parse()
        .unwrap();
    let headers: Vec<(String, String)> = lines
        .filter_map(|line| line.split_once(':'))
        .map(|(n, v)| (n.trim().to_owned(), v.trim().to_owned()))
        .collect();
    let mut body = raw[split + 4..].to_vec();
    let chunked = headers
        .iter()
        .any(|(n, v)| n.eq_ignore_ascii_case("transfer-encoding") && v.contains("chunked"));
    if chunked {
        body = dechunk(&body);
    }
    RawResponse {
        status,
        headers,
        body,
    }
}

fn dechunk(mut data: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    loop {
        let line_end = data
            .windows(2)
            .position(|w| w == b"\r\n")
            .expect("chunk size line");
        let size_str = std::str::from_utf8(&data[..line_end]).unwrap();
        let size = usize::from_str_radix(size_str.split(';').next().unwrap().trim(), 16).unwrap();
        data = &data[line_end + 2..];
        if size == 0 {
            return out;
        }
        out.extend_from_slice(&data[..size]);
        data = &data[size + 2..];
    }
}
