//! Through Temporal, the author's `retry_policy` holds on the executor: Temporal keeps a few
//! more attempts in reserve for executors that die (`INFRASTRUCTURE_ATTEMPTS`, retried after a
//! missed heartbeat; deploy/scale-test.sh kills one), but an action that fails is tried exactly
//! `max_attempts` times, and one that runs past its `timeout` is given up once that is spent.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use ferrocat_dsl::Workflow;
use ferrocat_test_support::workers;
use serde_json::{Value, json};
use uuid::Uuid;

async fn run(yaml: &str) -> Result<Value, String> {
    let dsl = Workflow::parse(yaml).unwrap();
    dsl.validate().unwrap();
    let run = workers::Run { id: format!("wf_attempts/exec_{}", Uuid::new_v4().simple()), workspace_id: Uuid::new_v4(), dsl, trigger: json!({}) };
    workers::run_all(&[], vec![run]).await.remove(0).outcome
}

/// A server whose `/fail` always answers 500 and whose `/slow` answers after 3 s; it counts
/// the calls of each.
async fn server() -> (String, Arc<AtomicUsize>, Arc<AtomicUsize>) {
    let (fails, slows) = (Arc::new(AtomicUsize::new(0)), Arc::new(AtomicUsize::new(0)));
    let (f, s) = (fails.clone(), slows.clone());
    let app = axum::Router::new()
        .route(
            "/fail",
            axum::routing::get(move || {
                let f = f.clone();
                async move {
                    f.fetch_add(1, Ordering::SeqCst);
                    (axum::http::StatusCode::INTERNAL_SERVER_ERROR, "broken")
                }
            }),
        )
        .route(
            "/slow",
            axum::routing::get(move || {
                let s = s.clone();
                async move {
                    s.fetch_add(1, Ordering::SeqCst);
                    tokio::time::sleep(std::time::Duration::from_secs(3)).await;
                    "late"
                }
            }),
        );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (format!("http://{addr}"), fails, slows)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_action_is_tried_as_often_as_its_author_says_and_no_more() {
    let (url, fails, slows) = server().await;
    let failing = format!(
        "title: fails\ndescription: a retryable failure\nentrypoint: {{ref: call}}\nactions:\n  - ref: call\n    action: core.http_request\n    args: {{url: \"{url}/fail\"}}\n    retry_policy: {{max_attempts: 2}}\n"
    );
    let error = run(&failing).await.expect_err("the action fails every time");
    assert!(error.contains("500") || error.to_lowercase().contains("internal server error"), "{error}");
    assert_eq!(fails.load(Ordering::SeqCst), 2, "max_attempts: 2 is two calls, not two plus the reserve");

    let slow = format!(
        "title: slow\ndescription: past its timeout\nentrypoint: {{ref: call}}\nactions:\n  - ref: call\n    action: core.http_request\n    args: {{url: \"{url}/slow\"}}\n    retry_policy: {{timeout: 1}}\n"
    );
    let started = std::time::Instant::now();
    let error = run(&slow).await.expect_err("the action runs past its timeout");
    assert!(error.contains("timeout of 1 s"), "{error}");
    assert!(started.elapsed() < std::time::Duration::from_secs(25), "given up at its own timeout, not Temporal's: {:?}", started.elapsed());
    assert_eq!(slows.load(Ordering::SeqCst), 1, "one attempt (max_attempts defaults to 1)");
}
