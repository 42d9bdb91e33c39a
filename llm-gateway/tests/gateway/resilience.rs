//! Retries and fallbacks on 429/5xx/timeouts with bounded attempts, and per-workspace limits in
//! the real Redis at 127.0.0.1:6379 (a unique key prefix per test).

use std::time::Duration;

use ferrocat_llm_gateway::auth::unix_now;
use serde_json::{Value, json};

use crate::harness::{spawn, spawn_with};

const REDIS_URL: &str = "redis://127.0.0.1:6379";

fn chat(model: &str) -> Value {
    json!({"model": model, "messages": [{"role": "user", "content": "hi"}], "max_tokens": 5})
}

fn unique_prefix() -> String {
    format!("ferrocat-test:{}:", uuid::Uuid::new_v4())
}

#[tokio::test]
async fn server_errors_are_retried_then_the_fallback_answers() {
    let mut gw = spawn().await;
    let token = gw.token(&["flaky"]);
    let r = gw.post("/v1/chat/completions", &token, &chat("flaky")).await;
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["x-ferrocat-model"], "claude");
    assert_eq!(r.headers()["x-ferrocat-attempts"], "3");
    let out: Value = r.json().await.unwrap();
    assert_eq!(out["choices"][0]["message"]["content"], "Hello from the mock provider.");
    assert_eq!(gw.mock.count("fail-500-primary"), 2, "one try and one retry");
    assert_eq!(gw.mock.count("claude-mock"), 1);
    let usage = gw.next_usage().await;
    assert_eq!(usage.model, "flaky");
    assert_eq!(usage.served_by, Some(("claude".into(), "anthropic".into())));
    assert_eq!(usage.attempts, 3);
}

#[tokio::test]
async fn attempts_are_bounded_and_the_last_error_is_reported() {
    let gw = spawn_with(|c| c.max_attempts = 1).await;
    let token = gw.token(&["flaky"]);
    let (status, body) = gw.post_json("/v1/chat/completions", &token, &chat("flaky")).await;
    assert_eq!(status, 502);
    assert!(body["error"]["message"].as_str().unwrap().contains("answered 500"), "{body}");
    assert_eq!(gw.mock.received().len(), 1);
}

#[tokio::test]
async fn upstream_rate_limits_exhausted_come_back_as_429_with_retry_after() {
    let gw = spawn().await;
    let token = gw.token(&["overloaded"]);
    let r = gw.post("/v1/chat/completions", &token, &chat("overloaded")).await;
    assert_eq!(r.status(), 429);
    assert_eq!(r.headers()["retry-after"], "7");
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["error"]["code"], "rate_limit_error");
    assert!(body["error"]["message"].as_str().unwrap().contains("Rate limit reached"), "{body}");
    assert_eq!(gw.mock.count("fail-429-only"), 2);
}

#[tokio::test]
async fn a_hanging_deployment_times_out_and_falls_back() {
    let gw = spawn_with(|c| {
        c.upstream_timeout = Duration::from_millis(300);
        c.retries = 0;
    })
    .await;
    let token = gw.token(&["hanging"]);
    let r = gw.post("/v1/chat/completions", &token, &chat("hanging")).await;
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["x-ferrocat-model"], "gpt");
    assert_eq!(r.headers()["x-ferrocat-attempts"], "2");
    assert_eq!(gw.mock.count("hang-primary"), 1);
}

/// Runs `f` until it completes within one rate-limit window (a minute boundary in the middle
/// would reset the counters).
async fn within_one_window<F, Fut>(mut f: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    for _ in 0..3 {
        let window = unix_now() / 60;
        f().await;
        if unix_now() / 60 == window {
            return;
        }
    }
    panic!("could not stay within one minute window");
}

#[tokio::test]
async fn workspace_requests_per_minute_are_limited_in_redis() {
    within_one_window(|| async {
        let prefix = unique_prefix();
        let gw = spawn_with(|c| {
            c.redis_prefix = prefix.clone();
            c.workspace_rpm = 3;
        })
        .await;
        let token = gw.token(&["gpt"]);
        for _ in 0..3 {
            assert_eq!(gw.post("/v1/chat/completions", &token, &chat("gpt")).await.status(), 200);
        }
        let r = gw.post("/v1/chat/completions", &token, &chat("gpt")).await;
        assert_eq!(r.status(), 429);
        let retry: u64 = r.headers()["retry-after"].to_str().unwrap().parse().unwrap();
        assert!((1..=60).contains(&retry), "{retry}");
        let body: Value = r.json().await.unwrap();
        assert_eq!(body["error"]["message"].as_str().unwrap().split(';').next().unwrap(), "workspace requests-per-minute rate limit reached");
        assert_eq!(gw.mock.received().len(), 3, "the refused call never went upstream");

        let other = gw.token_for("ws-other", &["gpt"], Default::default());
        assert_eq!(gw.post("/v1/chat/completions", &other, &chat("gpt")).await.status(), 200, "limits are per workspace");

        let client = redis::Client::open(REDIS_URL).unwrap();
        let mut conn = client.get_multiplexed_async_connection().await.unwrap();
        let key = format!("{prefix}llm:rpm:ws-test:{}", unix_now() / 60);
        let count: u64 = redis::cmd("GET").arg(&key).query_async(&mut conn).await.unwrap();
        assert_eq!(count, 4);
    })
    .await;
}

#[tokio::test]
async fn model_rpm_from_the_catalog_and_workspace_tokens_per_minute() {
    within_one_window(|| async {
        let mut gw = spawn_with(|c| {
            c.workspace_tpm = 30;
        })
        .await;
        let token = gw.token(&["limited", "gpt"]);
        assert_eq!(gw.post("/v1/chat/completions", &token, &chat("limited")).await.status(), 200);
        assert_eq!(gw.post("/v1/chat/completions", &token, &chat("limited")).await.status(), 200);
        let (status, body) = gw.post_json("/v1/chat/completions", &token, &chat("limited")).await;
        assert_eq!(status, 429, "{body}");
        assert!(body["error"]["message"].as_str().unwrap().starts_with("model requests-per-minute"));

        // Each call used 19 tokens (the fixture's usage): 38 >= 30 once the usage task has
        // counted both. The test sink runs after the Redis one, so awaiting it is enough.
        gw.next_usage().await;
        gw.next_usage().await;
        let (status, body) = gw.post_json("/v1/chat/completions", &token, &chat("gpt")).await;
        assert_eq!(status, 429, "{body}");
        assert!(body["error"]["message"].as_str().unwrap().starts_with("workspace tokens-per-minute"));
    })
    .await;
}
