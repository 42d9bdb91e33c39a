//! Cases through the whole stack: a workflow written for Tracecat opens a case, comments on it
//! and closes it with `core.cases.*`, unchanged; a workflow subscribed to case events runs
//! once per event a person causes, never for what a run (its own included) changes; and a
//! case event starts its workflow exactly once when the worker and the api are killed while
//! it is being delivered.

mod common;

use std::time::Duration;

use serde_json::{Value, json};

use ferrocat_test_support::eventually;

use common::{Stack, commit_workflow, json_of, login};

/// As Tracecat exports it (`definition:` and all).
const OPEN_COMMENT_CLOSE: &str = r#"
definition:
  title: Suspicious sign-in case
  description: opens a case for a sign-in alert, notes the enrichment and closes it
  entrypoint:
    ref: open_case
    expects:
      user: {type: str}
      ip: {type: str}
  actions:
    - ref: open_case
      action: core.cases.create_case
      args:
        summary: Suspicious sign-in for ${{ TRIGGER.user }}
        description: Seen from ${{ TRIGGER.ip }}
        priority: high
        severity: medium
        payload: ${{ TRIGGER }}
        tags: [sign-in]
        create_missing_tags: true
    - ref: add_note
      action: core.cases.create_comment
      depends_on: [open_case]
      args:
        case_id: ${{ ACTIONS.open_case.result.id }}
        content: ${{ TRIGGER.ip }} is on the blocklist
    - ref: attach_evidence
      action: core.cases.upload_attachment
      depends_on: [add_note]
      args:
        case_id: ${{ ACTIONS.open_case.result.id }}
        file_name: evidence.txt
        content_base64: ${{ FN.to_base64("sign-in from " + TRIGGER.ip) }}
        content_type: text/plain
    - ref: close_case
      action: core.cases.update_case
      depends_on: [attach_evidence]
      args:
        case_id: ${{ ACTIONS.open_case.result.id }}
        status: closed
        description: Closed by automation.
        append: true
  returns: ${{ ACTIONS.close_case.result }}
"#;

/// Subscribed to case events: comments on the case and raises its priority (both changes
/// would start it again if a run's changes were delivered).
const TRIAGE: &str = r#"
title: Triage new cases
description: runs on case events
entrypoint:
  ref: note
actions:
  - ref: note
    action: core.cases.create_comment
    args:
      case_id: ${{ TRIGGER.case_id }}
      content: triaged after ${{ TRIGGER.event.type }}
  - ref: raise
    action: core.cases.update_case
    depends_on: [note]
    args:
      case_id: ${{ TRIGGER.case_id }}
      priority: critical
returns: ${{ TRIGGER.case_id }}
"#;

async fn runs_of(http: &reqwest::Client, api: &str, ws: &str, workflow: &str) -> Vec<Value> {
    let (status, runs) = json_of(http.get(format!("{api}/workflow-executions?workspace_id={ws}&workflow_id={workflow}")).send().await.unwrap()).await;
    assert_eq!(status, 200, "{runs}");
    runs.as_array().unwrap().clone()
}

/// Waits until `workflow` has `count` finished runs, and returns them.
async fn finished_runs(http: &reqwest::Client, api: &str, ws: &str, workflow: &str, count: usize) -> Vec<Value> {
    eventually(Duration::from_secs(120), &format!("{count} finished runs of {workflow}"), || async {
        let runs = runs_of(http, api, ws, workflow).await;
        (runs.len() >= count && runs.iter().all(|r| r["status"] != "RUNNING")).then_some(runs)
    })
    .await
}

