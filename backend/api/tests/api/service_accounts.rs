//! Service accounts and API keys: shown once, stored hashed, bound to their workspace, limited
//! by their role, revocable, and their last use recorded.

use reqwest::{Client, StatusCode};
use serde_json::{Value, json};

use crate::common::{TestApp, spawn_app};

async fn account(app: &TestApp, admin: &Client, name: &str, role: &str) -> String {
    let ws = ferrocat_shared::ids::workspace_id(app.workspace_id);
    let response = admin
        .post(app.at(&format!("/workspaces/{ws}/service-accounts")))
        .json(&json!({"name": name, "role": role}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::CREATED);
    response.json::<Value>().await.unwrap()["id"].as_str().unwrap().to_owned()
}

/// Creates a key; returns (key id, full key).
async fn key(app: &TestApp, admin: &Client, account_id: &str) -> (String, String) {
    let ws = ferrocat_shared::ids::workspace_id(app.workspace_id);
    let response = admin
        .post(app.at(&format!("/workspaces/{ws}/service-accounts/{account_id}/api-keys")))
        .json(&json!({"name": "ci"}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::CREATED);
    let body: Value = response.json().await.unwrap();
    (body["id"].as_str().unwrap().to_owned(), body["key"].as_str().unwrap().to_owned())
}

#[tokio::test]
async fn a_key_is_shown_once_stored_hashed_and_works_as_a_bearer() {
    let app = spawn_app().await;
    let admin = app.admin().await;
    let ws = ferrocat_shared::ids::workspace_id(app.workspace_id);
    let account_id = account(&app, &admin, "ci-bot", "editor").await;
    let (key_id, key) = key(&app, &admin, &account_id).await;
    assert!(key.starts_with("tc_ws_sk_"), "{key}");
    let secret = key.rsplit('_').next().unwrap();

    // Not stored, not listed.
    let listed = admin.get(app.at(&format!("/workspaces/{ws}/service-accounts/{account_id}/api-keys"))).send().await.unwrap();
    let listed = listed.text().await.unwrap();
    assert!(!listed.contains(secret), "{listed}");
    assert!(app.snapshot().await.find(secret).is_none(), "the key is stored in clear");
    let listed: Value = serde_json::from_str(&listed).unwrap();
    assert_eq!(listed[0]["id"], key_id.as_str());
    assert!(listed[0]["last_used_at"].is_null());

    // As a bearer it acts in its workspace with its role, no workspace_id needed.
    let machine = reqwest::Client::new();
    let me: Value = machine.get(app.at("/users/me")).bearer_auth(&key).send().await.unwrap().json().await.unwrap();
    assert_eq!(me["type"], "service_account");
    assert_eq!(me["workspaces"][0]["id"], ws.as_str());
    let created = machine
        .post(app.at("/secrets"))
        .bearer_auth(&key)
        .json(&json!({"name": "from_ci", "keys": [{"key": "K", "value": "v"}]}));
    assert_eq!(created.send().await.unwrap().status(), StatusCode::CREATED);
    let workflows = machine.get(app.at(&format!("/workflows?workspace_id={ws}"))).bearer_auth(&key).send().await.unwrap();
    assert_eq!(workflows.status(), StatusCode::OK);

    let listed: Value = admin
        .get(app.at(&format!("/workspaces/{ws}/service-accounts/{account_id}/api-keys")))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(listed[0]["last_used_at"].is_string(), "{listed}");
}

#[tokio::test]
async fn revoked_wrong_and_disabled_keys_are_refused_without_change() {
    let app = spawn_app().await;
    let admin = app.admin().await;
    let ws = ferrocat_shared::ids::workspace_id(app.workspace_id);
    let account_id = account(&app, &admin, "soar", "editor").await;
    let (key_id, key) = key(&app, &admin, &account_id).await;
    let machine = reqwest::Client::new();
    let me = |k: String| machine.get(app.at("/users/me")).bearer_auth(k);
    assert_eq!(me(key.clone()).send().await.unwrap().status(), StatusCode::OK);

    let mut tampered = key.clone();
    let last = tampered.pop().unwrap();
    tampered.push(if last == '0' { '1' } else { '0' });
    let before = app.snapshot().await;
    for bad in [tampered, "tc_ws_sk_nonsense".to_owned(), format!("{key}0")] {
        let response = me(bad).send().await.unwrap();
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
        assert_eq!(response.json::<Value>().await.unwrap()["detail"], "invalid API key");
    }
    assert_eq!(app.snapshot().await, before);

    let disabled = admin.post(app.at(&format!("/workspaces/{ws}/service-accounts/{account_id}/disable"))).send().await.unwrap();
    assert_eq!(disabled.json::<Value>().await.unwrap()["disabled"], true);
    assert_eq!(me(key.clone()).send().await.unwrap().status(), StatusCode::UNAUTHORIZED);
    admin.post(app.at(&format!("/workspaces/{ws}/service-accounts/{account_id}/enable"))).send().await.unwrap();
    assert_eq!(me(key.clone()).send().await.unwrap().status(), StatusCode::OK);

    let revoked = admin
        .post(app.at(&format!("/workspaces/{ws}/service-accounts/{account_id}/api-keys/{key_id}/revoke")))
        .send()
        .await
        .unwrap();
    assert_eq!(revoked.json::<Value>().await.unwrap()["revoked"], true);
    let before = app.snapshot().await;
    let write =
        machine.post(app.at("/secrets")).bearer_auth(&key).json(&json!({"name": "late", "keys": [{"key": "K", "value": "v"}]}));
    let response = write.send().await.unwrap();
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(response.json::<Value>().await.unwrap()["detail"], "API key revoked");
    assert_eq!(app.snapshot().await, before);
}

#[tokio::test]
async fn a_key_is_bound_to_its_workspace_and_limited_by_its_role() {
    let app = spawn_app().await;
    let admin = app.admin().await;
    let ws = ferrocat_shared::ids::workspace_id(app.workspace_id);
    let viewer_account = account(&app, &admin, "reader", "viewer").await;
    let (_, viewer_key) = key(&app, &admin, &viewer_account).await;
    let admin_account = account(&app, &admin, "robot-admin", "admin").await;
    let (_, admin_key) = key(&app, &admin, &admin_account).await;
    let other = ferrocat_shared::ids::workspace_id(app.create_workspace("Other").await);
    let machine = reqwest::Client::new();
    let before = app.snapshot().await;

    // Another workspace does not exist for the key, whatever its role.
    for path in [format!("/secrets?workspace_id={other}"), format!("/workflows?workspace_id={other}")] {
        let response = machine.get(app.at(&path)).bearer_auth(&admin_key).send().await.unwrap();
        assert_eq!(response.status(), StatusCode::NOT_FOUND, "{path}");
    }
    // A viewer key reads but does not write.
    assert_eq!(machine.get(app.at("/secrets")).bearer_auth(&viewer_key).send().await.unwrap().status(), StatusCode::OK);
    let write = machine
        .post(app.at("/secrets"))
        .bearer_auth(&viewer_key)
        .json(&json!({"name": "nope", "keys": [{"key": "K", "value": "v"}]}));
    assert_eq!(write.send().await.unwrap().status(), StatusCode::FORBIDDEN);
    // Keys never manage credentials, even an admin's: a leaked key cannot mint more keys.
    let mint = machine
        .post(app.at(&format!("/workspaces/{ws}/service-accounts/{admin_account}/api-keys")))
        .bearer_auth(&admin_key)
        .json(&json!({"name": "persist"}));
    assert_eq!(mint.send().await.unwrap().status(), StatusCode::FORBIDDEN);
    assert_eq!(app.snapshot().await, before);
}

#[tokio::test]
async fn only_workspace_admins_manage_service_accounts() {
    let app = spawn_app().await;
    let admin = app.admin().await;
    let ws = ferrocat_shared::ids::workspace_id(app.workspace_id);
    let account_id = account(&app, &admin, "existing", "viewer").await;
    let editor = app.user("editor@example.com", app.workspace_id, "editor").await;
    let other = app.create_workspace("Other").await;
    let outsider = app.user("outsider@example.com", other, "admin").await;
    let before = app.snapshot().await;

    let base = format!("/workspaces/{ws}/service-accounts");
    let by_editor = [
        editor.get(app.at(&base)),
        editor.post(app.at(&base)).json(&json!({"name": "x", "role": "admin"})),
        editor.post(app.at(&format!("{base}/{account_id}/api-keys"))).json(&json!({})),
    ];
    for request in by_editor {
        assert_eq!(request.send().await.unwrap().status(), StatusCode::FORBIDDEN);
    }
    let by_outsider = [
        outsider.get(app.at(&base)),
        outsider.post(app.at(&format!("{base}/{account_id}/api-keys"))).json(&json!({})),
        outsider.post(app.at(&format!("{base}/{account_id}/disable"))),
    ];
    for request in by_outsider {
        assert_eq!(request.send().await.unwrap().status(), StatusCode::NOT_FOUND);
    }
    // The outsider's own workspace does not hold this account either.
    let theirs = format!("/workspaces/{}/service-accounts/{account_id}", ferrocat_shared::ids::workspace_id(other));
    assert_eq!(outsider.get(app.at(&theirs)).send().await.unwrap().status(), StatusCode::NOT_FOUND);
    let bad_role = admin.post(app.at(&base)).json(&json!({"name": "y", "role": "owner"})).send().await.unwrap();
    assert_eq!(bad_role.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let duplicate = admin.post(app.at(&base)).json(&json!({"name": "existing"})).send().await.unwrap();
    assert_eq!(duplicate.status(), StatusCode::CONFLICT);
    assert_eq!(app.snapshot().await, before);
}
