//! Accounts through the edge, as the security review attacked them (findings 3, 4 and 11): a
//! workspace admin cannot use `POST /api/invitations/accept` as a password oracle against the
//! superuser (sign-in lockout, invitation burned after five wrong passwords), an account made by
//! invitation is unverified, and a cookie-authenticated write from another origin is refused.

mod common;

use serde_json::{Value, json};

use common::{ADMIN_EMAIL, ADMIN_PASSWORD, Stack, json_of, login};

fn jar() -> reqwest::Client {
    reqwest::Client::builder().cookie_store(true).build().unwrap()
}

async fn accept(api: &str, token: &str, password: &str) -> (u16, Value) {
    let body = json!({"token": token, "password": password});
    json_of(reqwest::Client::new().post(format!("{api}/invitations/accept")).json(&body).send().await.unwrap()).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn invitations_are_no_password_oracle_and_cross_origin_writes_are_refused() {
    let stack = tokio::task::spawn_blocking(Stack::up).await.unwrap();
    let api = format!("{}/api", stack.url);
    let (admin, _) = login(&stack.url).await;

    // The organisation admin makes bob's workspace (no SQL needed) and invites bob as its admin.
    let (status, workspace) = json_of(admin.post(format!("{api}/workspaces")).json(&json!({"name": "Bob's"})).send().await.unwrap()).await;
    assert_eq!(status, 201, "{workspace}");
    let wb = workspace["id"].as_str().unwrap().to_owned();
    let invite = |http: reqwest::Client, email: &'static str, role: &'static str| {
        let url = format!("{api}/workspaces/{wb}/invitations");
        async move {
            let (status, invitation) = json_of(http.post(url).json(&json!({"email": email, "role": role})).send().await.unwrap()).await;
            assert_eq!(status, 201, "{invitation}");
            invitation["token"].as_str().unwrap().to_owned()
        }
    };
    let token = invite(admin.clone(), "bob@example.com", "admin").await;
    let (status, joined) = accept(&api, &token, "bob-chose-this-passphrase").await;
    assert_eq!(status, 200, "{joined}");
    assert_eq!(joined["email_verified"], false, "an account made by invitation is unverified");
    let bob = jar();
    let response = bob.post(format!("{api}/auth/login")).form(&[("username", "bob@example.com"), ("password", "bob-chose-this-passphrase")]);
    assert_eq!(response.send().await.unwrap().status().as_u16(), 204);

    // Bob invites the superuser's address and guesses: five wrong passwords burn the invitation
    // and lock the account, at /auth/login too.
    let token = invite(bob.clone(), "ADMIN@example.com", "viewer").await;
    for guess in 1..=5 {
        let (status, body) = accept(&api, &token, &format!("guess-number-{guess}")).await;
        assert_eq!(status, 401, "guess {guess}: {body}");
    }
    let (status, _) = accept(&api, &token, ADMIN_PASSWORD).await;
    assert_eq!(status, 404, "the invitation is burned");
    let token = invite(bob.clone(), "ADMIN@example.com", "viewer").await;
    let (status, body) = accept(&api, &token, ADMIN_PASSWORD).await;
    assert_eq!((status, body["detail"].as_str()), (429, Some("LOGIN_TOO_MANY_ATTEMPTS")));
    let response = jar().post(format!("{api}/auth/login")).form(&[("username", ADMIN_EMAIL), ("password", ADMIN_PASSWORD)]);
    assert_eq!(response.send().await.unwrap().status().as_u16(), 429);

    // A same-site page cannot drive bob's session: Origin must be the public URL's.
    let body = json!({"name": "siem", "values": {"url": "https://siem.example"}});
    let forged = bob.post(format!("{api}/variables?workspace_id={wb}")).header("origin", "http://evil.example").json(&body);
    let (status, refusal) = json_of(forged.send().await.unwrap()).await;
    assert_eq!(status, 403, "{refusal}");
    let own = bob.post(format!("{api}/variables?workspace_id={wb}")).header("origin", stack.url.as_str()).json(&body);
    assert_eq!(own.send().await.unwrap().status().as_u16(), 201);
}
