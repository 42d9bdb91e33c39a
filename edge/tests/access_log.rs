//! The access log as an operator sees it: one JSON line per request, written by the edge's log
//! thread (here to a file, `FERROCAT_EDGE_ACCESS_LOG`).

mod common;

use std::time::Duration;

use common::{Upstreams, dead_addr, raw_get, spawn_echo, spawn_edge_with};
use serde_json::Value;

/// The access-log file of one edge.
struct Captured(std::path::PathBuf);

impl Captured {
    fn lines(&self) -> Vec<Value> {
        std::fs::read_to_string(&self.0)
            .unwrap_or_default()
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
    let file =
        std::env::temp_dir().join(format!("ferrocat-edge-access-{}.jsonl", std::process::id()));
    let _ = std::fs::remove_file(&file);
    let captured = Captured(file.clone());
    let metrics = dead_addr();

    let (api, _) = spawn_echo("api").await;
    let (ui, _) = spawn_echo("ui").await;
    let dead = dead_addr();
    let settings = [
        (
            "FERROCAT_EDGE_ACCESS_LOG",
            file.to_string_lossy().into_owned(),
        ),
        ("FERROCAT_EDGE_METRICS_ADDR", metrics.to_string()),
    ];
    let upstreams = Upstreams {
        api,
        mcp: dead,
        ui,
        s3: dead,
    };
    let edge = spawn_edge_with(&upstreams, &settings).await;

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

    // A webhook's secret is in its URL: the log keeps the workflow id, never the secret.
    let secret = "5106cb16fe59aa0011223344556677889900aabbccddeeff0011223344556677";
    let target = format!("/api/webhooks/wf_1/{secret}/wait?echo=true");
    assert_eq!(raw_get(edge.addr, &target, &[]).await.status, 200);
    let line = captured.wait_for("/api/webhooks/wf_1/<redacted>/wait").await;
    assert_eq!(line["route"], "api");
    let text = std::fs::read_to_string(&file).unwrap();
    assert!(!text.contains(secret), "the secret reached the access log");

    // Nothing was dropped, and the metric that would say so exists.
    let text = String::from_utf8(raw_get(metrics, "/metrics", &[]).await.body).unwrap();
    assert!(
        text.contains("ferrocat_edge_access_log_dropped_total 0"),
        "{text}"
    );
    std::fs::remove_file(&file).unwrap();
}
