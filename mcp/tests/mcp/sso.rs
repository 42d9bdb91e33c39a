//! Single sign-on on the MCP sign-in page through a real OpenID Connect provider over HTTP
//! (`ferrocat_test_support::oidc::Idp`, oidc-provider-mock), whose claims each test sets.

use reqwest::{Client, StatusCode, header};
use serde_json::{Value, json};

use ferrocat_test_support::oidc::Idp;

use crate::common::{ADMIN_EMAIL, TestMcp, browser, location_params, param, pkce, request_id, spawn_with};

const CLIENT_ID: &str = "ferrocat-test";
const CLIENT_SECRET: &str = "idp-client-secret-do-not-show";
const IDP_NAME: &str = "Test IdP";

async fn app_with(idp: &Idp, extra: &[(&str, &str)]) -> TestMcp {
    let mut env = vec![
        ("FERROCAT_OIDC_ISSUER", idp.url.as_str()),
        ("FERROCAT_OIDC_CLIENT_ID", CLIENT_ID),
        ("FERROCAT_OIDC_CLIENT_SECRET", CLIENT_SECRET),
        ("FERROCAT_OIDC_NAME", IDP_NAME),
    ];
    env.extend_from_slice(extra);
    spawn_with(&env).await
}

/// One authorization request on its way through single sign-on.
struct Flow {
    browser: Client,
    client_id: String,
    verifier: String,
}

impl Flow {
    /// Registers a client, opens `/authorize`, and presses the sign-in button: the provider's
    /// authorization URL.
    async fn start(app: &TestMcp, idp: &Idp) -> (Flow, String) {
        let client_id = app.register(&["http://127.0.0.1/callback"]).await;
        let (verifier, challenge) = pkce();
        let browser = browser();
        let resource = app.resource();
        let page = app.authorize(&browser, &app.authorize_params(&client_id, &challenge, &resource)).await.text().await.unwrap();
        assert!(page.contains(&format!("Sign in with {IDP_NAME}")), "{page}");
        let response = browser.post(app.at("/authorize/sso")).form(&[("request_id", request_id(&page))]).send().await.unwrap();
        assert_eq!(response.status(), StatusCode::SEE_OTHER, "{}", response.text().await.unwrap());
        let cookie = response.headers().get(header::SET_COOKIE).unwrap().to_str().unwrap().to_owned();
        assert!(cookie.contains("HttpOnly") && cookie.contains("Path=/auth/callback"), "{cookie}");
        let (location, params) = location_params(&response);
        assert!(location.starts_with(&format!("{}/oauth2/authorize?", idp.url)), "{location}");
        assert_eq!(param(&params, "client_id"), Some(CLIENT_ID));
        assert_eq!(param(&params, "redirect_uri"), Some(app.at("/auth/callback").as_str()));
        assert_eq!(param(&params, "code_challenge_method"), Some("S256"));
        assert_eq!(param(&params, "response_type"), Some("code"));
        for needed in ["state", "nonce", "code_challenge"] {
            assert!(param(&params, needed).is_some_and(|v| v.len() >= 16), "{needed} missing: {location}");
        }
        assert!(param(&params, "scope").unwrap().split(' ').any(|s| s == "openid"));
        assert!(!location.contains(CLIENT_SECRET));
        (Flow { browser, client_id, verifier }, location)
    }

    /// A whole sign-in of `sub` through the provider: the page ferrocat answers with.
    async fn sign_in(app: &TestMcp, idp: &Idp, sub: &str) -> (Flow, StatusCode, String) {
        let (flow, authorize_url) = Flow::start(app, idp).await;
        let (status, page) = flow.back(&idp.sign_in(&authorize_url, sub).await).await;
        (flow, status, page)
    }

    /// Follows the provider's answer back with this flow's browser.
    async fn back(&self, callback: &str) -> (StatusCode, String) {
        let response = self.browser.get(callback).send().await.unwrap();
        let status = response.status();
        let body = response.text().await.unwrap();
        assert!(!body.contains(CLIENT_SECRET), "the client secret never shows: {body}");
        (status, body)
    }
}

/// A `SELECT count(*) ...` on the test's database.
async fn count(app: &TestMcp, sql: &'static str) -> i64 {
    sqlx::query_scalar(sql).fetch_one(&app.db).await.unwrap()
}

