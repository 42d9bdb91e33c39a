//! SAML single sign-on into the console and api against a real identity provider
//! (`ferrocat_test_support::saml::SamlIdp`, SimpleSAMLphp): configured by URL or XML through
//! `/settings/saml`, the IdP's signed answer posted to `/auth/saml/acs` becomes the same session
//! a password gives. Unsigned, SHA-1, tampered, wrong-audience, wrong-recipient, expired,
//! replayed and unsolicited answers, answers in another browser, metadata without a signing
//! certificate and the organisation's rules all sign nobody in.

use reqwest::{Client, StatusCode, header};
use serde_json::{Value, json};

use ferrocat_test_support::saml::{self, Answer, KnownSp, RSA_SHA1, SamlIdp, User};

use crate::common::{ADMIN_EMAIL, TestApp, browser, location, logs, spawn_app, sso_refusal as refusal};

/// The service provider's URLs, from the test api's public URL (http://localhost:8080).
const ENTITY_ID: &str = "http://localhost:8080/api/auth/saml/metadata";
const CONSOLE_ACS: &str = "http://localhost:8080/api/auth/saml/acs";
const MCP_ACS: &str = "http://localhost:8080/authorize/saml/acs";

/// This service provider as the IdP knows it, answered the usual way.
fn ours() -> KnownSp {
    KnownSp::new(ENTITY_ID, &[CONSOLE_ACS, MCP_ACS])
}

fn users() -> Vec<User> {
    vec![User::new("admin", ADMIN_EMAIL), User::new("alice", "alice@example.com"), User::new("bob", "bob@example.com"), User::new("eve", "eve@evil.test")]
}

/// Points the api at `idp` (by its metadata URL) and turns SAML sign-in on.
async fn configure(app: &TestApp, admin: &Client, idp: &SamlIdp) {
    let body = json!({"saml_idp_metadata_url": idp.metadata_url(), "saml_idp_name": "Test SAML", "saml_enabled": true});
    let response = admin.patch(app.at("/settings/saml")).json(&body).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::OK, "{}", response.text().await.unwrap());
}

/// Starts a sign-in in `browser`; where the api sends it (the IdP, with an AuthnRequest).
async fn start(app: &TestApp, browser: &Client, return_to: &str) -> String {
    let started = browser.get(app.at("/auth/saml/login")).query(&[("return_to", return_to)]).send().await.unwrap();
    assert_eq!(started.status(), StatusCode::SEE_OTHER, "{}", started.text().await.unwrap());
    location(&started)
}

async fn post(app: &TestApp, browser: &Client, answer: &Answer) -> reqwest::Response {
    browser.post(app.at("/auth/saml/acs")).form(&answer.form()).send().await.unwrap()
}

