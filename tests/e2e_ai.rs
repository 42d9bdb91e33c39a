//! AI through the whole stack: a superuser adds a provider and a model through the api (the
//! running gateway picks them up without a restart), the provider key is a workspace secret,
//! and an `ai.agent` workflow triggered by webhook calls a mock OpenAI provider (a real HTTP
//! server here) through the gateway, runs a `core.http_request` tool and answers. The provider
//! sees the organisation's key, then the workspace's own once it has one, then its rotated
//! value, each at once; nothing else sees a key, and the workspace's usage shows the calls.

mod common;

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::Json;
use axum::http::HeaderMap;
use axum::routing::{get, post};
use serde_json::{Value, json};

use common::{Stack, commit_workflow, json_of, login};

const KEY_ORG: &str = "sk-mock-organisation-key-77ab";
const KEY_1: &str = "sk-mock-first-provider-key-1f0c";
const KEY_2: &str = "sk-mock-rotated-provider-key-9e2d";

/// What the provider was sent: (authorization header, body) per request.
type Seen = Arc<Mutex<Vec<(String, Value)>>>;

async fn serve(app: axum::Router) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    base
}

/// A provider that first asks for the alert, then judges it by the score the tool returned.
fn provider(seen: Seen, intel: String) -> axum::Router {
    axum::Router::new().route(
        "/v1/chat/completions",
        post(move |headers: HeaderMap, Json(body): Json<Value>| {
            let (seen, intel) = (seen.clone(), intel.clone());
            async move {
                let auth = headers.get("authorization").and_then(|v| v.to_str().ok()).unwrap_or_default().to_owned();
                seen.lock().unwrap().push((auth, body.clone()));
                let messages = body["messages"].as_array().cloned().unwrap_or_default();
                let message = match messages.iter().rev().find(|m| m["role"] == "tool") {
                    None => json!({"role": "assistant", "content": null, "tool_calls": [{
                        "id": "call_1", "type": "function",
                        "function": {"name": "core__http_request", "arguments": json!({"url": format!("{intel}/alerts/42")}).to_string()},
                    }]}),
                    Some(tool) => {
                        let fetched: Value = serde_json::from_str(tool["content"].as_str().unwrap_or("{}")).unwrap_or_default();
                        let score = fetched["data"]["score"].as_i64().unwrap_or(0);
                        json!({"role": "assistant", "content": json!({"verdict": if score > 90 { "malicious" } else { "benign" }}).to_string()})
                    }
                };
                Json(json!({
                    "id": "chatcmpl-e2e", "object": "chat.completion", "created": 0, "model": body["model"],
                    "choices": [{"index": 0, "message": message, "finish_reason": "stop"}],
                    "usage": {"prompt_tokens": 20, "completion_tokens": 7, "total_tokens": 27},
                }))
            }
        }),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_agent_runs_on_a_catalog_and_key_managed_through_the_api() {
    let intel = serve(axum::Router::new().route("/alerts/42", get(|| async { Json(json!({"id": 42, "score": 97})) }))).await;
    let seen: Seen = Arc::default();
    // The agent's tool may reach the intel server, and only because the operator allowed it.
    let allow = intel.trim_start_matches("http://").to_owned();
    let upstream = serve(provider(seen.clone(), intel)).await;

    let stack = tokio::task::spawn_blocking(move || Stack::up_with(&[("FERROCAT_EGRESS_ALLOW", allow)])).await.unwrap();
    let api = format!("{}/api", stack.url);
    let (http, ws) = login(&stack.url).await;
    let put = |path: &str, body: Value| http.put(format!("{api}{path}")).json(&body).send();

    // A bad change is refused whole and leaves the catalog as it was.
    let (status, err) = json_of(put("/llm/models/analyst", json!({"provider": "mock"})).await.unwrap()).await;
    assert_eq!(status, 422, "{err}");
    assert!(err["detail"].as_str().unwrap().contains("unknown provider"), "{err}");
    let (status, err) = json_of(
        put("/llm/providers/mock", json!({"kind": "openai", "base_url": format!("{upstream}/v1"), "credential": "env:FERROCAT_SIGNING_SECRET"}))
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, 422, "an api-edited provider must not read the gateway's environment: {err}");
    let (_, providers) = json_of(http.get(format!("{api}/llm/providers")).send().await.unwrap()).await;
    assert_eq!(providers, json!([]));

    let provider_entry = json!({"kind": "openai", "base_url": format!("{upstream}/v1"), "credential": "secret:openai.OPENAI_API_KEY"});
    let (status, saved) = json_of(put("/llm/providers/mock", provider_entry.clone()).await.unwrap()).await;
    assert_eq!(status, 201, "{saved}");
    let (status, saved) = json_of(put("/llm/models/analyst", json!({"provider": "mock", "upstream_model": "gpt-4o-mini"})).await.unwrap()).await;
    assert_eq!(status, 201, "{saved}");
    let (_, models) = json_of(http.get(format!("{api}/llm/models")).send().await.unwrap()).await;
    assert_eq!(models, json!([{"name": "analyst", "provider": "mock", "upstream_model": "gpt-4o-mini"}]));
    let (status, err) = json_of(http.delete(format!("{api}/llm/providers/mock")).send().await.unwrap()).await;
    assert_eq!(status, 422, "a provider in use cannot go: {err}");

    let secret_body = |value: &str| json!({"name": "openai", "keys": [{"key": "OPENAI_API_KEY", "value": value}]});
    let (status, created) = json_of(http.post(format!("{api}/organization/secrets")).json(&secret_body(KEY_ORG)).send().await.unwrap()).await;
    assert_eq!(status, 201, "{created}");
    assert_eq!(created["workspace_id"], Value::Null);

    let yaml = r#"
title: Triage with an agent
description: the agent fetches the alert and judges it
entrypoint: {}
actions:
  - ref: triage
    action: ai.agent
    args:
      model_name: analyst
      user_prompt: "Fetch alert 42 and answer with a JSON verdict."
      actions: [core.http_request]
      output_type: {type: object, properties: {verdict: {type: string}}, required: [verdict]}
  - ref: report
    action: core.transform.reshape
    depends_on: [triage]
    args: {value: "verdict: ${{ ACTIONS.triage.result.output.verdict }}"}
returns:
  report: "${{ ACTIONS.report.result }}"
  agent: "${{ ACTIONS.triage.result }}"
"#;
    let wf = commit_workflow(&http, &stack.url, &ws, yaml.to_owned()).await;
    let (_, hook) = json_of(http.post(format!("{api}/workflows/{wf}/webhook?workspace_id={ws}")).send().await.unwrap()).await;
    let hook = hook["url"].as_str().unwrap().to_owned();
    let run = || async { json_of(reqwest::Client::new().post(format!("{hook}/wait")).send().await.unwrap()).await };

    let keys_seen = || seen.lock().unwrap().iter().map(|(auth, _)| auth.clone()).collect::<Vec<_>>();
    let (status, waited) = run().await;
    assert_eq!(status, 200, "{waited}");
    assert_eq!(waited["value"]["report"], json!("verdict: malicious"), "{waited}");
    assert_eq!(waited["value"]["agent"]["usage"]["tool_calls"], 1, "{waited}");
    assert!(seen.lock().unwrap().iter().all(|(_, body)| body["model"] == "gpt-4o-mini"));
    assert_eq!(keys_seen(), vec![format!("Bearer {KEY_ORG}"); 2], "one call for the tool, one for the answer, on the organisation's key");

    // The workspace's own secret wins from the next call on, and so does its new value (the api
    // tells the gateway, which otherwise caches keys for a minute).
    let (status, secret) = json_of(http.post(format!("{api}/secrets?workspace_id={ws}")).json(&secret_body(KEY_1)).send().await.unwrap()).await;
    assert_eq!(status, 201, "{secret}");
    let (status, waited) = run().await;
    assert_eq!((status, &waited["value"]["report"]), (200, &json!("verdict: malicious")), "{waited}");
    assert_eq!(keys_seen()[2..], vec![format!("Bearer {KEY_1}"); 2]);
    let (status, updated) = json_of(
        http.post(format!("{api}/secrets/{}?workspace_id={ws}", secret["id"].as_str().unwrap()))
            .json(&json!({"keys": [{"key": "OPENAI_API_KEY", "value": KEY_2}]}))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, 200, "{updated}");
    let (status, waited) = run().await;
    assert_eq!((status, &waited["value"]["report"]), (200, &json!("verdict: malicious")), "{waited}");
    assert_eq!(keys_seen()[4..], vec![format!("Bearer {KEY_2}"); 2]);

    // Usage is stored off the request path: wait for the six calls to land.
    let deadline = Instant::now() + Duration::from_secs(20);
    let usage = loop {
        let (status, usage) = json_of(http.get(format!("{api}/workspaces/{ws}/llm/usage")).send().await.unwrap()).await;
        assert_eq!(status, 200, "{usage}");
        if usage["total"]["requests"] == 6 || Instant::now() > deadline {
            break usage;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    assert_eq!(usage["total"], json!({"requests": 6, "errors": 0, "input_tokens": 120, "output_tokens": 42}), "{usage}");
    assert_eq!(usage["models"][0]["model"], "analyst");
    let (_, bad) = json_of(http.get(format!("{api}/workspaces/{ws}/llm/usage?since=tomorrow")).send().await.unwrap()).await;
    assert!(bad.to_string().contains("since"), "{bad}");

    // The key is in no run view and no log line.
    let (_, runs) = json_of(http.get(format!("{api}/workflow-executions?workflow_id={wf}&workspace_id={ws}")).send().await.unwrap()).await;
    let exec = runs[0]["id"].as_str().unwrap();
    let (_, detail) = json_of(http.get(format!("{api}/workflow-executions/{exec}?workspace_id={ws}")).send().await.unwrap()).await;
    assert_eq!(detail["status"], "COMPLETED", "{detail}");
    let mut stack = stack;
    let logs = stack.logs();
    for key in [KEY_ORG, KEY_1, KEY_2] {
        assert!(!detail.to_string().contains(key), "{detail}");
        assert!(!logs.contains(key), "a log line carries a provider key");
    }
    assert!(logs.contains("model catalog loaded"), "the gateway reloaded its catalog");
    assert!(tokio::task::spawn_blocking(move || stack.stop()).await.unwrap());
}
