//! `POST /auth/login` (form `username`, `password`; 204 with a session cookie), single sign-on
//! through the OpenID Connect provider (`GET /auth/oidc/login`, then the provider, then
//! `GET /auth/oidc/callback`, which sets the same cookie) or the SAML identity provider
//! (`GET /auth/saml/login`, then the IdP, then its HTTP-POST to `POST /auth/saml/acs`; the
//! service provider's metadata at `GET /auth/saml/metadata`), `POST /auth/logout`, `GET /users/me`,
//! `POST /users/me/password`, `GET /users` (superusers).
//!
//! Failed sign-ins are counted in Redis per account name and per client address
//! ([`ferrocat_app::lockout`], shared with the MCP sign-in page); past the limit, attempts get 429 with
//! `Retry-After` until the window closes, without checking the password.

use std::net::SocketAddr;

use axum::extract::{ConnectInfo, State};
use axum::http::HeaderMap;
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::routing::{get, post};
use axum::{Form, Json, Router};
use axum_extra::extract::CookieJar;
use axum_extra::extract::cookie::{Cookie, SameSite};
use serde::Deserialize;
use serde_json::{Value, json};

use ferrocat_app::db::{users, workspaces};
use ferrocat_app::lockout::SignInAttempt;
use ferrocat_app::sso::saml::{self, SpUrls};

use super::{JsonBody, client_ip};
use crate::auth::{self, AuthUser, Principal, SESSION_COOKIE};
use crate::error::ApiError;
use crate::state::AppState;

pub(super) fn router() -> Router<AppState> {
    Router::new()
        .route("/auth/login", post(login))
        .route("/auth/logout", post(logout))
        .route("/auth/oidc/login", get(oidc_login))
        .route("/auth/oidc/callback", get(oidc_callback))
        .route("/auth/saml/login", get(saml_login))
        .route("/auth/saml/acs", post(saml_acs))
        .route("/auth/saml/metadata", get(saml_metadata))
        .route("/users/me", get(get_me))
        .route("/users/me/password", post(change_password))
        .route("/users", get(list_users))
}

#[derive(Deserialize, utoipa::ToSchema)]
struct LoginForm {
    username: String,
    password: String,
}

#[utoipa::path(
    post,
    path = "/auth/login",
    tag = "auth",
    request_body(content = LoginForm, content_type = "application/x-www-form-urlencoded"),
    responses((status = 204, description = "signed in: the session cookie is set"), (status = "4XX", description = "the one error shape", body = crate::error::ErrorBody))
)]
async fn login(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    jar: CookieJar,
    form: Result<Form<LoginForm>, axum::extract::rejection::FormRejection>,
) -> Result<impl IntoResponse, ApiError> {
    let Form(form) = form.map_err(|e| match e.status() {
        StatusCode::PAYLOAD_TOO_LARGE => ApiError::PayloadTooLarge("request body is too large".into()),
        _ => ApiError::BadRequest(format!("login expects form fields username and password: {}", e.body_text())),
    })?;
    let attempt = SignInAttempt::new(&form.username, client_ip(peer, &headers));
    attempt.check(&state).await?;
    let found = users::find_credentials(&state.db, form.username.trim()).await?;
    // Verify against a fixed hash when the user is unknown so timing does not reveal accounts.
    let (user, hash) = match found {
        Some((user, hash)) => (Some(user), hash),
        None => (None, DUMMY_HASH.clone()),
    };
    let password = form.password;
    let ok = ferrocat_app::accounts::verify_password_blocking(password, hash).await?;
    let user = match user {
        Some(user) if ok && user.is_active => user,
        _ => {
            attempt.failed(&state).await;
            return Err(ApiError::BadRequest("LOGIN_BAD_CREDENTIALS".into()));
        }
    };
    attempt.succeeded(&state).await;
    // The organisation's rules, asked only once the password is known to be right.
    ferrocat_app::auth_settings::password_allowed(&state.db, &user.email).await?;
    let cookie = start_session(&state, &user).await?;
    tracing::info!(user_id = %user.id, "login");
    Ok((StatusCode::NO_CONTENT, jar.add(cookie)))
}

