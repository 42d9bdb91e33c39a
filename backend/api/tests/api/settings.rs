//! The organisation's sign-in rules: superusers only, checked whole (no change may lock
//! everyone out), and enforced at password sign-in with a break-glass account.

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::common::{ADMIN_EMAIL, ADMIN_PASSWORD, client, spawn_app};

async fn patch(app: &crate::common::TestApp, admin: &reqwest::Client, body: Value, expect: StatusCode) -> Value {
    let response = admin.patch(app.at("/settings/auth")).json(&body).send().await.unwrap();
    let status = response.status();
    let body: Value = response.json().await.unwrap();
    assert_eq!(status, expect, "{body}");
    body
}

#[tokio::test]
async fn sign_in_rules_are_for_superusers_checked_whole_and_enforced_with_a_break_glass_account() {
    let app = spawn_app().await;
    let admin = app.admin().await;
    let defaults: Value = admin.get(app.at("/settings/auth")).send().await.unwrap().json().await.unwrap();
    assert_eq!(defaults["auth_basic_enabled"], true);
    assert_eq!(defaults["auth_sso_enforced"], false);
    assert_eq!(defaults["auth_jit_provisioning"], "off");
    let editor = app.user("editor@example.com", app.workspace_id, "editor").await;
    assert_eq!(editor.get(app.at("/settings/auth")).send().await.unwrap().status(), StatusCode::FORBIDDEN);
    assert_eq!(editor.patch(app.at("/settings/auth")).json(&json!({"auth_sso_enforced": true})).send().await.unwrap().status(), StatusCode::FORBIDDEN);

    // Nothing that would lock everyone out.
    let none = patch(&app, &admin, json!({"auth_basic_enabled": false, "auth_oidc_enabled": false}), StatusCode::UNPROCESSABLE_ENTITY).await;
    assert!(none["detail"].as_str().unwrap().contains("at least one sign-in method"), "{none}");
    let no_glass = patch(&app, &admin, json!({"auth_sso_enforced": true}), StatusCode::UNPROCESSABLE_ENTITY).await;
    assert_eq!(no_glass["errors"][0]["loc"], "auth_break_glass_email");
    let not_super = patch(&app, &admin, json!({"auth_sso_enforced": true, "auth_break_glass_email": "editor@example.com"}), StatusCode::UNPROCESSABLE_ENTITY).await;
    assert!(not_super["detail"].as_str().unwrap().contains("not an active superuser"), "{not_super}");
    let sso_off = patch(&app, &admin, json!({"auth_sso_enforced": true, "auth_oidc_enabled": false, "auth_break_glass_email": ADMIN_EMAIL}), StatusCode::UNPROCESSABLE_ENTITY).await;
    assert!(sso_off["detail"].as_str().unwrap().contains("needs OpenID Connect or SAML"), "{sso_off}");
    let bad_domain = patch(&app, &admin, json!({"auth_allowed_email_domains": ["example.com", "not a domain"]}), StatusCode::UNPROCESSABLE_ENTITY).await;
    assert!(bad_domain["detail"].as_str().unwrap().contains("not a domain"), "{bad_domain}");
    let jit = patch(&app, &admin, json!({"auth_jit_provisioning": "allowed_domains"}), StatusCode::UNPROCESSABLE_ENTITY).await;
    assert!(jit["detail"].as_str().unwrap().contains("at least one domain"), "{jit}");
    patch(&app, &admin, json!({"auth_default_role": "owner"}), StatusCode::UNPROCESSABLE_ENTITY).await;
    patch(&app, &admin, json!({"auth_sso_enforced": true, "surprise": 1}), StatusCode::UNPROCESSABLE_ENTITY).await;
    let unchanged: Value = admin.get(app.at("/settings/auth")).send().await.unwrap().json().await.unwrap();
    assert_eq!(unchanged["auth_sso_enforced"], false, "refused changes change nothing");

    let saved = patch(
        &app,
        &admin,
        json!({"auth_sso_enforced": true, "auth_break_glass_email": ADMIN_EMAIL, "auth_allowed_email_domains": ["@Example.COM", "soc.example.org"], "auth_jit_provisioning": "allowed_domains", "auth_default_role": "editor"}),
        StatusCode::OK,
    )
    .await;
    assert_eq!(saved["auth_allowed_email_domains"], json!(["example.com", "soc.example.org"]));
    assert_eq!(saved["auth_default_role"], "editor");

    // Password sign-in: refused to everyone but the break-glass account, and only once the
    // password is right (a wrong one is still just wrong).
    let login = |email: &'static str, password: &'static str| {
        let app = &app;
        async move { client().post(app.at("/auth/login")).form(&[("username", email), ("password", password)]).send().await.unwrap() }
    };
    let refused = login("editor@example.com", "another-long-password").await;
    assert_eq!(refused.status(), StatusCode::FORBIDDEN);
    assert!(refused.text().await.unwrap().contains("sign in with single sign-on"));
    assert_eq!(login("editor@example.com", "wrong password").await.status(), StatusCode::BAD_REQUEST);
    assert_eq!(login(ADMIN_EMAIL, ADMIN_PASSWORD).await.status(), StatusCode::NO_CONTENT);
    // The break-glass account cannot be taken away while it is the way in.
    patch(&app, &admin, json!({"auth_break_glass_email": null}), StatusCode::UNPROCESSABLE_ENTITY).await;
    patch(&app, &admin, json!({"auth_sso_enforced": false}), StatusCode::OK).await;
    assert_eq!(login("editor@example.com", "another-long-password").await.status(), StatusCode::NO_CONTENT);
}
