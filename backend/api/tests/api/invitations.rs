//! Invitations: an admin invites an address with a role; the token is shown once and works
//! once; a new invitee sets a password, an existing one proves theirs; revoked, expired and
//! used tokens join nobody; only the workspace's admins manage them.

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::common::{TestApp, client, spawn_app};

async fn invite(app: &TestApp, admin: &reqwest::Client, email: &str, role: &str) -> Value {
    let ws = ferrocat_shared::ids::workspace_id(app.workspace_id);
    let response =
        admin.post(app.at(&format!("/workspaces/{ws}/invitations"))).json(&json!({"email": email, "role": role})).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::CREATED);
    response.json().await.unwrap()
}

async fn accept(app: &TestApp, token: &str, password: &str) -> reqwest::Response {
    client().post(app.at("/invitations/accept")).json(&json!({"token": token, "password": password})).send().await.unwrap()
}

#[tokio::test]
async fn an_invitee_sets_a_password_joins_with_the_role_and_the_token_works_once() {
    let app = spawn_app().await;
    let admin = app.admin().await;
    let invitation = invite(&app, &admin, "New.Analyst@example.com", "viewer").await;
    let token = invitation["token"].as_str().unwrap().to_owned();
    assert!(token.starts_with("fc_inv_") && token.len() > 60);
    assert!(invitation["accept_url"].as_str().unwrap().ends_with(&format!("#token={token}")));
    assert_eq!(invitation["status"], "pending");

    // The list shows it, never its token.
    let ws = ferrocat_shared::ids::workspace_id(app.workspace_id);
    let listed = admin.get(app.at(&format!("/workspaces/{ws}/invitations"))).send().await.unwrap().text().await.unwrap();
    assert!(listed.contains("New.Analyst@example.com") && !listed.contains(&token), "{listed}");

    // Too short a password creates nobody and leaves the invitation open.
    let before = app.snapshot().await;
    assert_eq!(accept(&app, &token, "short").await.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(app.snapshot().await, before);

    let response = accept(&app, &token, "a-long-enough-password").await;
    assert_eq!(response.status(), StatusCode::OK);
    let joined: Value = response.json().await.unwrap();
    assert_eq!((joined["workspace_id"].as_str(), joined["role"].as_str()), (Some(ws.as_str()), Some("viewer")));

    // The new account signs in, sees the workspace as a viewer, and cannot write.
    let analyst = client();
    assert_eq!(app.login(&analyst, "new.analyst@example.com", "a-long-enough-password").await.status(), StatusCode::NO_CONTENT);
    let me: Value = analyst.get(app.at("/users/me")).send().await.unwrap().json().await.unwrap();
    assert_eq!(me["workspaces"][0]["role"], "viewer");
    let write = analyst.post(app.at("/workflows")).json(&json!({"title": "nope"})).send().await.unwrap();
    assert_eq!(write.status(), StatusCode::FORBIDDEN);

    // Used once, it is gone.
    let before = app.snapshot().await;
    assert_eq!(accept(&app, &token, "a-long-enough-password").await.status(), StatusCode::NOT_FOUND);
    assert_eq!(app.snapshot().await, before);
    let listed: Value = admin.get(app.at(&format!("/workspaces/{ws}/invitations"))).send().await.unwrap().json().await.unwrap();
    assert_eq!(listed[0]["status"], "accepted");
}

#[tokio::test]
async fn an_existing_account_joins_only_with_its_own_password() {
    let app = spawn_app().await;
    let admin = app.admin().await;
    let other = app.create_workspace("elsewhere").await;
    app.create_user("known@example.com", "the-real-password", other, "admin").await;
    let token = invite(&app, &admin, "known@example.com", "editor").await["token"].as_str().unwrap().to_owned();

    let before = app.snapshot().await;
    assert_eq!(accept(&app, &token, "a-guessed-password").await.status(), StatusCode::UNAUTHORIZED);
    // A wrong password joins nothing; it only counts against the invitation (burned at five).
    sqlx::query("UPDATE invitations SET failed_attempts = failed_attempts - 1").execute(&app.db).await.unwrap();
    assert_eq!(app.snapshot().await, before, "a wrong password changes nothing but the count");

    assert_eq!(accept(&app, &token, "the-real-password").await.status(), StatusCode::OK);
    let known = client();
    assert_eq!(app.login(&known, "known@example.com", "the-real-password").await.status(), StatusCode::NO_CONTENT);
    let me: Value = known.get(app.at("/users/me")).send().await.unwrap().json().await.unwrap();
    assert_eq!(me["workspaces"].as_array().unwrap().len(), 2, "{me}");
}

#[tokio::test]
async fn revoked_expired_and_replaced_invitations_join_nobody() {
    let app = spawn_app().await;
    let admin = app.admin().await;
    let ws = ferrocat_shared::ids::workspace_id(app.workspace_id);

    let revoked = invite(&app, &admin, "a@example.com", "editor").await;
    let response = admin.delete(app.at(&format!("/workspaces/{ws}/invitations/{}", revoked["id"].as_str().unwrap()))).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::NO_CONTENT);
    assert_eq!(accept(&app, revoked["token"].as_str().unwrap(), "a-long-enough-password").await.status(), StatusCode::NOT_FOUND);

    let expired = invite(&app, &admin, "b@example.com", "editor").await;
    sqlx::query("UPDATE invitations SET expires_at = now() - interval '1 second' WHERE email = 'b@example.com'")
        .execute(&app.db)
        .await
        .unwrap();
    assert_eq!(accept(&app, expired["token"].as_str().unwrap(), "a-long-enough-password").await.status(), StatusCode::NOT_FOUND);

    // Inviting again replaces the open invitation: only the newest token works.
    let first = invite(&app, &admin, "c@example.com", "viewer").await;
    let second = invite(&app, &admin, "c@example.com", "admin").await;
    assert_eq!(accept(&app, first["token"].as_str().unwrap(), "a-long-enough-password").await.status(), StatusCode::NOT_FOUND);
    let joined: Value = accept(&app, second["token"].as_str().unwrap(), "a-long-enough-password").await.json().await.unwrap();
    assert_eq!(joined["role"], "admin");
    let users: i64 = sqlx::query_scalar("SELECT count(*) FROM users WHERE email IN ('a@example.com', 'b@example.com', 'c@example.com')").fetch_one(&app.db).await.unwrap();
    assert_eq!(users, 1, "only the accepted invitation made an account");
}

