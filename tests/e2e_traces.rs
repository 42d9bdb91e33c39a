//! Traces over OTLP: with `OTEL_EXPORTER_OTLP_ENDPOINT` pointing at a local collector (a real
//! HTTP server taking OTLP/HTTP JSON, as an OpenTelemetry Collector would), one webhook's run is
//! one trace: the edge's span at its root, the api's span its child, then the Temporal SDK's
//! spans in the worker and the executor (through Temporal's headers), down to the action the
//! executor ran. Without the setting nothing is exported (the other suites run that way).

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::routing::post;
use serde_json::{Value, json};

use common::{Stack, commit_workflow, json_of, login};
use ferrocat_test_support::eventually;

/// One exported span: which service sent it, its ids and name.
#[derive(Debug, Clone)]
struct Span {
    service: String,
    trace: String,
    id: String,
    parent: String,
    name: String,
}

/// A collector taking OTLP/HTTP JSON at /v1/traces; its base URL and the spans it got.
async fn collector() -> (String, Arc<Mutex<Vec<Span>>>) {
    let spans = Arc::new(Mutex::new(Vec::new()));
    let kept = spans.clone();
    let app = axum::Router::new().route(
        "/v1/traces",
        post(move |body: axum::body::Bytes| {
            let kept = kept.clone();
            async move {
                let export: Value = serde_json::from_slice(&body).expect("OTLP/HTTP JSON");
                for resource in export["resourceSpans"].as_array().into_iter().flatten() {
                    let service = resource["resource"]["attributes"]
                        .as_array()
                        .into_iter()
                        .flatten()
                        .find(|a| a["key"] == "service.name")
                        .and_then(|a| a["value"]["stringValue"].as_str())
                        .unwrap_or("")
                        .to_owned();
                    for scope in resource["scopeSpans"].as_array().into_iter().flatten() {
                        for span in scope["spans"].as_array().into_iter().flatten() {
                            let text = |k: &str| span[k].as_str().unwrap_or("").to_owned();
                            kept.lock().unwrap().push(Span {
                                service: service.clone(),
                                trace: text("traceId"),
                                id: text("spanId"),
                                parent: text("parentSpanId"),
                                name: text("name"),
                            });
                        }
                    }
                }
                axum::Json(json!({}))
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (format!("http://{addr}"), spans)
}

/// A vendor the workflow posts to, so that one action runs on the executor.
async fn vendor() -> String {
    let app = axum::Router::new().route("/alert", post(|| async { axum::Json(json!({"ok": true})) }));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    format!("http://{addr}/alert")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_webhook_is_one_trace_from_the_edge_to_the_executor() {
    let (endpoint, spans) = collector().await;
    let vendor = vendor().await;
    let allow = vendor.trim_start_matches("http://").split('/').next().unwrap().to_owned();
    let env = [
        ("OTEL_EXPORTER_OTLP_ENDPOINT", endpoint),
        ("OTEL_EXPORTER_OTLP_PROTOCOL", "http/json".to_owned()),
        // Export every 200 ms instead of every 5 s.
        ("OTEL_BSP_SCHEDULE_DELAY", "200".to_owned()),
        ("FERROCAT_EGRESS_ALLOW", allow),
    ];
    let stack = tokio::task::spawn_blocking(move || Stack::up_with(&env)).await.unwrap();
    let (http, workspace) = login(&stack.url).await;
    let yaml = format!(
        "title: Traced\ndescription: a reshape, then a post\nentrypoint: {{ref: shape}}\nactions:\n  - ref: shape\n    action: core.transform.reshape\n    args: {{value: {{alert: \"${{{{ TRIGGER.alert }}}}\"}}}}\n  - ref: notify\n    action: core.http_request\n    depends_on: [shape]\n    args: {{url: \"{vendor}\", method: POST, payload: \"${{{{ ACTIONS.shape.result }}}}\"}}\nreturns: ${{{{ ACTIONS.notify.result.status_code }}}}\n"
    );
    let wf_id = commit_workflow(&http, &stack.url, &workspace, yaml).await;
    let (status, webhook) =
        json_of(http.post(format!("{}/api/workflows/{wf_id}/webhook?workspace_id={workspace}", stack.url)).send().await.unwrap()).await;
    assert_eq!(status, 200, "{webhook}");
    let hook = webhook["url"].as_str().unwrap().to_owned();
    let (status, waited) = json_of(reqwest::Client::new().post(format!("{hook}/wait")).json(&json!({"alert": "T-1"})).send().await.unwrap()).await;
    assert_eq!((status, &waited["value"]), (200, &json!(200)), "{waited}");

    // The webhook's trace: rooted at the edge's span for the api route, with spans from the
    // api, the worker and the executor.
    let wanted: BTreeSet<&str> = ["ferrocat-edge", "ferrocat-api", "ferrocat-worker", "ferrocat-executor"].into();
    let trace = eventually(Duration::from_secs(30), "one trace with the spans of every service", || async {
        let spans = spans.lock().unwrap().clone();
        let mut by_trace: BTreeMap<String, Vec<Span>> = BTreeMap::new();
        for span in spans {
            by_trace.entry(span.trace.clone()).or_default().push(span);
        }
        by_trace.into_values().find(|trace| {
            let services: BTreeSet<&str> = trace.iter().map(|s| s.service.as_str()).collect();
            wanted.is_subset(&services) && trace.iter().any(|s| s.service == "ferrocat-api" && s.name.contains("/webhooks/"))
        })
    })
    .await;
    let edge = trace.iter().find(|s| s.service == "ferrocat-edge").unwrap();
    assert!(edge.parent.is_empty(), "the edge starts the trace: {edge:?}");
    let api = trace.iter().find(|s| s.service == "ferrocat-api" && s.name.contains("/webhooks/")).unwrap();
    assert_eq!(api.parent, edge.id, "the api's span is the edge's child: {trace:#?}");
    assert_eq!(api.name, "POST /webhooks/{workflow_id}/{secret}/wait", "named by its route, never by the secret in its path");
    assert!(
        trace.iter().any(|s| s.service == "ferrocat-executor" && s.name.contains("execute_action")),
        "the executor's action has its span: {trace:#?}"
    );
    let secret = hook.rsplit('/').next().unwrap();
    assert!(trace.iter().all(|s| !s.name.contains(secret)), "a span names the webhook's secret");
}