fn logged(needle: &str) -> bool {
    String::from_utf8_lossy(&logs().lock().unwrap()).contains(needle)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_console_signs_in_through_saml_configured_from_the_api_and_lands_where_it_started() {
    let app = spawn_app().await;
    let admin = app.admin().await;
    let settings: Value = admin.get(app.at("/settings/saml")).send().await.unwrap().json().await.unwrap();
    assert_eq!(settings["saml_idp_configured"], false);
    assert_eq!((settings["saml_sp_entity_id"].as_str(), settings["saml_sp_acs_url"].as_str()), (Some(ENTITY_ID), Some(CONSOLE_ACS)));
    assert_eq!(settings["saml_mcp_acs_url"], MCP_ACS);
    // Nothing to turn on yet.
    let early = admin.patch(app.at("/settings/saml")).json(&json!({"saml_enabled": true})).send().await.unwrap();
    assert_eq!(early.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(early.text().await.unwrap().contains("configure the SAML identity provider first"));
    // The service provider's metadata, for the IdP's administrator: our own URLs only.
    let metadata = Client::new().get(app.at("/auth/saml/metadata")).send().await.unwrap();
    assert_eq!(metadata.headers()[header::CONTENT_TYPE], "application/samlmetadata+xml");
    let metadata = metadata.text().await.unwrap();
    assert!(metadata.contains(&format!(r#"entityID="{ENTITY_ID}""#)) && metadata.contains(CONSOLE_ACS) && metadata.contains(MCP_ACS), "{metadata}");

    let idp = SamlIdp::start(&[ours()], &users()).await;
    configure(&app, &admin, &idp).await;
    let settings: Value = admin.get(app.at("/settings/saml")).send().await.unwrap().json().await.unwrap();
    assert_eq!(settings["saml_idp_entity_id"], idp.metadata_url(), "SimpleSAMLphp names itself by its metadata URL");
    assert_eq!(settings["saml_idp_sso_url"], format!("{}/saml2/idp/SSOService.php", idp.url));
    assert_eq!((settings["saml_enabled"].as_bool(), settings["saml_idp_metadata_url"].as_str()), (Some(true), Some(idp.metadata_url().as_str())));
    let info: Value = Client::new().get(app.at("/info")).send().await.unwrap().json().await.unwrap();
    assert_eq!(info["saml_name"], "Test SAML", "the sign-in page learns the button's label");
    assert!(info["auth_allowed_types"].as_array().unwrap().contains(&json!("saml")));

    let b = browser();
    let request_url = start(&app, &b, "/workspaces/ws_x/cases?status=new").await;
    assert!(request_url.starts_with(&format!("{}/saml2/idp/SSOService.php?SAMLRequest=", idp.url)), "{request_url}");
    let (request, _) = saml::request_of(&request_url);
    let id = request.split(" ID=\"").nth(1).unwrap().split('"').next().unwrap();
    assert!(id.starts_with('_') && id.len() == 65, "a 256-bit request id, not samael's 32-bit one: {id}");
    assert!(request.contains(&format!(r#"AssertionConsumerServiceURL="{CONSOLE_ACS}""#)) && request.contains(ENTITY_ID), "{request}");
    let answer = idp.sign_in(&request_url, "admin", "admin-pass").await;
    assert_eq!(answer.acs, CONSOLE_ACS, "the IdP answers the public ACS");
    let signed_in = post(&app, &b, &answer).await;
    assert_eq!(signed_in.status(), StatusCode::SEE_OTHER, "{}", signed_in.text().await.unwrap());
    assert_eq!(location(&signed_in), "/workspaces/ws_x/cases?status=new");
    let me: Value = b.get(app.at("/users/me")).send().await.unwrap().json().await.unwrap();
    assert_eq!(me["email"], ADMIN_EMAIL, "the session is the api's own");

    // The same answer again, in the same browser or another: spent.
    assert!(refusal(&post(&app, &b, &answer).await).contains("already used"));
    assert!(refusal(&post(&app, &browser(), &answer).await).contains("already used"));
    // An answer nobody asked for (IdP-initiated, or a made-up RelayState).
    let unsolicited = Answer { relay_state: "made-up".into(), ..answer.clone() };
    assert!(refusal(&post(&app, &browser(), &unsolicited).await).contains("not started here"));
    let bare = browser().post(app.at("/auth/saml/acs")).form(&[("SAMLResponse", answer.saml_response.as_str())]).send().await.unwrap();
    assert!(refusal(&bare).contains("no SAMLResponse or RelayState"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tampered_misdirected_and_foreign_answers_sign_nobody_in() {
    let app = spawn_app().await;
    let admin = app.admin().await;
    // The IdP also knows another service provider, whose answers are signed for it.
    let other = KnownSp::new("https://other.example.com/sp", &[CONSOLE_ACS]);
    let idp = SamlIdp::start(&[ours(), other], &users()).await;
    configure(&app, &admin, &idp).await;
    app.create_user("alice@example.com", "alice-password-long", app.workspace_id, "viewer").await;

    // Alice's answer, changed to say she is the admin: the signature no longer matches.
    let b = browser();
    let answer = idp.sign_in(&start(&app, &b, "/").await, "alice", "alice-pass").await;
    let forged = answer.tampered(|xml| xml.replace("alice@example.com", ADMIN_EMAIL));
    assert!(forged.xml().contains(ADMIN_EMAIL));
    assert!(refusal(&post(&app, &b, &forged).await).contains("failed verification"));
    assert!(logged("xmlsec reported an error"), "xmlsec's reports go to tracing, not stderr");

    // Started in one browser, answered in another (login CSRF).
    let answer = idp.sign_in(&start(&app, &browser(), "/").await, "alice", "alice-pass").await;
    let stranger = browser();
    assert!(refusal(&post(&app, &stranger, &answer).await).contains("started in another browser"));
    assert_eq!(stranger.get(app.at("/users/me")).send().await.unwrap().status(), StatusCode::UNAUTHORIZED);

    // Our request, asked for as the other service provider: the IdP signs an answer whose
    // audience is the other one.
    let b = browser();
    let (request, relay) = saml::request_of(&start(&app, &b, "/").await);
    let as_other = request.replace(ENTITY_ID, "https://other.example.com/sp");
    let answer = idp.sign_in(&saml::request_url(&format!("{}/saml2/idp/SSOService.php", idp.url), &as_other, &relay), "alice", "alice-pass").await;
    assert!(answer.xml().contains("https://other.example.com/sp"));
    assert!(refusal(&post(&app, &b, &answer).await).contains("failed verification"));
    assert!(logged("AudienceRequirement"));

    // Our request, answered to the MCP page's ACS, then posted to the console's.
    let b = browser();
    let (request, relay) = saml::request_of(&start(&app, &b, "/").await);
    let elsewhere = request.replace(CONSOLE_ACS, MCP_ACS);
    let answer = idp.sign_in(&saml::request_url(&format!("{}/saml2/idp/SSOService.php", idp.url), &elsewhere, &relay), "alice", "alice-pass").await;
    assert_eq!(answer.acs, MCP_ACS);
    assert!(refusal(&post(&app, &b, &answer).await).contains("failed verification"));
    assert!(logged("destination does not match"));
    assert_eq!(b.get(app.at("/users/me")).send().await.unwrap().status(), StatusCode::UNAUTHORIZED);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unsigned_sha1_and_expired_answers_are_refused_and_an_assertion_signed_alone_is_enough() {
    let app = spawn_app().await;
    let admin = app.admin().await;
    let variants: [(&str, KnownSp, bool); 4] = [
        ("unsigned", KnownSp { sign_response: false, sign_assertion: false, ..ours() }, false),
        ("rsa-sha1", KnownSp { signature_algorithm: RSA_SHA1, ..ours() }, false),
        ("expired", KnownSp { assertion_lifetime: -600, ..ours() }, false),
        ("assertion signed only", KnownSp { sign_response: false, ..ours() }, true),
    ];
    for (what, sp, accepted) in variants {
        let idp = SamlIdp::start(&[sp], &users()).await;
        configure(&app, &admin, &idp).await;
        let b = browser();
        let answer = idp.sign_in(&start(&app, &b, "/").await, "admin", "admin-pass").await;
        let response = post(&app, &b, &answer).await;
        if accepted {
            assert_eq!((what, location(&response)), (what, "/".to_owned()));
            assert_eq!(b.get(app.at("/users/me")).send().await.unwrap().status(), StatusCode::OK, "{what}");
        } else {
            assert!(refusal(&response).contains("failed verification"), "{what}");
            assert_eq!(b.get(app.at("/users/me")).send().await.unwrap().status(), StatusCode::UNAUTHORIZED, "{what}");
        }
    }
    assert!(logged("Condition expired at"), "the expired assertion was refused for its age");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metadata_the_service_provider_cannot_trust_is_refused_at_configuration() {
    let app = spawn_app().await;
    let admin = app.admin().await;
    let idp = SamlIdp::start(&[ours()], &users()).await;
    let metadata = idp.metadata().await;
    // Without its KeyDescriptors samael would check no signature at all.
    let mut keyless = metadata.clone();
    while let (Some(from), Some(to)) = (keyless.find("<md:KeyDescriptor"), keyless.find("</md:KeyDescriptor>")) {
        keyless.replace_range(from..to + "</md:KeyDescriptor>".len(), "");
    }
    let patch = |body: Value| admin.patch(app.at("/settings/saml")).json(&body).send();
    let refused = patch(json!({"saml_idp_metadata": keyless})).await.unwrap();
    assert_eq!(refused.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(refused.text().await.unwrap().contains("no signing certificate"));
    for (body, says) in [
        (json!({"saml_idp_metadata": "<html>not metadata</html>"}), "not a SAML EntityDescriptor"),
        (json!({"saml_idp_metadata_url": "ftp://idp.example.com/metadata"}), "http(s) URL"),
        (json!({"saml_idp_metadata_url": format!("{}/nothing-here.php", idp.url)}), "could not be fetched"),
        (json!({"saml_idp_metadata_url": idp.metadata_url(), "saml_idp_metadata": metadata}), "not both"),
        (json!({"saml_idp_metadata": metadata, "saml_idp_name": ""}), "1 to 60 characters"),
    ] {
        let response = patch(body).await.unwrap();
        assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
        let text = response.text().await.unwrap();
        assert!(text.contains(says), "{says}: {text}");
    }
    let settings: Value = admin.get(app.at("/settings/saml")).send().await.unwrap().json().await.unwrap();
    assert_eq!(settings["saml_idp_configured"], false, "nothing refused was kept");
    // The XML itself is as good as the URL.
    let pasted = patch(json!({"saml_idp_metadata": metadata})).await.unwrap();
    assert_eq!(pasted.status(), StatusCode::OK);
    let pasted: Value = pasted.json().await.unwrap();
    assert_eq!((pasted["saml_idp_configured"].as_bool(), pasted["saml_idp_metadata_url"].clone()), (Some(true), Value::Null));
    // Superusers only.
    let viewer = app.user("viewer@example.com", app.workspace_id, "viewer").await;
    assert_eq!(viewer.get(app.at("/settings/saml")).send().await.unwrap().status(), StatusCode::FORBIDDEN);
    assert_eq!(viewer.patch(app.at("/settings/saml")).json(&json!({"saml_enabled": false})).send().await.unwrap().status(), StatusCode::FORBIDDEN);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_organisations_rules_hold_for_saml() {
    let app = spawn_app().await;
    let admin = app.admin().await;
    let idp = SamlIdp::start(&[ours()], &users()).await;
    configure(&app, &admin, &idp).await;
    app.create_user("alice@example.com", "alice-password-long", app.workspace_id, "viewer").await;
    app.create_user("eve@evil.test", "eve-password-long", app.workspace_id, "viewer").await;
    let rules = |body: Value| admin.patch(app.at("/settings/auth")).json(&body).send();
    let sign_in = |user: &'static str| {
        let app = &app;
        let idp = &idp;
        async move {
            let b = browser();
            let answer = idp.sign_in(&start(app, &b, "/").await, user, &format!("{user}-pass")).await;
            (post(app, &b, &answer).await, b)
        }
    };

    // Single sign-on enforced: passwords only for the break-glass account.
    let enforced = rules(json!({"auth_sso_enforced": true, "auth_break_glass_email": ADMIN_EMAIL})).await.unwrap();
    assert_eq!(enforced.status(), StatusCode::OK, "{}", enforced.text().await.unwrap());
    assert_eq!(app.login(&browser(), "alice@example.com", "alice-password-long").await.status(), StatusCode::FORBIDDEN);
    assert_eq!(app.login(&browser(), ADMIN_EMAIL, crate::common::ADMIN_PASSWORD).await.status(), StatusCode::NO_CONTENT);
    let (response, alice) = sign_in("alice").await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    assert_eq!(alice.get(app.at("/users/me")).send().await.unwrap().status(), StatusCode::OK, "alice signs in through SAML instead");

    // Only the allowed domains.
    assert_eq!(rules(json!({"auth_allowed_email_domains": ["example.com"]})).await.unwrap().status(), StatusCode::OK);
    assert!(refusal(&sign_in("eve").await.0).contains("only for addresses at example.com"));
    // No account and no just-in-time creation: refused; with creation for the allowed
    // domains, made with the default role in the default workspace.
    assert!(refusal(&sign_in("bob").await.0).contains("There is no ferrocat account for bob@example.com"));
    let jit = rules(json!({"auth_jit_provisioning": "allowed_domains", "auth_default_role": "editor"})).await.unwrap();
    assert_eq!(jit.status(), StatusCode::OK);
    let (response, bob) = sign_in("bob").await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    let me: Value = bob.get(app.at("/users/me")).send().await.unwrap().json().await.unwrap();
    assert_eq!(me["email"], "bob@example.com");
    let role: String = sqlx::query_scalar("SELECT m.role FROM memberships m JOIN users u ON u.id = m.user_id WHERE u.email = 'bob@example.com' AND m.workspace_id = $1")
        .bind(app.workspace_id)
        .fetch_one(&app.db)
        .await
        .unwrap();
    assert_eq!(role, "editor");

    // SAML turned off: nobody starts through it, and the sign-in page stops offering it.
    let off = admin.patch(app.at("/settings/saml")).json(&json!({"saml_enabled": false, "saml_enforced": false})).send().await.unwrap();
    assert_eq!(off.status(), StatusCode::OK, "{}", off.text().await.unwrap());
    assert_eq!(browser().get(app.at("/auth/saml/login")).send().await.unwrap().status(), StatusCode::FORBIDDEN);
    let info: Value = Client::new().get(app.at("/info")).send().await.unwrap().json().await.unwrap();
    assert_eq!(info["saml_name"], Value::Null);
}
