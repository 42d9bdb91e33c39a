//! Schedules as Temporal schedules: an interval schedule fires runs that Temporal lists, offline
//! pauses it, delete removes it from Temporal; refusals change neither the table nor Temporal.

use std::time::Duration;

use reqwest::{Client, StatusCode};
use serde_json::{Value, json};
use temporalio_client::RpcOptions;

use crate::common::{ECHO_WORKFLOW, TestApp, eventually, runs_of, spawn_app};

/// Runs Temporal has started for the schedule so far (its action count).
async fn action_count(app: &TestApp, schedule_id: &str) -> i64 {
    let handle = app.state.temporal.get_schedule_handle(schedule_id);
    handle.describe(RpcOptions::default()).await.unwrap().action_count()
}

async fn exists_in_temporal(app: &TestApp, schedule_id: &str) -> bool {
    app.state.temporal.get_schedule_handle(schedule_id).describe(RpcOptions::default()).await.is_ok()
}

async fn update(app: &TestApp, admin: &Client, id: &str, body: Value) -> Value {
    let response = admin.post(app.at(&format!("/schedules/{id}"))).json(&body).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::OK, "update {body}");
    response.json().await.unwrap()
}

#[tokio::test]
async fn an_interval_schedule_fires_runs_pauses_when_offline_and_is_deleted_from_temporal() {
    let app = spawn_app().await;
    let admin = app.admin().await;
    let wf = app.committed_workflow(&admin, ECHO_WORKFLOW).await;
    let created = admin
        .post(app.at("/schedules"))
        .json(&json!({"workflow_id": wf, "every": "PT1S", "inputs": {"source": "cron"}}))
        .send()
        .await
        .unwrap();
    assert_eq!(created.status(), StatusCode::CREATED);
    let created: Value = created.json().await.unwrap();
    let id = created["id"].as_str().unwrap().to_owned();
    assert!(id.starts_with("sch_"), "{id}");
    assert_eq!((created["every"].as_str(), created["status"].as_str()), (Some("PT1S"), Some("online")));

    // Temporal starts runs of the workflow with the schedule's inputs, visible through the api.
    let runs = eventually(Duration::from_secs(20), "a scheduled run", || async {
        let runs = runs_of(&app, &admin, &wf).await;
        (!runs.is_empty()).then_some(runs)
    })
    .await;
    let run: Value = admin.get(app.at(&format!("/workflow-executions/{}", runs[0]))).send().await.unwrap().json().await.unwrap();
    assert_eq!(run["trigger_type"], "scheduled", "{run}");
    assert_eq!(run["trigger"], json!({"source": "cron"}));
    assert_eq!(run["workflow_type"], "DSLWorkflow");
    let shown: Value = admin.get(app.at(&format!("/schedules/{id}"))).send().await.unwrap().json().await.unwrap();
    assert_eq!(shown["temporal"]["paused"], false);
    assert!(shown["temporal"]["action_count"].as_i64().unwrap() >= 1);

    // Offline pauses the Temporal schedule: the count stops growing.
    let paused = update(&app, &admin, &id, json!({"status": "offline"})).await;
    assert_eq!(paused["status"], "offline");
    let handle = app.state.temporal.get_schedule_handle(id.as_str());
    assert!(handle.describe(RpcOptions::default()).await.unwrap().paused());
    let at_pause = action_count(&app, &id).await;
    // Absence can only be observed over time: three intervals without a new action.
    tokio::time::sleep(Duration::from_secs(3)).await;
    assert_eq!(action_count(&app, &id).await, at_pause, "a paused schedule fired");

    // Online again: it fires again.
    update(&app, &admin, &id, json!({"status": "online"})).await;
    eventually(Duration::from_secs(20), "a run after unpausing", || async {
        (action_count(&app, &id).await > at_pause).then_some(())
    })
    .await;

    // Deleted: gone from Temporal and from the table.
    assert_eq!(admin.delete(app.at(&format!("/schedules/{id}"))).send().await.unwrap().status(), StatusCode::NO_CONTENT);
    assert!(!exists_in_temporal(&app, &id).await, "the Temporal schedule still exists");
    assert_eq!(admin.get(app.at(&format!("/schedules/{id}"))).send().await.unwrap().status(), StatusCode::NOT_FOUND);
    let listed: Value = admin.get(app.at("/schedules")).send().await.unwrap().json().await.unwrap();
    assert_eq!(listed, json!([]));
}

