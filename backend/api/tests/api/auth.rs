//! Sign-in, sessions and the workspace extractor: wrong passwords, ended and expired sessions,
//! malformed bodies and other workspaces.

use reqwest::StatusCode;
use serde_json::Value;

use crate::common::{ADMIN_EMAIL, ADMIN_PASSWORD, build, client, drop_database, fresh_database, spawn_app};

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

/// The api and the MCP server bootstrap the same database at the same moment on every `ferrocat
/// up`: each start must succeed, and together they make one workspace, one admin, one membership.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn services_starting_together_bootstrap_one_admin_and_workspace() {
    // The race is a matter of timing: a few fresh databases, several starts on each.
    for _round in 0..3 {
        let (name, url, db) = fresh_database().await;
        let starts: Vec<_> = (0..6)
            .map(|_| {
                let url = url.clone();
                tokio::spawn(async move { build(&url, &[]).await.0 })
            })
            .collect();
        for start in starts {
            start.await.expect("every concurrent start succeeds");
        }
        let mut counts = Vec::new();
        for table in ["users", "workspaces", "memberships"] {
            let sql = format!("SELECT count(*) FROM {table}");
            counts.push(sqlx::query_scalar::<_, i64>(sqlx::AssertSqlSafe(sql)).fetch_one(&db).await.unwrap());
        }
        assert_eq!(counts, [1, 1, 1]);
        let role: String = sqlx::query_scalar("SELECT role FROM memberships").fetch_one(&db).await.unwrap();
        assert_eq!(role, "admin");
        db.close().await;
        drop_database(&name);
    }
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
    assert!(cookie.contains("HttpOnly") && cookie.contains("SameSite=Strict"), "{cookie}");
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

