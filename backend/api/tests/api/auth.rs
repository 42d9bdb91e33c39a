//! Sign-in, sessions and the workspace extractor: wrong passwords, ended and expired sessions,
//! malformed bodies and other workspaces.

use reqwest::StatusCode;
use serde_json::Value;

use crate::common::{ADMIN_EMAIL, ADMIN_PASSWORD, client, spawn_app};

#[tokio::test]
async fn the_bootstrapped_admin_signs_in_and_sees_the_default_workspace() {
    let app = spawn_app().await;
    let admin = app.admin().await;
    let me: Value = admin.get(app.at("/users/me")).send().await.unwrap().json().await.unwrap();
    assert_eq!(me["email"], ADMIN_EMAIL);
    assert_eq!(me["is_superuser"], true);
    assert_eq!(me["workspaces"][0]["role"], "admin");
    assert_eq!(me["workspaces"][0]["id"], ferrocat_shared::ids::workspace_id(app.workspace_id));
    assert!(me["last_login_at"].is_string());
}

#[tokio::test]
async fn a_wrong_password_or_unknown_user_gets_no_session_and_changes_nothing() {
    let app = spawn_app().await;
    let before = app.snapshot().await;
    for (email, password) in [(ADMIN_EMAIL, "wrong-password-entirely"), ("nobody@example.com", ADMIN_PASSWORD), ("", "")] {
        let c = client();
        let response = app.login(&c, email, password).await;
        assert_eq!(response.status(), StatusCode::BAD_REQUEST, "{email}");
        assert!(response.headers().get("set-cookie").is_none());
        let body: Value = response.json().await.unwrap();
        assert_eq!(body["detail"], "LOGIN_BAD_CREDENTIALS");
        assert_eq!(c.get(app.at("/users/me")).send().await.unwrap().status(), StatusCode::UNAUTHORIZED);
    }
    assert_eq!(app.snapshot().await, before);
}

#[tokio::test]
async fn malformed_and_oversized_login_bodies_are_refused_without_change() {
    let app = spawn_app().await;
    let before = app.snapshot().await;
    let c = client();
    let json = c.post(app.at("/auth/login")).json(&serde_json::json!({"username": ADMIN_EMAIL, "password": ADMIN_PASSWORD}));
    assert_eq!(json.send().await.unwrap().status(), StatusCode::BAD_REQUEST);
    let missing = c.post(app.at("/auth/login")).form(&[("username", ADMIN_EMAIL)]);
    assert_eq!(missing.send().await.unwrap().status(), StatusCode::BAD_REQUEST);
    let huge = "x".repeat(crate::common::MAX_BODY_BYTES + 1);
    let big = c.post(app.at("/auth/login")).form(&[("username", ADMIN_EMAIL), ("password", huge.as_str())]);
    let status = big.send().await.unwrap().status();
    assert!(status == StatusCode::PAYLOAD_TOO_LARGE || status == StatusCode::BAD_REQUEST, "{status}");
    assert_eq!(app.snapshot().await, before);
}

#[tokio::test]
async fn logout_ends_the_session_even_for_a_copied_cookie() {
    let app = spawn_app().await;
    let c = client();
    let response = app.login(&c, ADMIN_EMAIL, ADMIN_PASSWORD).await;
    let cookie = response.headers()["set-cookie"].to_str().unwrap().to_owned();
    assert!(cookie.contains("HttpOnly") && cookie.contains("SameSite=Lax"), "{cookie}");
    let token = cookie.split(';').next().unwrap().split_once('=').unwrap().1.to_owned();
    assert_eq!(c.post(app.at("/auth/logout")).send().await.unwrap().status(), StatusCode::NO_CONTENT);
    assert_eq!(c.get(app.at("/users/me")).send().await.unwrap().status(), StatusCode::UNAUTHORIZED);
    // Replaying the old token, as a cookie or a bearer, no longer works.
    let replay = reqwest::Client::new();
    let as_cookie = replay.get(app.at("/users/me")).header("cookie", format!("ferrocat_session={token}"));
    assert_eq!(as_cookie.send().await.unwrap().status(), StatusCode::UNAUTHORIZED);
    let as_bearer = replay.get(app.at("/users/me")).bearer_auth(&token);
    assert_eq!(as_bearer.send().await.unwrap().status(), StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn an_expired_session_is_refused() {
    let app = spawn_app().await;
    let admin = app.admin().await;
    assert_eq!(admin.get(app.at("/users/me")).send().await.unwrap().status(), StatusCode::OK);
    sqlx::query("UPDATE sessions SET expires_at = now() - interval '1 second'").execute(&app.db).await.unwrap();
    let response = admin.get(app.at("/users/me")).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(response.json::<Value>().await.unwrap()["detail"], "session expired or invalid");
}

#[tokio::test]
async fn a_workspace_the_caller_is_not_in_does_not_exist_for_them() {
    let app = spawn_app().await;
    let other = app.create_workspace("Other").await;
    let outsider = app.user("outsider@example.com", other, "admin").await;
    let mine = ferrocat_shared::ids::workspace_id(app.workspace_id);
    for path in [format!("/workflows?workspace_id={mine}"), format!("/secrets?workspace_id={mine}")] {
        let response = outsider.get(app.at(&path)).send().await.unwrap();
        assert_eq!(response.status(), StatusCode::NOT_FOUND, "{path}");
    }
    let garbage = outsider.get(app.at("/workflows?workspace_id=ws_!!")).send().await.unwrap();
    assert_eq!(garbage.status(), StatusCode::NOT_FOUND);
    let listed: Value = outsider.get(app.at("/workspaces")).send().await.unwrap().json().await.unwrap();
    assert_eq!(listed.as_array().unwrap().len(), 1);
    assert_eq!(listed[0]["name"], "Other");
}
