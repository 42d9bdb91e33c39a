//! Single sign-on into the console and api through a real OpenID Connect provider
//! (`ferrocat_test_support::oidc::Idp`): the provider's answer comes back to
//! `/auth/oidc/callback` and becomes the same session a password gives, landing on the page the
//! sign-in started from; an answer in another browser, a replay, an unverified email and the
//! organisation's rules are refused, and nobody is signed in.

use reqwest::{Client, StatusCode, header};
use serde_json::{Value, json};

use ferrocat_test_support::oidc::Idp;

use crate::common::{ADMIN_EMAIL, TestApp, browser, location, spawn_app_with, sso_refusal as refusal};

async fn app_with(idp: &Idp) -> TestApp {
    spawn_app_with(&[
        ("FERROCAT_OIDC_ISSUER", idp.url.as_str()),
        ("FERROCAT_OIDC_CLIENT_ID", "ferrocat-test"),
        ("FERROCAT_OIDC_CLIENT_SECRET", "idp-client-secret-do-not-show"),
        ("FERROCAT_OIDC_NAME", "Test IdP"),
    ])
    .await
}

/// Starts a sign-in in `browser`; the provider's answer (the callback's query) for `sub`.
async fn to_provider_and_back(app: &TestApp, idp: &Idp, browser: &Client, sub: &str, return_to: &str) -> String {
    let started = browser.get(app.at("/auth/oidc/login")).query(&[("return_to", return_to)]).send().await.unwrap();
    assert_eq!(started.status(), StatusCode::SEE_OTHER, "{}", started.text().await.unwrap());
    let answer = idp.sign_in(&location(&started), sub).await;
    assert!(answer.starts_with("http://localhost:8080/api/auth/oidc/callback?"), "the provider answers the public callback: {answer}");
    answer.split_once('?').unwrap().1.to_owned()
}

async fn callback(app: &TestApp, browser: &Client, query: &str) -> reqwest::Response {
    browser.get(app.at(&format!("/auth/oidc/callback?{query}"))).send().await.unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_console_signs_in_through_the_provider_and_lands_where_it_started() {
    let idp = Idp::start().await;
    let app = app_with(&idp).await;
    let info: Value = Client::new().get(app.at("/info")).send().await.unwrap().json().await.unwrap();
    assert_eq!(info["oidc_name"], "Test IdP", "the sign-in page learns the button's name");

    idp.set_user("admin-sub", json!({"email": ADMIN_EMAIL, "email_verified": true})).await;
    let browser = browser();
    let query = to_provider_and_back(&app, &idp, &browser, "admin-sub", "/workspaces/ws_x/cases?status=new").await;
    let signed_in = callback(&app, &browser, &query).await;
    assert_eq!(signed_in.status(), StatusCode::SEE_OTHER, "{}", signed_in.text().await.unwrap());
    assert_eq!(location(&signed_in), "/workspaces/ws_x/cases?status=new");
    let me: Value = browser.get(app.at("/users/me")).send().await.unwrap().json().await.unwrap();
    assert_eq!(me["email"], ADMIN_EMAIL, "the session is the api's own");

    // The same answer again signs nobody in.
    let other = self::browser();
    let replayed = callback(&app, &other, &query).await;
    assert!(refusal(&replayed).contains("already used"));
    assert!(replayed.headers().get_all(header::SET_COOKIE).iter().all(|c| !c.to_str().unwrap().starts_with("ferrocat_session=")));
    // Anywhere else than this site is not a place to return to.
    let started = browser.get(app.at("/auth/oidc/login")).query(&[("return_to", "//evil.example.com/x")]).send().await.unwrap();
    let answer = idp.sign_in(&location(&started), "admin-sub").await;
    let back = callback(&app, &browser, answer.split_once('?').unwrap().1).await;
    assert_eq!(location(&back), "/");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn another_browser_an_unverified_email_and_the_organisations_rules_sign_nobody_in() {
    let idp = Idp::start().await;
    let app = app_with(&idp).await;
    idp.set_user("admin-sub", json!({"email": ADMIN_EMAIL, "email_verified": true})).await;
    // Started in one browser, answered in another (login CSRF).
    let query = to_provider_and_back(&app, &idp, &browser(), "admin-sub", "/").await;
    let stranger = browser();
    let refused = callback(&app, &stranger, &query).await;
    assert!(refusal(&refused).contains("started in another browser"));
    assert_eq!(stranger.get(app.at("/users/me")).send().await.unwrap().status(), StatusCode::UNAUTHORIZED);

    idp.set_user("mallory", json!({"email": ADMIN_EMAIL, "email_verified": false})).await;
    let b = browser();
    let query = to_provider_and_back(&app, &idp, &b, "mallory", "/").await;
    let refused = callback(&app, &b, &query).await;
    assert!(refusal(&refused).contains("has not verified"));

    // The provider says no.
    let b = browser();
    let started = b.get(app.at("/auth/oidc/login")).send().await.unwrap();
    let denied = idp.deny(&location(&started)).await;
    let refused = callback(&app, &b, denied.split_once('?').unwrap().1).await;
    assert_eq!(refusal(&refused), "Test IdP did not sign you in (access_denied)");
    // A made-up answer puts no words of its own on the sign-in page.
    let forged = callback(&app, &browser(), "error=x&error_description=Call+0800+now+to+unlock+your+account").await;
    assert_eq!(refusal(&forged), "Test IdP did not sign you in (an error)");

    // The organisation turns OpenID Connect off: nobody starts through it.
    let admin = sqlx::query_scalar::<_, uuid::Uuid>("SELECT id FROM users WHERE email = $1").bind(ADMIN_EMAIL).fetch_one(&app.db).await.unwrap();
    let rules = ferrocat_app::auth_settings::Changes { oidc_enabled: Some(false), ..Default::default() };
    ferrocat_app::auth_settings::update(&app.db, admin, rules).await.unwrap();
    let off = browser().get(app.at("/auth/oidc/login")).send().await.unwrap();
    assert_eq!(off.status(), StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn without_a_provider_the_sign_in_routes_say_so() {
    let app = crate::common::spawn_app().await;
    let response = browser().get(app.at("/auth/oidc/login")).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::NOT_FOUND);
    assert!(response.text().await.unwrap().contains("no single sign-on provider is configured"));
    let info: Value = Client::new().get(app.at("/info")).send().await.unwrap().json().await.unwrap();
    assert_eq!(info["oidc_name"], Value::Null);
}