#[tokio::test]
async fn a_cron_schedule_is_created_paused_and_updates_switch_its_spec() {
    let app = spawn_app().await;
    let admin = app.admin().await;
    let wf = app.committed_workflow(&admin, ECHO_WORKFLOW).await;
    let body = json!({
        "workflow_id": wf, "cron": "0 3 * * *", "status": "offline",
        "start_at": "2030-01-01T00:00:00Z", "end_at": "2031-01-01T00:00:00Z", "timeout": 120
    });
    let created: Value = admin.post(app.at("/schedules")).json(&body).send().await.unwrap().json().await.unwrap();
    let id = created["id"].as_str().unwrap().to_owned();
    assert_eq!(created["cron"], "0 3 * * *");
    assert!(created["every"].is_null());
    let description = app.state.temporal.get_schedule_handle(id.as_str()).describe(RpcOptions::default()).await.unwrap();
    assert!(description.paused());
    let spec = description.raw().schedule.as_ref().unwrap().spec.clone().unwrap();
    assert!(!spec.structured_calendar.is_empty() || !spec.cron_string.is_empty(), "{spec:?}");
    assert_eq!(spec.start_time.unwrap().seconds, 1_893_456_000);

    // Switching to an interval with an offset drops the cron, in the row and in Temporal.
    let updated = update(&app, &admin, &id, json!({"every": 3600, "offset": "PT5M", "end_at": null})).await;
    assert_eq!((updated["every"].as_str(), updated["offset"].as_str()), (Some("PT1H"), Some("PT5M")));
    assert!(updated["cron"].is_null() && updated["end_at"].is_null());
    assert_eq!(updated["status"], "offline");
    let description = app.state.temporal.get_schedule_handle(id.as_str()).describe(RpcOptions::default()).await.unwrap();
    assert!(description.paused(), "an update unpaused an offline schedule");
    let spec = description.raw().schedule.as_ref().unwrap().spec.clone().unwrap();
    assert!(spec.cron_string.is_empty() && spec.structured_calendar.is_empty(), "{spec:?}");
    assert_eq!(spec.interval[0].interval.as_ref().unwrap().seconds, 3600);
    assert_eq!(spec.interval[0].phase.as_ref().unwrap().seconds, 300);
    assert!(spec.end_time.is_none());
    let listed: Value = admin.get(app.at(&format!("/schedules?workflow_id={wf}"))).send().await.unwrap().json().await.unwrap();
    assert_eq!(listed[0]["id"], id.as_str());

    // A new commit points the schedule at the new version.
    let committed: Value = admin.post(app.at(&format!("/workflows/{wf}/commit"))).send().await.unwrap().json().await.unwrap();
    assert_eq!(committed["metadata"]["schedules_updated"], 1, "{committed}");
    let description = app.state.temporal.get_schedule_handle(id.as_str()).describe(RpcOptions::default()).await.unwrap();
    let action = description.raw().schedule.as_ref().unwrap().action.clone().unwrap().action.unwrap();
    let temporalio_common::protos::temporal::api::schedule::v1::schedule_action::Action::StartWorkflow(start) = action;
    let args: Value = serde_json::from_slice(&start.input.unwrap().payloads[0].data).unwrap();
    assert_eq!(args["version"], 2, "{args}");
    assert!(description.paused(), "re-pointing the schedule unpaused it");

    // Deleting the workflow deletes its Temporal schedules with it.
    assert_eq!(admin.delete(app.at(&format!("/workflows/{wf}"))).send().await.unwrap().status(), StatusCode::NO_CONTENT);
    assert!(!exists_in_temporal(&app, &id).await, "the schedule outlived its workflow");
}

