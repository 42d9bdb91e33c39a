//! core.http_poll and core.http_paginate against a real local HTTP server (axum on port 0).

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use axum::Json;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::routing::get;
use ferrocat_registry::actions::http;
use serde_json::{Value, json};

#[derive(Clone, Default)]
struct Counters {
    job: Arc<AtomicUsize>,
    accepted: Arc<AtomicUsize>,
    pages: Arc<AtomicUsize>,
}

async fn job(State(c): State<Counters>) -> Json<Value> {
    let n = c.job.fetch_add(1, Ordering::SeqCst) + 1;
    Json(json!({"status": if n >= 3 { "done" } else { "pending" }, "calls": n}))
}

async fn accepted(State(c): State<Counters>) -> (StatusCode, Json<Value>) {
    let n = c.accepted.fetch_add(1, Ordering::SeqCst) + 1;
    if n < 3 { (StatusCode::ACCEPTED, Json(json!({"ready": false}))) } else { (StatusCode::OK, Json(json!({"ready": true, "calls": n}))) }
}

async fn items(State(c): State<Counters>, Query(q): Query<std::collections::HashMap<String, String>>) -> Json<Value> {
    c.pages.fetch_add(1, Ordering::SeqCst);
    let page: u64 = q.get("page").and_then(|p| p.parse().ok()).unwrap_or(1);
    let items: Vec<u64> = (1..=3).map(|i| (page - 1) * 3 + i).collect();
    Json(json!({"items": items, "next": if page < 3 { Some(page + 1) } else { None }}))
}

async fn spawn_server() -> (String, Counters) {
    let counters = Counters::default();
    let app = axum::Router::new()
        .route("/job", get(job))
        .route("/accepted", get(accepted))
        .route("/items", get(items))
        .with_state(counters.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (base, counters)
}

async fn run(action: &str, args: Value) -> Result<Value, String> {
    let client = http::client(std::sync::Arc::new(ferrocat_shared::egress::EgressPolicy::permissive())).unwrap();
    ferrocat_registry::dispatch(action, args.as_object().cloned().unwrap(), &client).await.map_err(|e| e.to_string())
}

#[tokio::test]
async fn poll_until_condition_or_status() {
    let (base, counters) = spawn_server().await;
    let out = run(
        "core.http_poll",
        json!({"url": format!("{base}/job"), "method": "GET", "poll_interval": 0.05,
               "poll_condition": "lambda r: r['data']['status'] == 'done'"}),
    )
    .await
    .unwrap();
    assert_eq!(out["data"], json!({"status": "done", "calls": 3}));
    assert_eq!(out["status_code"], json!(200));
    assert_eq!(counters.job.load(Ordering::SeqCst), 3);

    let out = run(
        "core.http_poll",
        json!({"url": format!("{base}/accepted"), "method": "GET", "poll_interval": 0, "poll_retry_codes": 202}),
    )
    .await
    .unwrap();
    assert_eq!(out["data"], json!({"ready": true, "calls": 3}));
}

#[tokio::test]
async fn poll_gives_up_and_validates_its_arguments() {
    let (base, counters) = spawn_server().await;
    let err = run(
        "core.http_poll",
        json!({"url": format!("{base}/job"), "method": "GET", "poll_interval": 0, "poll_max_attempts": 2,
               "poll_condition": "lambda r: False"}),
    )
    .await
    .unwrap_err();
    assert_eq!(err, "RetryError: polling gave up after 2 attempts; the last response had status 200");
    assert_eq!(counters.job.load(Ordering::SeqCst), 2);
    let err = run("core.http_poll", json!({"url": format!("{base}/job"), "method": "GET"})).await.unwrap_err();
    assert_eq!(err, "ValueError: At least one of poll_condition or poll_retry_codes must be specified");
    let err = run("core.http_poll", json!({"url": format!("{base}/job"), "poll_retry_codes": [202], "bogus": 1}))
        .await
        .unwrap_err();
    assert!(err.contains("unknown field `bogus`"), "{err}");
}

#[tokio::test]
async fn paginate_collects_items_across_pages() {
    let (base, counters) = spawn_server().await;
    let args = json!({
        "url": format!("{base}/items"), "method": "GET", "params": {"page": 1},
        "items_jsonpath": "$.items[*]",
        "stop_condition": "lambda r: r['data']['next'] is None",
        "next_request": "lambda r: {'params': {'page': r['data']['next']}}",
    });
    let out = run("core.http_paginate", args.clone()).await.unwrap();
    assert_eq!(out, json!([1, 2, 3, 4, 5, 6, 7, 8, 9]));
    assert_eq!(counters.pages.load(Ordering::SeqCst), 3);

    let mut limited = args.clone();
    limited["limit"] = json!(4);
    assert_eq!(run("core.http_paginate", limited).await.unwrap(), json!([1, 2, 3, 4]));

    // Without items_jsonpath the pages themselves are returned.
    let mut pages = args.clone();
    pages.as_object_mut().unwrap().remove("items_jsonpath");
    let out = run("core.http_paginate", pages).await.unwrap();
    let nexts: Vec<&Value> = out.as_array().unwrap().iter().map(|p| &p["data"]["next"]).collect();
    assert_eq!(nexts, [&json!(2), &json!(3), &Value::Null]);

    let mut bad = args;
    bad["next_request"] = json!("lambda r: 5");
    let err = run("core.http_paginate", bad).await.unwrap_err();
    assert_eq!(err, "ValueError: next_request must return a dict of url, method, headers, params, payload, form_data, got 5");
}
