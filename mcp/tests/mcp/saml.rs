//! SAML single sign-on on the MCP sign-in page through a real identity provider
//! (`ferrocat_test_support::saml::SamlIdp`, SimpleSAMLphp), configured through the same use
//! case as the api's `/settings/saml`: the IDE's authorization goes through the IdP, its signed
//! answer posted to `/authorize/saml/acs` leads to the consent page and a token for MCP.

use reqwest::{StatusCode, header};
use serde_json::{Value, json};

use ferrocat_app::sso::saml::{self, IdpChanges, SpUrls};
use ferrocat_test_support::saml::{KnownSp, SamlIdp, User};

use crate::common::{ADMIN_EMAIL, TestMcp, browser, location_params, pkce, request_id, spawn};

/// Configures `idp` as the organisation's, and turns SAML sign-in on.
async fn configure(app: &TestMcp, idp: &SamlIdp) {
    let admin: uuid::Uuid = sqlx::query_scalar("SELECT id FROM users WHERE email = $1").bind(ADMIN_EMAIL).fetch_one(&app.db).await.unwrap();
    let changes = IdpChanges { metadata_url: Some(idp.metadata_url()), name: Some("Test SAML".into()), ..IdpChanges::default() };
    saml::configure(&app.db, &SpUrls::new(&app.url), admin, changes).await.unwrap();
    let rules = ferrocat_app::auth_settings::Changes { saml_enabled: Some(true), ..Default::default() };
    ferrocat_app::auth_settings::update(&app.db, admin, rules).await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_ide_signs_in_through_saml_and_gets_a_token_for_mcp() {
    let app = spawn().await;
    let urls = SpUrls::new(&app.url);
    let idp = SamlIdp::start(&[KnownSp::new(&urls.entity_id, &[&urls.console_acs, &urls.mcp_acs])], &[User::new("admin", ADMIN_EMAIL)]).await;
    let client_id = app.register(&["http://127.0.0.1/callback"]).await;
    let (verifier, challenge) = pkce();
    let b = browser();
    let resource = app.resource();
    let page = app.authorize(&b, &app.authorize_params(&client_id, &challenge, &resource)).await.text().await.unwrap();
    assert!(!page.contains("/authorize/saml"), "not offered before it is configured: {page}");
    configure(&app, &idp).await;

    let page = app.authorize(&b, &app.authorize_params(&client_id, &challenge, &resource)).await.text().await.unwrap();
    assert!(page.contains("Sign in with Test SAML") && page.contains(r#"action="/authorize/saml""#), "{page}");
    let response = b.post(app.at("/authorize/saml")).form(&[("request_id", request_id(&page))]).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::SEE_OTHER, "{}", response.text().await.unwrap());
    let cookie = response.headers().get(header::SET_COOKIE).unwrap().to_str().unwrap().to_owned();
    assert!(cookie.contains("HttpOnly") && cookie.contains("Path=/authorize/saml/acs"), "{cookie}");
    let (location, _) = location_params(&response);
    assert!(location.starts_with(&format!("{}/saml2/idp/SSOService.php?SAMLRequest=", idp.url)), "{location}");

    let answer = idp.sign_in(&location, "admin", "admin-pass").await;
    assert_eq!(answer.acs, app.at("/authorize/saml/acs"), "the IdP answers the MCP page's own ACS");
    let consent = b.post(&answer.acs).form(&answer.form()).send().await.unwrap();
    assert_eq!(consent.status(), StatusCode::OK);
    let consent = consent.text().await.unwrap();
    assert!(consent.contains("Allow access?") && consent.contains(ADMIN_EMAIL), "{consent}");
    // The answer works once.
    let replayed = b.post(&answer.acs).form(&answer.form()).send().await.unwrap();
    assert_eq!(replayed.status(), StatusCode::BAD_REQUEST);
    assert!(replayed.text().await.unwrap().contains("already used"));

    let code = app.allow(&b, &consent).await;
    let response = app.exchange(&client_id, &code, &verifier).await;
    assert_eq!(response.status(), StatusCode::OK);
    let token: Value = response.json().await.unwrap();
    let access = token["access_token"].as_str().unwrap();
    let session = app.initialize(access).await;
    let tools = app.legacy(access, &session, 2, "tools/list", json!({})).await;
    assert!(tools.message["result"]["tools"].as_array().is_some_and(|t| !t.is_empty()), "{tools:?}");

    // An answer meant for the console is no answer here, and a sign-in started in another
    // browser is refused.
    let page = app.authorize(&b, &app.authorize_params(&client_id, &challenge, &resource)).await.text().await.unwrap();
    let response = browser().post(app.at("/authorize/saml")).form(&[("request_id", request_id(&page))]).send().await.unwrap();
    let (location, _) = location_params(&response);
    let answer = idp.sign_in(&location, "admin", "admin-pass").await;
    let stranger = browser();
    let refused = stranger.post(&answer.acs).form(&answer.form()).send().await.unwrap();
    assert_eq!(refused.status(), StatusCode::BAD_REQUEST);
    assert!(refused.text().await.unwrap().contains("started in another browser"));
}
