//! Accounts hardening (security review 2026-12, findings 3, 4, 10, 11 and 13): accepting an
//! invitation is under the sign-in lockout and burns the invitation after a few wrong passwords;
//! accounts made by invitation are unverified and cannot block a later invitation silently;
//! one email normalisation; cookie-authenticated writes only from the public origin; password
//! policy, idle sessions and password change.

use reqwest::{Client, StatusCode};
use serde_json::{Value, json};

use crate::common::{ADMIN_EMAIL, ADMIN_PASSWORD, ECHO_WORKFLOW, TestApp, client, spawn_app, spawn_app_with};

const PUBLIC_ORIGIN: &str = "http://localhost:8080";

async fn invite(app: &TestApp, admin: &Client, workspace: uuid::Uuid, email: &str) -> String {
    let ws = ferrocat_shared::ids::workspace_id(workspace);
    let response =
        admin.post(app.at(&format!("/workspaces/{ws}/invitations"))).json(&json!({"email": email, "role": "viewer"})).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::CREATED);
    response.json::<Value>().await.unwrap()["token"].as_str().unwrap().to_owned()
}

async fn accept_from(app: &TestApp, address: &str, token: &str, password: &str) -> reqwest::Response {
    client()
        .post(app.at("/invitations/accept"))
        .header("x-real-ip", address)
        .json(&json!({"token": token, "password": password}))
        .send()
        .await
        .unwrap()
}

async fn detail(response: reqwest::Response) -> String {
    response.json::<Value>().await.unwrap()["detail"].as_str().unwrap_or_default().to_owned()
}

#[tokio::test]
async fn accepting_an_invitation_for_an_existing_account_is_under_the_sign_in_lockout() {
    let app = spawn_app_with(&[("FERROCAT_LOGIN_MAX_FAILURES", "3"), ("FERROCAT_LOGIN_LOCKOUT_SECONDS", "600")]).await;
    let admin = app.admin().await;
    let other = app.create_workspace("theirs").await;
    let bob = app.user("bob@example.com", other, "admin").await;
    // A workspace admin invites the superuser's address to use the accept call as an oracle.
    let token = invite(&app, &bob, other, "ADMIN@example.com").await;
    for guess in 0..3 {
        let response = accept_from(&app, "198.51.100.20", &token, &format!("guess-number-{guess}")).await;
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED, "guess {guess}");
    }
    // The account is locked now, on both forms, even with the right password and from elsewhere.
    let response = accept_from(&app, "198.51.100.21", &token, ADMIN_PASSWORD).await;
    assert_eq!(response.status(), StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(detail(response).await, "LOGIN_TOO_MANY_ATTEMPTS");
    let login = client().post(app.at("/auth/login")).header("x-real-ip", "198.51.100.22");
    let response = login.form(&[("username", ADMIN_EMAIL), ("password", ADMIN_PASSWORD)]).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::TOO_MANY_REQUESTS, "the lockout of /auth/login is the same");
    let role: Option<String> = sqlx::query_scalar("SELECT role FROM memberships m JOIN users u ON u.id = m.user_id WHERE u.email = $1 AND m.workspace_id = $2")
        .bind(ADMIN_EMAIL)
        .bind(other)
        .fetch_optional(&app.db)
        .await
        .unwrap();
    assert_eq!(role, None, "nothing was joined");
    drop(admin);
}

#[tokio::test]
async fn an_account_locked_at_sign_in_cannot_be_guessed_through_an_invitation() {
    let app = spawn_app_with(&[("FERROCAT_LOGIN_MAX_FAILURES", "2"), ("FERROCAT_LOGIN_LOCKOUT_SECONDS", "600")]).await;
    let admin = app.admin().await;
    let token = invite(&app, &admin, app.workspace_id, "known@example.com").await;
    app.create_user("known@example.com", "the-real-password", app.create_workspace("w2").await, "viewer").await;
    for _ in 0..2 {
        let response = client().post(app.at("/auth/login")).form(&[("username", "Known@Example.com"), ("password", "wrong-password-x")]);
        assert_eq!(response.send().await.unwrap().status(), StatusCode::BAD_REQUEST);
    }
    assert_eq!(accept_from(&app, "192.0.2.50", &token, "the-real-password").await.status(), StatusCode::TOO_MANY_REQUESTS);
}

