//! A secret planted through the api is used by a workflow run and found in no result, error,
//! execution view or log line; the outside system does receive the real value.

mod common;

use std::sync::{Arc, Mutex};

use axum::http::HeaderMap;
use axum::routing::post;
use serde_json::json;

use common::{Stack, commit_workflow, json_of, login};

const SECRET: &str = "sk-live-4f7c1e9a-planted-value";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn secrets_reach_actions_and_nothing_else() {
    // The outside system that must receive the real token.
    let seen = Arc::new(Mutex::new(Vec::<String>::new()));
    let recorded = seen.clone();
    let app = axum::Router::new().route(
        "/hook",
        post(move |headers: HeaderMap| {
            let recorded = recorded.clone();
            async move {
                let auth = headers.get("authorization").and_then(|v| v.to_str().ok()).unwrap_or("").to_owned();
                recorded.lock().unwrap().push(auth.clone());
                axum::Json(json!({"echo": auth}))
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });

    let stack = tokio::task::spawn_blocking(move || Stack::up_with(&[("FERROCAT_EGRESS_ALLOW", addr.to_string())])).await.unwrap();
    let api = format!("{}/api", stack.url);
    let (http, ws) = login(&stack.url).await;

    let (status, created) = json_of(
        http.post(format!("{api}/secrets?workspace_id={ws}"))
            .json(&json!({"name": "vendor", "keys": [{"key": "TOKEN", "value": SECRET}]}))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert!(status == 200 || status == 201, "{created}");
    assert!(!created.to_string().contains(SECRET));

    let yaml = format!(
        r#"
title: Uses a secret
description: sends a token and tries to leak it
entrypoint: {{}}
actions:
  - ref: call
    action: core.http_request
    args:
      url: http://{addr}/hook
      method: POST
      headers: {{Authorization: "Bearer ${{{{ SECRETS.vendor.TOKEN }}}}"}}
  - ref: leak
    action: core.transform.reshape
    args: {{value: "token is ${{{{ SECRETS.vendor.TOKEN }}}}"}}
  - ref: fail
    action: core.transform.reshape
    args: {{value: "${{{{ SECRETS.vendor.TOKEN + 1 }}}}"}}
  - ref: handled
    action: core.transform.reshape
    depends_on: [fail.error]
    args: {{value: "${{{{ ACTIONS.fail.error.message }}}}"}}
returns:
  echo: "${{{{ ACTIONS.call.result.data.echo }}}}"
  leak: "${{{{ ACTIONS.leak.result }}}}"
  error: "${{{{ ACTIONS.handled.result }}}}"
"#
    );
    let wf = commit_workflow(&http, &stack.url, &ws, yaml).await;
    let (_, hook) = json_of(http.post(format!("{api}/workflows/{wf}/webhook?workspace_id={ws}")).send().await.unwrap()).await;

    let (status, waited) = json_of(
        reqwest::Client::new().post(format!("{}/wait", hook["url"].as_str().unwrap())).send().await.unwrap(),
    )
    .await;
    assert_eq!(status, 200, "{waited}");
    assert_eq!(seen.lock().unwrap().as_slice(), [format!("Bearer {SECRET}")], "the vendor got the real token");
    assert_eq!(waited["value"]["echo"], json!("Bearer ***"));
    assert_eq!(waited["value"]["leak"], json!("token is ***"));
    assert!(waited["value"]["error"].as_str().unwrap().contains("***") || !waited.to_string().contains(SECRET));
    assert!(!waited.to_string().contains(SECRET), "{waited}");

    // Nor in the execution views read back from Temporal.
    let (_, runs) =
        json_of(http.get(format!("{api}/workflow-executions?workflow_id={wf}&workspace_id={ws}")).send().await.unwrap()).await;
    let exec = runs[0]["id"].as_str().unwrap().to_owned();
    let (status, detail) =
        json_of(http.get(format!("{api}/workflow-executions/{exec}?workspace_id={ws}")).send().await.unwrap()).await;
    assert_eq!(status, 200);
    assert_eq!(detail["status"], "COMPLETED", "{detail}");
    assert!(!detail.to_string().contains(SECRET), "{detail}");
    let (_, listed) = json_of(http.get(format!("{api}/secrets?workspace_id={ws}")).send().await.unwrap()).await;
    assert!(!listed.to_string().contains(SECRET));

    // Nor in any log line of the stack.
    let mut stack = stack;
    let logs = stack.logs();
    assert!(logs.contains("executor"), "logs were captured");
    assert!(!logs.contains(SECRET), "a log line carries the secret");
    assert!(tokio::task::spawn_blocking(move || stack.stop()).await.unwrap());
}
