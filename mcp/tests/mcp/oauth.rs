//! The authorization server and the resource server's token checks.

use reqwest::{Client, StatusCode, header};
use serde_json::{Value, json};

use crate::common::{self, ADMIN_EMAIL, ADMIN_PASSWORD, REDIRECT_URI, browser, location_params, param, pkce, spawn};

#[tokio::test]
async fn metadata_advertises_s256_registration_iss_and_the_resource() {
    let app = spawn().await;
    let http = Client::new();
    let server: Value = http.get(app.at("/.well-known/oauth-authorization-server")).send().await.unwrap().json().await.unwrap();
    assert_eq!(server["issuer"], app.url);
    assert_eq!(server["code_challenge_methods_supported"], json!(["S256"]));
    assert_eq!(server["registration_endpoint"], app.at("/register"));
    assert_eq!(server["token_endpoint"], app.at("/token"));
    assert_eq!(server["authorization_response_iss_parameter_supported"], true);
    assert_eq!(server["client_id_metadata_document_supported"], true);
    for path in ["/.well-known/oauth-protected-resource", "/.well-known/oauth-protected-resource/mcp"] {
        let resource: Value = http.get(app.at(path)).send().await.unwrap().json().await.unwrap();
        assert_eq!(resource["resource"], app.resource(), "{path}");
        assert_eq!(resource["authorization_servers"], json!([app.url]), "{path}");
    }
}

#[tokio::test]
async fn mcp_without_a_valid_token_answers_the_rfc_9728_challenge() {
    let app = spawn().await;
    let body = json!({"jsonrpc": "2.0", "id": 1, "method": "tools/list", "params": {}});
    let reply = app.mcp(None, &[], &body).await;
    assert_eq!(reply.status, StatusCode::UNAUTHORIZED);
    let challenge = reply.www_authenticate.unwrap();
    let expected = format!("resource_metadata=\"{}\"", app.at("/.well-known/oauth-protected-resource/mcp"));
    assert!(challenge.starts_with("Bearer ") && challenge.contains(&expected), "{challenge}");
    let reply = app.mcp(Some("mcp_at_not-a-token"), &[], &body).await;
    assert_eq!(reply.status, StatusCode::UNAUTHORIZED);
    assert!(reply.www_authenticate.unwrap().contains("error=\"invalid_token\""));
}

#[tokio::test]
async fn the_whole_flow_signs_in_and_reaches_the_tools() {
    let app = spawn().await;
    let (_client, tokens) = app.sign_in(ADMIN_EMAIL, ADMIN_PASSWORD).await;
    assert!(tokens.refresh.is_some());
    let session = app.initialize(&tokens.access).await;
    let listed = app.legacy(&tokens.access, &session, 2, "tools/list", json!({})).await;
    let names: Vec<&str> = listed.message["result"]["tools"].as_array().unwrap().iter().map(|t| t["name"].as_str().unwrap()).collect();
    for tool in ["list_workspaces", "list_workflows", "get_workflow", "create_workflow", "update_workflow", "validate_workflow", "commit_workflow", "run_workflow", "get_execution", "list_executions", "list_actions", "list_secrets", "search_cases", "get_case", "comment_on_case", "update_case", "list_tables", "lookup_table_rows", "search_table_rows"] {
        assert!(names.contains(&tool), "{tool} missing from {names:?}");
    }
    let result = app.call(&tokens.access, &session, "list_workspaces", json!({})).await;
    assert_eq!(result["isError"], false, "{result}");
    assert_eq!(result["structuredContent"]["user"], ADMIN_EMAIL);
    assert_eq!(result["structuredContent"]["workspaces"][0]["role"], "admin");
    let read = app.legacy(&tokens.access, &session, 3, "resources/read", json!({"uri": "ferrocat://docs/dsl"})).await;
    assert!(read.message["result"]["contents"][0]["text"].as_str().unwrap().contains("depends_on"), "{read:?}");
}

