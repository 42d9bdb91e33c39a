//! Single sign-on on the authorization pages through the configured OpenID Connect provider.
//! `POST /authorize/sso` sends the browser of a pending authorization request to the provider
//! (state, nonce, PKCE S256; the request's id in a cookie scoped to the callback, which binds
//! the answer to this browser); `GET /auth/callback` spends the state once, redeems the code,
//! verifies the ID token, and finds the platform user: an identity linked before, else the
//! account with the provider's email when the provider says it verified it (an account whose
//! own address was never verified, made by accepting an invitation, is taken over rather than
//! adopted: its password and sessions end), else (only with
//! `FERROCAT_OIDC_CREATE_USERS`, or the organisation's rules creating accounts for its allowed
//! domains) a new account. The organisation's rules may turn OpenID Connect off and limit it to
//! some email domains. Then it continues exactly as password sign-in does: an api session and
//! the consent page.

use axum::Form;
use axum::extract::rejection::FormRejection;
use axum::extract::{Query, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum_extra::extract::CookieJar;
use axum_extra::extract::cookie::{Cookie, SameSite};
use chrono::Utc;
use serde::Deserialize;


use ferrocat_app::sso::identities::{self, NewLogin, Taken};
use ferrocat_app::sso::oidc::{OidcError, Provider};
use super::pages::{self, ClientView};
use super::{hash, signin, store};
use crate::state::McpState;

/// The cookie that carries the pending request's id to the callback.
const SSO_COOKIE: &str = "ferrocat_sso";
const CALLBACK_PATH: &str = "/auth/callback";
/// How long the user has at the provider.
const LOGIN_TTL_SECONDS: i64 = 600;

fn internal(e: &dyn std::fmt::Display) -> Response {
    pages::internal_error("single sign-on", e)
}

fn sso_cookie(state: &McpState, value: String, max_age: time::Duration) -> Cookie<'static> {
    Cookie::build((SSO_COOKIE, value))
        .path(CALLBACK_PATH)
        .http_only(true)
        .secure(state.config.secure_cookies())
        // The provider sends the browser back with a top-level GET: Lax cookies come along.
        .same_site(SameSite::Lax)
        .max_age(max_age)
        .build()
}

/// The sign-in button's form.
#[derive(Deserialize)]
pub struct StartForm {
    request_id: String,
}