#[tokio::test]
async fn only_the_workspaces_admins_manage_invitations_and_bad_input_changes_nothing() {
    let app = spawn_app().await;
    let admin = app.admin().await;
    let ws = ferrocat_shared::ids::workspace_id(app.workspace_id);
    let path = format!("/workspaces/{ws}/invitations");
    let editor = app.user("editor@example.com", app.workspace_id, "editor").await;
    let outsider_ws = app.create_workspace("theirs").await;
    let outsider = app.user("outsider@example.com", outsider_ws, "admin").await;

    let before = app.snapshot().await;
    let body = json!({"email": "x@example.com"});
    assert_eq!(editor.post(app.at(&path)).json(&body).send().await.unwrap().status(), StatusCode::FORBIDDEN);
    assert_eq!(outsider.post(app.at(&path)).json(&body).send().await.unwrap().status(), StatusCode::NOT_FOUND);
    assert_eq!(outsider.get(app.at(&path)).send().await.unwrap().status(), StatusCode::NOT_FOUND);
    assert_eq!(client().post(app.at(&path)).json(&body).send().await.unwrap().status(), StatusCode::UNAUTHORIZED);
    for bad in [
        json!({"email": "not an address"}),
        json!({"email": "x@example.com", "role": "owner"}),
        json!({"email": "x@example.com", "expires_in_days": 365}),
        json!({"email": "x@example.com", "extra": true}),
    ] {
        let response = admin.post(app.at(&path)).json(&bad).send().await.unwrap();
        assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY, "{bad}");
    }
    let unknown = admin.delete(app.at(&format!("{path}/{}", uuid::Uuid::new_v4()))).send().await.unwrap();
    assert_eq!(unknown.status(), StatusCode::NOT_FOUND);
    assert_eq!(accept(&app, "fc_inv_0000", "a-long-enough-password").await.status(), StatusCode::NOT_FOUND);
    assert_eq!(app.snapshot().await, before);
}