/// Starts a session for `user`: its cookie.
async fn start_session(state: &AppState, user: &users::User) -> Result<Cookie<'static>, ApiError> {
    let (token, token_hash) = ferrocat_app::accounts::new_session_token();
    let expires = chrono::Utc::now() + chrono::Duration::seconds(state.config.session_ttl_seconds);
    users::insert_session(&state.db, &token_hash, user.id, expires).await?;
    users::touch_login(&state.db, user.id).await?;
    Ok(Cookie::build((SESSION_COOKIE, token))
        .path("/")
        .http_only(true)
        .secure(state.config.secure_cookies())
        // Strict: a cross-site navigation (a link to a webhook URL, say) never carries the
        // session. The console is one origin, so its own requests always do.
        .same_site(SameSite::Strict)
        .max_age(time_duration(state.config.session_ttl_seconds))
        .build())
}

/// The cookie that binds a single sign-on to the browser that started it.
const SSO_COOKIE: &str = "ferrocat_console_sso";
/// Why a single sign-on signed nobody in, for the sign-in page to show (read by the console).
const SSO_ERROR_COOKIE: &str = "ferrocat_sso_error";

fn sso_cookie(state: &AppState, value: String, max_age: time::Duration) -> Cookie<'static> {
    Cookie::build((SSO_COOKIE, value))
        .path("/")
        .http_only(true)
        .secure(state.config.secure_cookies())
        // The provider sends the browser back with a top-level GET: Lax cookies come along.
        .same_site(SameSite::Lax)
        .max_age(max_age)
        .build()
}

fn provider(state: &AppState) -> Result<&ferrocat_app::sso::Provider, ApiError> {
    state.oidc.as_deref().ok_or_else(|| ApiError::NotFound("no single sign-on provider is configured: sign in with your password".into()))
}

/// A redirect (303) to `location`.
fn see_other(location: &str) -> Result<axum::response::Response, ApiError> {
    let value = axum::http::HeaderValue::from_str(location).map_err(|_| ApiError::Internal(anyhow::anyhow!("a redirect that is not a header value")))?;
    let mut response = StatusCode::SEE_OTHER.into_response();
    response.headers_mut().insert(axum::http::header::LOCATION, value);
    response.headers_mut().insert(axum::http::header::CACHE_CONTROL, axum::http::HeaderValue::from_static("no-store"));
    Ok(response)
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
struct OidcLoginQuery {
    /// A path of this site to land on afterwards (default `/`).
    return_to: Option<String>,
}

#[utoipa::path(
    get,
    path = "/auth/oidc/login",
    tag = "auth",
    params(OidcLoginQuery),
    responses((status = 303, description = "to the identity provider"), (status = "4XX", description = "the one error shape; 404 when no provider is configured", body = crate::error::ErrorBody))
)]
async fn oidc_login(State(state): State<AppState>, jar: CookieJar, super::Query(q): super::Query<OidcLoginQuery>) -> Result<impl IntoResponse, ApiError> {
    let provider = provider(&state)?;
    let started = ferrocat_app::sso::console::start(&state.db, provider, q.return_to.as_deref()).await?;
    Ok((jar.add(sso_cookie(&state, started.browser_token, time::Duration::minutes(10))), see_other(&started.url)?))
}

#[utoipa::path(
    get,
    path = "/auth/oidc/callback",
    tag = "auth",
    params(super::integrations::CallbackQuery),
    responses((status = 303, description = "signed in: the session cookie is set, and on to the page the sign-in started from; else to `/`, with why in the cookie ferrocat_sso_error"), (status = "4XX", description = "the one error shape", body = crate::error::ErrorBody))
)]
async fn oidc_callback(State(state): State<AppState>, jar: CookieJar, super::Query(q): super::Query<super::integrations::CallbackQuery>) -> Result<impl IntoResponse, ApiError> {
    let provider = provider(&state)?;
    let browser_token = jar.get(SSO_COOKIE).map(|c| c.value().to_owned());
    let jar = jar.remove(sso_cookie(&state, String::new(), time::Duration::ZERO));
    signed_in_or_back(&state, jar, finish_sso(&state, provider, &q, browser_token.as_deref()).await)
}