/// `POST /authorize/sso`: from the sign-in page to the provider.
pub async fn post_start(State(state): State<McpState>, jar: CookieJar, form: Result<Form<StartForm>, FormRejection>) -> Response {
    let Some(provider) = state.oidc.clone() else { return no_identity_provider().await };
    let Ok(Form(form)) = form else {
        return pages::error_page(StatusCode::BAD_REQUEST, "the single sign-on form expects request_id");
    };
    match ferrocat_app::auth_settings::read(state.db()).await {
        Ok(rules) if !rules.oidc_enabled => {
            return pages::error_page(StatusCode::FORBIDDEN, "Single sign-on through OpenID Connect is turned off for this organisation.");
        }
        Ok(_) => {}
        Err(e) => return internal(&e),
    }
    let request_hash = hash(&form.request_id);
    let pending = match store::request(state.db(), &request_hash).await {
        Ok(Some(pending)) => pending,
        Ok(None) => return pages::error_page(StatusCode::BAD_REQUEST, "this sign-in request expired: start again from the application"),
        Err(e) => return internal(&e),
    };
    let redirect = match provider.redirect().await {
        Ok(redirect) => redirect,
        Err(e) => {
            tracing::warn!(error = %e, "the identity provider is unavailable");
            let client = match store::client(state.db(), &pending.client_id).await {
                Ok(Some(client)) => client,
                Ok(None) => return pages::error_page(StatusCode::BAD_REQUEST, "the client is no longer registered"),
                Err(e) => return internal(&e),
            };
            let view = ClientView { name: &client.client_name, client_id: &client.client_id, redirect_uri: &pending.redirect_uri };
            let msg = format!("{} cannot be reached right now: try again, or sign in with your password.", provider.name());
            return pages::sign_in(StatusCode::BAD_GATEWAY, &view, &form.request_id, "", Some(&msg), &state.offered().await);
        }
    };
    let saved = identities::insert_login(state.db(), &NewLogin {
        state_hash: &hash(&redirect.state),
        request_hash: &request_hash,
        nonce: &redirect.nonce,
        pkce_verifier: &redirect.pkce_verifier,
        expires_at: Utc::now() + chrono::Duration::seconds(LOGIN_TTL_SECONDS),
    })
    .await;
    if let Err(e) = saved {
        return internal(&e);
    }
    let Ok(location) = HeaderValue::from_str(&redirect.url) else {
        return internal(&"the provider's authorization URL is not a header value");
    };
    let cookie = sso_cookie(&state, form.request_id, time::Duration::seconds(LOGIN_TTL_SECONDS));
    let mut response = (jar.add(cookie), StatusCode::SEE_OTHER).into_response();
    response.headers_mut().insert(header::LOCATION, location);
    response.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

/// What the provider sends back (RFC 6749 §4.1.2 and §4.1.2.1).
#[derive(Debug, Deserialize)]
pub struct CallbackQuery {
    code: Option<String>,
    state: Option<String>,
    error: Option<String>,
    error_description: Option<String>,
}

/// `GET /auth/callback`: back from the provider.
pub async fn get_callback(State(state): State<McpState>, jar: CookieJar, Query(q): Query<CallbackQuery>) -> Response {
    let Some(provider) = state.oidc.clone() else { return no_identity_provider().await };
    let restart = "start again from the application";
    let Some(state_param) = q.state.as_deref().filter(|s| !s.is_empty()) else {
        // Some providers leave the state out of an error answer.
        if let Some(error) = &q.error {
            return provider_error(&provider, error, q.error_description.as_deref());
        }
        return pages::error_page(StatusCode::BAD_REQUEST, &format!("the identity provider's answer has no state: {restart}"));
    };
    // Spent whatever follows: a state works once.
    let login = match identities::take_login(state.db(), &hash(state_param)).await {
        Ok(Taken::Fresh(login)) => login,
        Ok(Taken::Replayed) => {
            tracing::warn!("a single sign-on state came back twice");
            return pages::error_page(StatusCode::BAD_REQUEST, &format!("this sign-in answer was already used: {restart}"));
        }
        Ok(Taken::Unknown) => {
            let detail = format!("this sign-in answer matches no sign-in started here, or it expired: {restart}");
            return pages::error_page(StatusCode::BAD_REQUEST, &detail);
        }
        Err(e) => return internal(&e),
    };
    // The request id travels in this browser's cookie only: an answer to a sign-in started in
    // another browser (login CSRF) does not match.
    let cookie_request_id = jar.get(SSO_COOKIE).map(|c| c.value().to_owned());
    let jar = jar.remove(sso_cookie(&state, String::new(), time::Duration::ZERO));
    let refuse = |jar: CookieJar, status: StatusCode, detail: &str| (jar, pages::error_page(status, detail)).into_response();
    if let Some(error) = &q.error {
        return (jar, provider_error(&provider, error, q.error_description.as_deref())).into_response();
    }
    let Some(request_id) = cookie_request_id.filter(|id| hash(id) == login.request_hash) else {
        tracing::warn!("a single sign-on answer came to another browser than the one that started it");
        return refuse(jar, StatusCode::BAD_REQUEST, &format!("this sign-in was started in another browser: {restart}"));
    };
    let Some(code) = q.code.as_deref().filter(|c| !c.is_empty()) else {
        return refuse(jar, StatusCode::BAD_REQUEST, &format!("the identity provider's answer has no code: {restart}"));
    };
    let pending = match store::request(state.db(), &login.request_hash).await {
        Ok(Some(pending)) => pending,
        Ok(None) => return refuse(jar, StatusCode::BAD_REQUEST, &format!("this sign-in request expired: {restart}")),
        Err(e) => return internal(&e),
    };
    let identity = match provider.finish(code, &login.nonce, &login.pkce_verifier).await {
        Ok(identity) => identity,
        Err(e) => {
            tracing::warn!(error = %e, issuer = %provider.issuer(), "single sign-on refused");
            let (status, detail) = match e {
                OidcError::Discovery { .. } | OidcError::TokenRequest(_) => {
                    (StatusCode::BAD_GATEWAY, format!("{} cannot be reached right now: {restart}", provider.name()))
                }
                OidcError::CodeRefused(_) => (StatusCode::BAD_REQUEST, format!("{} refused the sign-in code: {restart}", provider.name())),
                OidcError::NoIdToken | OidcError::InvalidIdToken(_) => {
                    (StatusCode::BAD_REQUEST, format!("the answer of {} failed verification, so it cannot sign you in.", provider.name()))
                }
            };
            return refuse(jar, status, &detail);
        }
    };
    let user = match ferrocat_app::sso::platform_user(state.db(), &provider.source(), &identity).await {
        Ok(Ok(user)) => user,
        Ok(Err(refusal)) => {
            tracing::info!(issuer = %identity.issuer, subject = %identity.subject, why = %refusal, "single sign-on: no platform user");
            return refuse(jar, StatusCode::FORBIDDEN, &refusal);
        }
        Err(e) => return internal(&e),
    };
    let client = match store::client(state.db(), &pending.client_id).await {
        Ok(Some(client)) => client,
        Ok(None) => return refuse(jar, StatusCode::BAD_REQUEST, "the client is no longer registered"),
        Err(e) => return internal(&e),
    };
    let cookie = match signin::start_session(&state, &user).await {
        Ok(cookie) => cookie,
        Err(e) => return internal(&e),
    };
    if let Err(e) = store::set_request_user(state.db(), &login.request_hash, user.id).await {
        return internal(&e);
    }
    tracing::info!(user_id = %user.id, client_id = %client.client_id, issuer = %identity.issuer, "signed in through sso for an oauth client");
    let view = ClientView { name: &client.client_name, client_id: &client.client_id, redirect_uri: &pending.redirect_uri };
    (jar.add(cookie), pages::consent(&view, &user.email, &request_id)).into_response()
}

/// The page for an error the provider sent back: 403 when the user (or the provider's policy)
/// said no, 400 otherwise.
fn provider_error(provider: &Provider, error: &str, description: Option<&str>) -> Response {
    tracing::info!(error = %error, "the identity provider did not sign the user in");
    let detail = match description {
        Some(description) => format!("{} did not sign you in ({error}: {description}).", provider.name()),
        None => format!("{} did not sign you in ({error}).", provider.name()),
    };
    let status = if error == "access_denied" { StatusCode::FORBIDDEN } else { StatusCode::BAD_REQUEST };
    pages::error_page(status, &detail)
}

/// `GET /auth/callback` (and the sign-in button) when no provider is configured.
pub async fn no_identity_provider() -> Response {
    pages::error_page(StatusCode::NOT_FOUND, "No single sign-on provider is configured; sign in with your ferrocat account instead.")
}
