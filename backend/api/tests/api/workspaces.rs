//! Workspaces and members, managed by an organisation admin (a superuser): create, rename and
//! delete workspaces (deleting leaves nothing of them behind) and add, re-role and remove
//! members; workspace admins read their members, nobody else manages anything.

use reqwest::StatusCode;
use serde_json::{Value, json};
use temporalio_client::RpcOptions;

use crate::common::{ECHO_WORKFLOW, spawn_app};

#[tokio::test]
async fn a_superuser_creates_renames_and_manages_the_members_of_a_workspace() {
    let app = spawn_app().await;
    let admin = app.admin().await;
    let created = admin.post(app.at("/workspaces")).json(&json!({"name": "  Blue Team "})).send().await.unwrap();
    assert_eq!(created.status(), StatusCode::CREATED);
    let created: Value = created.json().await.unwrap();
    assert_eq!(created["name"], "Blue Team");
    let ws = created["id"].as_str().unwrap().to_owned();
    assert!(ws.starts_with("ws_"));
    // Its creator administers it and sees it among theirs.
    let mine: Value = admin.get(app.at("/workspaces")).send().await.unwrap().json().await.unwrap();
    assert!(mine.as_array().unwrap().iter().any(|w| w["id"] == ws.as_str() && w["role"] == "admin"), "{mine}");
    assert_eq!(admin.post(app.at("/workspaces")).json(&json!({"name": "Blue Team"})).send().await.unwrap().status(), StatusCode::CONFLICT);
    for bad in [json!({"name": ""}), json!({"name": "x".repeat(101)}), json!({"name": "a\u{7}b"}), json!({})] {
        assert_eq!(admin.post(app.at("/workspaces")).json(&bad).send().await.unwrap().status(), StatusCode::UNPROCESSABLE_ENTITY, "{bad}");
    }

    let renamed = admin.patch(app.at(&format!("/workspaces/{ws}"))).json(&json!({"name": "Red Team"})).send().await.unwrap();
    assert_eq!(renamed.status(), StatusCode::OK);
    let got: Value = admin.get(app.at(&format!("/workspaces/{ws}"))).send().await.unwrap().json().await.unwrap();
    assert_eq!(got["name"], "Red Team");

    // Members: add with a role, list, change role, remove.
    let analyst = app.create_user("analyst@example.com", "another-long-password", app.workspace_id, "viewer").await;
    let members = app.at(&format!("/workspaces/{ws}/memberships"));
    let added = admin.post(&members).json(&json!({"user_id": analyst, "role": "viewer"})).send().await.unwrap();
    assert_eq!(added.status(), StatusCode::CREATED);
    let added: Value = added.json().await.unwrap();
    assert_eq!((added["email"].as_str(), added["role"].as_str()), (Some("analyst@example.com"), Some("viewer")));
    let again = admin.post(&members).json(&json!({"user_id": analyst, "role": "admin"})).send().await.unwrap();
    assert_eq!(again.status(), StatusCode::CONFLICT);
    let nobody = admin.post(&members).json(&json!({"user_id": uuid::Uuid::new_v4(), "role": "viewer"})).send().await.unwrap();
    assert_eq!(nobody.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let bad_role = admin.post(&members).json(&json!({"user_id": analyst, "role": "owner"})).send().await.unwrap();
    assert_eq!(bad_role.status(), StatusCode::UNPROCESSABLE_ENTITY);

    let analyst_client = crate::common::client();
    assert_eq!(app.login(&analyst_client, "analyst@example.com", "another-long-password").await.status(), StatusCode::NO_CONTENT);
    let theirs: Value = analyst_client.get(app.at("/workspaces")).send().await.unwrap().json().await.unwrap();
    assert_eq!(theirs.as_array().unwrap().len(), 2, "{theirs}");
    let write = analyst_client.post(app.at(&format!("/workflows?workspace_id={ws}"))).json(&json!({"title": "t"})).send().await.unwrap();
    assert_eq!(write.status(), StatusCode::FORBIDDEN, "a viewer cannot write");

    let member = app.at(&format!("/workspaces/{ws}/memberships/{analyst}"));
    let changed = admin.patch(&member).json(&json!({"role": "editor"})).send().await.unwrap();
    assert_eq!(changed.status(), StatusCode::OK);
    assert_eq!(changed.json::<Value>().await.unwrap()["role"], "editor");
    let listed: Value = admin.get(&members).send().await.unwrap().json().await.unwrap();
    let roles: Vec<(&str, &str)> = listed.as_array().unwrap().iter().map(|m| (m["email"].as_str().unwrap(), m["role"].as_str().unwrap())).collect();
    assert_eq!(roles, vec![(crate::common::ADMIN_EMAIL, "admin"), ("analyst@example.com", "editor")]);

    assert_eq!(admin.delete(&member).send().await.unwrap().status(), StatusCode::NO_CONTENT);
    assert_eq!(admin.delete(&member).send().await.unwrap().status(), StatusCode::NOT_FOUND);
    assert_eq!(admin.get(&member).send().await.unwrap().status(), StatusCode::NOT_FOUND);
    let after = analyst_client.get(app.at(&format!("/workflows?workspace_id={ws}"))).send().await.unwrap();
    assert_eq!(after.status(), StatusCode::NOT_FOUND, "a removed member no longer sees it");
}

#[tokio::test]
async fn only_superusers_manage_workspaces_and_members() {
    let app = spawn_app().await;
    let ws = ferrocat_shared::ids::workspace_id(app.workspace_id);
    let workspace_admin = app.user("wsadmin@example.com", app.workspace_id, "admin").await;
    let viewer = app.user("viewer@example.com", app.workspace_id, "viewer").await;
    let other = app.create_workspace("other").await;
    let outsider = app.user("outsider@example.com", other, "admin").await;
    let viewer_id: uuid::Uuid = sqlx::query_scalar("SELECT id FROM users WHERE email = 'viewer@example.com'").fetch_one(&app.db).await.unwrap();
    let before = app.snapshot().await;

    let create = workspace_admin.post(app.at("/workspaces")).json(&json!({"name": "mine"})).send().await.unwrap();
    assert_eq!(create.status(), StatusCode::FORBIDDEN);
    let rename = workspace_admin.patch(app.at(&format!("/workspaces/{ws}"))).json(&json!({"name": "x"})).send().await.unwrap();
    assert_eq!(rename.status(), StatusCode::FORBIDDEN);
    assert_eq!(workspace_admin.delete(app.at(&format!("/workspaces/{ws}"))).send().await.unwrap().status(), StatusCode::FORBIDDEN);
    let promote = workspace_admin.patch(app.at(&format!("/workspaces/{ws}/memberships/{viewer_id}"))).json(&json!({"role": "admin"}));
    assert_eq!(promote.send().await.unwrap().status(), StatusCode::FORBIDDEN);
    // A workspace admin reads its members; a viewer does not; an outsider finds nothing.
    assert_eq!(workspace_admin.get(app.at(&format!("/workspaces/{ws}/memberships"))).send().await.unwrap().status(), StatusCode::OK);
    assert_eq!(viewer.get(app.at(&format!("/workspaces/{ws}/memberships"))).send().await.unwrap().status(), StatusCode::FORBIDDEN);
    assert_eq!(viewer.get(app.at(&format!("/workspaces/{ws}"))).send().await.unwrap().status(), StatusCode::OK);
    assert_eq!(outsider.get(app.at(&format!("/workspaces/{ws}"))).send().await.unwrap().status(), StatusCode::NOT_FOUND);
    assert_eq!(outsider.get(app.at(&format!("/workspaces/{ws}/memberships"))).send().await.unwrap().status(), StatusCode::NOT_FOUND);
    assert_eq!(crate::common::client().post(app.at("/workspaces")).json(&json!({"name": "anon"})).send().await.unwrap().status(), StatusCode::UNAUTHORIZED);
    assert_eq!(app.snapshot().await, before);
}

#[tokio::test]
async fn deleting_a_workspace_leaves_nothing_of_it_behind() {
    let app = spawn_app().await;
    let admin = app.admin().await;
    let created: Value = admin.post(app.at("/workspaces")).json(&json!({"name": "doomed"})).send().await.unwrap().json().await.unwrap();
    let ws = created["id"].as_str().unwrap().to_owned();
    let ws_uuid = ferrocat_shared::ids::parse_workspace_id(&ws).unwrap();
    let scoped = |path: &str| app.at(&format!("{path}?workspace_id={ws}"));
    // Something of every kind: workflow with a committed version, webhook and schedule,
    // secret, variable, invitation, service account with a key, model usage.
    let response = admin.post(scoped("/workflows")).header("content-type", "application/yaml").body(ECHO_WORKFLOW).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::CREATED);
    let wf = response.json::<Value>().await.unwrap()["id"].as_str().unwrap().to_owned();
    assert_eq!(admin.post(scoped(&format!("/workflows/{wf}/commit"))).send().await.unwrap().status(), StatusCode::OK);
    assert_eq!(admin.post(scoped(&format!("/workflows/{wf}/webhook"))).json(&json!({})).send().await.unwrap().status(), StatusCode::OK);
    let schedule = admin.post(scoped("/schedules")).json(&json!({"workflow_id": wf, "every": "PT1H", "status": "offline"})).send().await.unwrap();
    assert_eq!(schedule.status(), StatusCode::CREATED);
    let schedule_id = schedule.json::<Value>().await.unwrap()["id"].as_str().unwrap().to_owned();
    let temporal = app.state.temporal.clone();
    let in_temporal = |id: String| {
        let temporal = temporal.clone();
        async move { temporal.get_schedule_handle(id.as_str()).describe(RpcOptions::default()).await.is_ok() }
    };
    assert!(in_temporal(schedule_id.clone()).await);
    let secret = admin.post(scoped("/secrets")).json(&json!({"name": "k", "keys": [{"key": "K", "value": "v"}]})).send().await.unwrap();
    assert_eq!(secret.status(), StatusCode::CREATED);
    assert_eq!(admin.post(scoped("/variables")).json(&json!({"name": "v", "values": {"a": 1}})).send().await.unwrap().status(), StatusCode::CREATED);
    let invited = admin.post(app.at(&format!("/workspaces/{ws}/invitations"))).json(&json!({"email": "x@example.com"})).send().await.unwrap();
    assert_eq!(invited.status(), StatusCode::CREATED);
    let account = admin.post(app.at(&format!("/workspaces/{ws}/service-accounts"))).json(&json!({"name": "ci", "role": "editor"})).send().await.unwrap();
    assert_eq!(account.status(), StatusCode::CREATED);
    let account_id = account.json::<Value>().await.unwrap()["id"].as_str().unwrap().to_owned();
    let key = admin.post(app.at(&format!("/workspaces/{ws}/service-accounts/{account_id}/api-keys"))).json(&json!({"name": "k"})).send().await.unwrap();
    assert_eq!(key.status(), StatusCode::CREATED);
    sqlx::query(
        "INSERT INTO llm_usage (created_at, workspace_id, model, endpoint, stream, status, attempts, input_tokens, output_tokens, latency_ms)
         VALUES (now(), $1, 'm', 'chat', false, 200, 1, 1, 1, 1.0)",
    )
    .bind(ws_uuid)
    .execute(&app.db)
    .await
    .unwrap();

    assert_eq!(admin.delete(app.at(&format!("/workspaces/{ws}"))).send().await.unwrap().status(), StatusCode::NO_CONTENT);
    assert_eq!(admin.get(app.at(&format!("/workspaces/{ws}"))).send().await.unwrap().status(), StatusCode::NOT_FOUND);
    assert_eq!(admin.delete(app.at(&format!("/workspaces/{ws}"))).send().await.unwrap().status(), StatusCode::NOT_FOUND);

    // No row anywhere names the workspace, and no Temporal schedule outlives it.
    let tables: Vec<String> = sqlx::query_scalar(
        "SELECT table_name::text FROM information_schema.columns WHERE table_schema = 'public' AND column_name = 'workspace_id'",
    )
    .fetch_all(&app.db)
    .await
    .unwrap();
    assert!(tables.len() >= 10, "{tables:?}");
    for table in tables {
        // `table` comes from information_schema (our own schema), quoted; the id is bound.
        let sql = format!("SELECT count(*) FROM \"{table}\" WHERE workspace_id = $1");
        let left: i64 = sqlx::query_scalar(sqlx::AssertSqlSafe(sql)).bind(ws_uuid).fetch_one(&app.db).await.unwrap();
        assert_eq!(left, 0, "{table} keeps rows of the deleted workspace");
    }
    assert!(!in_temporal(schedule_id).await, "the Temporal schedule is gone");
    // The default workspace is untouched.
    let mine: Value = admin.get(app.at("/workspaces")).send().await.unwrap().json().await.unwrap();
    assert_eq!(mine.as_array().unwrap().len(), 1);
}
