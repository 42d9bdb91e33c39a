//! The access log as an operator sees it: a JSON subscriber (as the `ferrocat` binary installs)
//! turns each request into one line. A test binary of its own, because the subscriber must be
//! process-global to see events from Pingora's runtime threads.

mod common;

use std::io::Write;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use common::{Upstreams, dead_addr, raw_get, spawn_echo, spawn_edge};
use serde_json::Value;

#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Captured {
    fn lines(&self) -> Vec<Value> {
        let bytes = self.0.lock().unwrap().clone();
        String::from_utf8(bytes)
            .unwrap()
            .lines()
            .map(|line| serde_json::from_str(line).unwrap())
            .collect()
    }

    /// Polls (bounded) for the access line of `path`: it is written after the response is sent.
    async fn wait_for(&self, path: &str) -> Value {
        for _ in 0..200 {
            if let Some(line) = self.lines().into_iter().find(|l| l["path"] == path) {
                return line;
            }
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
        panic!("no access line for {path}; captured: {:?}", self.lines());
    }
}

#[tokio::test]
async fn each_request_is_one_json_line() {
    let captured = Captured::default();
    let writer = captured.clone();
    let subscriber = tracing_subscriber::fmt()
        .json()
        .flatten_event(true)
        .with_env_filter("ferrocat_edge::access=info")
        .with_writer(move || writer.clone())
        .finish();
    tracing::subscriber::set_global_default(subscriber).unwrap();

    let (api, _) = spawn_echo("api").await;
    let (ui, _) = spawn_echo("ui").await;
    let dead = dead_addr();
    let edge = spawn_edge(&Upstreams {
        api,
        mcp: dead,
        ui,
        s3: dead,
    })
    .await;

    let ok = raw_get(edge.addr, "/%61pi/x/../items?page=2", &[]).await;
    assert_eq!(ok.status, 200);
    let line = captured.wait_for("/api/items").await;
    assert_eq!(line["target"], "ferrocat_edge::access");
    assert_eq!(line["level"], "INFO");
    assert_eq!(line["method"], "GET");
    assert_eq!(line["route"], "api");
    assert_eq!(line["status"], 200);
    assert_eq!(line["bytes"], ok.body.len());
    assert_eq!(line["client_ip"], "127.0.0.1");
    assert!(line["upstream_ms"].is_u64(), "{line}");
    assert!(line["duration_ms"].is_u64(), "{line}");
    let ts = line["ts"].as_str().unwrap();
    assert!(
        ts.ends_with('Z') && ts.len() == "2026-01-01T00:00:00.000Z".len(),
        "{ts}"
    );

    assert_eq!(raw_get(edge.addr, "/s3/b/k", &[]).await.status, 502);
    let line = captured.wait_for("/s3/b/k").await;
    assert_eq!(
        (line["route"].as_str(), line["status"].as_u64()),
        (Some("s3"), Some(502))
    );
    assert!(
        line.get("upstream_ms").is_none(),
        "no upstream answered: {line}"
    );

    assert_eq!(raw_get(edge.addr, "/__edge/healthz", &[]).await.status, 200);
    let line = captured.wait_for("/__edge/healthz").await;
    assert_eq!(
        (line["route"].as_str(), line["status"].as_u64()),
        (Some("edge"), Some(200))
    );

    // One line per request: the readiness probes plus the three above, nothing doubled.
    let lines = captured.lines();
    assert_eq!(
        lines.iter().filter(|l| l["path"] == "/api/items").count(),
        1
    );
    assert_eq!(lines.iter().filter(|l| l["path"] == "/s3/b/k").count(), 1);
}