#[tokio::test]
async fn an_invitation_is_burned_after_five_wrong_passwords() {
    let app = spawn_app_with(&[("FERROCAT_LOGIN_MAX_FAILURES", "100"), ("FERROCAT_LOGIN_MAX_FAILURES_PER_ADDRESS", "100")]).await;
    let admin = app.admin().await;
    app.create_user("known@example.com", "the-real-password", app.create_workspace("w2").await, "viewer").await;
    let token = invite(&app, &admin, app.workspace_id, "known@example.com").await;
    for guess in 0..4 {
        let response = accept_from(&app, "192.0.2.60", &token, &format!("wrong-guess-{guess}")).await;
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
        assert!(detail(response).await.contains("the password of known@example.com is needed"));
    }
    let fifth = accept_from(&app, "192.0.2.60", &token, "wrong-guess-4").await;
    assert_eq!(fifth.status(), StatusCode::UNAUTHORIZED);
    assert!(detail(fifth).await.contains("this invitation is now revoked"));
    // Burned: even the right password joins nobody, and the admin sees it revoked.
    assert_eq!(accept_from(&app, "192.0.2.61", &token, "the-real-password").await.status(), StatusCode::NOT_FOUND);
    let ws = ferrocat_shared::ids::workspace_id(app.workspace_id);
    let listed: Value = admin.get(app.at(&format!("/workspaces/{ws}/invitations"))).send().await.unwrap().json().await.unwrap();
    assert_eq!(listed[0]["status"], "revoked");
}

#[tokio::test]
async fn accounts_made_by_invitation_are_unverified_and_a_squatter_is_named_not_obeyed() {
    let app = spawn_app().await;
    let admin = app.admin().await;
    let theirs = app.create_workspace("bobs").await;
    let bob = app.user("bob@example.com", theirs, "admin").await;
    // Bob squats the CEO's address with a password he chose.
    let squat = invite(&app, &bob, theirs, "ceo@example.com").await;
    let response = accept_from(&app, "192.0.2.70", &squat, "bob-knows-this-pw").await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.json::<Value>().await.unwrap()["email_verified"], false);
    let users: Value = admin.get(app.at("/users")).send().await.unwrap().json().await.unwrap();
    let ceo = users.as_array().unwrap().iter().find(|u| u["email"] == "ceo@example.com").unwrap().clone();
    assert_eq!(ceo["email_verified"], false);
    let admin_row = users.as_array().unwrap().iter().find(|u| u["email"] == ADMIN_EMAIL).unwrap().clone();
    assert_eq!(admin_row["email_verified"], true);

    // The genuine invitation cannot be accepted with the real person's password, and the
    // answer says why and what to do.
    let genuine = invite(&app, &admin, app.workspace_id, "ceo@example.com").await;
    let response = accept_from(&app, "192.0.2.71", &genuine, "the-real-ceo-password").await;
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    let why = detail(response).await;
    assert!(why.contains("never proved the address") && why.contains("single sign-on"), "{why}");

    // Whoever is signed in as the invited account accepts without a password (after a single
    // sign-on took the account over, that is its owner).
    let signed_in = client();
    assert_eq!(app.login(&signed_in, "ceo@example.com", "bob-knows-this-pw").await.status(), StatusCode::NO_CONTENT);
    let response = signed_in.post(app.at("/invitations/accept")).json(&json!({"token": genuine})).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::OK, "{}", response.text().await.unwrap());
    // A session of someone else does not stand in for the invited account's password.
    let third = invite(&app, &admin, app.workspace_id, "known@example.com").await;
    app.create_user("known@example.com", "the-real-password", theirs, "viewer").await;
    let response = signed_in.post(app.at("/invitations/accept")).json(&json!({"token": third})).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn a_new_account_needs_a_password_that_meets_the_policy() {
    let app = spawn_app().await;
    let admin = app.admin().await;
    let token = invite(&app, &admin, app.workspace_id, "new@example.com").await;
    let before = app.snapshot().await;
    for (weak, why) in [
        ("aaaaaaaaaaaa", "too few different characters"),
        ("Password1234", "most common passwords"),
        ("abcdefghijklmnop", "sequence"),
    ] {
        let response = accept_from(&app, "192.0.2.80", &token, weak).await;
        assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY, "{weak}");
        let body: Value = response.json().await.unwrap();
        assert!(body["detail"].as_str().unwrap().contains(why), "{weak}: {body}");
        assert_eq!(body["errors"][0]["loc"], "password");
    }
    assert_eq!(app.snapshot().await, before);
    let response = accept_from(&app, "192.0.2.80", &token, "purple elephants juggle quietly").await;
    assert_eq!(response.status(), StatusCode::OK);
}

