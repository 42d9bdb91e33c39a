//! Caller tokens (missing, forged, expired, wrong model), credential injection (the caller never
//! sees a key, in a response or an error), redaction of upstream errors, passthrough, and the
//! request size limit.

use ferrocat_llm_gateway::auth::{Claims, unix_now};
use serde_json::{Value, json};

use crate::harness::{ANTHROPIC_KEY, OPENAI_KEY, assert_no_key, spawn, spawn_with};

fn chat(model: &str) -> Value {
    json!({"model": model, "messages": [{"role": "user", "content": "hi"}], "max_tokens": 5})
}

#[tokio::test]
async fn missing_forged_and_expired_tokens_get_401_in_each_dialect() {
    let gw = spawn().await;
    let r = gw.http.post(format!("{}/v1/chat/completions", gw.base)).json(&chat("gpt")).send().await.unwrap();
    assert_eq!(r.status(), 401);
    assert_eq!(r.headers()["www-authenticate"], "Bearer");
    let body: Value = r.json().await.unwrap();
    assert!(body["error"]["message"].as_str().unwrap().contains("missing caller token"), "{body}");

    let good = gw.token(&["gpt"]);
    let (payload, _) = good.split_once('.').unwrap();
    let forged = format!("{payload}.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA");
    let (status, body) = gw.post_json("/v1/chat/completions", &forged, &chat("gpt")).await;
    assert_eq!(status, 401);
    assert_eq!(body["error"]["message"], "invalid caller token: the signature does not match");

    let expired = gw.mint(&Claims {
        workspace_id: "ws".into(),
        model: Some("gpt".into()),
        models: vec![],
        provider: None,
        run_id: None,
        exp: unix_now() - 30,
        iat: unix_now() - 630,
        settings: Default::default(),
    });
    let (status, body) = gw.post_json("/v1/messages", &expired, &chat("gpt")).await;
    assert_eq!(status, 401);
    assert_eq!(body["type"], "error", "Anthropic's error shape on /v1/messages");
    assert_eq!(body["error"]["type"], "authentication_error");
    assert!(body["error"]["message"].as_str().unwrap().starts_with("caller token expired at"), "{body}");

    let r = gw.http.post(format!("{}/v1/messages", gw.base)).header("x-api-key", &good).json(&chat("gpt")).send().await.unwrap();
    assert_eq!(r.status(), 200, "Anthropic SDKs send the token as x-api-key");
    assert!(gw.mock.received().len() == 1, "refused calls never reached the provider");
    // Health needs no token.
    let r = gw.http.get(format!("{}/health/readiness", gw.base)).send().await.unwrap();
    assert_eq!(r.status(), 200);
}

#[tokio::test]
async fn tokens_limit_models_and_providers() {
    let gw = spawn().await;
    let (status, body) = gw.post_json("/v1/chat/completions", &gw.token(&["gpt"]), &chat("claude")).await;
    assert_eq!(status, 403);
    assert_eq!(body["error"]["message"], "the caller's token does not allow model \"claude\"");
    let (status, _) = gw.post_json("/v1/chat/completions", &gw.token(&["*"]), &chat("nope")).await;
    assert_eq!(status, 404);
    let pinned = gw.mint(&Claims {
        workspace_id: "ws".into(),
        model: Some("gpt".into()),
        models: vec![],
        provider: Some("anthropic".into()),
        run_id: None,
        exp: unix_now() + 60,
        iat: unix_now(),
        settings: Default::default(),
    });
    let (status, body) = gw.post_json("/v1/chat/completions", &pinned, &chat("gpt")).await;
    assert_eq!(status, 403);
    assert!(body["error"]["message"].as_str().unwrap().contains("served by \"openai\""));
    assert!(gw.mock.received().is_empty());
}