/// The end of a single sign-on: signed in (the session cookie, and on to the page it started
/// from), or back to the sign-in page, which shows why. The reason travels in a cookie only
/// this site sets, not in the URL, so a link cannot put words on that page.
fn signed_in_or_back(
    state: &AppState,
    jar: CookieJar,
    outcome: Result<(Cookie<'static>, axum::response::Response), ApiError>,
) -> Result<axum::response::Response, ApiError> {
    match outcome {
        Ok(response) => Ok((jar.add(response.0), response.1).into_response()),
        Err(refused) if refused.status_code().is_client_error() => {
            // The cookie jar percent-encodes the value.
            let why = Cookie::build((SSO_ERROR_COOKIE, refused.to_string())).path("/").secure(state.config.secure_cookies()).same_site(SameSite::Lax).max_age(time::Duration::minutes(1)).build();
            Ok((jar.add(why), see_other("/")?).into_response())
        }
        Err(failed) => Err(failed),
    }
}

/// The cookie that binds a SAML sign-in to the browser that started it. The IdP answers with
/// a cross-site POST, which carries only `SameSite=None` cookies (and those must be Secure);
/// over plain http the browser's default applies (Chromium sends a fresh default cookie on a
/// cross-site POST for two minutes).
fn saml_cookie(state: &AppState, value: String, max_age: time::Duration) -> Cookie<'static> {
    let mut cookie = Cookie::build((SAML_COOKIE, value)).path("/").http_only(true).max_age(max_age).build();
    if state.config.secure_cookies() {
        cookie.set_secure(true);
        cookie.set_same_site(SameSite::None);
    }
    cookie
}

/// The cookie of [`saml_cookie`].
const SAML_COOKIE: &str = "ferrocat_console_saml";

#[utoipa::path(
    get,
    path = "/auth/saml/login",
    tag = "auth",
    params(OidcLoginQuery),
    responses((status = 303, description = "to the SAML identity provider, with an AuthnRequest (HTTP-Redirect binding)"), (status = "4XX", description = "the one error shape; 404 when no identity provider is configured, 403 when SAML sign-in is off", body = crate::error::ErrorBody))
)]
async fn saml_login(State(state): State<AppState>, jar: CookieJar, super::Query(q): super::Query<OidcLoginQuery>) -> Result<impl IntoResponse, ApiError> {
    let urls = SpUrls::new(&state.config.public_url);
    let started = saml::start(&state.db, &urls, saml::Origin::Console { return_to: q.return_to.as_deref() }).await?;
    Ok((jar.add(saml_cookie(&state, started.browser_token, time::Duration::minutes(10))), see_other(&started.url)?))
}

/// What the identity provider posts back (HTTP-POST binding).
#[derive(Deserialize, utoipa::ToSchema)]
pub(crate) struct SamlAnswer {
    #[serde(rename = "SAMLResponse")]
    saml_response: Option<String>,
    #[serde(rename = "RelayState")]
    relay_state: Option<String>,
}

#[utoipa::path(
    post,
    path = "/auth/saml/acs",
    tag = "auth",
    request_body(content = SamlAnswer, content_type = "application/x-www-form-urlencoded"),
    responses((status = 303, description = "signed in: the session cookie is set, and on to the page the sign-in started from; else to `/`, with why in the cookie ferrocat_sso_error"), (status = "4XX", description = "the one error shape", body = crate::error::ErrorBody))
)]
async fn saml_acs(State(state): State<AppState>, jar: CookieJar, form: Result<Form<SamlAnswer>, axum::extract::rejection::FormRejection>) -> Result<axum::response::Response, ApiError> {
    // Not a form: no identity provider's page sent this, so no sign-in page to go back to.
    let Form(answer) = form.map_err(|e| match e.status() {
        StatusCode::PAYLOAD_TOO_LARGE => ApiError::PayloadTooLarge("the SAML answer is too large".into()),
        _ => ApiError::BadRequest(format!("the SAML answer expects form fields SAMLResponse and RelayState: {}", e.body_text())),
    })?;
    let browser_token = jar.get(SAML_COOKIE).map(|c| c.value().to_owned());
    let jar = jar.remove(saml_cookie(&state, String::new(), time::Duration::ZERO));
    let outcome = async {
        let (Some(response), Some(relay_state)) = (answer.saml_response.filter(|r| !r.is_empty()), answer.relay_state.filter(|r| !r.is_empty())) else {
            return Err(ApiError::BadRequest("the SAML answer has no SAMLResponse or RelayState (sign-ins start here, not at the identity provider): sign in again".into()));
        };
        let urls = SpUrls::new(&state.config.public_url);
        let finished = saml::finish(&state.db, &urls, saml::Face::Console, &relay_state, browser_token.as_deref(), &response).await?;
        let cookie = start_session(&state, &finished.user).await?;
        Ok((cookie, see_other(finished.return_to.as_deref().unwrap_or("/"))?))
    }
    .await;
    signed_in_or_back(&state, jar, outcome)
}

