//! `GET /authorize` (RFC 6749 §4.1.1 as OAuth 2.1 and MCP profile it) and the sign-in form it
//! shows. The client and redirect URI are checked first: when either is wrong the user sees an
//! error page and nothing is sent to the redirect URI. Every later error goes back to the
//! client as `error=...&state=...&iss=...`. A request that passes (PKCE S256 required, the
//! resource is this server's `/mcp`) is remembered under a random id, and the user signs in
//! (unless the api session cookie already says who they are) and then sees the consent page.

use std::net::SocketAddr;

use axum::Form;
use axum::extract::rejection::{FormRejection, QueryRejection};
use axum::extract::{ConnectInfo, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum_extra::extract::CookieJar;
use chrono::Utc;
use rand::Rng as _;
use serde::Deserialize;

use ferrocat_app::AppError;
use ferrocat_app::lockout::SignInAttempt;

use super::pages::{self, ClientView};
use super::{SCOPE, cimd, hash, new_secret, redirect, signin, store};
use crate::state::McpState;

/// How long a user has to sign in and consent.
const REQUEST_TTL_SECONDS: i64 = 600;

/// The parameters of an authorization request.
#[derive(Debug, Deserialize)]
pub struct AuthorizeQuery {
    response_type: Option<String>,
    client_id: Option<String>,
    redirect_uri: Option<String>,
    code_challenge: Option<String>,
    code_challenge_method: Option<String>,
    state: Option<String>,
    resource: Option<String>,
    #[serde(rename = "scope")]
    _scope: Option<String>,
}

/// A 303 to the client's redirect URI with `params` added to its query, plus `iss` (RFC 9207).
pub fn redirect_to(state: &McpState, redirect_uri: &str, params: &[(&str, Option<&str>)]) -> Response {
    let Ok(mut url) = url::Url::parse(redirect_uri) else {
        return pages::error_page(StatusCode::BAD_REQUEST, "the redirect URI is not a URL");
    };
    {
        let mut query = url.query_pairs_mut();
        for (key, value) in params {
            if let Some(value) = value {
                query.append_pair(key, value);
            }
        }
        query.append_pair("iss", state.config.issuer());
    }
    let mut response = StatusCode::SEE_OTHER.into_response();
    if let Ok(location) = HeaderValue::from_str(url.as_str()) {
        response.headers_mut().insert(header::LOCATION, location);
    }
    response.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

/// The client named by `client_id`: registered, or described by its metadata document.
async fn resolve_client(state: &McpState, client_id: Option<&str>) -> Result<store::Client, Response> {
    let Some(client_id) = client_id.filter(|c| !c.is_empty()) else {
        return Err(pages::error_page(StatusCode::BAD_REQUEST, "the request has no client_id"));
    };
    if cimd::is_document_url(client_id, state.config.cimd_allow_insecure) {
        return cimd::load(state, client_id).await.map_err(|why| {
            tracing::info!(client_id = %client_id, why = %why, "client metadata document refused");
            pages::error_page(StatusCode::BAD_REQUEST, &format!("the client's metadata document was refused: {why}"))
        });
    }
    match store::client(state.db(), client_id).await {
        Ok(Some(client)) => Ok(client),
        Ok(None) => Err(pages::error_page(StatusCode::BAD_REQUEST, "unknown client_id: register the client first")),
        Err(e) => {
            tracing::error!(error = %e, "loading an oauth client");
            Err(pages::error_page(StatusCode::INTERNAL_SERVER_ERROR, "internal error"))
        }
    }
}

fn is_s256_challenge(challenge: &str) -> bool {
    challenge.len() == 43 && challenge.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// Whether a requested resource names this server's `/mcp` (a trailing `/` aside).
fn is_our_resource(requested: &str, ours: &str) -> bool {
    requested.trim_end_matches('/') == ours
}

/// `GET /authorize`.
pub async fn get_authorize(
    State(state): State<McpState>,
    headers: HeaderMap,
    query: Result<Query<AuthorizeQuery>, QueryRejection>,
) -> Response {
    let Query(q) = match query {
        Ok(query) => query,
        Err(e) => return pages::error_page(StatusCode::BAD_REQUEST, &format!("malformed authorization request: {}", e.body_text())),
    };
    let client = match resolve_client(&state, q.client_id.as_deref()).await {
        Ok(client) => client,
        Err(page) => return page,
    };
    let redirect_uri = match (&q.redirect_uri, client.redirect_uris.as_slice()) {
        (Some(uri), registered) if redirect::find(registered, uri).is_some() => uri.clone(),
        (Some(_), _) => return pages::error_page(StatusCode::BAD_REQUEST, "the redirect_uri is not registered for this client"),
        (None, [only]) => only.clone(),
        (None, _) => return pages::error_page(StatusCode::BAD_REQUEST, "the request has no redirect_uri"),
    };
    let client_state = q.state.as_deref();
    let fail = |code: &str, description: &str| {
        redirect_to(&state, &redirect_uri, &[("error", Some(code)), ("error_description", Some(description)), ("state", client_state)])
    };
    if q.response_type.as_deref() != Some("code") {
        return fail("unsupported_response_type", "response_type must be code");
    }
    if !client.grant_types.iter().any(|g| g == "authorization_code") {
        return fail("unauthorized_client", "the client is not registered for the authorization_code grant");
    }
    let Some(challenge) = q.code_challenge.as_deref().filter(|c| !c.is_empty()) else {
        return fail("invalid_request", "code_challenge is required (PKCE with S256)");
    };
    // An absent method means `plain` (RFC 7636 §4.3), which OAuth 2.1 servers refuse.
    if q.code_challenge_method.as_deref() != Some("S256") {
        return fail("invalid_request", "code_challenge_method must be S256");
    }
    if !is_s256_challenge(challenge) {
        return fail("invalid_request", "code_challenge must be 43 base64url characters (an S256 digest)");
    }
    let ours = state.config.resource();
    if let Some(resource) = q.resource.as_deref()
        && !is_our_resource(resource, &ours)
    {
        return fail("invalid_target", &format!("this server issues tokens only for the resource {ours}"));
    }
    let user = match signin::session_user(&state, &headers).await {
        Ok(user) => user,
        Err(e) => {
            tracing::error!(error = %e, "reading the session");
            return pages::error_page(StatusCode::INTERNAL_SERVER_ERROR, "internal error");
        }
    };
    let request_id = new_secret("mcp_req_");
    let id_hash = hash(&request_id);
    let saved = store::insert_request(state.db(), &store::NewRequest {
        id_hash: &id_hash,
        client_id: &client.client_id,
        redirect_uri: &redirect_uri,
        code_challenge: challenge,
        resource: &ours,
        scope: SCOPE,
        state: client_state,
        user_id: user.as_ref().map(|u| u.id),
        expires_at: Utc::now() + chrono::Duration::seconds(REQUEST_TTL_SECONDS),
    })
    .await;
    if let Err(e) = saved {
        tracing::error!(error = %e, "saving an authorization request");
        return pages::error_page(StatusCode::INTERNAL_SERVER_ERROR, "internal error");
    }
    let sweep_now = rand::thread_rng().gen_ratio(1, 50);
    if sweep_now && let Err(e) = store::sweep(state.db()).await {
        tracing::warn!(error = %e, "sweeping expired oauth rows");
    }
    let view = ClientView { name: &client.client_name, client_id: &client.client_id, redirect_uri: &redirect_uri };
    match user {
        Some(user) => pages::consent(&view, &user.email, &request_id),
        None => pages::sign_in(StatusCode::OK, &view, &request_id, "", None, &state.offered().await),
    }
}

/// The sign-in form's fields.
#[derive(Deserialize)]
pub struct SignInForm {
    request_id: String,
    email: String,
    password: String,
}

/// `POST /authorize/sign-in`: checks the account, starts an api session, shows the consent page.
pub async fn post_sign_in(
    State(state): State<McpState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    jar: CookieJar,
    form: Result<Form<SignInForm>, FormRejection>,
) -> Response {
    let Ok(Form(form)) = form else {
        return pages::error_page(StatusCode::BAD_REQUEST, "the sign-in form expects request_id, email and password");
    };
    let internal = |e: &dyn std::fmt::Display| {
        tracing::error!(error = %e, "oauth sign-in failed");
        pages::error_page(StatusCode::INTERNAL_SERVER_ERROR, "internal error")
    };
    let id_hash = hash(&form.request_id);
    let pending = match store::request(state.db(), &id_hash).await {
        Ok(Some(pending)) => pending,
        Ok(None) => return pages::error_page(StatusCode::BAD_REQUEST, "this sign-in request expired: start again from the application"),
        Err(e) => return internal(&e),
    };
    let client = match store::client(state.db(), &pending.client_id).await {
        Ok(Some(client)) => client,
        Ok(None) => return pages::error_page(StatusCode::BAD_REQUEST, "the client is no longer registered"),
        Err(e) => return internal(&e),
    };
    let view = ClientView { name: &client.client_name, client_id: &client.client_id, redirect_uri: &pending.redirect_uri };
    let attempt = SignInAttempt::new(&form.email, ferrocat_shared::net::client_ip(peer, &headers));
    if let Err(refused) = attempt.check(&state.app).await {
        let minutes = match refused {
            AppError::TooManyRequests { retry_after, .. } => retry_after.div_ceil(60).max(1),
            _ => 1,
        };
        let msg = format!("Too many failed sign-ins: wait {minutes} minute{} and try again.", if minutes == 1 { "" } else { "s" });
        return pages::sign_in(StatusCode::TOO_MANY_REQUESTS, &view, &form.request_id, &form.email, Some(&msg), &state.offered().await);
    }
    let user = match signin::verify(&state, &form.email, form.password).await {
        Ok(Some(user)) => user,
        Ok(None) => {
            attempt.failed(&state.app).await;
            let msg = "Wrong email or password.";
            return pages::sign_in(StatusCode::UNAUTHORIZED, &view, &form.request_id, &form.email, Some(msg), &state.offered().await);
        }
        Err(e) => return internal(&e),
    };
    attempt.succeeded(&state.app).await;
    // The organisation's rules, asked only once the password is known to be right.
    match ferrocat_app::auth_settings::password_allowed(state.db(), &user.email).await {
        Ok(()) => {}
        Err(ferrocat_app::AppError::Forbidden(msg)) => {
            return pages::sign_in(StatusCode::FORBIDDEN, &view, &form.request_id, &form.email, Some(&msg), &state.offered().await);
        }
        Err(e) => return internal(&e),
    }
    let cookie = match signin::start_session(&state, &user).await {
        Ok(cookie) => cookie,
        Err(e) => return internal(&e),
    };
    if let Err(e) = store::set_request_user(state.db(), &id_hash, user.id).await {
        return internal(&e);
    }
    tracing::info!(user_id = %user.id, client_id = %client.client_id, "signed in for an oauth client");
    (jar.add(cookie), pages::consent(&view, &user.email, &form.request_id)).into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_s256_digests_pass_as_challenges() {
        assert!(is_s256_challenge("E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"));
        assert!(!is_s256_challenge("short"));
        assert!(!is_s256_challenge("E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw+cM"));
    }

    #[test]
    fn the_resource_is_compared_without_a_trailing_slash_only() {
        assert!(is_our_resource("https://x.example/mcp/", "https://x.example/mcp"));
        assert!(!is_our_resource("https://x.example/mcp/other", "https://x.example/mcp"));
        assert!(!is_our_resource("https://other.example/mcp", "https://x.example/mcp"));
    }
}
