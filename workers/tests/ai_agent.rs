//! `ai.agent` end to end: a workflow run through Temporal, whose agent calls the model through
//! the real gateway (which injects the provider key) against a mock OpenAI provider; the model
//! asks for a `core.http_request` tool call, the executor runs it against a real HTTP server,
//! and the model's final JSON answer is the action's result.

use ferrocat_test_support::workers;

use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use std::sync::{Arc, Mutex};

use axum::Json;
use axum::http::HeaderMap;
use serde_json::{Value, json};
use uuid::Uuid;

use ferrocat_llm_gateway::catalog::Catalog;
use ferrocat_llm_gateway::credentials::EnvCredentials;
use ferrocat_llm_gateway::{Gateway, GatewayConfig};
use ferrocat_shared::config::Env;
use ferrocat_dsl::Workflow;

const SIGNING_SECRET: &str = "ai-agent-test-signing-secret-0123";
const PROVIDER_KEY: &str = "sk-mock-provider-key-never-in-results";

/// What the mock provider was sent: (authorization header, body) per request.
type Seen = Arc<Mutex<Vec<(String, Value)>>>;

/// An OpenAI-format provider that plays an analyst: first it asks to fetch the alert, then it
/// answers with a verdict drawn from what the tool returned. The first `failures` answering
/// requests get a 503.
async fn mock_provider(intel: String, failures: usize) -> (String, Seen) {
    let seen: Seen = Arc::default();
    let log = seen.clone();
    let failures = Arc::new(AtomicUsize::new(failures));
    let app = axum::Router::new().route(
        "/v1/chat/completions",
        axum::routing::post(move |headers: HeaderMap, Json(body): Json<Value>| {
            let (log, intel, failures) = (log.clone(), intel.clone(), failures.clone());
            async move {
                let auth = headers.get("authorization").and_then(|v| v.to_str().ok()).unwrap_or_default().to_owned();
                log.lock().unwrap().push((auth, body.clone()));
                let messages = body["messages"].as_array().cloned().unwrap_or_default();
                let answering = messages.iter().any(|m| m["role"] == "tool");
                if answering && failures.fetch_update(SeqCst, SeqCst, |n| n.checked_sub(1)).is_ok() {
                    let error = json!({"error": {"message": "overloaded", "type": "server_error"}});
                    return (axum::http::StatusCode::SERVICE_UNAVAILABLE, Json(error));
                }
                let usage = json!({"prompt_tokens": 20, "completion_tokens": 7, "total_tokens": 27});
                let message = match messages.iter().rev().find(|m| m["role"] == "tool") {
                    None => json!({
                        "role": "assistant", "content": null,
                        "tool_calls": [{"id": "call_1", "type": "function", "function": {
                            "name": "core__http_request",
                            "arguments": json!({"url": format!("{intel}/alerts/42"), "method": "GET"}).to_string(),
                        }}],
                    }),
                    Some(tool) => {
                        let fetched: Value = serde_json::from_str(tool["content"].as_str().unwrap_or("{}")).unwrap_or_default();
                        let score = fetched["data"]["score"].as_i64().unwrap_or(0);
                        let verdict = if score > 90 { "malicious" } else { "benign" };
                        json!({"role": "assistant", "content": json!({"verdict": verdict, "score": score}).to_string()})
                    }
                };
                (axum::http::StatusCode::OK, Json(json!({
                    "id": "chatcmpl-mock", "object": "chat.completion", "created": 0, "model": body["model"],
                    "choices": [{"index": 0, "message": message, "finish_reason": "stop"}], "usage": usage,
                })))
            }
        }),
    );
    (serve(app).await, seen)
}

async fn serve(app: axum::Router) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    base
}

/// The model gateway, in this process, with one model served by the mock provider.
async fn gateway(provider: &str) -> String {
    let env = Env::from_pairs([("FERROCAT_LLM_GATEWAY_SIGNING_SECRET", SIGNING_SECRET), ("MOCK_PROVIDER_KEY", PROVIDER_KEY)]);
    let mut config = GatewayConfig::from_env(&env).unwrap();
    config.catalog = Catalog::parse(&format!(
        "[providers.mock]\nkind = \"openai\"\nbase_url = \"{provider}/v1\"\ncredential = \"env:MOCK_PROVIDER_KEY\"\n\n\
         [[models]]\nname = \"analyst\"\nprovider = \"mock\"\nupstream_model = \"gpt-mock\"\n"
    ))
    .unwrap();
    config.credentials = EnvCredentials::capture(&env, config.catalog.env_credentials());
    let gateway = Gateway::build(config, None, Vec::new()).await.unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(gateway.serve(listener, std::future::pending()));
    base
}

const WORKFLOW: &str = r#"
title: Triage
description: an agent triages an alert with an HTTP tool
entrypoint: {ref: triage}
actions:
  - ref: triage
    action: ai.agent
    args:
      user_prompt: "Triage alert ${{ TRIGGER.alert_id }}"
      instructions: You are a SOC analyst. Fetch the alert, then answer in JSON.
      model_name: analyst
      model_provider: openai
      actions: [core.http_request]
      output_type: {type: object, required: [verdict]}
      max_tool_calls: 3
  - ref: verdict
    action: core.transform.reshape
    depends_on: [triage]
    args: {value: "${{ ACTIONS.triage.result.output.verdict }}"}
