//! The MCP tools, as the signed-in user, in both protocol eras.

use reqwest::StatusCode;
use serde_json::{Value, json};

use ferrocat_app::db::{secrets, workflows};
use ferrocat_shared::ids;

use crate::common::{ADMIN_EMAIL, ADMIN_PASSWORD, ECHO_WORKFLOW, spawn};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_workflow_is_created_committed_run_and_read_in_both_eras() {
    let mut app = spawn().await;
    app.start_worker();
    let (_, tokens) = app.sign_in(ADMIN_EMAIL, ADMIN_PASSWORD).await;
    let token = tokens.access.as_str();

    // 2025-11-25: initialize, then a session.
    let session = app.initialize(token).await;
    let created = app.call(token, &session, "create_workflow", json!({"yaml": ECHO_WORKFLOW})).await;
    assert_eq!(created["isError"], false, "{created}");
    assert_eq!(created["structuredContent"]["validation"]["valid"], true, "{created}");
    let wf_id = created["structuredContent"]["workflow"]["id"].as_str().unwrap().to_owned();
    let committed = app.call(token, &session, "commit_workflow", json!({"workflow_id": wf_id})).await;
    assert_eq!(committed["structuredContent"]["version"], 1, "{committed}");
    let yaml = app.call(token, &session, "get_workflow", json!({"workflow_id": wf_id, "version": 1})).await;
    assert!(yaml["structuredContent"]["yaml"].as_str().unwrap().contains("core.transform.reshape"), "{yaml}");
    let run = app.call(token, &session, "run_workflow", json!({"workflow_id": wf_id, "inputs": {"name": "Ada"}, "wait": true, "timeout_seconds": 60})).await;
    assert_eq!(run["structuredContent"]["status"], "COMPLETED", "{run}");
    assert_eq!(run["structuredContent"]["result"], json!({"greeting": "Hello Ada"}), "{run}");
    let exec_id = run["structuredContent"]["execution_id"].as_str().unwrap().to_owned();
    let detail = app.call(token, &session, "get_execution", json!({"execution_id": exec_id})).await;
    let events = detail["structuredContent"]["events"].as_array().unwrap_or_else(|| panic!("{detail}"));
    let greet = events.iter().find(|e| e["action_ref"] == "greet").unwrap_or_else(|| panic!("{detail}"));
    assert_eq!(greet["status"], "COMPLETED");
    assert_eq!(greet["action_result"], json!({"greeting": "Hello Ada"}));
    let listed = app.call(token, &session, "list_executions", json!({"workflow_id": wf_id})).await;
    assert!(listed["structuredContent"]["executions"].as_array().unwrap().iter().any(|e| e["id"] == exec_id.as_str()), "{listed}");

    // 2026-07-28: no initialize, no session; every request stands alone.
    let tools = app.modern(token, 10, "tools/list", json!({})).await;
    assert_eq!(tools.status, StatusCode::OK, "{tools:?}");
    assert!(tools.session.is_none());
    assert!(tools.message["result"]["tools"].as_array().unwrap().iter().any(|t| t["name"] == "run_workflow"), "{tools:?}");
    let run = app
        .modern(token, 11, "tools/call", json!({"name": "run_workflow", "arguments": {"workflow_id": wf_id, "inputs": {"name": "Grace"}, "wait": true, "timeout_seconds": 60}}))
        .await;
    assert_eq!(run.status, StatusCode::OK, "{run:?}");
    assert_eq!(run.message["result"]["structuredContent"]["result"], json!({"greeting": "Hello Grace"}), "{run:?}");
    let actions = app.modern(token, 12, "resources/read", json!({"uri": "ferrocat://registry/actions"})).await;
    let catalogue: serde_json::Value = serde_json::from_str(actions.message["result"]["contents"][0]["text"].as_str().unwrap()).unwrap();
    let http = catalogue["actions"].as_array().unwrap().iter().find(|a| a["action"] == "core.http_request").expect("core.http_request");
    assert_eq!(http["args"]["required"], json!(["url"]), "an IDE sees each action's arguments");
}

/// Two actions only this test knows: one pure (the DSL worker runs it itself), one with effects
/// (the executor runs it).
const TABLE_WORKFLOW: &str = r#"
title: Table
description: a pure action and an effect, both added at run time
entrypoint:
  expects:
    name: {type: str}
actions:
  - ref: shout
    action: test.mcp_table.shout
    args:
      text: ${{ TRIGGER.name }}
  - ref: wrap
    action: test.mcp_table.wrap
    depends_on: [shout]
    args:
      value: ${{ ACTIONS.shout.result }}