#[tokio::test]
async fn refused_schedule_requests_change_neither_the_table_nor_temporal() {
    let app = spawn_app().await;
    let admin = app.admin().await;
    let wf = app.committed_workflow(&admin, ECHO_WORKFLOW).await;
    let created: Value = admin
        .post(app.at("/schedules"))
        .json(&json!({"workflow_id": wf, "every": "PT1H", "status": "offline"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let id = created["id"].as_str().unwrap().to_owned();
    let draft: Value = admin.post(app.at("/workflows")).json(&json!({"title": "never committed"})).send().await.unwrap().json().await.unwrap();
    let viewer = app.user("viewer@example.com", app.workspace_id, "viewer").await;
    let other = app.create_workspace("Other").await;
    let outsider = app.user("outsider@example.com", other, "admin").await;
    let before = app.snapshot().await;

    for (body, loc) in [
        (json!({"workflow_id": wf}), "every"),
        (json!({"workflow_id": wf, "every": "PT1H", "cron": "0 * * * *"}), "cron"),
        (json!({"workflow_id": wf, "every": "PT0.5S"}), "every"),
        (json!({"workflow_id": wf, "every": "PT1H", "offset": "PT2H"}), "offset"),
        (json!({"workflow_id": wf, "cron": "0 * * * *", "offset": 5}), "offset"),
        (json!({"workflow_id": wf, "every": "later"}), "every"),
        (json!({"workflow_id": wf, "every": 60, "status": "paused"}), "status"),
        (json!({"workflow_id": wf, "every": 60, "start_at": "2030-01-02T00:00:00Z", "end_at": "2030-01-01T00:00:00Z"}), "end_at"),
        (json!({"workflow_id": wf, "cron": "not a cron at all"}), "spec"),
        (json!({"workflow_id": wf, "every": 60, "colour": "red"}), "colour"),
    ] {
        let response = admin.post(app.at("/schedules")).json(&body).send().await.unwrap();
        assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY, "{body}");
        assert_eq!(response.json::<Value>().await.unwrap()["errors"][0]["loc"], loc, "{body}");
    }
    let uncommitted = admin.post(app.at("/schedules")).json(&json!({"workflow_id": draft["id"], "every": 60})).send().await.unwrap();
    assert_eq!(uncommitted.status(), StatusCode::CONFLICT);
    let bad_update = admin.post(app.at(&format!("/schedules/{id}"))).json(&json!({"cron": "61 * * * *"})).send().await.unwrap();
    assert_eq!(bad_update.status(), StatusCode::UNPROCESSABLE_ENTITY);

    let viewer_writes = [
        viewer.post(app.at("/schedules")).json(&json!({"workflow_id": wf, "every": 60})),
        viewer.post(app.at(&format!("/schedules/{id}"))).json(&json!({"status": "online"})),
        viewer.delete(app.at(&format!("/schedules/{id}"))),
    ];
    for request in viewer_writes {
        assert_eq!(request.send().await.unwrap().status(), StatusCode::FORBIDDEN);
    }
    let outsider_requests = [
        outsider.get(app.at(&format!("/schedules/{id}"))),
        outsider.post(app.at(&format!("/schedules/{id}"))).json(&json!({"status": "online"})),
        outsider.delete(app.at(&format!("/schedules/{id}"))),
        outsider.post(app.at("/schedules")).json(&json!({"workflow_id": wf, "every": 60})),
    ];
    for request in outsider_requests {
        assert_eq!(request.send().await.unwrap().status(), StatusCode::NOT_FOUND);
    }
    assert_eq!(app.snapshot().await, before);
    // Temporal still has just the one schedule, unchanged: paused, hourly.
    let description = app.state.temporal.get_schedule_handle(id.as_str()).describe(RpcOptions::default()).await.unwrap();
    assert!(description.paused());
    let spec = description.raw().schedule.as_ref().unwrap().spec.clone().unwrap();
    assert!(spec.cron_string.is_empty() && spec.structured_calendar.is_empty());
    assert_eq!(spec.interval[0].interval.as_ref().unwrap().seconds, 3600);
}