#[utoipa::path(
    get,
    path = "/auth/saml/metadata",
    tag = "auth",
    responses((status = 200, description = "this service provider's SAML metadata (its URL is the entity id)", content_type = "application/samlmetadata+xml"))
)]
async fn saml_metadata(State(state): State<AppState>) -> Result<impl IntoResponse, ApiError> {
    let xml = saml::sp_metadata(&SpUrls::new(&state.config.public_url))?;
    Ok(([(axum::http::header::CONTENT_TYPE, "application/samlmetadata+xml")], xml))
}

/// The session cookie and the redirect home of a provider's answer, or why nobody is signed in.
async fn finish_sso(
    state: &AppState,
    provider: &ferrocat_app::sso::Provider,
    q: &super::integrations::CallbackQuery,
    browser_token: Option<&str>,
) -> Result<(Cookie<'static>, axum::response::Response), ApiError> {
    if let Some(error) = &q.error {
        // Only RFC 6749's codes are shown, never the free-text description: anyone can send
        // this query, and the sign-in page shows what it says.
        const CODES: [&str; 7] =
            ["access_denied", "invalid_request", "unauthorized_client", "unsupported_response_type", "invalid_scope", "server_error", "temporarily_unavailable"];
        let code = CODES.iter().find(|c| **c == error.as_str()).copied().unwrap_or("an error");
        tracing::info!(error = %error, "the identity provider did not sign the user in");
        let detail = format!("{} did not sign you in ({code})", provider.name());
        return Err(if error == "access_denied" { ApiError::Forbidden(detail) } else { ApiError::BadRequest(detail) });
    }
    let (Some(sso_state), Some(code)) = (q.state.as_deref().filter(|s| !s.is_empty()), q.code.as_deref().filter(|c| !c.is_empty())) else {
        return Err(ApiError::BadRequest("the identity provider's answer has no state or code: sign in again".into()));
    };
    let (user, return_to) = ferrocat_app::sso::console::finish(&state.db, provider, sso_state, browser_token, code).await?;
    let cookie = start_session(state, &user).await?;
    Ok((cookie, see_other(&return_to)?))
}

fn time_duration(seconds: i64) -> time::Duration {
    time::Duration::seconds(seconds)
}

/// A real argon2id hash, verified against when the username is unknown.
static DUMMY_HASH: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| {
    ferrocat_app::accounts::hash_password("ferrocat-timing-equaliser").expect("argon2 with default parameters cannot fail")
});

#[utoipa::path(
    post,
    path = "/auth/logout",
    tag = "auth",
    responses((status = 204, description = "signed out"), (status = "4XX", description = "the one error shape", body = crate::error::ErrorBody))
)]
async fn logout(State(state): State<AppState>, jar: CookieJar) -> Result<impl IntoResponse, ApiError> {
    if let Some(cookie) = jar.get(SESSION_COOKIE) {
        users::delete_session(&state.db, &ferrocat_app::accounts::token_hash(cookie.value())).await?;
    }
    Ok((StatusCode::NO_CONTENT, jar.remove(Cookie::build(SESSION_COOKIE).path("/"))))
}

