//! Workflow breadth: update, delete, versions and export (which imports back), with roles,
//! isolation and malformed bodies.

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::common::{ECHO_WORKFLOW, spawn_app};

#[tokio::test]
async fn versions_are_listed_and_an_export_imports_back_as_the_same_definition() {
    let app = spawn_app().await;
    let admin = app.admin().await;
    let wf = app.committed_workflow(&admin, ECHO_WORKFLOW).await;
    assert_eq!(admin.post(app.at(&format!("/workflows/{wf}/commit"))).send().await.unwrap().status(), StatusCode::OK);
    let versions: Value = admin.get(app.at(&format!("/workflows/{wf}/definitions"))).send().await.unwrap().json().await.unwrap();
    let numbers: Vec<i64> = versions.as_array().unwrap().iter().map(|v| v["version"].as_i64().unwrap()).collect();
    assert_eq!(numbers, vec![2, 1]);

    let committed: Value =
        admin.get(app.at(&format!("/workflows/{wf}/definition?version=1"))).send().await.unwrap().json().await.unwrap();
    for format in ["json", "yaml"] {
        let export = admin.get(app.at(&format!("/workflows/{wf}/export?format={format}&version=1"))).send().await.unwrap();
        assert_eq!(export.status(), StatusCode::OK, "{format}");
        assert!(export.headers()["content-disposition"].to_str().unwrap().contains(&format!(".{format}")));
        let text = export.text().await.unwrap();
        let imported = admin
            .post(app.at("/workflows"))
            .header("content-type", if format == "json" { "application/json" } else { "application/yaml" })
            .body(text)
            .send()
            .await
            .unwrap();
        assert_eq!(imported.status(), StatusCode::CREATED, "{format}");
        let imported: Value = imported.json().await.unwrap();
        assert_eq!(imported["definition"], committed["content"], "{format}");
    }
    let bad = admin.get(app.at(&format!("/workflows/{wf}/export?format=xml"))).send().await.unwrap();
    assert_eq!(bad.status(), StatusCode::BAD_REQUEST);
    let draft = admin.get(app.at(&format!("/workflows/{wf}/export?draft=true"))).send().await.unwrap();
    assert_eq!(draft.status(), StatusCode::OK);
}

