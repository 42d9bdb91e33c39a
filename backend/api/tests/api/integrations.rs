//! OAuth integrations against a real OAuth 2 server (npm oauth2-mock-server on loopback):
//! client credentials, the authorization-code grant with PKCE through the callback, and the
//! refresh that runs before a token is used, as the executor resolves
//! `SECRETS.<provider>_oauth.*`.

use std::collections::{BTreeMap, BTreeSet};

use reqwest::StatusCode;
use serde_json::{Value, json};

use ferrocat_test_support::oauth_server::OAuthServer;

use crate::common::{TestApp, client, spawn_app_with};

/// An api whose provider catalog has `acme_idp`, served by `server`, and whose egress policy
/// lets it reach the server.
async fn app_with(server: &OAuthServer) -> (TestApp, tempfile_path::Path) {
    let file = tempfile_path::Path::new("providers.toml");
    std::fs::write(
        &file.0,
        format!(
            r#"[[provider]]
id = "acme_idp"
name = "ACME identity"
grant_types = ["authorization_code", "client_credentials"]
authorization_endpoint = "{url}/authorize"
token_endpoint = "{url}/token"
scopes.authorization_code = ["openid", "offline_access"]
scopes.client_credentials = ["alerts.read"]
pkce = true
"#,
            url = server.url
        ),
    )
    .unwrap();
    let allow = format!("127.0.0.1:{}", server.port());
    let app = spawn_app_with(&[("FERROCAT_OAUTH_PROVIDERS", file.0.to_str().unwrap()), ("FERROCAT_EGRESS_ALLOW", &allow)]).await;
    (app, file)
}

/// A temporary file removed on drop.
mod tempfile_path {
    pub struct Path(pub std::path::PathBuf);
    impl Path {
        pub fn new(name: &str) -> Self {
            Self(std::env::temp_dir().join(format!("ferrocat-{}-{name}", uuid::Uuid::new_v4().simple())))
        }
    }
    impl Drop for Path {
        fn drop(&mut self) {
            let _ = std::fs::remove_file(&self.0);
        }
    }
}

/// The executor's view: the `acme_idp_oauth` secret of the workspace, refreshed when due.
async fn resolve(app: &TestApp) -> Result<serde_json::Map<String, Value>, String> {
    let store = ferrocat_shared::secret_store::SecretStore::new(app.db.clone(), (*app.state.config.keyring).clone())
        .with_oauth(app.state.http.clone(), app.state.config.oauth.clone());
    let wanted: BTreeSet<String> = ["acme_idp_oauth".to_owned()].into();
    let secrets = store.load(app.workspace_id, "default", &wanted, &BTreeSet::new()).await?;
    Ok(secrets["acme_idp_oauth"].as_object().unwrap().clone())
}

