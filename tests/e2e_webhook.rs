//! The path a user depends on, end to end and only through the edge's one port: log in, import
//! a two-action workflow, commit it, create its webhook, trigger it, read the run back from
//! Temporal; then `/wait`; then the refusals (wrong secret, malformed body) start nothing.

mod common;

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::Json;
use axum::routing::post;
use serde_json::{Value, json};

use common::{ADMIN_EMAIL, ADMIN_PASSWORD, Stack, json_of};

/// A local HTTP server the workflow posts to; it records bodies and echoes them back.
async fn start_receiver() -> (String, Arc<Mutex<Vec<Value>>>) {
    let seen = Arc::new(Mutex::new(Vec::new()));
    let recorded = seen.clone();
    let app = axum::Router::new().route(
        "/notify",
        post(move |Json(body): Json<Value>| {
            let recorded = recorded.clone();
            async move {
                recorded.lock().unwrap().push(body.clone());
                Json(json!({"received": body, "ok": true}))
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (format!("http://{addr}/notify"), seen)
}

/// Polls a run until it is no longer running (at most 60 s) and returns its execution view.
async fn finished_execution(http: &reqwest::Client, api: &str, workspace: &str, exec_id: &str) -> Value {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let (status, execution) = json_of(
            http.get(format!("{api}/workflow-executions/{exec_id}?workspace_id={workspace}")).send().await.unwrap(),
        )
        .await;
        assert_eq!(status, 200, "{execution}");
        if execution["status"] != "RUNNING" {
            return execution;
        }
        assert!(Instant::now() < deadline, "run did not finish: {execution}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

fn workflow_yaml(notify_url: &str) -> String {
    format!(
        r#"
title: Enrich alert
description: Reshape the trigger, then post it to a local server
entrypoint:
  ref: reshape
actions:
  - ref: reshape
    action: core.transform.reshape
    args:
      value:
        alert: ${{{{ TRIGGER.alert }}}}
        severity: ${{{{ TRIGGER.severity }}}}
        summary: "Alert ${{{{ TRIGGER.alert }}}} at severity ${{{{ TRIGGER.severity }}}}"
  - ref: notify
    action: core.http_request
    depends_on: [reshape]
    args:
      url: {notify_url}
      method: POST
      payload: ${{{{ ACTIONS.reshape.result }}}}
returns:
  summary: ${{{{ ACTIONS.reshape.result.summary }}}}
  status: ${{{{ ACTIONS.notify.result.status_code }}}}
  echoed: ${{{{ ACTIONS.notify.result.data.received.alert }}}}
"#
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn webhook_runs_end_to_end_through_the_edge() {
    let (notify_url, seen) = start_receiver().await;
    // The receiver is on loopback: workflows reach it only because the operator allowed it.
    let allow = notify_url.trim_start_matches("http://").trim_end_matches("/notify").to_owned();
    // Each of the three services that see a webhook's run serves its metrics on a port of its own.
    let metrics: Vec<(&str, String)> = ["FERROCAT_API_METRICS_ADDR", "FERROCAT_WORKER_METRICS_ADDR", "FERROCAT_EXECUTOR_METRICS_ADDR"]
        .into_iter()
        .map(|name| (name, format!("127.0.0.1:{}", common::free_port())))
        .collect();
    let mut env = vec![("FERROCAT_EGRESS_ALLOW", allow)];
    env.extend(metrics.iter().cloned());
    let stack = tokio::task::spawn_blocking(move || Stack::up_with(&env)).await.unwrap();
    let api = format!("{}/api", stack.url);
    let http = reqwest::Client::builder().cookie_store(true).build().unwrap();

    // The api answers through the edge.
    let (status, health) = json_of(http.get(format!("{api}/health")).send().await.unwrap()).await;
    assert_eq!((status, health), (200, json!({"status": "ok"})));

    // A wrong password is refused and sets no session.
    let response = http
        .post(format!("{api}/auth/login"))
        .form(&[("username", ADMIN_EMAIL), ("password", "not-the-password")])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 400);
    assert_eq!(http.get(format!("{api}/users/me")).send().await.unwrap().status().as_u16(), 401);

    // Log in.
    let response = http
        .post(format!("{api}/auth/login"))
        .form(&[("username", ADMIN_EMAIL), ("password", ADMIN_PASSWORD)])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 204);
    let (status, workspaces) = json_of(http.get(format!("{api}/workspaces")).send().await.unwrap()).await;
    assert_eq!(status, 200);
    let workspace = workspaces[0]["id"].as_str().expect("a default workspace").to_owned();
    assert_eq!(workspaces[0]["role"], "admin");

    // Import the workflow from YAML and commit it.
    let form = reqwest::multipart::Form::new().part(
        "file",
        reqwest::multipart::Part::text(workflow_yaml(&notify_url)).file_name("enrich.yml"),
    );
    let (status, workflow) = json_of(
        http.post(format!("{api}/workflows?workspace_id={workspace}")).multipart(form).send().await.unwrap(),
    )
    .await;
    assert_eq!(status, 201, "{workflow}");
    let wf_id = workflow["id"].as_str().unwrap().to_owned();
    assert!(wf_id.starts_with("wf_"), "{wf_id}");
    assert_eq!(workflow["title"], "Enrich alert");

    let (status, commit) =
        json_of(http.post(format!("{api}/workflows/{wf_id}/commit?workspace_id={workspace}")).send().await.unwrap()).await;
    assert_eq!(status, 200, "{commit}");
    assert_eq!(commit["metadata"]["version"], 1);
    let (status, definition) = json_of(
        http.get(format!("{api}/workflows/{wf_id}/definition?workspace_id={workspace}")).send().await.unwrap(),
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(definition["content"]["actions"][1]["ref"], "notify");

    // Create the webhook.
    let (status, webhook) = json_of(
        http.post(format!("{api}/workflows/{wf_id}/webhook?workspace_id={workspace}"))
            .json(&json!({"methods": ["POST"]}))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, 200, "{webhook}");
    let hook_url = webhook["url"].as_str().unwrap().to_owned();
    assert!(hook_url.starts_with(&format!("{api}/webhooks/{wf_id}/")), "{hook_url}");

    // An external system posts to it, with no session.
    let outsider = reqwest::Client::new();
    let (status, started) =
        json_of(outsider.post(&hook_url).json(&json!({"alert": "A-17", "severity": 3})).send().await.unwrap()).await;
    assert_eq!(status, 200, "{started}");
    assert_eq!(started["message"], "Workflow execution created");
    assert_eq!(started["wf_id"], wf_id.as_str());
    let exec_id = started["wf_exec_id"].as_str().unwrap().to_owned();
    assert!(exec_id.starts_with(&format!("{wf_id}/exec_")), "{exec_id}");

    // Poll the execution to completion (bounded).
    let execution = finished_execution(&http, &api, &workspace, &exec_id).await;
    assert_eq!(execution["status"], "COMPLETED", "{execution}");
    assert_eq!(execution["trigger_type"], "webhook");
    let events = execution["events"].as_array().unwrap();
    let event = |r: &str| events.iter().find(|e| e["action_ref"] == r).unwrap_or_else(|| panic!("no {r} in {execution}"));
    assert_eq!(event("reshape")["status"], "COMPLETED");
    assert_eq!(
        event("reshape")["action_result"],
        json!({"alert": "A-17", "severity": 3, "summary": "Alert A-17 at severity 3"})
    );
    assert_eq!(event("notify")["action_name"], "core.http_request");
    assert_eq!(event("notify")["action_result"]["status_code"], 200);
    assert_eq!(event("notify")["action_result"]["data"]["received"]["alert"], "A-17");
    assert_eq!(
        execution["result"],
        json!({"summary": "Alert A-17 at severity 3", "status": 200, "echoed": "A-17"})
    );
    assert_eq!(seen.lock().unwrap().len(), 1, "the local server got exactly one request");

    // `/wait` answers with the run's value.
    let (status, waited) = json_of(
        outsider.post(format!("{hook_url}/wait")).json(&json!({"alert": "B-2", "severity": 1})).send().await.unwrap(),
    )
    .await;
    assert_eq!(status, 200, "{waited}");
    assert_eq!(
        waited,
        json!({"kind": "value", "value": {"summary": "Alert B-2 at severity 1", "status": 200, "echoed": "B-2"}})
    );
    assert_eq!(seen.lock().unwrap().len(), 2);

    // Refusals: a wrong secret is 401, a malformed body 400; neither starts a run.
    let wrong = format!("{api}/webhooks/{wf_id}/{}", "0".repeat(64));
    let (status, body) = json_of(outsider.post(&wrong).json(&json!({"alert": "X"})).send().await.unwrap()).await;
    assert_eq!(status, 401, "{body}");
    assert!(body["detail"].as_str().is_some());
    let (status, body) = json_of(
        outsider
            .post(&hook_url)
            .header("content-type", "application/json")
            .body("{\"alert\": ")
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, 400, "{body}");
    assert!(body["detail"].as_str().unwrap().contains("invalid JSON"), "{body}");
    let (status, runs) = json_of(
        http.get(format!("{api}/workflow-executions?workflow_id={wf_id}&workspace_id={workspace}")).send().await.unwrap(),
    )
    .await;
    assert_eq!(status, 200, "{runs}");
    assert_eq!(runs.as_array().unwrap().len(), 2, "only the two accepted calls ran: {runs}");
    assert_eq!(seen.lock().unwrap().len(), 2);

    // The metrics say the same: the api counted two accepted webhooks and two refusals by why,
    // the worker two completed runs of this workflow, the executor two posts (the pure reshape
    // ran on the worker).
    let scrape = |addr: &str| {
        let url = format!("http://{addr}/metrics");
        async move { reqwest::get(&url).await.unwrap().text().await.unwrap() }
    };
    let api_metrics = scrape(&metrics[0].1).await;
    for line in [
        "ferrocat_webhooks_total{outcome=\"accepted\"} 2",
        "ferrocat_webhooks_total{outcome=\"unauthorized\"} 1",
        "ferrocat_webhooks_total{outcome=\"invalid\"} 1",
        "ferrocat_runs_started_total{trigger=\"webhook\"} 2",
    ] {
        assert!(api_metrics.lines().any(|l| l == line), "the api's metrics lack {line:?}:\n{api_metrics}");
    }
    let worker_metrics = scrape(&metrics[1].1).await;
    let finished = format!("ferrocat_runs_finished_total{{status=\"completed\",workflow_id=\"{wf_id}\"}} 2");
    assert!(worker_metrics.lines().any(|l| l == finished), "the worker's metrics lack {finished:?}:\n{worker_metrics}");
    assert!(worker_metrics.lines().any(|l| l == "ferrocat_actions_total{action=\"core.transform.reshape\",outcome=\"ok\"} 2"), "{worker_metrics}");
    let executor_metrics = scrape(&metrics[2].1).await;
    for line in [
        "ferrocat_actions_total{action=\"core.http_request\",outcome=\"ok\"} 2",
        "ferrocat_action_queue_seconds_count{action=\"core.http_request\"} 2",
    ] {
        assert!(executor_metrics.lines().any(|l| l == line), "the executor's metrics lack {line:?}:\n{executor_metrics}");
    }
    assert!(executor_metrics.contains("process_resident_memory_bytes "), "{executor_metrics}");

    // Ctrl-C (SIGTERM) stops the stack cleanly.
    let mut stack = stack;
    assert!(tokio::task::spawn_blocking(move || stack.stop()).await.unwrap(), "ferrocat up exits 0 on SIGTERM");
}

/// Finding 2 of the December review, as it was reproduced: a superuser follows a link to a
/// GET webhook with `include_headers`. Neither the session cookie nor an Authorization header
/// reaches the run (whose trigger every member can read); the cookie is `SameSite=Strict`, so a
/// browser would not even send it on that cross-site navigation. Also through the edge: the
/// api's `/health` is not reachable as `/apihealth`, and a body larger than a run accepts is
/// refused with 413, not Temporal's 503.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_link_to_a_webhook_never_hands_over_the_session() {
    let stack = tokio::task::spawn_blocking(Stack::up).await.unwrap();
    let api = format!("{}/api", stack.url);
    let (http, workspace) = common::login(&stack.url).await;

    // The victim's session, read off a login response as a browser would store it.
    let victim = reqwest::Client::new();
    let login = victim
        .post(format!("{api}/auth/login"))
        .form(&[("username", ADMIN_EMAIL), ("password", ADMIN_PASSWORD)])
        .send()
        .await
        .unwrap();
    assert_eq!(login.status().as_u16(), 204);
    let set_cookie = login.headers()["set-cookie"].to_str().unwrap().to_owned();
    assert!(set_cookie.contains("SameSite=Strict") && set_cookie.contains("HttpOnly"), "{set_cookie}");
    let session = set_cookie.split(';').next().unwrap().to_owned();
    let token = session.split_once('=').unwrap().1.to_owned();
    let me = victim.get(format!("{api}/users/me")).header("cookie", &session).send().await.unwrap();
    assert_eq!(me.status().as_u16(), 200, "the stolen cookie would be a live session");

    let yaml = r#"
title: Collect
description: Keeps its trigger
entrypoint:
  ref: keep
actions:
  - ref: keep
    action: core.transform.reshape
    args:
      value: ${{ TRIGGER }}
"#;
    let wf_id = common::commit_workflow(&http, &stack.url, &workspace, yaml.to_owned()).await;
    let (status, webhook) = json_of(
        http.post(format!("{api}/workflows/{wf_id}/webhook?workspace_id={workspace}"))
            .json(&json!({"methods": ["GET", "POST"], "include_headers": true}))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, 200, "{webhook}");
    let hook_url = webhook["url"].as_str().unwrap().to_owned();

    // The victim's browser follows the link (a top-level cross-site navigation).
    let (status, started) = json_of(
        victim
            .get(&hook_url)
            .header("cookie", &session)
            .header("authorization", format!("Bearer {token}"))
            .header("sec-fetch-site", "cross-site")
            .header("sec-fetch-mode", "navigate")
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, 200, "{started}");
    let exec_id = started["wf_exec_id"].as_str().unwrap().to_owned();

    let execution = finished_execution(&http, &api, &workspace, &exec_id).await;
    assert_eq!(execution["status"], "COMPLETED", "{execution}");
    let headers = &execution["trigger"]["headers"];
    assert_eq!(headers["sec-fetch-site"], "cross-site", "headers are included: {execution}");
    assert!(headers.get("cookie").is_none() && headers.get("authorization").is_none(), "{headers}");
    assert!(!execution.to_string().contains(&token), "the session token reached the run: {execution}");
    assert!(!stack.logs().contains(&token), "the session token reached a log");
    // The edge removed the cookie before the api: the api warns whenever a webhook request
    // still carries one (backend/api/tests/api/webhooks.rs shows the warning firing).
    assert!(!stack.logs().contains("carried a Cookie header"), "the api received the cookie");

    // `/apihealth` is not the api's `/health` (prefixes end at a segment boundary).
    let (_, health) = json_of(victim.get(format!("{}/apihealth", stack.url)).send().await.unwrap()).await;
    assert_ne!(health, json!({"status": "ok"}), "/apihealth reached the api");
    let (status, health) = json_of(victim.get(format!("{api}/health")).send().await.unwrap()).await;
    assert_eq!((status, health), (200, json!({"status": "ok"})));

    // A 5 MiB body: 413 with a reason, before the workflow engine is asked.
    let big = json!({"blob": "x".repeat(5 << 20)});
    let (status, body) = json_of(victim.post(&hook_url).json(&big).send().await.unwrap()).await;
    assert_eq!(status, 413, "{body}");
    assert!(body["detail"].as_str().unwrap().contains("at most"), "{body}");

    let mut stack = stack;
    assert!(tokio::task::spawn_blocking(move || stack.stop()).await.unwrap(), "ferrocat up exits 0 on SIGTERM");
}