returns: ${{ ACTIONS.wrap.result }}
"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_action_added_at_run_time_is_listed_and_run_by_the_worker_and_the_executor() {
    use ferrocat_registry::{Action, ActionError, global};
    global()
        .add(Action::pure("test.mcp_table.shout", "Shout", "Upper-cases `text`.", |c| {
            Box::pin(async move {
                let text = c.args.get("text").and_then(Value::as_str).ok_or_else(|| ActionError::Invalid("text must be a string".into()))?;
                Ok(json!(text.to_uppercase()))
            })
        }))
        .unwrap();
    global()
        .add(Action::effect("test.mcp_table.wrap", "Wrap", "Wraps `value` as {wrapped: value}.", |c| {
            Box::pin(async move { Ok(json!({"wrapped": c.args.get("value").cloned().unwrap_or_default(), "in_run": c.run.is_some()})) })
        }))
        .unwrap();
    let shout: ferrocat_dsl::ActionStatement = serde_json::from_value(json!({"ref": "shout", "action": "test.mcp_table.shout"})).unwrap();
    assert!(ferrocat_registry::is_pure(&shout), "the worker reads the table to decide where an action runs");
    // A built-in cannot be replaced by a run-time entry.
    let shadow = Action::effect("core.http_request", "x", "x", |_| Box::pin(async { Ok(Value::Null) }));
    assert!(global().add(shadow).is_err());

    let mut app = spawn().await;
    app.start_worker();
    let (_, tokens) = app.sign_in(ADMIN_EMAIL, ADMIN_PASSWORD).await;
    let token = tokens.access.as_str();
    let actions = app.modern(token, 1, "resources/read", json!({"uri": "ferrocat://registry/actions"})).await;
    let catalogue: Value = serde_json::from_str(actions.message["result"]["contents"][0]["text"].as_str().unwrap()).unwrap();
    for name in ["test.mcp_table.shout", "test.mcp_table.wrap"] {
        assert!(catalogue["actions"].as_array().unwrap().iter().any(|a| a["action"] == name), "{name} in the MCP catalogue");
    }
    let session = app.initialize(token).await;
    let created = app.call(token, &session, "create_workflow", json!({"yaml": TABLE_WORKFLOW})).await;
    let wf_id = created["structuredContent"]["workflow"]["id"].as_str().unwrap_or_else(|| panic!("{created}")).to_owned();
    let committed = app.call(token, &session, "commit_workflow", json!({"workflow_id": wf_id})).await;
    assert_eq!(committed["structuredContent"]["version"], 1, "{committed}");
    let run = app.call(token, &session, "run_workflow", json!({"workflow_id": wf_id, "inputs": {"name": "ada"}, "wait": true, "timeout_seconds": 60})).await;
    assert_eq!(run["structuredContent"]["result"], json!({"wrapped": "ADA", "in_run": true}), "{run}");
}

#[tokio::test]
async fn invalid_workflows_come_back_as_errors_the_model_can_fix() {
    let app = spawn().await;
    let (_, tokens) = app.sign_in(ADMIN_EMAIL, ADMIN_PASSWORD).await;
    let token = tokens.access.as_str();
    let session = app.initialize(token).await;
    let broken = app.call(token, &session, "create_workflow", json!({"yaml": "title: [unclosed"})).await;
    assert_eq!(broken["isError"], true, "{broken}");
    assert_eq!(broken["structuredContent"]["error"], "invalid_workflow");
    assert_eq!(broken["structuredContent"]["errors"][0]["loc"], "definition");
    let dangling = "title: T\ndescription: d\nentrypoint: {}\nactions:\n  - ref: a\n    action: core.transform.reshape\n    depends_on: [missing]\n    args: {value: 1}\n";
    let created = app.call(token, &session, "create_workflow", json!({"yaml": dangling})).await;
    assert_eq!(created["structuredContent"]["validation"]["valid"], false, "{created}");
    let errors = created["structuredContent"]["validation"]["errors"].as_array().unwrap();
    assert!(errors.iter().any(|e| e["msg"].as_str().unwrap().contains("missing")), "{created}");
    let wf_id = created["structuredContent"]["workflow"]["id"].as_str().unwrap().to_owned();
    let commit = app.call(token, &session, "commit_workflow", json!({"workflow_id": wf_id})).await;
    assert_eq!(commit["isError"], true);
    assert_eq!(commit["structuredContent"]["error"], "invalid_workflow");
    // The fix goes in with update_workflow, and then the commit works.
    let fixed = dangling.replace("    depends_on: [missing]\n", "");
    let updated = app.call(token, &session, "update_workflow", json!({"workflow_id": wf_id, "yaml": fixed})).await;
    assert_eq!(updated["structuredContent"]["validation"]["valid"], true, "{updated}");
    let commit = app.call(token, &session, "commit_workflow", json!({"workflow_id": wf_id})).await;
    assert_eq!(commit["structuredContent"]["version"], 1, "{commit}");
    let valid = app.call(token, &session, "validate_workflow", json!({"yaml": ECHO_WORKFLOW})).await;
    assert_eq!(valid["structuredContent"]["valid"], true, "{valid}");
}