async fn identities(app: &TestMcp) -> i64 {
    count(app, "SELECT count(*) FROM identities").await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_verified_identity_signs_in_through_the_provider_and_gets_a_token_for_mcp() {
    let idp = Idp::start().await;
    let app = app_with(&idp, &[]).await;
    idp.set_user("alice", json!({"email": ADMIN_EMAIL, "email_verified": true})).await;
    let (flow, authorize_url) = Flow::start(&app, &idp).await;
    let callback = idp.sign_in(&authorize_url, "alice").await;
    assert!(callback.starts_with(&app.at("/auth/callback?")), "{callback}");
    let (status, consent) = flow.back(&callback).await;
    assert_eq!(status, StatusCode::OK, "{consent}");
    assert!(consent.contains("Allow access?") && consent.contains(ADMIN_EMAIL), "{consent}");
    // The provider's answer works once.
    let (status, replayed) = flow.back(&callback).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(replayed.contains("already used"), "{replayed}");

    let code = app.allow(&flow.browser, &consent).await;
    let response = app.exchange(&flow.client_id, &code, &flow.verifier).await;
    assert_eq!(response.status(), StatusCode::OK);
    let token: Value = response.json().await.unwrap();
    let access = token["access_token"].as_str().unwrap();
    let session = app.initialize(access).await;
    let tools = app.legacy(access, &session, 2, "tools/list", json!({})).await;
    assert!(tools.message["result"]["tools"].as_array().is_some_and(|t| !t.is_empty()), "{tools:?}");
    let linked: (String, String) = sqlx::query_as("SELECT i.subject, u.email FROM identities i JOIN users u ON u.id = i.user_id")
        .fetch_one(&app.db)
        .await
        .unwrap();
    assert_eq!(linked, ("alice".to_owned(), ADMIN_EMAIL.to_owned()));

    // Once linked, the subject is who signs in, whatever email the provider names later.
    idp.set_user("alice", json!({"email": "alice@elsewhere.example", "email_verified": false})).await;
    let (_, status, consent) = Flow::sign_in(&app, &idp, "alice").await;
    assert_eq!(status, StatusCode::OK, "{consent}");
    assert!(consent.contains(ADMIN_EMAIL), "{consent}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_forged_or_foreign_state_and_a_provider_error_are_refused() {
    let idp = Idp::start().await;
    let app = app_with(&idp, &[]).await;
    idp.set_user("alice", json!({"email": ADMIN_EMAIL, "email_verified": true})).await;

    let (flow, _) = Flow::start(&app, &idp).await;
    let (status, page) = flow.back(&app.at("/auth/callback?state=forged&code=whatever")).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(page.contains("matches no sign-in"), "{page}");
    let (status, page) = flow.back(&app.at("/auth/callback?code=whatever")).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(page.contains("no state"), "{page}");

    // The answer to a sign-in started in one browser, delivered to another (login CSRF).
    let (flow, authorize_url) = Flow::start(&app, &idp).await;
    let callback = idp.sign_in(&authorize_url, "alice").await;
    let (status, page) = Flow { browser: browser(), client_id: String::new(), verifier: String::new() }.back(&callback).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(page.contains("another browser"), "{page}");
    // And its state is spent: the right browser cannot use it afterwards either.
    let (status, page) = flow.back(&callback).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(page.contains("already used"), "{page}");

    let (flow, authorize_url) = Flow::start(&app, &idp).await;
    let (status, page) = flow.back(&idp.deny(&authorize_url).await).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert!(page.contains("did not sign you in") && page.contains("access_denied"), "{page}");
    assert_eq!(identities(&app).await, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_id_token_for_another_audience_or_with_another_nonce_is_refused() {
    let idp = Idp::start().await;
    let app = app_with(&idp, &[]).await;
    for (sub, claim) in [("aud-case", json!({"aud": "another-client"})), ("nonce-case", json!({"nonce": "not-the-nonce-we-sent"}))] {
        let mut claims = json!({"email": ADMIN_EMAIL, "email_verified": true});
        claims.as_object_mut().unwrap().extend(claim.as_object().unwrap().clone());
        idp.set_user(sub, claims).await;
        let (_, status, page) = Flow::sign_in(&app, &idp, sub).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{sub}: {page}");
        assert!(page.contains("failed verification"), "{sub}: {page}");
        assert!(!page.contains("Allow access?"));
    }
    assert_eq!(identities(&app).await, 0);
    assert_eq!(count(&app, "SELECT count(*) FROM sessions").await, 0, "a refused sign-in starts no session");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unverified_email_is_not_linked_and_unknown_people_are_refused_by_default() {
    let idp = Idp::start().await;
    let app = app_with(&idp, &[]).await;
    idp.set_user("mallory", json!({"email": ADMIN_EMAIL, "email_verified": false})).await;
    let (_, status, page) = Flow::sign_in(&app, &idp, "mallory").await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert!(page.contains("has not verified"), "{page}");

    idp.set_user("stranger", json!({"email": "stranger@example.com", "email_verified": true})).await;
    let (_, status, page) = Flow::sign_in(&app, &idp, "stranger").await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert!(page.contains("no ferrocat account for stranger@example.com"), "{page}");
    assert_eq!(identities(&app).await, 0);
    assert_eq!(count(&app, "SELECT count(*) FROM users").await, 1, "only the first admin");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_account_creation_on_a_verified_stranger_gets_an_account_with_the_default_role() {
    let idp = Idp::start().await;
    let app = app_with(&idp, &[("FERROCAT_OIDC_CREATE_USERS", "true")]).await;
    idp.set_user("newcomer", json!({"email": "newcomer@example.com", "email_verified": true})).await;
    let (_, status, consent) = Flow::sign_in(&app, &idp, "newcomer").await;
    assert_eq!(status, StatusCode::OK, "{consent}");
    assert!(consent.contains("newcomer@example.com"), "{consent}");
    let roles: Vec<(uuid::Uuid, String)> = sqlx::query_as("SELECT m.workspace_id, m.role FROM memberships m JOIN users u ON u.id = m.user_id WHERE u.email = 'newcomer@example.com'")
        .fetch_all(&app.db)
        .await
        .unwrap();
    assert_eq!(roles, vec![(app.workspace_id, "viewer".to_owned())], "a new account gets the sign-in rules' default role in the default workspace");
    assert_eq!(identities(&app).await, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unreachable_provider_leaves_the_password_form() {
    // A port nothing listens on.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap();
    let issuer = format!("http://{closed}");
    let app = spawn_with(&[("FERROCAT_OIDC_ISSUER", issuer.as_str()), ("FERROCAT_OIDC_CLIENT_ID", CLIENT_ID)]).await;
    let client_id = app.register(&["http://127.0.0.1/callback"]).await;
    let (_, challenge) = pkce();
    let browser = browser();
    let resource = app.resource();
    let page = app.authorize(&browser, &app.authorize_params(&client_id, &challenge, &resource)).await.text().await.unwrap();
    let response = browser.post(app.at("/authorize/sso")).form(&[("request_id", request_id(&page))]).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::BAD_GATEWAY);
    let page = response.text().await.unwrap();
    assert!(page.contains("cannot be reached") && page.contains(r#"action="/authorize/sign-in""#), "{page}");
}

/// An account made by accepting an invitation (whoever accepted chose its password; the token
/// went to the inviter) is never adopted by single sign-on with that password: the owner of
/// the verified address takes it over, and the maker's password and sessions end.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unverified_account_is_taken_over_by_single_sign_on_never_adopted_with_its_password() {
    let idp = Idp::start().await;
    let app = app_with(&idp, &[]).await;
    let hash = ferrocat_app::accounts::hash_password("squatter-knows-this").unwrap();
    let id = ferrocat_app::db::users::insert_unverified(&app.db, "ceo@example.com", &hash).await.unwrap();
    sqlx::query("INSERT INTO sessions (token_hash, user_id, expires_at) VALUES ($1, $2, now() + interval '1 day')")
        .bind(vec![7u8; 32])
        .bind(id)
        .execute(&app.db)
        .await
        .unwrap();
    // An unverified email from the provider still takes nothing.
    idp.set_user("mallory", json!({"email": "ceo@example.com", "email_verified": false})).await;
    let (_, status, _) = Flow::sign_in(&app, &idp, "mallory").await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert_eq!(identities(&app).await, 0);

    idp.set_user("ceo", json!({"email": "CEO@example.com", "email_verified": true})).await;
    let (_, status, consent) = Flow::sign_in(&app, &idp, "ceo").await;
    assert_eq!(status, StatusCode::OK, "{consent}");
    assert!(consent.contains("ceo@example.com"), "{consent}");
    let (verified, password): (bool, String) =
        sqlx::query_as("SELECT email_verified, hashed_password FROM users WHERE id = $1").bind(id).fetch_one(&app.db).await.unwrap();
    assert!(verified, "the provider proved the address");
    assert!(!ferrocat_app::accounts::verify_password("squatter-knows-this", &password), "the maker's password is gone");
    assert_eq!(count(&app, "SELECT count(*) FROM sessions WHERE token_hash = '\\x0707070707070707070707070707070707070707070707070707070707070707'").await, 0);
    let linked: i64 = sqlx::query_scalar("SELECT count(*) FROM identities WHERE user_id = $1").bind(id).fetch_one(&app.db).await.unwrap();
    assert_eq!(linked, 1);
    assert_eq!(count(&app, "SELECT count(*) FROM users").await, 2, "the first admin and the one account");
}

/// The organisation's rules apply to single sign-on: accounts are created for the allowed
/// domains without `FERROCAT_OIDC_CREATE_USERS`, other domains are refused (linked identities
/// too), and with OpenID Connect turned off nobody signs in through it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_organisations_domains_and_account_creation_rules_apply_to_single_sign_on() {
    use ferrocat_app::auth_settings::{Changes, update};
    let idp = Idp::start().await;
    let app = app_with(&idp, &[]).await;
    let admin = sqlx::query_scalar::<_, uuid::Uuid>("SELECT id FROM users WHERE email = $1").bind(ADMIN_EMAIL).fetch_one(&app.db).await.unwrap();
    let rules = Changes { allowed_domains: Some(vec!["soc.example.com".into()]), jit_provisioning: Some("allowed_domains".into()), ..Default::default() };
    update(&app.db, admin, rules).await.unwrap();

    idp.set_user("newcomer", json!({"email": "newcomer@soc.example.com", "email_verified": true})).await;
    let (_, status, consent) = Flow::sign_in(&app, &idp, "newcomer").await;
    assert_eq!(status, StatusCode::OK, "{consent}");
    assert!(consent.contains("newcomer@soc.example.com"), "an account made for an allowed domain: {consent}");

    idp.set_user("outsider", json!({"email": "someone@other.org", "email_verified": true})).await;
    let (_, status, page) = Flow::sign_in(&app, &idp, "outsider").await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{page}");
    assert!(page.contains("only for addresses at soc.example.com"), "no account is made for another domain: {page}");
    assert_eq!(count(&app, "SELECT count(*) FROM users WHERE email = 'someone@other.org'").await, 0);
    app.create_user("partner@other.org", "partner-passphrase-9", app.workspace_id, "viewer").await;
    sqlx::query("UPDATE users SET email_verified = true WHERE email = 'partner@other.org'").execute(&app.db).await.unwrap();
    idp.set_user("partner", json!({"email": "partner@other.org", "email_verified": true})).await;
    let (_, status, page) = Flow::sign_in(&app, &idp, "partner").await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{page}");
    assert!(page.contains("only for addresses at soc.example.com"), "an account of another domain is refused: {page}");

    // Invitations make accounts: an invited address signs in with the invitation's role.
    update(&app.db, admin, Changes { jit_provisioning: Some("invited".into()), ..Default::default() }).await.unwrap();
    idp.set_user("stranger", json!({"email": "stranger@soc.example.com", "email_verified": true})).await;
    let (_, status, page) = Flow::sign_in(&app, &idp, "stranger").await;
    assert_eq!(status, StatusCode::FORBIDDEN, "not invited, no account: {page}");
    sqlx::query(
        "INSERT INTO invitations (id, workspace_id, email, role, token_hash, expires_at) VALUES (gen_random_uuid(), $1, 'invited@soc.example.com', 'editor', $2, now() + interval '1 day')",
    )
    .bind(app.workspace_id)
    .bind(vec![9u8; 32])
    .execute(&app.db)
    .await
    .unwrap();
    idp.set_user("invited", json!({"email": "invited@soc.example.com", "email_verified": true})).await;
    let (_, status, consent) = Flow::sign_in(&app, &idp, "invited").await;
    assert_eq!(status, StatusCode::OK, "{consent}");
    let role = sqlx::query_scalar::<_, String>("SELECT m.role FROM memberships m JOIN users u ON u.id = m.user_id WHERE u.email = 'invited@soc.example.com'")
        .fetch_one(&app.db)
        .await
        .unwrap();
    assert_eq!(role, "editor", "the invitation's role");

    // Turned off: the sign-in page stops offering it, and its button's form is refused.
    let (flow, authorize_url) = Flow::start(&app, &idp).await;
    update(&app.db, admin, Changes { oidc_enabled: Some(false), ..Default::default() }).await.unwrap();
    let (status, page) = flow.back(&idp.sign_in(&authorize_url, "newcomer").await).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "a sign-in on its way when it was turned off: {page}");
    assert!(page.contains("turned off for this organisation"), "{page}");
    let (_, challenge) = pkce();
    let client_id = app.register(&["http://127.0.0.1/callback"]).await;
    let b = browser();
    let resource = app.resource();
    let page = app.authorize(&b, &app.authorize_params(&client_id, &challenge, &resource)).await.text().await.unwrap();
    assert!(!page.contains("/authorize/sso"), "not offered once off: {page}");
    let refused = b.post(app.at("/authorize/sso")).form(&[("request_id", request_id(&page))]).send().await.unwrap();
    assert_eq!(refused.status(), StatusCode::FORBIDDEN);
    assert!(refused.text().await.unwrap().contains("turned off for this organisation"));
    assert_eq!(identities(&app).await, 2, "only the newcomer's and the invited one's identities were linked");
}