returns:
  verdict: "${{ ACTIONS.verdict.result }}"
  agent: "${{ ACTIONS.triage.result }}"
"#;

/// Runs `yaml` through Temporal for alert 42, with the gateway in front of `provider`.
async fn triage(provider: &str, yaml: &str) -> Result<Value, String> {
    let gateway = gateway(provider).await;
    let env = [("FERROCAT_LLM_GATEWAY_URL", gateway), ("FERROCAT_LLM_GATEWAY_SIGNING_SECRET", SIGNING_SECRET.to_owned())];
    let dsl = Workflow::parse(yaml).unwrap();
    dsl.validate().unwrap();
    let run = workers::Run {
        id: format!("wf_triage/exec_{}", Uuid::new_v4().simple()),
        workspace_id: Uuid::new_v4(),
        dsl,
        trigger: json!({"alert_id": 42}),
    };
    workers::run_all(&env, vec![run]).await.remove(0).outcome
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_agent_calls_an_http_tool_through_the_gateway_and_answers() {
    let intel = serve(axum::Router::new().route(
        "/alerts/42",
        axum::routing::get(|| async { Json(json!({"id": 42, "title": "phishing link clicked", "score": 97})) }),
    ))
    .await;
    let (provider, seen) = mock_provider(intel.clone(), 0).await;
    let value = triage(&provider, WORKFLOW).await.expect("the run completes");

    assert_eq!(value["verdict"], "malicious", "{value}");
    assert_eq!(value["agent"]["output"], json!({"verdict": "malicious", "score": 97}));
    assert_eq!(value["agent"]["usage"]["requests"], 2);
    assert_eq!(value["agent"]["usage"]["tool_calls"], 1);
    assert_eq!(value["agent"]["usage"]["input_tokens"], 40);
    let messages = value["agent"]["messages"].as_array().unwrap();
    assert_eq!(messages.iter().map(|m| m["role"].as_str().unwrap()).collect::<Vec<_>>(), ["system", "user", "assistant", "tool", "assistant"]);

    let seen = seen.lock().unwrap().clone();
    assert_eq!(seen.len(), 2, "two model calls");
    for (auth, body) in &seen {
        // The gateway replaced the executor's token with the provider's key.
        assert_eq!(auth, &format!("Bearer {PROVIDER_KEY}"));
        assert_eq!(body["model"], "gpt-mock");
        assert_eq!(body["tools"][0]["function"]["name"], "core__http_request");
    }
    assert_eq!(seen[0].1["messages"][1]["content"], "Triage alert 42");
    let tool_message = &seen[1].1["messages"][3];
    assert_eq!(tool_message["tool_call_id"], "call_1");
    assert!(tool_message["content"].as_str().unwrap().contains("phishing link clicked"), "{tool_message}");
    assert!(!value.to_string().contains(PROVIDER_KEY), "the provider key reached the run's result");
}

/// An agent whose second model call fails (the gateway's retry too) fails its first attempt;
/// Temporal's retry resumes it from its checkpoint: the model is not asked again for the tool
/// call it already made, and the tool (an HTTP request with effects) does not run twice.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_agent_resumes_from_its_checkpoint_without_repeating_tool_calls() {
    let fetches = Arc::new(AtomicUsize::new(0));
    let counter = fetches.clone();
    let intel = serve(axum::Router::new().route(
        "/alerts/42",
        axum::routing::get(move || {
            counter.fetch_add(1, SeqCst);
            async { Json(json!({"id": 42, "title": "phishing link clicked", "score": 97})) }
        }),
    ))
    .await;
    // The gateway tries twice (FERROCAT_LLM_GATEWAY_RETRIES=1): both fail.
    let (provider, seen) = mock_provider(intel.clone(), 2).await;
    let yaml = WORKFLOW.replace("      max_tool_calls: 3\n", "      max_tool_calls: 3\n      retries: 0\n    retry_policy: {max_attempts: 2}\n");
    assert_ne!(yaml, WORKFLOW);
    let value = triage(&provider, &yaml).await.expect("the run completes on its second attempt");

    assert_eq!(value["verdict"], "malicious", "{value}");
    assert_eq!(fetches.load(SeqCst), 1, "the tool ran once");
    let seen = seen.lock().unwrap().clone();
    let opening = seen.iter().filter(|(_, body)| !body["messages"].as_array().unwrap().iter().any(|m| m["role"] == "tool")).count();
    assert_eq!(opening, 1, "the first model call was not repeated");
    assert_eq!(seen.len(), 4, "one opening call, two failed answers, one answer");
    assert_eq!(value["agent"]["usage"]["requests"], 2);
    assert_eq!(value["agent"]["usage"]["tool_calls"], 1);
}