#[tokio::test]
async fn update_changes_metadata_and_aliases_are_unique_per_workspace() {
    let app = spawn_app().await;
    let admin = app.admin().await;
    let first = app.committed_workflow(&admin, ECHO_WORKFLOW).await;
    let second = app.committed_workflow(&admin, ECHO_WORKFLOW).await;
    let patch = json!({"title": "Renamed", "status": "online", "alias": "echo"});
    let updated: Value =
        admin.patch(app.at(&format!("/workflows/{first}"))).json(&patch).send().await.unwrap().json().await.unwrap();
    assert_eq!(
        (updated["title"].as_str(), updated["status"].as_str(), updated["alias"].as_str()),
        (Some("Renamed"), Some("online"), Some("echo"))
    );
    let before = app.snapshot().await;
    let taken = admin.patch(app.at(&format!("/workflows/{second}"))).json(&json!({"alias": "echo"})).send().await.unwrap();
    assert_eq!(taken.status(), StatusCode::CONFLICT);
    for (body, loc) in [
        (json!({"status": "sideways"}), "status"),
        (json!({"title": " "}), "title"),
        (json!({"alias": "no spaces"}), "alias"),
        (json!({"colour": "red"}), "colour"),
    ] {
        let response = admin.patch(app.at(&format!("/workflows/{first}"))).json(&body).send().await.unwrap();
        assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY, "{body}");
        assert_eq!(response.json::<Value>().await.unwrap()["errors"][0]["loc"], loc, "{body}");
    }
    assert_eq!(app.snapshot().await, before);
    let cleared: Value = admin
        .patch(app.at(&format!("/workflows/{first}")))
        .json(&json!({"alias": null}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(cleared["alias"].is_null());
    assert_eq!(cleared["title"], "Renamed");
}

#[tokio::test]
async fn only_admins_delete_only_editors_update_and_other_workspaces_see_nothing() {
    let app = spawn_app().await;
    let admin = app.admin().await;
    let wf = app.committed_workflow(&admin, ECHO_WORKFLOW).await;
    let viewer = app.user("viewer@example.com", app.workspace_id, "viewer").await;
    let editor = app.user("editor@example.com", app.workspace_id, "editor").await;
    let other = app.create_workspace("Other").await;
    let outsider = app.user("outsider@example.com", other, "admin").await;
    let before = app.snapshot().await;

    let forbidden = [
        viewer.patch(app.at(&format!("/workflows/{wf}"))).json(&json!({"title": "x"})),
        viewer.delete(app.at(&format!("/workflows/{wf}"))),
        editor.delete(app.at(&format!("/workflows/{wf}"))),
    ];
    for request in forbidden {
        assert_eq!(request.send().await.unwrap().status(), StatusCode::FORBIDDEN);
    }
    let hidden = [
        outsider.patch(app.at(&format!("/workflows/{wf}"))).json(&json!({"title": "x"})),
        outsider.delete(app.at(&format!("/workflows/{wf}"))),
        outsider.get(app.at(&format!("/workflows/{wf}/definitions"))),
        outsider.get(app.at(&format!("/workflows/{wf}/export"))),
    ];
    for request in hidden {
        assert_eq!(request.send().await.unwrap().status(), StatusCode::NOT_FOUND);
    }
    assert_eq!(app.snapshot().await, before);

    assert_eq!(viewer.get(app.at(&format!("/workflows/{wf}/definitions"))).send().await.unwrap().status(), StatusCode::OK);
    assert_eq!(admin.delete(app.at(&format!("/workflows/{wf}"))).send().await.unwrap().status(), StatusCode::NO_CONTENT);
    assert_eq!(admin.get(app.at(&format!("/workflows/{wf}"))).send().await.unwrap().status(), StatusCode::NOT_FOUND);
    let left: i64 = sqlx::query_scalar("SELECT count(*) FROM workflow_definitions").fetch_one(&app.db).await.unwrap();
    assert_eq!(left, 0, "versions outlived their workflow");
}

#[tokio::test]
async fn the_registry_lists_every_built_in_action_to_signed_in_callers_only() {
    let app = spawn_app().await;
    let anonymous = crate::common::client().get(app.at("/registry/actions")).send().await.unwrap();
    assert_eq!(anonymous.status(), StatusCode::UNAUTHORIZED);
    let admin = app.admin().await;
    // Other tests of this process may add actions meanwhile: everything in the table before
    // the request is listed.
    let table: Vec<String> = ferrocat_registry::global().list().iter().map(|a| a.name().to_owned()).collect();
    let listed: Value = admin.get(app.at("/registry/actions")).send().await.unwrap().json().await.unwrap();
    let names: Vec<&str> = listed.as_array().unwrap().iter().map(|a| a["action"].as_str().unwrap()).collect();
    for expected in ["core.transform.reshape", "core.http_request", "core.workflow.execute", "core.script.run_python"] {
        assert!(names.contains(&expected), "{expected} in {names:?}");
    }
    for name in &table {
        assert!(names.contains(&name.as_str()), "{name} is in the table but not listed");
    }
    let one: Value = admin.get(app.at("/registry/actions/core.http_request")).send().await.unwrap().json().await.unwrap();
    assert_eq!(one["namespace"], json!("core"));
    // Each action's argument schema comes from the types the executor reads them into.
    assert_eq!(one["args"]["required"], json!(["url"]), "{one}");
    assert!(one["args"]["properties"]["follow_redirects"].is_object(), "{one}");
    let missing = admin.get(app.at("/registry/actions/core.nope")).send().await.unwrap();
    assert_eq!(missing.status(), StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn an_action_added_at_run_time_is_listed_at_once() {
    let app = spawn_app().await;
    let admin = app.admin().await;
    let name = "test.api_table.echo";
    assert_eq!(admin.get(app.at(&format!("/registry/actions/{name}"))).send().await.unwrap().status(), StatusCode::NOT_FOUND);
    ferrocat_registry::global()
        .add(
            ferrocat_registry::Action::pure(name, "Echo", "Returns its arguments.", |c| Box::pin(async move { Ok(Value::Object(c.args)) }))
                .schema(json!({"type": "object", "properties": {"text": {"type": "string"}}}))
                .origin("tests"),
        )
        .unwrap();
    let one: Value = admin.get(app.at(&format!("/registry/actions/{name}"))).send().await.unwrap().json().await.unwrap();
    assert_eq!((one["title"].as_str(), one["origin"].as_str(), one["namespace"].as_str()), (Some("Echo"), Some("tests"), Some("test.api_table")), "{one}");
    assert_eq!(one["args"]["properties"]["text"]["type"], "string", "{one}");
    let listed: Value = admin.get(app.at("/registry/actions")).send().await.unwrap().json().await.unwrap();
    assert!(listed.as_array().unwrap().iter().any(|a| a["action"] == name), "{listed}");
}

#[tokio::test]
async fn a_committed_version_restores_into_the_draft_and_documents_validate_without_storing() {
    let app = crate::common::spawn_app().await;
    let admin = app.admin().await;
    let wf = app.committed_workflow(&admin, ECHO_WORKFLOW).await;
    // Version 2 has a different title; restoring version 1 brings the first draft back.
    let renamed = ECHO_WORKFLOW.replace("title: Echo", "title: Echo two");
    let second: Value = admin
        .post(app.at("/workflows"))
        .header("content-type", "application/yaml")
        .body(renamed)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let v1: Value = admin.get(app.at(&format!("/workflows/{wf}/definition?version=1"))).send().await.unwrap().json().await.unwrap();
    let viewer = app.user("viewer@example.com", app.workspace_id, "viewer").await;
    let before = app.snapshot().await;
    assert_eq!(
        viewer.post(app.at(&format!("/workflows/{wf}/definitions/1/restore"))).send().await.unwrap().status(),
        StatusCode::FORBIDDEN
    );
    for missing in ["9", "x"] {
        let response = admin.post(app.at(&format!("/workflows/{wf}/definitions/{missing}/restore"))).send().await.unwrap();
        assert_eq!(response.status(), StatusCode::NOT_FOUND, "{missing}");
    }
    assert_eq!(app.snapshot().await, before);
    let restored = admin.post(app.at(&format!("/workflows/{wf}/definitions/1/restore"))).send().await.unwrap();
    assert_eq!(restored.status(), StatusCode::OK);
    let restored: Value = restored.json().await.unwrap();
    assert_eq!(restored["definition"], v1["content"]);
    assert_eq!(restored["title"], "Echo");
    assert!(second["id"].is_string());

    let before = app.snapshot().await;
    let valid: Value = admin
        .post(app.at("/workflows/validate"))
        .header("content-type", "application/yaml")
        .body(ECHO_WORKFLOW)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(valid, json!({"valid": true, "errors": []}));
    let broken = ECHO_WORKFLOW.replace("action: core.transform.reshape", "action: core.transform.reshape\n    depends_on: [nowhere]");
    let invalid: Value =
        admin.post(app.at("/workflows/validate")).body(broken).send().await.unwrap().json().await.unwrap();
    assert_eq!(invalid["valid"], false, "{invalid}");
    assert!(!invalid["errors"].as_array().unwrap().is_empty());
    let garbage: Value = admin.post(app.at("/workflows/validate")).body("{{{").send().await.unwrap().json().await.unwrap();
    assert_eq!((garbage["valid"].clone(), garbage["errors"][0]["loc"].clone()), (json!(false), json!("definition")));
    let draft: Value = admin.post(app.at(&format!("/workflows/{wf}/validate"))).send().await.unwrap().json().await.unwrap();
    assert_eq!(draft["valid"], true);
    assert_eq!(app.snapshot().await, before, "validation stored something");
}

#[tokio::test]
async fn unknown_routes_methods_and_bad_query_strings_answer_in_json() {
    let app = crate::common::spawn_app().await;
    let admin = app.admin().await;
    let unknown = admin.get(app.at("/no/such/route")).send().await.unwrap();
    assert_eq!(unknown.status(), StatusCode::NOT_FOUND);
    assert_eq!(unknown.json::<Value>().await.unwrap()["detail"], "no such route");
    let method = admin.put(app.at("/workflows")).send().await.unwrap();
    assert_eq!(method.status(), StatusCode::METHOD_NOT_ALLOWED);
    assert!(method.json::<Value>().await.unwrap()["detail"].is_string());
    let query = admin.get(app.at("/workflows?limit=lots")).send().await.unwrap();
    assert_eq!(query.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let body: Value = query.json().await.unwrap();
    assert_eq!(body["errors"][0]["loc"], "query.limit", "{body}");
    let bad_time = admin.get(app.at("/workflow-executions?after=yesterday")).send().await.unwrap();
    assert_eq!(bad_time.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(bad_time.json::<Value>().await.unwrap()["errors"][0]["loc"], "query.after");
}

#[tokio::test]
async fn the_editor_saves_a_draft_as_written_and_restores_and_imports_keep_or_drop_the_text() {
    let app = spawn_app().await;
    let admin = app.admin().await;
    let written = "# triage\ntitle: Draft\ndescription: saved from the editor\nentrypoint: {ref: a}\nactions:\n  - ref: a   # first\n    action: core.transform.reshape\n    args: {value: 1}\n";
    let imported = admin.post(app.at("/workflows")).header("content-type", "application/yaml").body(written).send().await.unwrap();
    assert_eq!(imported.status(), StatusCode::CREATED);
    let imported: Value = imported.json().await.unwrap();
    assert_eq!(imported["definition_yaml"], written, "an imported document keeps its comments");
    let wf = imported["id"].as_str().unwrap().to_owned();
    let committed = admin.post(app.at(&format!("/workflows/{wf}/commit"))).send().await.unwrap();
    assert_eq!(committed.status(), StatusCode::OK);

    // Saved as written: the text with its comments, the JSON draft, and the title from it.
    let edited = written.replace("title: Draft", "title: Draft two").replace("value: 1", "value: 2");
    let saved = admin.put(app.at(&format!("/workflows/{wf}/draft"))).header("content-type", "application/yaml").body(edited.clone()).send().await.unwrap();
    assert_eq!(saved.status(), StatusCode::OK);
    let saved: Value = saved.json().await.unwrap();
    assert_eq!(saved["definition_yaml"], edited.as_str());
    assert_eq!(saved["title"], "Draft two");
    assert_eq!(saved["definition"]["actions"][0]["args"], json!({"value": 2}));
    assert_eq!(saved["version"], 1, "saving is not committing");

    // A draft that is not a workflow is refused and changes nothing; viewers cannot save.
    let viewer = app.user("viewer@example.com", app.workspace_id, "viewer").await;
    let before = app.snapshot().await;
    for body in ["title: [", "just text", "actions: 3"] {
        let refused = admin.put(app.at(&format!("/workflows/{wf}/draft"))).header("content-type", "application/yaml").body(body).send().await.unwrap();
        assert_eq!(refused.status(), StatusCode::UNPROCESSABLE_ENTITY, "{body}");
        assert_eq!(refused.json::<Value>().await.unwrap()["errors"][0]["loc"], "definition", "{body}");
    }
    let forbidden = viewer.put(app.at(&format!("/workflows/{wf}/draft"))).body(edited.clone()).send().await.unwrap();
    assert_eq!(forbidden.status(), StatusCode::FORBIDDEN);
    assert_eq!(app.snapshot().await, before);

    // A restore brings back the version's definition, not text written since.
    let restored: Value = admin.post(app.at(&format!("/workflows/{wf}/definitions/1/restore"))).send().await.unwrap().json().await.unwrap();
    assert_eq!(restored["definition_yaml"], Value::Null);
    assert_eq!(restored["title"], "Draft");
    // An export envelope imports without keeping its text (its definition is nested).
    let export = admin.get(app.at(&format!("/workflows/{wf}/export?format=yaml"))).send().await.unwrap().text().await.unwrap();
    let again: Value = admin.post(app.at("/workflows")).header("content-type", "application/yaml").body(export.clone()).send().await.unwrap().json().await.unwrap();
    assert!(again["id"].is_string(), "{again} for {export}");
    assert_eq!(again["definition_yaml"], Value::Null);
    assert_eq!(again["definition"]["title"], "Draft");
}

#[tokio::test]
async fn tags_are_set_cleaned_listed_and_refused_when_malformed() {
    let app = spawn_app().await;
    let admin = app.admin().await;
    let wf = app.committed_workflow(&admin, ECHO_WORKFLOW).await;
    let set = admin.patch(app.at(&format!("/workflows/{wf}"))).json(&json!({"tags": [" phishing ", "tier-1", "phishing", "mitre:T1566"]})).send().await.unwrap();
    assert_eq!(set.status(), StatusCode::OK);
    assert_eq!(set.json::<Value>().await.unwrap()["tags"], json!(["phishing", "tier-1", "mitre:T1566"]), "trimmed, without repeats, in order");
    let listed: Value = admin.get(app.at("/workflows")).send().await.unwrap().json().await.unwrap();
    assert_eq!(listed["items"][0]["tags"], json!(["phishing", "tier-1", "mitre:T1566"]));
    let before = app.snapshot().await;
    let too_many: Vec<String> = (0..21).map(|i| format!("t{i}")).collect();
    for bad in [json!([""]), json!(["<script>"]), json!(["x".repeat(51)]), json!(too_many), json!("phishing")] {
        let refused = admin.patch(app.at(&format!("/workflows/{wf}"))).json(&json!({"tags": bad})).send().await.unwrap();
        assert_eq!(refused.status(), StatusCode::UNPROCESSABLE_ENTITY, "{bad}");
        assert_eq!(refused.json::<Value>().await.unwrap()["errors"][0]["loc"], "tags", "{bad}");
    }
    assert_eq!(app.snapshot().await, before, "a refused change changed something");
    // Other changes keep the tags; an empty list clears them.
    let renamed: Value = admin.patch(app.at(&format!("/workflows/{wf}"))).json(&json!({"title": "Renamed"})).send().await.unwrap().json().await.unwrap();
    assert_eq!(renamed["tags"].as_array().unwrap().len(), 3);
    let cleared: Value = admin.patch(app.at(&format!("/workflows/{wf}"))).json(&json!({"tags": []})).send().await.unwrap().json().await.unwrap();
    assert_eq!(cleared["tags"], json!([]));
}