#[tokio::test]
async fn client_credentials_connect_at_once_and_the_secret_never_comes_back() {
    let server = OAuthServer::start(3600);
    let (app, _file) = app_with(&server).await;
    let admin = app.admin().await;
    let at = |path: &str| app.at(&format!("{path}?grant_type=client_credentials"));

    let missing = admin.put(at("/integrations/acme_idp")).json(&json!({"client_id": "svc"})).send().await.unwrap();
    assert_eq!(missing.status(), StatusCode::UNPROCESSABLE_ENTITY, "a new integration needs its secret");
    let unknown = admin.put(at("/integrations/nope")).json(&json!({"client_id": "a", "client_secret": "b"})).send().await.unwrap();
    assert_eq!(unknown.status(), StatusCode::BAD_REQUEST);
    assert!(unknown.text().await.unwrap().contains("Unsupported provider ID: nope"));

    let configured = admin.put(at("/integrations/acme_idp")).json(&json!({"client_id": "svc-client", "client_secret": "svc-secret-7f3a"})).send().await.unwrap();
    assert_eq!(configured.status(), StatusCode::OK);
    let configured: Value = configured.json().await.unwrap();
    assert_eq!(configured["status"], "configured");
    assert_eq!(configured["requested_scopes"], json!(["alerts.read"]), "the provider's default scopes");
    assert_eq!(configured["token_key"], "ACME_IDP_SERVICE_TOKEN");

    let connected = admin.post(at("/integrations/acme_idp/connect")).send().await.unwrap();
    assert_eq!(connected.status(), StatusCode::OK);
    let text = connected.text().await.unwrap();
    let asked = server.next_token_request();
    assert_eq!((asked["grant_type"].as_str(), asked["client_id"].as_str(), asked["client_secret"].as_str()), (Some("client_credentials"), Some("svc-client"), Some("svc-secret-7f3a")));
    assert_eq!(asked["scope"], "alerts.read");
    let token = asked["issued_access_token"].as_str().unwrap();
    assert!(!text.contains(token) && !text.contains("svc-secret-7f3a"), "neither the token nor the secret is answered: {text}");
    assert_eq!(serde_json::from_str::<Value>(&text).unwrap()["status"], "connected");

    let listed: Value = admin.get(app.at("/integrations")).send().await.unwrap().json().await.unwrap();
    let listed_text = listed.to_string();
    assert!(!listed_text.contains(token) && !listed_text.contains("svc-secret-7f3a"));
    let providers: Value = admin.get(app.at("/providers")).send().await.unwrap().json().await.unwrap();
    let acme = providers.as_array().unwrap().iter().find(|p| p["id"] == "acme_idp").unwrap();
    let statuses: BTreeMap<&str, &str> = acme["grants"].as_array().unwrap().iter().map(|g| (g["grant_type"].as_str().unwrap(), g["integration_status"].as_str().unwrap())).collect();
    assert_eq!(statuses, [("authorization_code", "not_configured"), ("client_credentials", "connected")].into());
    assert!(providers.as_array().unwrap().iter().any(|p| p["id"] == "microsoft_entra"), "the shipped providers are listed too");

    // What a run reads: the token under Tracecat's key, not refreshed while it is fresh.
    let keys = resolve(&app).await.unwrap();
    assert_eq!(keys["ACME_IDP_SERVICE_TOKEN"], token);
    assert!(server.no_more_token_requests(), "a fresh token is used as it is");

    let tested: Value = admin.post(at("/integrations/acme_idp/test")).send().await.unwrap().json().await.unwrap();
    assert_eq!(tested["success"], true, "{tested}");
    let retested = server.next_token_request();
    assert_eq!(retested["grant_type"], "client_credentials");
    let token = retested["issued_access_token"].as_str().unwrap();

    // A key rotation re-seals the client secret and the token: the new key alone opens them.
    let new_key = "ffeeddccbbaa99887766554433221100ffeeddccbbaa99887766554433221100";
    let rotated = app.rebuild(&[("FERROCAT_DB_ENCRYPTION_KEY", new_key), ("FERROCAT_DB_ENCRYPTION_KEYS_OLD", crate::common::ENCRYPTION_KEY)]).await;
    let new_only = ferrocat_shared::secrets::Keyring::parse(new_key, &[]).unwrap();
    let store = ferrocat_shared::secret_store::SecretStore::new(app.db.clone(), new_only).with_oauth(rotated.http.clone(), rotated.config.oauth.clone());
    let wanted: BTreeSet<String> = ["acme_idp_oauth".to_owned()].into();
    let after = store.load(app.workspace_id, "default", &wanted, &BTreeSet::new()).await.unwrap();
    assert_eq!(after["acme_idp_oauth"]["ACME_IDP_SERVICE_TOKEN"], token);

    // A viewer reads but does not change; disconnect forgets the token.
    let viewer = app.user("viewer@example.com", app.workspace_id, "viewer").await;
    assert_eq!(viewer.post(at("/integrations/acme_idp/connect")).send().await.unwrap().status(), StatusCode::FORBIDDEN);
    assert_eq!(admin.post(at("/integrations/acme_idp/disconnect")).send().await.unwrap().status(), StatusCode::NO_CONTENT);
    let err = resolve(&app).await.unwrap_err();
    assert!(err.contains("the acme_idp OAuth integration is not connected"), "{err}");
    assert_eq!(admin.delete(at("/integrations/acme_idp")).send().await.unwrap().status(), StatusCode::NO_CONTENT);
    assert_eq!(admin.get(at("/integrations/acme_idp")).send().await.unwrap().status(), StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn the_authorization_code_grant_uses_pkce_and_a_due_token_is_refreshed_before_use() {
    // Tokens announce 60 s of life: inside the refresh margin, so every use refreshes.
    let server = OAuthServer::start(60);
    let (app, _file) = app_with(&server).await;
    let admin = app.admin().await;
    let configured = admin.put(app.at("/integrations/acme_idp")).json(&json!({"client_id": "web-client", "client_secret": "web-secret-91c2"})).send().await.unwrap();
    assert_eq!(configured.status(), StatusCode::OK);

    let started: Value = admin.post(app.at("/integrations/acme_idp/connect")).send().await.unwrap().json().await.unwrap();
    let auth_url = url::Url::parse(started["auth_url"].as_str().unwrap()).unwrap();
    let query: BTreeMap<String, String> = auth_url.query_pairs().into_owned().collect();
    assert_eq!(auth_url.as_str().split('?').next().unwrap(), format!("{}/authorize", server.url));
    assert_eq!((query["response_type"].as_str(), query["client_id"].as_str(), query["code_challenge_method"].as_str()), ("code", "web-client", "S256"));
    assert_eq!(query["scope"], "openid offline_access");
    let redirect_uri = format!("{}/api/integrations/callback", app.state.config.public_url);
    assert_eq!(query["redirect_uri"], redirect_uri);

    // The user consents at the provider, which sends the browser back with a code.
    let browser = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
    let consent = browser.get(auth_url.clone()).send().await.unwrap();
    assert_eq!(consent.status(), StatusCode::FOUND);
    let back = url::Url::parse(consent.headers()["location"].to_str().unwrap()).unwrap();
    let returned: BTreeMap<String, String> = back.query_pairs().into_owned().collect();
    assert_eq!(returned["state"], query["state"]);
    let callback = app.at(&format!("/integrations/callback?code={}&state={}", returned["code"], returned["state"]));

    // Only the person who started the flow may finish it.
    let other = app.user("other-editor@example.com", app.workspace_id, "editor").await;
    let stolen = other.get(&callback).header("accept", "application/json").send().await.unwrap();
    assert_eq!(stolen.status(), StatusCode::BAD_REQUEST);
    // That attempt used the state up: the flow starts over.
    let started: Value = admin.post(app.at("/integrations/acme_idp/connect")).send().await.unwrap().json().await.unwrap();
    let consent = browser.get(started["auth_url"].as_str().unwrap()).send().await.unwrap();
    let back = url::Url::parse(consent.headers()["location"].to_str().unwrap()).unwrap();
    let returned: BTreeMap<String, String> = back.query_pairs().into_owned().collect();
    let callback = app.at(&format!("/integrations/callback?code={}&state={}", returned["code"], returned["state"]));
    let finished = admin.get(&callback).header("accept", "application/json").send().await.unwrap();
    assert_eq!(finished.status(), StatusCode::OK);
    let finished: Value = finished.json().await.unwrap();
    assert_eq!((finished["status"].as_str(), finished["provider_id"].as_str()), (Some("connected"), Some("acme_idp")));

    let exchanged = server.next_token_request();
    assert_eq!(exchanged["grant_type"], "authorization_code");
    assert_eq!(exchanged["redirect_uri"], redirect_uri.as_str());
    assert!(exchanged["code_verifier"].as_str().is_some_and(|v| v.len() >= 43), "PKCE's verifier is sent: {exchanged}");
    assert_eq!(exchanged["status"], 200, "the server checked the verifier against the challenge");
    let first_refresh = exchanged["issued_refresh_token"].as_str().unwrap().to_owned();

    // A code is good once; so is a state.
    assert_eq!(admin.get(&callback).header("accept", "application/json").send().await.unwrap().status(), StatusCode::BAD_REQUEST);
    // Without a session, no callback at all; a browser (no JSON) is sent to the console.
    assert_eq!(client().get(&callback).send().await.unwrap().status(), StatusCode::UNAUTHORIZED);

    // The run's resolution finds the token due (60 s < the 300 s margin) and refreshes it with
    // the refresh token the exchange issued; the next one uses the rotated refresh token.
    let keys = resolve(&app).await.unwrap();
    let refreshed = server.next_token_request();
    assert_eq!((refreshed["grant_type"].as_str(), refreshed["refresh_token"].as_str()), (Some("refresh_token"), Some(first_refresh.as_str())));
    assert_eq!(keys["ACME_IDP_USER_TOKEN"], refreshed["issued_access_token"]);
    let second = resolve(&app).await.unwrap();
    let again = server.next_token_request();
    assert_eq!(again["refresh_token"], refreshed["issued_refresh_token"]);
    assert_eq!(second["ACME_IDP_USER_TOKEN"], again["issued_access_token"]);
    assert_ne!(again["refresh_token"].as_str(), Some(first_refresh.as_str()), "the rotated refresh token was kept");

    let shown: Value = admin.get(app.at("/integrations/acme_idp")).send().await.unwrap().json().await.unwrap();
    assert_eq!(shown["status"], "connected");
    assert_eq!(shown["granted_scopes"], json!(["openid", "offline_access"]), "{shown}");
    let shown_text = shown.to_string();
    assert!(!shown_text.contains(&first_refresh) && !shown_text.contains("web-secret-91c2"));

    // A refused flow at the provider is answered with its reason.
    let refused = admin.get(app.at("/integrations/callback?error=access_denied&error_description=the+user+said+no")).send().await.unwrap();
    assert_eq!(refused.status(), StatusCode::BAD_REQUEST);
    assert!(refused.text().await.unwrap().contains("access_denied the user said no"));
}

#[tokio::test]
async fn a_provider_can_take_scopes_in_another_parameter_and_answer_the_token_nested() {
    // Slack's user tokens: scopes go in `user_scope`, the token comes back under `authed_user`.
    // The consent step is the real OAuth server's; the token endpoint stands in for Slack's
    // and checks what it is sent.
    let server = OAuthServer::start(3600);
    let asked = std::sync::Arc::new(std::sync::Mutex::new(Vec::<BTreeMap<String, String>>::new()));
    let seen = asked.clone();
    let slack = axum::Router::new().route(
        "/api/oauth.v2.access",
        axum::routing::post(move |axum::Form(form): axum::Form<BTreeMap<String, String>>| {
            let seen = seen.clone();
            async move {
                seen.lock().unwrap().push(form);
                axum::Json(json!({"ok": true, "app_id": "A1", "authed_user": {"id": "U1", "scope": "search:read", "access_token": "xoxp-user-token", "token_type": "user"}}))
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let slack_addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, slack).await.unwrap() });
    let file = tempfile_path::Path::new("providers.toml");
    std::fs::write(
        &file.0,
        format!(
            "[[provider]]\nid = \"chatty\"\nname = \"Chatty\"\ngrant_types = [\"authorization_code\"]\nauthorization_endpoint = \"{}/authorize\"\ntoken_endpoint = \"http://{slack_addr}/api/oauth.v2.access\"\nscopes.authorization_code = [\"search:read\"]\nscope_param = \"user_scope\"\ntoken_path = \"/authed_user\"\npkce = false\n",
            server.url
        ),
    )
    .unwrap();
    let allow = format!("127.0.0.1:{},{slack_addr}", server.port());
    let app = spawn_app_with(&[("FERROCAT_OAUTH_PROVIDERS", file.0.to_str().unwrap()), ("FERROCAT_EGRESS_ALLOW", &allow)]).await;
    let admin = app.admin().await;
    let put = admin.put(app.at("/integrations/chatty")).json(&json!({"client_id": "slack-app", "client_secret": "slack-secret"})).send().await.unwrap();
    assert_eq!(put.status(), StatusCode::OK);
    let started: Value = admin.post(app.at("/integrations/chatty/connect")).send().await.unwrap().json().await.unwrap();
    let auth_url = url::Url::parse(started["auth_url"].as_str().unwrap()).unwrap();
    let query: BTreeMap<String, String> = auth_url.query_pairs().into_owned().collect();
    assert_eq!(query.get("user_scope").map(String::as_str), Some("search:read"));
    assert!(!query.contains_key("scope") && !query.contains_key("code_challenge"), "{query:?}");

    let browser = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
    let consent = browser.get(auth_url).send().await.unwrap();
    let back = url::Url::parse(consent.headers()["location"].to_str().unwrap()).unwrap();
    let returned: BTreeMap<String, String> = back.query_pairs().into_owned().collect();
    let callback = app.at(&format!("/integrations/callback?code={}&state={}", returned["code"], returned["state"]));
    let finished = admin.get(&callback).header("accept", "application/json").send().await.unwrap();
    assert_eq!(finished.status(), StatusCode::OK, "{}", finished.text().await.unwrap());

    let sent = asked.lock().unwrap().clone();
    assert_eq!(sent.len(), 1);
    assert_eq!((sent[0]["grant_type"].as_str(), sent[0]["code"].as_str(), sent[0]["client_id"].as_str()), ("authorization_code", returned["code"].as_str(), "slack-app"));
    let store = ferrocat_shared::secret_store::SecretStore::new(app.db.clone(), (*app.state.config.keyring).clone())
        .with_oauth(app.state.http.clone(), app.state.config.oauth.clone());
    let wanted: BTreeSet<String> = ["chatty_oauth".to_owned()].into();
    let secrets = store.load(app.workspace_id, "default", &wanted, &BTreeSet::new()).await.unwrap();
    assert_eq!(secrets["chatty_oauth"]["CHATTY_USER_TOKEN"], "xoxp-user-token");
    let shown: Value = admin.get(app.at("/integrations/chatty")).send().await.unwrap().json().await.unwrap();
    assert_eq!(shown["granted_scopes"], json!(["search:read"]));
}
