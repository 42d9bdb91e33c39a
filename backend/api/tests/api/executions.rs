//! Executions against a real Temporal (no worker polls the queue, so started runs stay
//! running until cancelled or terminated): start, read, cancel, terminate, roles and isolation.

use reqwest::{Client, StatusCode};
use serde_json::{Value, json};

use crate::common::{ECHO_WORKFLOW, TestApp, eventually, spawn_app};

async fn start(app: &TestApp, client: &Client, wf_id: &str) -> String {
    let response = client
        .post(app.at("/workflow-executions"))
        .json(&json!({"workflow_id": wf_id, "inputs": {"x": 1}}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK, "start");
    response.json::<Value>().await.unwrap()["wf_exec_id"].as_str().unwrap().to_owned()
}

async fn status(app: &TestApp, client: &Client, exec_id: &str) -> String {
    let detail: Value =
        client.get(app.at(&format!("/workflow-executions/{exec_id}"))).send().await.unwrap().json().await.unwrap();
    detail["status"].as_str().unwrap_or_default().to_owned()
}

#[tokio::test]
async fn terminate_ends_a_run_and_a_closed_run_cannot_be_controlled() {
    let app = spawn_app().await;
    let admin = app.admin().await;
    let wf = app.committed_workflow(&admin, ECHO_WORKFLOW).await;
    let exec = start(&app, &admin, &wf).await;
    assert!(exec.starts_with(&format!("{wf}/exec_")), "{exec}");
    let detail: Value = admin.get(app.at(&format!("/workflow-executions/{exec}"))).send().await.unwrap().json().await.unwrap();
    assert_eq!(detail["status"], "RUNNING");
    assert_eq!(detail["trigger"], json!({"x": 1}));

    let terminated = admin
        .post(app.at(&format!("/workflow-executions/{exec}/terminate")))
        .json(&json!({"reason": "test"}))
        .send()
        .await
        .unwrap();
    assert_eq!(terminated.status(), StatusCode::NO_CONTENT);
    assert_eq!(status(&app, &admin, &exec).await, "TERMINATED");
    for action in ["terminate", "cancel"] {
        let again = admin.post(app.at(&format!("/workflow-executions/{exec}/{action}"))).send().await.unwrap();
        assert_eq!(again.status(), StatusCode::CONFLICT, "{action}");
    }
}

#[tokio::test]
async fn cancel_is_accepted_for_a_running_run_and_colon_ids_work() {
    let app = spawn_app().await;
    let admin = app.admin().await;
    let wf = app.committed_workflow(&admin, ECHO_WORKFLOW).await;
    let exec = start(&app, &admin, &wf).await;
    let colon = exec.replacen('/', ":", 1);
    let cancelled = admin.post(app.at(&format!("/workflow-executions/{colon}/cancel"))).send().await.unwrap();
    assert_eq!(cancelled.status(), StatusCode::NO_CONTENT);
    // The request is in Temporal's history (no worker ran the run, so it is still open).
    let handle = app.state.temporal.get_workflow_handle::<temporalio_common::UntypedWorkflow>(exec.clone());
    let events = handle.fetch_history(Default::default()).into_events().await.unwrap();
    let requested = events.iter().any(|e| {
        matches!(
            e.attributes,
            Some(temporalio_common::protos::temporal::api::history::v1::history_event::Attributes::WorkflowExecutionCancelRequestedEventAttributes(_))
        )
    });
    assert!(requested, "no cancel request in the history");
    let unknown = admin.post(app.at(&format!("/workflow-executions/{exec}/explode"))).send().await.unwrap();
    assert_eq!(unknown.status(), StatusCode::NOT_FOUND);
    let missing = admin.post(app.at(&format!("/workflow-executions/{wf}/exec_0/terminate"))).send().await.unwrap();
    assert_eq!(missing.status(), StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn viewers_cannot_start_or_control_runs_and_other_workspaces_cannot_see_them() {
    let app = spawn_app().await;
    let admin = app.admin().await;
    let wf = app.committed_workflow(&admin, ECHO_WORKFLOW).await;
    let exec = start(&app, &admin, &wf).await;
    let viewer = app.user("viewer@example.com", app.workspace_id, "viewer").await;
    let other = app.create_workspace("Other").await;
    let outsider = app.user("outsider@example.com", other, "admin").await;
    let before = app.snapshot().await;

    assert_eq!(status(&app, &viewer, &exec).await, "RUNNING");
    let viewer_writes = [
        viewer.post(app.at("/workflow-executions")).json(&json!({"workflow_id": wf})),
        viewer.post(app.at(&format!("/workflow-executions/{exec}/cancel"))),
        viewer.post(app.at(&format!("/workflow-executions/{exec}/terminate"))),
        viewer.post(app.at(&format!("/workflows/{wf}/commit"))),
        viewer.post(app.at("/workflows")).json(&json!({"title": "nope"})),
        viewer.post(app.at(&format!("/workflows/{wf}/webhook"))).json(&json!({})),
    ];
    for request in viewer_writes {
        let response = request.send().await.unwrap();
        assert_eq!(response.status(), StatusCode::FORBIDDEN);
    }
    let outsider_requests = [
        outsider.get(app.at(&format!("/workflow-executions/{exec}"))),
        outsider.post(app.at(&format!("/workflow-executions/{exec}/cancel"))),
        outsider.post(app.at(&format!("/workflow-executions/{exec}/terminate"))),
        outsider.post(app.at("/workflow-executions")).json(&json!({"workflow_id": wf})),
        outsider.get(app.at(&format!("/workflows/{wf}"))),
        outsider.get(app.at(&format!("/workflow-executions?workflow_id={wf}"))),
    ];
    for request in outsider_requests {
        let response = request.send().await.unwrap();
        assert_eq!(response.status(), StatusCode::NOT_FOUND);
    }
    assert_eq!(app.snapshot().await, before);
    assert_eq!(status(&app, &admin, &exec).await, "RUNNING", "a refused request changed the run");
}

#[tokio::test]
async fn malformed_and_oversized_start_requests_change_nothing() {
    let app = spawn_app().await;
    let admin = app.admin().await;
    let wf = app.committed_workflow(&admin, ECHO_WORKFLOW).await;
    let before = app.snapshot().await;
    let not_json =
        admin.post(app.at("/workflow-executions")).header("content-type", "application/json").body("{").send().await.unwrap();
    assert_eq!(not_json.status(), StatusCode::BAD_REQUEST);
    let missing = admin.post(app.at("/workflow-executions")).json(&json!({"inputs": {}})).send().await.unwrap();
    assert_eq!(missing.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(missing.json::<Value>().await.unwrap()["errors"][0]["loc"], "workflow_id");
    let huge = json!({"workflow_id": wf, "inputs": "x".repeat(crate::common::MAX_BODY_BYTES)});
    let response = admin.post(app.at("/workflow-executions")).json(&huge).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::PAYLOAD_TOO_LARGE);
    let listed: Value =
        admin.get(app.at(&format!("/workflow-executions?workflow_id={wf}"))).send().await.unwrap().json().await.unwrap();
    assert_eq!(listed, json!([]), "a refused start created a run");
    assert_eq!(app.snapshot().await, before);
}

#[tokio::test]
async fn runs_list_newest_first_in_pages_and_by_status() {
    let app = spawn_app().await;
    let admin = app.admin().await;
    let wf = app.committed_workflow(&admin, ECHO_WORKFLOW).await;
    let mut started = Vec::new();
    for _ in 0..3 {
        started.push(start(&app, &admin, &wf).await);
    }
    let terminated = admin.post(app.at(&format!("/workflow-executions/{}/terminate", started[0]))).send().await.unwrap();
    assert_eq!(terminated.status(), StatusCode::NO_CONTENT);
    let list = |query: String| {
        let (admin, url) = (admin.clone(), app.at(&format!("/workflow-executions?workflow_id={wf}&{query}")));
        async move { admin.get(url).send().await.unwrap().json::<Value>().await.unwrap() }
    };
    // Visibility catches up with history shortly after: wait for all three, the first closed.
    let all = eventually(std::time::Duration::from_secs(20), "three listed runs", || async {
        let all = list(String::new()).await;
        let ready = all.as_array().is_some_and(|a| a.len() == 3 && a.iter().any(|r| r["status"] == "TERMINATED"));
        ready.then_some(all)
    })
    .await;
    let ids: Vec<&str> = all.as_array().unwrap().iter().map(|r| r["id"].as_str().unwrap()).collect();
    assert_eq!(ids, [started[2].as_str(), started[1].as_str(), started[0].as_str()], "newest first");

    let page = list("limit=2".into()).await;
    assert_eq!(page.as_array().unwrap().len(), 2);
    let before = page[1]["start_time"].as_str().unwrap().replace('+', "%2B");
    let next = list(format!("limit=2&before={before}")).await;
    assert_eq!(next.as_array().unwrap().iter().map(|r| r["id"].as_str().unwrap()).collect::<Vec<_>>(), [started[0].as_str()]);

    let closed = list("status=TERMINATED".into()).await;
    assert_eq!(closed.as_array().unwrap().len(), 1);
    assert_eq!(closed[0]["id"], started[0].as_str());
    assert_eq!(list("status=RUNNING".into()).await.as_array().unwrap().len(), 2);
    let bad = admin.get(app.at(&format!("/workflow-executions?workflow_id={wf}&status=DONE"))).send().await.unwrap();
    assert_eq!(bad.status(), StatusCode::UNPROCESSABLE_ENTITY);
}

#[tokio::test]
async fn the_workspace_lists_runs_of_all_its_workflows_with_their_trigger_and_no_others() {
    let app = spawn_app().await;
    let admin = app.admin().await;
    let first = app.committed_workflow(&admin, ECHO_WORKFLOW).await;
    let second = app.committed_workflow(&admin, ECHO_WORKFLOW).await;
    let other = app.create_workspace("Elsewhere").await;
    let outsider = app.user("outsider@example.com", other, "admin").await;
    let theirs = app.committed_workflow(&outsider, ECHO_WORKFLOW).await;
    let runs = [start(&app, &admin, &first).await, start(&app, &admin, &second).await];
    let foreign = start(&app, &outsider, &theirs).await;

    let listed = eventually(std::time::Duration::from_secs(20), "both runs listed", || async {
        let all: Value = admin.get(app.at("/workflow-executions")).send().await.unwrap().json().await.unwrap();
        (all.as_array().map_or(0, Vec::len) >= 2).then_some(all)
    })
    .await;
    let items = listed.as_array().unwrap();
    let ids: Vec<&str> = items.iter().map(|r| r["id"].as_str().unwrap()).collect();
    assert_eq!(ids, [runs[1].as_str(), runs[0].as_str()], "this workspace's runs, newest first, not {foreign}");
    assert_eq!(items[0]["workflow_id"], second.as_str());
    assert_eq!(items[1]["workflow_id"], first.as_str());
    assert!(items.iter().all(|r| r["trigger_type"] == "manual"), "{listed}");

    let by_trigger: Value = admin.get(app.at("/workflow-executions?trigger_type=webhook")).send().await.unwrap().json().await.unwrap();
    assert_eq!(by_trigger, json!([]));
    let manual: Value = admin.get(app.at("/workflow-executions?trigger_type=manual")).send().await.unwrap().json().await.unwrap();
    assert_eq!(manual.as_array().unwrap().len(), 2);
    let later = (chrono::Utc::now() + chrono::Duration::hours(1)).to_rfc3339().replace('+', "%2B");
    let future: Value = admin.get(app.at(&format!("/workflow-executions?after={later}"))).send().await.unwrap().json().await.unwrap();
    assert_eq!(future, json!([]));
    let one: Value = admin.get(app.at(&format!("/workflow-executions?workflow_id={first}"))).send().await.unwrap().json().await.unwrap();
    assert_eq!(one.as_array().unwrap().iter().map(|r| r["id"].as_str().unwrap()).collect::<Vec<_>>(), [runs[0].as_str()]);

    // The run's detail names its workflow and version.
    let detail: Value = admin.get(app.at(&format!("/workflow-executions/{}", runs[0]))).send().await.unwrap().json().await.unwrap();
    assert_eq!(detail["workflow_id"], first.as_str());
    assert_eq!(detail["version"], 1);
}

#[tokio::test]
async fn a_restart_forgets_template_steps_older_than_their_keeping_time() {
    let app = crate::common::spawn_app().await;
    for (exec, age_days) in [("wf-old/exec", 31), ("wf-new/exec", 1)] {
        sqlx::query(
            "INSERT INTO action_step_traces (workspace_id, wf_exec_id, action_ref, attempt, steps, recorded_at)
             VALUES ($1, $2, 'a', 1, '[]', now() - make_interval(days => $3))",
        )
        .bind(app.workspace_id)
        .bind(exec)
        .bind(age_days)
        .execute(&app.db)
        .await
        .unwrap();
    }
    app.rebuild(&[]).await;
    let kept: Vec<String> = sqlx::query_scalar("SELECT wf_exec_id FROM action_step_traces").fetch_all(&app.db).await.unwrap();
    assert_eq!(kept, ["wf-new/exec"]);
}