#[utoipa::path(
    get,
    path = "/users/me",
    tag = "auth",
    responses((status = 200, description = "the caller", body = serde_json::Value), (status = "4XX", description = "the one error shape", body = crate::error::ErrorBody))
)]
async fn get_me(State(state): State<AppState>, principal: Principal) -> Result<Json<Value>, ApiError> {
    let user = match principal {
        Principal::User(user) => user,
        // An API key answers with its service account and the one workspace it is bound to.
        Principal::ServiceAccount(account) => {
            return Ok(Json(json!({
                "id": account.id,
                "type": "service_account",
                "name": account.name,
                "api_key_id": account.key_id,
                "workspaces": [{"id": ferrocat_shared::ids::workspace_id(account.workspace_id), "role": account.role.as_str()}],
            })));
        }
    };
    let memberships = workspaces::list_for_user(&state.db, user.id).await?;
    let workspaces: Vec<Value> = memberships
        .into_iter()
        .map(|m| json!({"id": ferrocat_shared::ids::workspace_id(m.workspace_id), "name": m.name, "role": m.role}))
        .collect();
    Ok(Json(json!({
        "id": user.id,
        "type": "user",
        "email": user.email,
        "is_superuser": user.is_superuser,
        "is_active": user.is_active,
        "email_verified": user.email_verified,
        "last_login_at": user.last_login_at,
        "workspaces": workspaces,
    })))
}

/// `GET /users`: every account, for superusers (403 for anyone else, and for API keys).
#[utoipa::path(
    get,
    path = "/users",
    tag = "auth",
    responses((status = 200, description = "every user (superadmins only)", body = Vec<users::User>), (status = "4XX", description = "the one error shape", body = crate::error::ErrorBody))
)]
async fn list_users(State(state): State<AppState>, user: AuthUser) -> Result<Json<Vec<users::User>>, ApiError> {
    user.require_superuser("listing users")?;
    Ok(Json(users::list(&state.db).await?))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
struct ChangePassword {
    current_password: String,
    new_password: String,
}

/// `POST /users/me/password`: a signed-in person changes their password by giving the current
/// one (checked under the sign-in lockout, so a stolen session cannot guess it); the new one
/// must meet the password policy. Every other session of the person ends, and every MCP grant
/// is withdrawn; the session asking stays signed in.
#[utoipa::path(
    post,
    path = "/users/me/password",
    tag = "auth",
    request_body = ChangePassword,
    responses((status = 204, description = "changed; the other sessions are signed out"), (status = "4XX", description = "the one error shape", body = crate::error::ErrorBody))
)]
async fn change_password(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    user: AuthUser,
    JsonBody(body): JsonBody<ChangePassword>,
) -> Result<StatusCode, ApiError> {
    let AuthUser(user) = user;
    let attempt = SignInAttempt::new(&user.email, client_ip(peer, &headers));
    attempt.check(&state).await?;
    let Some((_, hash)) = users::find_credentials(&state.db, &user.email).await? else {
        return Err(ApiError::Unauthorized("session expired or invalid".into()));
    };
    if !ferrocat_app::accounts::verify_password_blocking(body.current_password, hash).await? {
        attempt.failed(&state).await;
        return Err(ApiError::Unprocessable {
            detail: "the current password is wrong".into(),
            errors: vec![json!({"loc": "current_password", "msg": "the current password is wrong"})],
        });
    }
    attempt.succeeded(&state).await;
    ferrocat_app::passwords::check(&body.new_password, state.config.min_password_length, &user.email).map_err(|weak| {
        ApiError::Unprocessable { detail: weak.to_string(), errors: vec![json!({"loc": "new_password", "msg": weak.to_string()})] }
    })?;
    let hash = ferrocat_app::accounts::hash_password_blocking(body.new_password).await?;
    users::set_password(&state.db, user.id, &hash).await?;
    let keep = auth::session_token(&headers).map(|token| ferrocat_app::accounts::token_hash(&token));
    users::revoke_sessions(&state.db, user.id, keep.as_deref()).await?;
    tracing::info!(user_id = %user.id, "password changed; other sessions revoked");
    Ok(StatusCode::NO_CONTENT)
}