#[tokio::test]
async fn a_dotted_capital_i_opens_no_fresh_lockout_bucket_for_an_account() {
    let app = spawn_app_with(&[("FERROCAT_LOGIN_MAX_FAILURES", "3"), ("FERROCAT_LOGIN_LOCKOUT_SECONDS", "600")]).await;
    app.create_user("alice@example.com", "alice-password-123", app.workspace_id, "viewer").await;
    for _ in 0..3 {
        let response = client().post(app.at("/auth/login")).form(&[("username", "alice@example.com"), ("password", "wrong-password")]);
        assert_eq!(response.send().await.unwrap().status(), StatusCode::BAD_REQUEST);
    }
    let locked = client().post(app.at("/auth/login")).form(&[("username", "alice@example.com"), ("password", "alice-password-123")]);
    assert_eq!(locked.send().await.unwrap().status(), StatusCode::TOO_MANY_REQUESTS);
    // Postgres folds İ to i, Rust to i̇: the lookup and the lockout key must agree, so this
    // spelling, a bucket of its own, reaches no account.
    let c = client();
    let response = app.login(&c, "alİce@example.com", "alice-password-123").await;
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    assert!(response.headers().get("set-cookie").is_none());
    assert_eq!(c.get(app.at("/users/me")).send().await.unwrap().status(), StatusCode::UNAUTHORIZED);
}

/// A refusal decided from the head, before the body arrived, says `Connection: close` (and the
/// api closes): hyper cannot keep a connection with a body left unread, and a pooling client such
/// as the edge, not told, would send its next request into the closed socket and answer 502.
#[tokio::test]
async fn a_refusal_before_the_body_is_read_says_the_connection_closes() {
    use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
    let app = spawn_app().await;
    let addr = app.url.trim_start_matches("http://");
    let head = format!("POST /auth/login HTTP/1.1\r\nhost: {addr}\r\norigin: http://evil.example\r\ncontent-type: application/x-www-form-urlencoded\r\ncontent-length: 64\r\n\r\n");
    let mut socket = tokio::net::TcpStream::connect(addr).await.unwrap();
    socket.write_all(head.as_bytes()).await.unwrap();
    // The body never comes: the api must answer from the head alone, then close.
    let mut answer = Vec::new();
    tokio::time::timeout(std::time::Duration::from_secs(10), socket.read_to_end(&mut answer)).await.expect("the api closes the connection").unwrap();
    let answer = String::from_utf8_lossy(&answer).to_ascii_lowercase();
    assert!(answer.starts_with("http/1.1 403"), "{answer}");
    assert!(answer.contains("\r\nconnection: close\r\n"), "{answer}");

    // A request whose body was read keeps its connection.
    let body = format!("username={ADMIN_EMAIL}&password=wrong-password");
    let request = format!("POST /auth/login HTTP/1.1\r\nhost: {addr}\r\ncontent-type: application/x-www-form-urlencoded\r\ncontent-length: {}\r\n\r\n{body}", body.len());
    let mut socket = tokio::net::TcpStream::connect(addr).await.unwrap();
    socket.write_all(request.as_bytes()).await.unwrap();
    let mut answer = vec![0u8; 4096];
    let n = socket.read(&mut answer).await.unwrap();
    let answer = String::from_utf8_lossy(&answer[..n]).to_ascii_lowercase();
    assert!(answer.starts_with("http/1.1 400") || answer.starts_with("http/1.1 401"), "{answer}");
    assert!(!answer.contains("connection: close"), "{answer}");
}