#[tokio::test]
async fn a_user_without_access_to_a_workspace_cannot_list_or_run_its_workflows() {
    let app = spawn().await;
    let other = app.create_workspace("Incident Response").await;
    let dsl = ferrocat_dsl::Workflow::parse(ECHO_WORKFLOW).unwrap();
    let content = serde_json::to_value(&dsl).unwrap();
    let row = workflows::insert(&app.db, other, &dsl.title, &dsl.description, &content, None).await.unwrap();
    let mut tx = app.db.begin().await.unwrap();
    workflows::commit(&mut tx, other, row.id, &content, &dsl.title, &dsl.description).await.unwrap();
    tx.commit().await.unwrap();
    let (ws, wf) = (ids::workspace_id(other), ids::workflow_id(row.id));

    app.create_user("outsider@example.com", "another-long-password", app.workspace_id, "editor").await;
    let (_, tokens) = app.sign_in("outsider@example.com", "another-long-password").await;
    let token = tokens.access.as_str();
    let session = app.initialize(token).await;
    let workspaces = app.call(token, &session, "list_workspaces", json!({})).await;
    assert_eq!(workspaces["structuredContent"]["workspaces"].as_array().unwrap().len(), 1, "{workspaces}");
    for (tool, args) in [
        ("list_workflows", json!({"workspace_id": ws})),
        ("get_workflow", json!({"workspace_id": ws, "workflow_id": wf})),
        ("run_workflow", json!({"workspace_id": ws, "workflow_id": wf, "inputs": {"name": "x"}})),
        // Its own workspace does not hold the other's workflow either.
        ("run_workflow", json!({"workflow_id": wf, "inputs": {"name": "x"}})),
        ("get_execution", json!({"workspace_id": ws, "execution_id": format!("{wf}/exec_1")})),
        ("list_secrets", json!({"workspace_id": ws})),
    ] {
        let result = app.call(token, &session, tool, args.clone()).await;
        assert_eq!(result["isError"], true, "{tool} {args}: {result}");
        assert_eq!(result["structuredContent"]["error"], "not_found", "{tool} {args}: {result}");
    }
    // The same in the stateless era.
    let result = app.modern(token, 3, "tools/call", json!({"name": "list_workflows", "arguments": {"workspace_id": ws}})).await;
    assert_eq!(result.message["result"]["isError"], true, "{result:?}");

    // A viewer sees but cannot change or run.
    app.create_user("viewer@example.com", "another-long-password", other, "viewer").await;
    let (_, viewer) = app.sign_in("viewer@example.com", "another-long-password").await;
    let session = app.initialize(&viewer.access).await;
    let listed = app.call(&viewer.access, &session, "list_workflows", json!({})).await;
    assert_eq!(listed["structuredContent"]["workflows"][0]["id"], wf.as_str(), "{listed}");
    let run = app.call(&viewer.access, &session, "run_workflow", json!({"workflow_id": wf, "inputs": {"name": "x"}})).await;
    assert_eq!(run["structuredContent"]["error"], "forbidden", "{run}");
}

#[tokio::test]
async fn secrets_are_listed_by_name_and_keys_never_by_value() {
    let app = spawn().await;
    let keys = vec!["API_KEY".to_owned()];
    secrets::insert(&app.db, &secrets::NewSecret {
        id: uuid::Uuid::now_v7(),
        workspace_id: Some(app.workspace_id),
        name: "virustotal",
        kind: "custom",
        environment: "default",
        description: "VT",
        sealed: b"sealed-bytes-that-mean-nothing-here",
        key_names: &keys,
        tags: &json!({}),
    })
    .await
    .unwrap();
    let (_, tokens) = app.sign_in(ADMIN_EMAIL, ADMIN_PASSWORD).await;
    let session = app.initialize(&tokens.access).await;
    let listed = app.call(&tokens.access, &session, "list_secrets", json!({})).await;
    let secret: &Value = &listed["structuredContent"]["secrets"][0];
    assert_eq!(secret["name"], "virustotal", "{listed}");
    assert_eq!(secret["keys"], json!(["API_KEY"]));
    assert_eq!(secret["usage"], json!(["${{ SECRETS.virustotal.API_KEY }}"]));
    assert!(!listed.to_string().contains("sealed-bytes"));
}