/// A sign-in attempt from `address` (as the edge forwards it).
async fn login_from(app: &crate::common::TestApp, address: &str, email: &str, password: &str) -> reqwest::Response {
    client()
        .post(app.at("/auth/login"))
        .header("x-real-ip", address)
        .form(&[("username", email), ("password", password)])
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn repeated_failures_lock_an_account_known_or_not_alike_and_change_nothing() {
    let app = crate::common::spawn_app_with(&[("FERROCAT_LOGIN_MAX_FAILURES", "3"), ("FERROCAT_LOGIN_LOCKOUT_SECONDS", "600")]).await;
    let before = app.snapshot().await;
    let mut locked = Vec::new();
    for email in [ADMIN_EMAIL, "nobody@example.com"] {
        for attempt in 0..3 {
            let response = login_from(&app, "198.51.100.7", email, "wrong-password-entirely").await;
            assert_eq!(response.status(), StatusCode::BAD_REQUEST, "{email} attempt {attempt}");
        }
        // Locked now: even the right password gets 429, without a session.
        let response = login_from(&app, "198.51.100.8", email, ADMIN_PASSWORD).await;
        assert_eq!(response.status(), StatusCode::TOO_MANY_REQUESTS, "{email}");
        assert!(response.headers().get("set-cookie").is_none());
        let retry_after: u64 = response.headers()["retry-after"].to_str().unwrap().parse().unwrap();
        assert!((590..=600).contains(&retry_after), "Retry-After {retry_after}");
        locked.push(response.json::<Value>().await.unwrap());
    }
    assert_eq!(locked[0], locked[1], "a locked unknown account answers like a locked real one");
    assert_eq!(locked[0]["detail"], "LOGIN_TOO_MANY_ATTEMPTS");
    // Case and spaces do not make a new account name.
    let response = login_from(&app, "198.51.100.9", " ADMIN@example.com ", ADMIN_PASSWORD).await;
    assert_eq!(response.status(), StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(app.snapshot().await, before);
    // Another account is not affected.
    app.create_user("other@example.com", "another-long-password", app.workspace_id, "viewer").await;
    let response = login_from(&app, "198.51.100.7", "other@example.com", "another-long-password").await;
    assert_eq!(response.status(), StatusCode::NO_CONTENT);
}

#[tokio::test]
async fn repeated_failures_from_one_address_lock_that_address_only() {
    let app = crate::common::spawn_app_with(&[
        ("FERROCAT_LOGIN_MAX_FAILURES_PER_ADDRESS", "4"),
        ("FERROCAT_LOGIN_MAX_FAILURES", "100"),
    ])
    .await;
    for i in 0..4 {
        let response = login_from(&app, "203.0.113.5", &format!("guess{i}@example.com"), "wrong-password-entirely").await;
        assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    }
    let response = login_from(&app, "203.0.113.5", ADMIN_EMAIL, ADMIN_PASSWORD).await;
    assert_eq!(response.status(), StatusCode::TOO_MANY_REQUESTS);
    assert!(response.headers().contains_key("retry-after"));
    let response = login_from(&app, "2001:db8::5", ADMIN_EMAIL, ADMIN_PASSWORD).await;
    assert_eq!(response.status(), StatusCode::NO_CONTENT, "another address is not locked");
}

#[tokio::test]
async fn a_lockout_ends_with_its_window_and_a_success_clears_the_count() {
    let app = crate::common::spawn_app_with(&[("FERROCAT_LOGIN_MAX_FAILURES", "2"), ("FERROCAT_LOGIN_LOCKOUT_SECONDS", "2")]).await;
    // One failure, then a success: the count starts again.
    assert_eq!(login_from(&app, "192.0.2.1", ADMIN_EMAIL, "wrong-password-entirely").await.status(), StatusCode::BAD_REQUEST);
    assert_eq!(login_from(&app, "192.0.2.1", ADMIN_EMAIL, ADMIN_PASSWORD).await.status(), StatusCode::NO_CONTENT);
    assert_eq!(login_from(&app, "192.0.2.1", ADMIN_EMAIL, "wrong-password-entirely").await.status(), StatusCode::BAD_REQUEST);
    assert_eq!(login_from(&app, "192.0.2.1", ADMIN_EMAIL, ADMIN_PASSWORD).await.status(), StatusCode::NO_CONTENT);
    for _ in 0..2 {
        assert_eq!(login_from(&app, "192.0.2.1", ADMIN_EMAIL, "wrong-password-entirely").await.status(), StatusCode::BAD_REQUEST);
    }
    assert_eq!(login_from(&app, "192.0.2.1", ADMIN_EMAIL, ADMIN_PASSWORD).await.status(), StatusCode::TOO_MANY_REQUESTS);
    crate::common::eventually(std::time::Duration::from_secs(6), "the lockout to end", || async {
        let status = login_from(&app, "192.0.2.1", ADMIN_EMAIL, ADMIN_PASSWORD).await.status();
        (status == StatusCode::NO_CONTENT).then_some(())
    })
    .await;
}

#[tokio::test]
async fn superusers_list_users_and_nobody_else_does() {
    let app = spawn_app().await;
    let admin = app.admin().await;
    let editor = app.user("editor@example.com", app.workspace_id, "admin").await;
    let users: Value = admin.get(app.at("/users")).send().await.unwrap().json().await.unwrap();
    let emails: Vec<&str> = users.as_array().unwrap().iter().map(|u| u["email"].as_str().unwrap()).collect();
    assert_eq!(emails, vec![ADMIN_EMAIL, "editor@example.com"]);
    assert!(!users.to_string().contains("hashed_password") && !users.to_string().contains("$argon2"));
    // A workspace admin is not a superuser; an anonymous caller is nobody.
    assert_eq!(editor.get(app.at("/users")).send().await.unwrap().status(), StatusCode::FORBIDDEN);
    assert_eq!(client().get(app.at("/users")).send().await.unwrap().status(), StatusCode::UNAUTHORIZED);
}

/// Postgres cannot store NUL: such input is the caller's error (422), never a 500, and
/// changes nothing (found by schemathesis at sign-in).
#[tokio::test]
async fn nul_characters_are_refused_clearly_everywhere() {
    let app = spawn_app().await;
    let admin = app.admin().await;
    let before = app.snapshot().await;
    let response = app.login(&client(), "adm\0in@example.com", "whatever-password").await;
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let body: Value = response.json().await.unwrap();
    assert!(body["detail"].as_str().unwrap().contains("NUL"), "{body}");
    let response = admin
        .post(app.at("/variables"))
        .json(&serde_json::json!({"name": "siem", "values": {"url": "a\u{0}b"}}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY, "{}", response.text().await.unwrap());
    assert_eq!(app.snapshot().await, before);
}