async fn create_case(http: &reqwest::Client, api: &str, ws: &str, summary: &str) -> Value {
    let (status, case) = json_of(http.post(format!("{api}/cases?workspace_id={ws}")).json(&json!({"summary": summary})).send().await.unwrap()).await;
    assert_eq!(status, 201, "{case}");
    case
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cases_are_worked_by_workflows_and_case_events_start_each_subscriber_once() {
    let stack = tokio::task::spawn_blocking(Stack::up).await.unwrap();
    let api = format!("{}/api", stack.url);
    let (http, ws) = login(&stack.url).await;
    let triage = commit_workflow(&http, &stack.url, &ws, TRIAGE.to_owned()).await;
    let trigger = json!({"status": "online", "event_types": ["case_created", "comment_created", "priority_changed", "status_changed"]});
    let (status, body) = json_of(http.post(format!("{api}/workflows/{triage}/case-trigger?workspace_id={ws}")).json(&trigger).send().await.unwrap()).await;
    assert_eq!(status, 200, "{body}");

    // A Tracecat workflow, unchanged: open, comment, close.
    let flow = commit_workflow(&http, &stack.url, &ws, OPEN_COMMENT_CLOSE.to_owned()).await;
    let inputs = json!({"workflow_id": flow, "inputs": {"user": "alice@example.com", "ip": "203.0.113.7"}});
    let (status, started) = json_of(http.post(format!("{api}/workflow-executions?workspace_id={ws}")).json(&inputs).send().await.unwrap()).await;
    assert_eq!(status, 200, "{started}");
    let run = finished_runs(&http, &api, &ws, &flow, 1).await.remove(0);
    let (_, detail) = json_of(http.get(format!("{api}/workflow-executions/{}?workspace_id={ws}", run["id"].as_str().unwrap())).send().await.unwrap()).await;
    assert_eq!(detail["status"], "COMPLETED", "{detail}");
    let closed = &detail["result"];
    assert_eq!(closed["status"], "closed", "{detail}");
    assert_eq!(closed["short_id"], "CASE-0001");
    let case_id = closed["id"].as_str().unwrap().to_owned();
    let (_, case) = json_of(http.get(format!("{api}/cases/{case_id}?workspace_id={ws}")).send().await.unwrap()).await;
    assert_eq!(case["summary"], "Suspicious sign-in for alice@example.com");
    assert_eq!(case["description"], "Seen from 203.0.113.7\n\nClosed by automation.");
    assert_eq!(case["payload"], json!({"user": "alice@example.com", "ip": "203.0.113.7"}));
    assert_eq!(case["tags"][0]["ref"], "sign-in");
    let (_, comments) = json_of(http.get(format!("{api}/cases/{case_id}/comments?workspace_id={ws}")).send().await.unwrap()).await;
    assert_eq!(comments[0]["content"], "203.0.113.7 is on the blocklist");
    assert_eq!(comments[0]["user_id"], Value::Null, "a run wrote it");
    assert_eq!(comments[0]["wf_exec_id"], run["id"]);
    // The run's attachment, downloaded through the edge's /s3 with the link the api signs.
    let (_, files) = json_of(http.get(format!("{api}/cases/{case_id}/attachments?workspace_id={ws}")).send().await.unwrap()).await;
    assert_eq!(files[0]["file_name"], "evidence.txt", "{files}");
    let (status, link) = json_of(
        http.get(format!("{api}/cases/{case_id}/attachments/{}?workspace_id={ws}", files[0]["id"].as_str().unwrap())).send().await.unwrap(),
    )
    .await;
    assert_eq!(status, 200, "{link}");
    let url = link["download_url"].as_str().unwrap();
    assert!(url.contains("/s3/ferrocat-attachments/attachments/"), "through the edge: {url}");
    let body = reqwest::get(url).await.unwrap();
    assert_eq!(body.status(), 200, "{url}");
    assert_eq!(body.text().await.unwrap(), "sign-in from 203.0.113.7");
    let (_, events) = json_of(http.get(format!("{api}/cases/{case_id}/events?workspace_id={ws}")).send().await.unwrap()).await;
    let made_by_run = events["events"].as_array().unwrap().iter().filter(|e| e["type"] != "case_viewed").all(|e| e["wf_exec_id"] == run["id"]);
    assert!(made_by_run, "{events}");

    // A person's case starts triage once; triage's own comment and priority change do not,
    // nor did anything the Tracecat workflow did. A second person's case is the sentinel:
    // events are delivered in order, so by the time it is, any earlier event would have been.
    let first = create_case(&http, &api, &ws, "reported by a person").await;
    finished_runs(&http, &api, &ws, &triage, 1).await;
    let sentinel = create_case(&http, &api, &ws, "the sentinel").await;
    let runs = finished_runs(&http, &api, &ws, &triage, 2).await;
    assert_eq!(runs.len(), 2, "one run per person's case, none for the runs' changes: {runs:?}");
    let (_, triaged) = json_of(http.get(format!("{api}/cases/{}?workspace_id={ws}", first["id"].as_str().unwrap())).send().await.unwrap()).await;
    assert_eq!(triaged["priority"], "critical");
    let (_, notes) = json_of(http.get(format!("{api}/cases/{}/comments?workspace_id={ws}", first["id"].as_str().unwrap())).send().await.unwrap()).await;
    assert_eq!(notes[0]["content"], "triaged after case_created");
    assert_eq!(notes.as_array().unwrap().len(), 1);

    // The worker and the api die while an event is on its way: once, still.
    let kill = |service: &str| {
        let pid = stack.pid(service).unwrap_or_else(|| panic!("no pid file for {service}"));
        nix::sys::signal::kill(nix::unistd::Pid::from_raw(pid), nix::sys::signal::Signal::SIGKILL).unwrap();
        pid
    };
    let old_worker = kill("worker");
    let during = create_case(&http, &api, &ws, "while the worker is down").await;
    let old_api = kill("api");
    for (service, old) in [("worker", old_worker), ("api", old_api)] {
        eventually(Duration::from_secs(60), &format!("{service} restarted"), || async { stack.pid(service).filter(|pid| *pid != old) }).await;
    }
    eventually(Duration::from_secs(60), "the api behind the edge", || async {
        reqwest::get(format!("{api}/health")).await.ok().filter(|r| r.status().is_success()).map(drop)
    })
    .await;
    let (http, _) = login(&stack.url).await;
    finished_runs(&http, &api, &ws, &triage, 3).await;
    // Another sentinel: once its run is in, a second start for the case made during the
    // outage would have been too.
    create_case(&http, &api, &ws, "the second sentinel").await;
    let runs = finished_runs(&http, &api, &ws, &triage, 4).await;
    assert_eq!(runs.len(), 4, "exactly one run for the case made during the outage: {runs:?}");
    assert!(runs.iter().all(|r| r["status"] == "COMPLETED"), "{runs:?}");
    let (_, late) = json_of(http.get(format!("{api}/cases/{}/comments?workspace_id={ws}", during["id"].as_str().unwrap())).send().await.unwrap()).await;
    assert_eq!(late.as_array().unwrap().len(), 1, "triaged once: {late}");
    assert_eq!(sentinel["short_id"], "CASE-0003");
}
