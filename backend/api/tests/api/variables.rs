//! Variables: CRUD per workspace and environment, roles, isolation, malformed bodies, and the
//! run input that carries the environment's variables as `vars` (for `VARS.name.key`).

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::common::{ECHO_WORKFLOW, spawn_app};

#[tokio::test]
async fn variables_are_created_read_updated_and_deleted_per_environment() {
    let app = spawn_app().await;
    let admin = app.admin().await;
    let body = json!({"name": "siem", "description": "where alerts go", "values": {"url": "https://siem.example", "port": 8443}});
    let created = admin.post(app.at("/variables")).json(&body).send().await.unwrap();
    assert_eq!(created.status(), StatusCode::CREATED);
    let created: Value = created.json().await.unwrap();
    assert_eq!(created["environment"], "default");
    assert_eq!(created["values"], json!({"url": "https://siem.example", "port": 8443}));
    let id = created["id"].as_str().unwrap().to_owned();
    let prod = json!({"name": "siem", "environment": "prod", "values": {"url": "https://siem.prod"}});
    assert_eq!(admin.post(app.at("/variables")).json(&prod).send().await.unwrap().status(), StatusCode::CREATED);

    let all: Value = admin.get(app.at("/variables")).send().await.unwrap().json().await.unwrap();
    assert_eq!(all.as_array().unwrap().len(), 2);
    let only_prod: Value = admin.get(app.at("/variables?environment=prod")).send().await.unwrap().json().await.unwrap();
    assert_eq!(only_prod.as_array().unwrap().len(), 1);
    assert_eq!(only_prod[0]["values"]["url"], "https://siem.prod");
    let by_name: Value = admin.get(app.at("/variables/siem")).send().await.unwrap().json().await.unwrap();
    assert_eq!(by_name["id"], id.as_str());
    let in_prod: Value = admin.get(app.at("/variables/siem?environment=prod")).send().await.unwrap().json().await.unwrap();
    assert_eq!(in_prod["values"], json!({"url": "https://siem.prod"}));
    assert_eq!(admin.get(app.at("/variables/siem?environment=dev")).send().await.unwrap().status(), StatusCode::NOT_FOUND);

    let updated = admin
        .post(app.at(&format!("/variables/{id}")))
        .json(&json!({"values": {"url": "https://siem.new"}, "description": "moved"}))
        .send()
        .await
        .unwrap();
    assert_eq!(updated.status(), StatusCode::OK);
    let updated: Value = updated.json().await.unwrap();
    assert_eq!((updated["values"].clone(), updated["description"].clone()), (json!({"url": "https://siem.new"}), json!("moved")));
    assert_eq!(updated["name"], "siem");

    assert_eq!(admin.delete(app.at(&format!("/variables/{id}"))).send().await.unwrap().status(), StatusCode::NO_CONTENT);
    assert_eq!(admin.get(app.at("/variables/siem")).send().await.unwrap().status(), StatusCode::NOT_FOUND);
    assert_eq!(admin.delete(app.at(&format!("/variables/{id}"))).send().await.unwrap().status(), StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn refused_variable_writes_change_nothing() {
    let app = spawn_app().await;
    let admin = app.admin().await;
    let created: Value = admin
        .post(app.at("/variables"))
        .json(&json!({"name": "limits", "values": {"max": 5}}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let id = created["id"].as_str().unwrap().to_owned();
    let viewer = app.user("viewer@example.com", app.workspace_id, "viewer").await;
    let other = app.create_workspace("Other").await;
    let outsider = app.user("outsider@example.com", other, "admin").await;
    let before = app.snapshot().await;

    let duplicate = admin.post(app.at("/variables")).json(&json!({"name": "limits", "values": {"max": 1}})).send().await.unwrap();
    assert_eq!(duplicate.status(), StatusCode::CONFLICT);
    for (body, loc) in [
        (json!({"name": "x", "values": [1, 2]}), "values"),
        (json!({"name": "x", "values": {}}), "values"),
        (json!({"name": "x", "values": {"bad key": 1}}), "values.key"),
        (json!({"name": "not valid", "values": {"a": 1}}), "name"),
        (json!({"name": "x", "environment": "no spaces", "values": {"a": 1}}), "environment"),
        (json!({"name": "x", "values": {"a": 1}, "tags": {"t": 1}}), "tags"),
        (json!({"name": "x", "values": {"a": "x".repeat(70 * 1024)}}), "values"),
        (json!({"values": {"a": 1}}), "name"),
        (json!({"name": "x", "values": {"a": 1}, "colour": "red"}), "colour"),
    ] {
        let response = admin.post(app.at("/variables")).json(&body).send().await.unwrap();
        assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY, "{loc}");
        assert_eq!(response.json::<Value>().await.unwrap()["errors"][0]["loc"], loc);
    }
    let bad_update = admin.post(app.at(&format!("/variables/{id}"))).json(&json!({"values": "flat"})).send().await.unwrap();
    assert_eq!(bad_update.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let not_json = admin.post(app.at("/variables")).header("content-type", "application/json").body("{").send().await.unwrap();
    assert_eq!(not_json.status(), StatusCode::BAD_REQUEST);

    let viewer_writes = [
        viewer.post(app.at("/variables")).json(&json!({"name": "v", "values": {"a": 1}})),
        viewer.post(app.at(&format!("/variables/{id}"))).json(&json!({"values": {"a": 2}})),
        viewer.delete(app.at(&format!("/variables/{id}"))),
    ];
    for request in viewer_writes {
        assert_eq!(request.send().await.unwrap().status(), StatusCode::FORBIDDEN);
    }
    // A viewer reads; another workspace sees nothing of it.
    assert_eq!(viewer.get(app.at("/variables/limits")).send().await.unwrap().status(), StatusCode::OK);
    let outsider_requests = [
        outsider.get(app.at("/variables/limits")),
        outsider.post(app.at(&format!("/variables/{id}"))).json(&json!({"values": {"a": 2}})),
        outsider.delete(app.at(&format!("/variables/{id}"))),
    ];
    for request in outsider_requests {
        assert_eq!(request.send().await.unwrap().status(), StatusCode::NOT_FOUND);
    }
    let listed: Value = outsider.get(app.at("/variables")).send().await.unwrap().json().await.unwrap();
    assert_eq!(listed, json!([]));
    assert_eq!(app.snapshot().await, before);
}

/// The input Temporal recorded for a run.
async fn run_input(app: &crate::common::TestApp, exec_id: &str) -> Value {
    use temporalio_common::protos::temporal::api::history::v1::history_event::Attributes;
    let handle = app.state.temporal.get_workflow_handle::<temporalio_common::UntypedWorkflow>(exec_id.to_owned());
    let events = handle.fetch_history(Default::default()).into_events().await.unwrap();
    let input = events
        .iter()
        .find_map(|e| match &e.attributes {
            Some(Attributes::WorkflowExecutionStartedEventAttributes(a)) => a.input.clone(),
            _ => None,
        })
        .expect("a started event with input");
    serde_json::from_slice(&input.payloads[0].data).unwrap()
}

#[tokio::test]
async fn a_run_carries_the_variables_of_its_environment() {
    let app = spawn_app().await;
    let admin = app.admin().await;
    for body in [
        json!({"name": "siem", "values": {"url": "https://siem.example", "port": 8443}}),
        json!({"name": "limits", "values": {"max": 5}}),
        json!({"name": "siem", "environment": "prod", "values": {"url": "https://siem.prod"}}),
    ] {
        assert_eq!(admin.post(app.at("/variables")).json(&body).send().await.unwrap().status(), StatusCode::CREATED);
    }
    let wf = app.committed_workflow(&admin, ECHO_WORKFLOW).await;
    let started: Value = admin
        .post(app.at("/workflow-executions"))
        .json(&json!({"workflow_id": wf, "inputs": {"x": 1}}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let input = run_input(&app, started["wf_exec_id"].as_str().unwrap()).await;
    assert_eq!(input["vars"], json!({"limits": {"max": 5}, "siem": {"url": "https://siem.example", "port": 8443}}));

    // A workflow configured for `prod` gets prod's variables only.
    let prod_yaml = ECHO_WORKFLOW.replace("entrypoint:", "config:\n  environment: prod\nentrypoint:");
    let prod_wf = app.committed_workflow(&admin, &prod_yaml).await;
    let started: Value = admin
        .post(app.at("/workflow-executions"))
        .json(&json!({"workflow_id": prod_wf}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let input = run_input(&app, started["wf_exec_id"].as_str().unwrap()).await;
    assert_eq!(input["vars"], json!({"siem": {"url": "https://siem.prod"}}));
}