#[tokio::test]
async fn provider_keys_are_injected_and_never_returned() {
    let gw = spawn().await;
    let token = gw.token(&["*"]);
    for (path, model) in [("/v1/chat/completions", "gpt"), ("/v1/chat/completions", "claude"), ("/v1/messages", "gemini"), ("/v1/chat/completions", "azure-gpt")] {
        let r = gw.post(path, &token, &chat(model)).await;
        assert_eq!(r.status(), 200, "{model}");
        let headers = format!("{:?}", r.headers());
        assert_no_key(&headers);
        assert_no_key(&r.text().await.unwrap());
    }
    let sent = gw.mock.received();
    assert_eq!(sent[0].headers["authorization"], format!("Bearer {OPENAI_KEY}"));
    assert_eq!(sent[1].headers["x-api-key"], ANTHROPIC_KEY);
    for s in &sent {
        let forwarded = format!("{:?}", s.headers);
        assert!(!forwarded.contains(&token), "the caller token must not reach the provider: {forwarded}");
    }
    let metrics = gw.http.get(format!("{}/metrics", gw.base)).send().await.unwrap().text().await.unwrap();
    assert!(metrics.contains("ferrocat_llm_gateway_requests_total{route=\"/v1/chat/completions\",status=\"200\"} 3"), "{metrics}");
    assert_no_key(&metrics);
}

#[tokio::test]
async fn upstream_errors_are_redacted_of_keys() {
    let gw = spawn().await;
    let token = gw.token(&["leaky", "leaky-claude"]);
    for (path, model) in [("/v1/chat/completions", "leaky"), ("/v1/messages", "leaky-claude"), ("/v1/chat/completions", "leaky-claude")] {
        let body = json!({"model": model, "max_tokens": 5, "messages": [{"role": "user", "content": "hi"}], "stream": model == "leaky"});
        let r = gw.post(path, &token, &body).await;
        // The provider refused the gateway's own key: a gateway problem, not the caller's.
        assert_eq!(r.status(), 502, "{model}");
        let text = r.text().await.unwrap();
        assert_no_key(&text);
        assert!(text.contains("Incorrect API key provided: "), "the provider's message survives: {text}");
        assert!(text.contains("[REDACTED]"), "{text}");
    }
    // The mock did receive the keys (so the redaction had something to remove).
    let sent = gw.mock.received();
    assert_eq!(sent[0].headers["authorization"], format!("Bearer {OPENAI_KEY}"));
    assert_eq!(sent[1].headers["x-api-key"], ANTHROPIC_KEY);
}

#[tokio::test]
async fn passthrough_forwards_the_callers_own_credential_only() {
    let gw = spawn().await;
    let token = gw.token(&["byok", "gpt"]);
    let r = gw
        .http
        .post(format!("{}/v1/chat/completions", gw.base))
        .header("x-ferrocat-token", &token)
        .bearer_auth("user-own-provider-key")
        .json(&chat("byok"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let sent = &gw.mock.received()[0];
    assert_eq!(sent.path, "/byok/v1/chat/completions");
    assert_eq!(sent.headers["authorization"], "Bearer user-own-provider-key");
    assert!(sent.headers.get("x-ferrocat-token").is_none());

    // A non-passthrough provider gets the gateway's key, not what the caller sent.
    let r = gw
        .http
        .post(format!("{}/v1/chat/completions", gw.base))
        .header("x-ferrocat-token", &token)
        .bearer_auth("user-own-provider-key")
        .json(&chat("gpt"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(gw.mock.received()[1].headers["authorization"], format!("Bearer {OPENAI_KEY}"));
}

#[tokio::test]
async fn oversized_bodies_get_413_declared_or_streamed() {
    let gw = spawn_with(|c| c.max_body_bytes = 2048).await;
    let token = gw.token(&["gpt"]);
    let big = json!({"model": "gpt", "messages": [{"role": "user", "content": "x".repeat(4096)}]});
    let (status, body) = gw.post_json("/v1/chat/completions", &token, &big).await;
    assert_eq!(status, 413);
    assert_eq!(body["error"]["code"], "request_too_large");
    assert_eq!(body["error"]["message"], "request body is larger than the limit of 2048 bytes");

    // Chunked, without a Content-Length: counted while read.
    let chunks: Vec<Result<Vec<u8>, std::io::Error>> = (0..8).map(|_| Ok(vec![b' '; 512])).collect();
    let r = gw
        .http
        .post(format!("{}/v1/messages", gw.base))
        .bearer_auth(&token)
        .header("content-type", "application/json")
        .body(reqwest::Body::wrap_stream(futures::stream::iter(chunks)))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 413);
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["error"]["type"], "request_too_large");

    let (status, body) = gw.post_json("/v1/chat/completions", &token, &json!(["not", "an", "object"])).await;
    assert_eq!(status, 400);
    assert_eq!(body["error"]["message"], "request body must be a JSON object");
    assert!(gw.mock.received().is_empty());
}