#[tokio::test]
async fn cookie_authenticated_writes_from_another_origin_are_refused() {
    let app = spawn_app().await;
    let admin = app.admin().await;
    let before = app.snapshot().await;
    let body = json!({"name": "siem", "values": {"url": "https://siem.example"}});
    for (header, value) in [("origin", "http://evil.example"), ("origin", "null"), ("referer", "http://localhost:8080.evil.example/x")] {
        let response = admin.post(app.at("/variables")).header(header, value).json(&body).send().await.unwrap();
        assert_eq!(response.status(), StatusCode::FORBIDDEN, "{header}: {value}");
        assert!(detail(response).await.contains("cross-origin request refused"));
    }
    let response = admin.delete(app.at("/workflows/wf_anything")).header("origin", "http://evil.example").send().await.unwrap();
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
    // Login CSRF: the sign-in form too, even without a cookie.
    let response = client()
        .post(app.at("/auth/login"))
        .header("origin", "http://evil.example")
        .form(&[("username", ADMIN_EMAIL), ("password", ADMIN_PASSWORD)])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
    assert!(response.headers().get("set-cookie").is_none());
    assert_eq!(app.snapshot().await, before);

    // The console's own origin, a same-origin Referer, and non-browser clients (no Origin, no
    // Referer) pass; reads are not checked.
    let ok = admin.post(app.at("/variables")).header("origin", PUBLIC_ORIGIN).json(&body).send().await.unwrap();
    assert_eq!(ok.status(), StatusCode::CREATED);
    let ok = admin.post(app.at("/variables")).header("referer", format!("{PUBLIC_ORIGIN}/variables")).json(&json!({"name": "b", "values": {"a": 1}})).send().await.unwrap();
    assert_eq!(ok.status(), StatusCode::CREATED);
    let ok = admin.post(app.at("/variables")).json(&json!({"name": "c", "values": {"a": 1}})).send().await.unwrap();
    assert_eq!(ok.status(), StatusCode::CREATED);
    let read = admin.get(app.at("/variables")).header("origin", "http://evil.example").send().await.unwrap();
    assert_eq!(read.status(), StatusCode::OK);
    // A bearer (no cookie a browser would attach) is not affected.
    let login = client().post(app.at("/auth/login")).form(&[("username", ADMIN_EMAIL), ("password", ADMIN_PASSWORD)]).send().await.unwrap();
    let cookie = login.headers()["set-cookie"].to_str().unwrap().to_owned();
    let token = cookie.split(';').next().unwrap().split_once('=').unwrap().1.to_owned();
    let response = reqwest::Client::new()
        .post(app.at("/variables"))
        .bearer_auth(&token)
        .header("origin", "http://evil.example")
        .json(&json!({"name": "d", "values": {"a": 1}}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::CREATED);
}

#[tokio::test]
async fn webhook_settings_must_be_sent_as_json() {
    let app = spawn_app().await;
    let admin = app.admin().await;
    let wf = app.committed_workflow(&admin, ECHO_WORKFLOW).await;
    let path = app.at(&format!("/workflows/{wf}/webhook"));
    assert_eq!(admin.post(&path).json(&json!({})).send().await.unwrap().status(), StatusCode::OK);
    let before = app.snapshot().await;
    let settings = r#"{"allowlisted_cidrs":["10.0.0.0/8"],"include_headers":true,"methods":["GET","POST"]}"#;
    for content_type in ["text/plain", "application/x-www-form-urlencoded"] {
        let response = admin.post(&path).header("content-type", content_type).body(settings).send().await.unwrap();
        assert_eq!(response.status(), StatusCode::BAD_REQUEST, "{content_type}");
        assert!(detail(response).await.contains("application/json"));
    }
    assert_eq!(app.snapshot().await, before);
    let response = admin.post(&path).header("content-type", "application/json; charset=utf-8").body(settings).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
}

#[tokio::test]
async fn sessions_end_after_idling_and_are_refreshed_by_use_without_a_write_per_request() {
    let app = spawn_app_with(&[("FERROCAT_SESSION_IDLE_SECONDS", "3600")]).await;
    let admin = app.admin().await;
    // Used two minutes ago: this request refreshes it.
    sqlx::query("UPDATE sessions SET last_seen_at = now() - interval '2 minutes'").execute(&app.db).await.unwrap();
    assert_eq!(admin.get(app.at("/users/me")).send().await.unwrap().status(), StatusCode::OK);
    let refreshed: f64 = sqlx::query_scalar("SELECT extract(epoch FROM now() - last_seen_at)::float8 FROM sessions").fetch_one(&app.db).await.unwrap();
    assert!(refreshed < 30.0, "refreshed {refreshed}s ago");
    // Used just now: the next request writes nothing.
    let seen: chrono::DateTime<chrono::Utc> = sqlx::query_scalar("SELECT last_seen_at FROM sessions").fetch_one(&app.db).await.unwrap();
    assert_eq!(admin.get(app.at("/users/me")).send().await.unwrap().status(), StatusCode::OK);
    let again: chrono::DateTime<chrono::Utc> = sqlx::query_scalar("SELECT last_seen_at FROM sessions").fetch_one(&app.db).await.unwrap();
    assert_eq!(seen, again);
    // Idle for longer than the setting: over, though its absolute expiry is days away.
    sqlx::query("UPDATE sessions SET last_seen_at = now() - interval '61 minutes'").execute(&app.db).await.unwrap();
    let response = admin.get(app.at("/users/me")).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(detail(response).await, "session expired or invalid");
}

#[tokio::test]
async fn changing_the_password_needs_the_current_one_and_signs_out_every_other_session() {
    let app = spawn_app().await;
    app.create_user("ana@example.com", "ana-first-password", app.workspace_id, "editor").await;
    let here = client();
    let elsewhere = client();
    for c in [&here, &elsewhere] {
        assert_eq!(app.login(c, "ana@example.com", "ana-first-password").await.status(), StatusCode::NO_CONTENT);
    }
    let change = |current: &str, new: &str| {
        here.post(app.at("/users/me/password")).json(&json!({"current_password": current, "new_password": new})).send()
    };
    let before = app.snapshot().await;
    let wrong = change("not-my-password", "purple elephants juggle quietly").await.unwrap();
    assert_eq!(wrong.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(wrong.json::<Value>().await.unwrap()["errors"][0]["loc"], "current_password");
    let weak = change("ana-first-password", "aaaaaaaaaaaaaaaa").await.unwrap();
    assert_eq!(weak.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(weak.json::<Value>().await.unwrap()["errors"][0]["loc"], "new_password");
    assert_eq!(app.snapshot().await, before, "refused changes change nothing");

    assert_eq!(change("ana-first-password", "purple elephants juggle quietly").await.unwrap().status(), StatusCode::NO_CONTENT);
    assert_eq!(here.get(app.at("/users/me")).send().await.unwrap().status(), StatusCode::OK, "this session stays");
    assert_eq!(elsewhere.get(app.at("/users/me")).send().await.unwrap().status(), StatusCode::UNAUTHORIZED, "others end");
    assert_eq!(app.login(&client(), "ana@example.com", "ana-first-password").await.status(), StatusCode::BAD_REQUEST);
    assert_eq!(app.login(&client(), "ana@example.com", "purple elephants juggle quietly").await.status(), StatusCode::NO_CONTENT);
    // Nobody signed in changes nothing.
    let anonymous = client().post(app.at("/users/me/password")).json(&json!({"current_password": "x", "new_password": "y"}));
    assert_eq!(anonymous.send().await.unwrap().status(), StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn wrong_current_passwords_count_against_the_sign_in_lockout() {
    let app = spawn_app_with(&[("FERROCAT_LOGIN_MAX_FAILURES", "2"), ("FERROCAT_LOGIN_LOCKOUT_SECONDS", "600")]).await;
    let admin = app.admin().await;
    for _ in 0..2 {
        let response = admin.post(app.at("/users/me/password")).json(&json!({"current_password": "guess-guess", "new_password": "purple elephants juggle quietly"}));
        assert_eq!(response.send().await.unwrap().status(), StatusCode::UNPROCESSABLE_ENTITY);
    }
    let response = admin.post(app.at("/users/me/password")).json(&json!({"current_password": ADMIN_PASSWORD, "new_password": "purple elephants juggle quietly"}));
    assert_eq!(response.send().await.unwrap().status(), StatusCode::TOO_MANY_REQUESTS);
}