#[tokio::test]
async fn cases_are_searched_read_commented_and_changed_as_the_user() {
    let app = spawn().await;
    let (_, tokens) = app.sign_in(ADMIN_EMAIL, ADMIN_PASSWORD).await;
    let token = tokens.access.as_str();
    let session = app.initialize(token).await;
    let admin = sqlx::query_scalar::<_, uuid::Uuid>("SELECT id FROM users WHERE email = $1").bind(ADMIN_EMAIL).fetch_one(&app.db).await.unwrap();
    let actor = ferrocat_app::cases::Actor::User(admin);
    for (summary, priority) in [("phishing at finance", "high"), ("printer on fire", "low")] {
        let input = ferrocat_app::cases::NewCase {
            summary: summary.into(),
            priority: ferrocat_app::cases::CasePriority::parse(priority),
            ..Default::default()
        };
        ferrocat_app::cases::create(&app.db, app.workspace_id, &actor, input).await.unwrap();
    }

    let found = app.call(token, &session, "search_cases", json!({"search_term": "phishing", "priority": ["high"]})).await;
    assert_eq!(found["isError"], false, "{found}");
    let items = found["structuredContent"]["items"].as_array().unwrap();
    assert_eq!(items.len(), 1, "{found}");
    assert_eq!(items[0]["short_id"], "CASE-0001");
    let commented = app.call(token, &session, "comment_on_case", json!({"case_id": "CASE-0001", "content": "looking into it"})).await;
    assert_eq!(commented["structuredContent"]["user_id"], json!(admin), "{commented}");
    let refused = app.call(token, &session, "update_case", json!({"case_id": "CASE-0001", "summary": ""})).await;
    assert_eq!(refused["isError"], true, "{refused}");
    let changed = app.call(token, &session, "update_case", json!({"case_id": "CASE-0001", "status": "in_progress", "severity": "high"})).await;
    assert_eq!(changed["structuredContent"]["status"], "in_progress", "{changed}");
    let read = app.call(token, &session, "get_case", json!({"case_id": "CASE-0001"})).await;
    let case = &read["structuredContent"];
    assert_eq!(case["severity"], "high");
    assert_eq!(case["comment_threads"][0]["comment"]["content"], "looking into it");
    let types: Vec<&str> = case["activity"].as_array().unwrap().iter().map(|e| e["type"].as_str().unwrap()).collect();
    assert!(types.contains(&"comment_created") && types.contains(&"status_changed"), "{types:?}");
    let missing = app.call(token, &session, "get_case", json!({"case_id": "CASE-0404"})).await;
    assert_eq!(missing["structuredContent"]["error"], "not_found", "{missing}");
}

#[tokio::test]
async fn lookup_tables_are_listed_looked_up_and_searched_as_the_user() {
    use ferrocat_app::tables::{self, NewColumn, NewTable, SqlType, rows};
    let app = spawn().await;
    let (_, tokens) = app.sign_in(ADMIN_EMAIL, ADMIN_PASSWORD).await;
    let token = tokens.access.as_str();
    let session = app.initialize(token).await;
    let columns = vec![NewColumn::plain("ip", SqlType::Text), NewColumn::plain("score", SqlType::Integer)];
    let table = tables::create(&app.db, app.workspace_id, NewTable { name: "bad_ips".into(), columns }).await.unwrap();
    let data = [json!({"ip": "203.0.113.5", "score": 90}), json!({"ip": "198.51.100.7", "score": 15})];
    rows::insert_many(&app.db, &table, data.iter().map(|r| r.as_object().cloned().unwrap()).collect(), false).await.unwrap();

    let listed = app.call(token, &session, "list_tables", json!({})).await;
    assert_eq!(listed["structuredContent"]["tables"][0]["columns"][1]["type"], "INTEGER", "{listed}");
    let found = app.call(token, &session, "lookup_table_rows", json!({"table": "bad_ips", "column": "score", "value": "90"})).await;
    assert_eq!(found["structuredContent"]["rows"][0]["ip"], "203.0.113.5", "{found}");
    let searched = app.call(token, &session, "search_table_rows", json!({"table": "bad_ips", "search_term": "198.51"})).await;
    let items = searched["structuredContent"]["items"].as_array().unwrap();
    assert_eq!((items.len(), items[0]["score"].clone()), (1, json!(15)), "{searched}");
    let wrong = app.call(token, &session, "lookup_table_rows", json!({"table": "bad_ips", "column": "score", "value": "lots"})).await;
    assert_eq!(wrong["isError"], true);
    assert!(wrong["structuredContent"]["detail"].as_str().unwrap().contains("takes an integer"), "{wrong}");
    let missing = app.call(token, &session, "search_table_rows", json!({"table": "nope"})).await;
    assert_eq!(missing["structuredContent"]["error"], "not_found", "{missing}");
}