#[tokio::test]
async fn an_api_session_cookie_skips_the_sign_in_form() {
    let app = spawn().await;
    let (user, _) = ferrocat_app::db::users::find_credentials(&app.db, ADMIN_EMAIL).await.unwrap().unwrap();
    let (token, hash) = ferrocat_app::accounts::new_session_token();
    ferrocat_app::db::users::insert_session(&app.db, &hash, user.id, chrono::Utc::now() + chrono::Duration::hours(1)).await.unwrap();
    let client_id = app.register(&[REDIRECT_URI]).await;
    let (verifier, challenge) = pkce();
    let resource = app.resource();
    let response = browser()
        .get(app.at("/authorize"))
        .query(&app.authorize_params(&client_id, &challenge, &resource))
        .header(header::COOKIE, format!("ferrocat_session={token}"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.headers()[header::X_FRAME_OPTIONS], "DENY");
    let consent = response.text().await.unwrap();
    assert!(consent.contains("Allow access?") && consent.contains(ADMIN_EMAIL), "{consent}");
    // The consent form needs the same session.
    let stranger = browser()
        .post(app.at("/consent"))
        .form(&[("request_id", common::request_id(&consent).as_str()), ("decision", "allow")])
        .send()
        .await
        .unwrap();
    assert_eq!(stranger.status(), StatusCode::UNAUTHORIZED);
    let allowed = browser()
        .post(app.at("/consent"))
        .header(header::COOKIE, format!("ferrocat_session={token}"))
        .form(&[("request_id", common::request_id(&consent).as_str()), ("decision", "allow")])
        .send()
        .await
        .unwrap();
    assert_eq!(allowed.status(), StatusCode::SEE_OTHER);
    let (_, params) = location_params(&allowed);
    let response = app.exchange(&client_id, param(&params, "code").unwrap(), &verifier).await;
    assert_eq!(response.status(), StatusCode::OK);
}

#[tokio::test]
async fn a_wrong_password_shows_the_form_again_and_issues_nothing() {
    let app = spawn().await;
    let client_id = app.register(&[REDIRECT_URI]).await;
    let (_, challenge) = pkce();
    let browser = browser();
    let resource = app.resource();
    let page = app.authorize(&browser, &app.authorize_params(&client_id, &challenge, &resource)).await.text().await.unwrap();
    let response = browser
        .post(app.at("/authorize/sign-in"))
        .form(&[("request_id", common::request_id(&page).as_str()), ("email", ADMIN_EMAIL), ("password", "wrong password")])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    assert!(response.headers().get(header::SET_COOKIE).is_none());
    assert!(response.text().await.unwrap().contains("Wrong email or password"));
}

/// The sign-in page shares the api's lockout (Redis, per account and per address): after five
/// failures even the right password is refused, and the form says how long to wait. Behind the
/// edge, the address is the one the edge saw (X-Forwarded-For), not the edge's loopback one.
#[tokio::test]
async fn repeated_failures_lock_the_account_on_the_sign_in_page() {
    let app = spawn().await;
    let client_id = app.register(&[REDIRECT_URI]).await;
    let (_, challenge) = pkce();
    let browser = browser();
    let resource = app.resource();
    let page = app.authorize(&browser, &app.authorize_params(&client_id, &challenge, &resource)).await.text().await.unwrap();
    let request_id = common::request_id(&page);
    let attempt = |password: &'static str, from: &'static str| {
        browser
            .post(app.at("/authorize/sign-in"))
            .header("x-forwarded-for", from)
            .form(&[("request_id", request_id.as_str()), ("email", ADMIN_EMAIL), ("password", password)])
            .send()
    };
    for _ in 0..5 {
        assert_eq!(attempt("wrong password", "198.51.100.7").await.unwrap().status(), StatusCode::UNAUTHORIZED);
    }
    let locked = attempt(ADMIN_PASSWORD, "198.51.100.8").await.unwrap();
    assert_eq!(locked.status(), StatusCode::TOO_MANY_REQUESTS);
    assert!(locked.headers().get(header::SET_COOKIE).is_none());
    assert!(locked.text().await.unwrap().contains("Too many failed sign-ins: wait 15 minutes"));

    // Another account from a third address is not affected by the first one's failures.
    let other = "second@example.com";
    let response = browser
        .post(app.at("/authorize/sign-in"))
        .header("x-forwarded-for", "198.51.100.9")
        .form(&[("request_id", request_id.as_str()), ("email", other), ("password", "wrong password")])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn denying_consent_sends_access_denied_with_state_and_iss() {
    let app = spawn().await;
    let client_id = app.register(&[REDIRECT_URI]).await;
    let (_, challenge) = pkce();
    let browser = browser();
    let resource = app.resource();
    let page = app.authorize(&browser, &app.authorize_params(&client_id, &challenge, &resource)).await.text().await.unwrap();
    let consent = browser
        .post(app.at("/authorize/sign-in"))
        .form(&[("request_id", common::request_id(&page).as_str()), ("email", ADMIN_EMAIL), ("password", ADMIN_PASSWORD)])
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let denied = browser
        .post(app.at("/consent"))
        .form(&[("request_id", common::request_id(&consent).as_str()), ("decision", "deny")])
        .send()
        .await
        .unwrap();
    assert_eq!(denied.status(), StatusCode::SEE_OTHER);
    let (_, params) = location_params(&denied);
    assert_eq!(param(&params, "error"), Some("access_denied"));
    assert_eq!(param(&params, "state"), Some("xyz-state"));
    assert_eq!(param(&params, "iss"), Some(app.url.as_str()));
    assert_eq!(param(&params, "code"), None);
}

#[tokio::test]
async fn a_token_minted_for_another_resource_gets_401() {
    let app = spawn().await;
    // Another deployment over the same accounts: its tokens name its own /mcp.
    let other = app.sibling("http://other-deployment.test").await;
    let (client_id, _) = {
        let client_id = other.register(&[REDIRECT_URI]).await;
        (client_id, ())
    };
    let (verifier, challenge) = pkce();
    let browser = browser();
    let other_resource = "http://other-deployment.test/mcp".to_owned();
    let authorize = other.authorize(&browser, &other.authorize_params(&client_id, &challenge, &other_resource)).await;
    let page = authorize.text().await.unwrap();
    let consent = browser
        .post(other.at("/authorize/sign-in"))
        .form(&[("request_id", common::request_id(&page).as_str()), ("email", ADMIN_EMAIL), ("password", ADMIN_PASSWORD)])
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let allowed = browser
        .post(other.at("/consent"))
        .form(&[("request_id", common::request_id(&consent).as_str()), ("decision", "allow")])
        .send()
        .await
        .unwrap();
    let (_, params) = location_params(&allowed);
    let response = other
        .token(&[
            ("grant_type", "authorization_code"),
            ("client_id", &client_id),
            ("code", param(&params, "code").unwrap()),
            ("code_verifier", &verifier),
            ("resource", &other_resource),
        ])
        .await;
    assert_eq!(response.status(), StatusCode::OK);
    let body: Value = response.json().await.unwrap();
    let foreign = body["access_token"].as_str().unwrap();
    let reply = app.mcp(Some(foreign), &[], &json!({"jsonrpc": "2.0", "id": 1, "method": "tools/list", "params": {}})).await;
    assert_eq!(reply.status, StatusCode::UNAUTHORIZED, "{reply:?}");
    assert!(reply.www_authenticate.unwrap().contains("invalid_token"));

    // And this server refuses to mint one for a resource that is not its own.
    let client_id = app.register(&[REDIRECT_URI]).await;
    let response = app.authorize(&browser, &app.authorize_params(&client_id, &challenge, "https://elsewhere.example/mcp")).await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    let (_, params) = location_params(&response);
    assert_eq!(param(&params, "error"), Some("invalid_target"));
    assert_eq!(param(&params, "state"), Some("xyz-state"));
}

#[tokio::test]
async fn authorization_without_pkce_or_with_plain_pkce_is_refused() {
    let app = spawn().await;
    let client_id = app.register(&[REDIRECT_URI]).await;
    let browser = browser();
    let resource = app.resource();
    let (_, challenge) = pkce();
    let full = app.authorize_params(&client_id, &challenge, &resource);
    let without = |keys: &[&str]| full.iter().filter(|(k, _)| !keys.contains(k)).copied().collect::<Vec<_>>();
    let mut plain = without(&["code_challenge_method"]);
    plain.push(("code_challenge_method", "plain"));
    for params in [without(&["code_challenge", "code_challenge_method"]), without(&["code_challenge_method"]), plain] {
        let response = app.authorize(&browser, &params).await;
        assert_eq!(response.status(), StatusCode::SEE_OTHER, "{params:?}");
        let (location, query) = location_params(&response);
        assert_eq!(param(&query, "error"), Some("invalid_request"), "{location}");
        assert!(param(&query, "error_description").unwrap().contains("S256") || param(&query, "error_description").unwrap().contains("PKCE"));
        assert!(param(&query, "code").is_none());
    }
    // A code redeemed without its verifier, or with another, gives no tokens (and is spent).
    let (verifier, challenge) = pkce();
    let authorize = app.authorize(&browser, &app.authorize_params(&client_id, &challenge, &resource)).await;
    let code = app.sign_in_and_allow(&browser, authorize, ADMIN_EMAIL, ADMIN_PASSWORD).await;
    let response = app.token(&[("grant_type", "authorization_code"), ("client_id", &client_id), ("code", &code)]).await;
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    assert_eq!(response.json::<Value>().await.unwrap()["error"], "invalid_request");
    let (wrong, _) = pkce();
    let response = app.exchange(&client_id, &code, &wrong).await;
    assert_eq!(response.json::<Value>().await.unwrap()["error"], "invalid_grant");
    let response = app.exchange(&client_id, &code, &verifier).await;
    assert_eq!(response.status(), StatusCode::BAD_REQUEST, "a spent code stays spent");
}

#[tokio::test]
async fn a_replayed_refresh_token_revokes_the_whole_family() {
    let app = spawn().await;
    let (client_id, first) = app.sign_in(ADMIN_EMAIL, ADMIN_PASSWORD).await;
    let refresh_one = first.refresh.clone().unwrap();
    let response = app.token(&[("grant_type", "refresh_token"), ("client_id", &client_id), ("refresh_token", &refresh_one)]).await;
    assert_eq!(response.status(), StatusCode::OK);
    let second: Value = response.json().await.unwrap();
    let (access_two, refresh_two) = (second["access_token"].as_str().unwrap(), second["refresh_token"].as_str().unwrap());
    assert_ne!(refresh_two, refresh_one, "the refresh token rotates");
    app.initialize(access_two).await;

    // The rotated-out token comes back: someone copied it. Everything of the grant ends.
    let replay = app.token(&[("grant_type", "refresh_token"), ("client_id", &client_id), ("refresh_token", &refresh_one)]).await;
    assert_eq!(replay.status(), StatusCode::BAD_REQUEST);
    assert_eq!(replay.json::<Value>().await.unwrap()["error"], "invalid_grant");
    let next = app.token(&[("grant_type", "refresh_token"), ("client_id", &client_id), ("refresh_token", refresh_two)]).await;
    assert_eq!(next.status(), StatusCode::BAD_REQUEST, "the newest refresh token is revoked too");
    for access in [first.access.as_str(), access_two] {
        let reply = app.mcp(Some(access), &[], &json!({"jsonrpc": "2.0", "id": 1, "method": "tools/list", "params": {}})).await;
        assert_eq!(reply.status, StatusCode::UNAUTHORIZED, "access tokens of the family are revoked");
    }
}

#[tokio::test]
async fn a_replayed_code_revokes_the_tokens_it_gave() {
    let app = spawn().await;
    let client_id = app.register(&[REDIRECT_URI]).await;
    let (verifier, challenge) = pkce();
    let browser = browser();
    let resource = app.resource();
    let authorize = app.authorize(&browser, &app.authorize_params(&client_id, &challenge, &resource)).await;
    let code = app.sign_in_and_allow(&browser, authorize, ADMIN_EMAIL, ADMIN_PASSWORD).await;
    let first: Value = app.exchange(&client_id, &code, &verifier).await.json().await.unwrap();
    let again = app.exchange(&client_id, &code, &verifier).await;
    assert_eq!(again.json::<Value>().await.unwrap()["error"], "invalid_grant");
    let reply = app.mcp(first["access_token"].as_str(), &[], &json!({"jsonrpc": "2.0", "id": 1, "method": "tools/list", "params": {}})).await;
    assert_eq!(reply.status, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn an_unregistered_redirect_uri_is_refused_without_redirecting() {
    let app = spawn().await;
    let client_id = app.register(&[REDIRECT_URI, "cursor://anysphere.cursor-mcp/oauth/callback"]).await;
    let (_, challenge) = pkce();
    let browser = browser();
    let resource = app.resource();
    for evil in ["https://evil.example/callback", "http://127.0.0.1:4000/other", "cursor://anysphere.cursor-mcp/other"] {
        let mut params = app.authorize_params(&client_id, &challenge, &resource);
        params.retain(|(k, _)| *k != "redirect_uri");
        params.push(("redirect_uri", evil));
        let response = app.authorize(&browser, &params).await;
        assert_eq!(response.status(), StatusCode::BAD_REQUEST, "{evil}");
        assert!(response.headers().get(header::LOCATION).is_none(), "{evil}");
    }
    // The private scheme it registered works.
    let mut params = app.authorize_params(&client_id, &challenge, &resource);
    params.retain(|(k, _)| *k != "redirect_uri");
    params.push(("redirect_uri", "cursor://anysphere.cursor-mcp/oauth/callback"));
    assert_eq!(app.authorize(&browser, &params).await.status(), StatusCode::OK);
    // Plain http outside loopback cannot even be registered.
    let response = Client::new()
        .post(app.at("/register"))
        .json(&json!({"redirect_uris": ["http://evil.example/callback"], "token_endpoint_auth_method": "none"}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    assert_eq!(response.json::<Value>().await.unwrap()["error"], "invalid_redirect_uri");
}

#[tokio::test]
async fn a_confidential_client_must_authenticate_and_revocation_ends_its_grant() {
    let app = spawn().await;
    let registered: Value = Client::new()
        .post(app.at("/register"))
        .json(&json!({"client_name": "server app", "redirect_uris": [REDIRECT_URI], "grant_types": ["authorization_code", "refresh_token"]}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(registered["token_endpoint_auth_method"], "client_secret_basic");
    let (client_id, secret) = (registered["client_id"].as_str().unwrap(), registered["client_secret"].as_str().unwrap());
    let (verifier, challenge) = pkce();
    let browser = browser();
    let resource = app.resource();
    let authorize = app.authorize(&browser, &app.authorize_params(client_id, &challenge, &resource)).await;
    let code = app.sign_in_and_allow(&browser, authorize, ADMIN_EMAIL, ADMIN_PASSWORD).await;
    let form = [("grant_type", "authorization_code"), ("code", code.as_str()), ("code_verifier", verifier.as_str())];
    let unauthenticated = Client::new().post(app.at("/token")).form(&[form.as_slice(), &[("client_id", client_id)]].concat()).send().await.unwrap();
    assert_eq!(unauthenticated.status(), StatusCode::UNAUTHORIZED);
    let tokens: Value = Client::new().post(app.at("/token")).basic_auth(client_id, Some(secret)).form(&form).send().await.unwrap().json().await.unwrap();
    let access = tokens["access_token"].as_str().expect("tokens with the secret (the failed try did not spend the code)");
    let revoked = Client::new()
        .post(app.at("/authorize/revoke"))
        .basic_auth(client_id, Some(secret))
        .form(&[("token", tokens["refresh_token"].as_str().unwrap()), ("token_type_hint", "refresh_token")])
        .send()
        .await
        .unwrap();
    assert_eq!(revoked.status(), StatusCode::OK);
    let reply = app.mcp(Some(access), &[], &json!({"jsonrpc": "2.0", "id": 1, "method": "tools/list", "params": {}})).await;
    assert_eq!(reply.status, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn a_client_id_metadata_document_is_fetched_and_must_name_itself() {
    let app = spawn().await;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let good = format!("{base}/client.json");
    let liar = format!("{base}/liar.json");
    let (good_doc, liar_doc) = (
        json!({"client_id": good, "client_name": "CIMD client", "redirect_uris": [REDIRECT_URI], "grant_types": ["authorization_code"], "token_endpoint_auth_method": "none"}),
        json!({"client_id": "https://someone-else.example/client.json", "redirect_uris": [REDIRECT_URI]}),
    );
    let docs = axum::Router::new()
        .route("/client.json", axum::routing::get(move || async move { axum::Json(good_doc) }))
        .route("/liar.json", axum::routing::get(move || async move { axum::Json(liar_doc) }));
    tokio::spawn(async move { axum::serve(listener, docs).await.unwrap() });
    let (_, challenge) = pkce();
    let resource = app.resource();
    let browser = browser();
    let page = app.authorize(&browser, &app.authorize_params(&good, &challenge, &resource)).await;
    assert_eq!(page.status(), StatusCode::OK);
    assert!(page.text().await.unwrap().contains("CIMD client"));
    let refused = app.authorize(&browser, &app.authorize_params(&liar, &challenge, &resource)).await;
    assert_eq!(refused.status(), StatusCode::BAD_REQUEST);
    assert!(refused.text().await.unwrap().contains("client_id is not its own URL"));
}

#[tokio::test]
async fn registration_stores_only_the_checked_fields() {
    let app = spawn().await;
    let junk = "j".repeat(40_000);
    let response = Client::new()
        .post(app.at("/register"))
        .json(&json!({
            "client_name": "padded client",
            "redirect_uris": [REDIRECT_URI],
            "token_endpoint_auth_method": "none",
            "junk": junk,
            "logo_uri": "https://evil.example/logo.png",
        }))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::CREATED);
    let client_id = response.json::<Value>().await.unwrap()["client_id"].as_str().unwrap().to_owned();
    let (metadata, size): (Value, i32) =
        sqlx::query_as("SELECT metadata, pg_column_size(metadata) FROM oauth_clients WHERE client_id = $1")
            .bind(&client_id)
            .fetch_one(&app.db)
            .await
            .unwrap();
    assert_eq!(
        metadata,
        json!({
            "client_name": "padded client",
            "redirect_uris": [REDIRECT_URI],
            "grant_types": ["authorization_code"],
            "token_endpoint_auth_method": "none",
            "application_type": "native",
        })
    );
    assert!(size < 1_000, "{size} bytes stored for one client");
}

#[tokio::test]
async fn registrations_are_rate_limited_per_client_address() {
    let app = common::spawn_with(&[("FERROCAT_MCP_REGISTER_RATE_LIMIT", "3")]).await;
    let register = |ip: &'static str| {
        let url = app.at("/register");
        async move {
            Client::new()
                .post(url)
                // As the edge forwards it; the test's peer is loopback, like the edge.
                .header("x-forwarded-for", ip)
                .json(&json!({"redirect_uris": [REDIRECT_URI], "token_endpoint_auth_method": "none"}))
                .send()
                .await
                .unwrap()
        }
    };
    for i in 0..3 {
        assert_eq!(register("203.0.113.7").await.status(), StatusCode::CREATED, "registration {i}");
    }
    let before: i64 = sqlx::query_scalar("SELECT count(*) FROM oauth_clients").fetch_one(&app.db).await.unwrap();
    let limited = register("203.0.113.7").await;
    assert_eq!(limited.status(), StatusCode::TOO_MANY_REQUESTS);
    let retry_after: u64 = limited.headers()[header::RETRY_AFTER].to_str().unwrap().parse().unwrap();
    assert!((1..=3600).contains(&retry_after), "{retry_after}");
    let body: Value = limited.json().await.unwrap();
    assert!(body["error_description"].as_str().unwrap().contains("too many client registrations"), "{body}");
    let after: i64 = sqlx::query_scalar("SELECT count(*) FROM oauth_clients").fetch_one(&app.db).await.unwrap();
    assert_eq!(after, before, "a refused registration stores nothing");
    // Another address has its own budget.
    assert_eq!(register("198.51.100.9").await.status(), StatusCode::CREATED);
}

#[tokio::test]
async fn registrations_nobody_completes_a_grant_for_expire() {
    let app = spawn().await;
    let (used, _tokens) = app.sign_in(ADMIN_EMAIL, ADMIN_PASSWORD).await;
    let unused = app.register(&[REDIRECT_URI]).await;
    let fresh = app.register(&[REDIRECT_URI]).await;
    // Both older than a day; only `used` completed a grant.
    sqlx::query("UPDATE oauth_clients SET created_at = now() - interval '25 hours' WHERE client_id = ANY($1)")
        .bind(vec![used.clone(), unused.clone()])
        .execute(&app.db)
        .await
        .unwrap();

    // Lazily: the expired registration is unknown at once.
    let (_, challenge) = pkce();
    let resource = app.resource();
    let page = app.authorize(&browser(), &app.authorize_params(&unused, &challenge, &resource)).await;
    assert_eq!(page.status(), StatusCode::BAD_REQUEST);
    assert!(page.text().await.unwrap().contains("unknown client_id"));
    for client_id in [&used, &fresh] {
        let page = app.authorize(&browser(), &app.authorize_params(client_id, &challenge, &resource)).await;
        assert_eq!(page.status(), StatusCode::OK, "{client_id}");
    }

    // At start, the sweep deletes it; the used and the fresh ones stay.
    let restarted = app.sibling(&app.url).await;
    let left: Vec<String> = sqlx::query_scalar("SELECT client_id FROM oauth_clients ORDER BY created_at")
        .fetch_all(&restarted.db)
        .await
        .unwrap();
    assert!(!left.contains(&unused), "{left:?}");
    assert!(left.contains(&used) && left.contains(&fresh), "{left:?}");
}

/// With single sign-on enforced, the sign-in page refuses a right password (but the break-glass
/// account's) and says why, issuing nothing.
#[tokio::test]
async fn enforced_single_sign_on_refuses_passwords_on_the_sign_in_page_but_the_break_glass_one() {
    let app = spawn().await;
    app.create_user("analyst@example.com", "analyst-passphrase-42", app.workspace_id, "editor").await;
    let admin = sqlx::query_scalar::<_, uuid::Uuid>("SELECT id FROM users WHERE email = $1").bind(ADMIN_EMAIL).fetch_one(&app.db).await.unwrap();
    let rules = ferrocat_app::auth_settings::Changes { sso_enforced: Some(true), break_glass_email: Some(Some(ADMIN_EMAIL.into())), ..Default::default() };
    ferrocat_app::auth_settings::update(&app.db, admin, rules).await.unwrap();
    let client_id = app.register(&[REDIRECT_URI]).await;
    let (_, challenge) = pkce();
    let browser = browser();
    let resource = app.resource();
    let page = app.authorize(&browser, &app.authorize_params(&client_id, &challenge, &resource)).await.text().await.unwrap();
    let response = browser
        .post(app.at("/authorize/sign-in"))
        .form(&[("request_id", common::request_id(&page).as_str()), ("email", "analyst@example.com"), ("password", "analyst-passphrase-42")])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
    assert!(response.headers().get(header::SET_COOKIE).is_none());
    assert!(response.text().await.unwrap().contains("sign in with single sign-on"));
    let (_, tokens) = app.sign_in(ADMIN_EMAIL, ADMIN_PASSWORD).await;
    assert!(!tokens.access.is_empty(), "the break-glass account still signs in");
}
