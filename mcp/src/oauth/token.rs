//! `POST /token` (authorization_code with PKCE, refresh_token with rotation) and revocation
//! (RFC 7009). A refresh token works once: presenting a rotated one again means it leaked, so
//! its whole grant (every refresh and access token of the family) is revoked. A code works once
//! too, and its replay revokes the grant it started.

use axum::Form;
use axum::Json;
use axum::extract::State;
use axum::extract::rejection::FormRejection;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use base64::Engine as _;
use chrono::Utc;
use serde::Deserialize;
use serde_json::{Value, json};
use subtle::ConstantTimeEq as _;

use super::error::OAuthError;
use super::store::{self, Grant, Redeemed, Rotated};
use super::{hash, new_secret, s256};
use crate::state::McpState;

/// The fields of a token or revocation request.
#[derive(Debug, Default, Deserialize)]
pub struct TokenForm {
    grant_type: Option<String>,
    code: Option<String>,
    redirect_uri: Option<String>,
    code_verifier: Option<String>,
    refresh_token: Option<String>,
    client_id: Option<String>,
    client_secret: Option<String>,
    resource: Option<String>,
    token: Option<String>,
    #[serde(rename = "scope")]
    _scope: Option<String>,
    #[serde(rename = "token_type_hint")]
    _token_type_hint: Option<String>,
}

fn decode_form_component(text: &str) -> String {
    url::form_urlencoded::parse(format!("x={text}").as_bytes()).next().map(|(_, v)| v.into_owned()).unwrap_or_default()
}

/// `Authorization: Basic` credentials (RFC 6749 §2.3.1: each part form-urlencoded).
fn basic_credentials(headers: &HeaderMap) -> Result<Option<(String, String)>, OAuthError> {
    let Some(value) = headers.get(header::AUTHORIZATION).and_then(|v| v.to_str().ok()) else { return Ok(None) };
    let Some(encoded) = value.strip_prefix("Basic ").or_else(|| value.strip_prefix("basic ")) else { return Ok(None) };
    let bad = || OAuthError::invalid_client("malformed Basic credentials", true);
    let decoded = base64::engine::general_purpose::STANDARD.decode(encoded.trim()).map_err(|_| bad())?;
    let text = String::from_utf8(decoded).map_err(|_| bad())?;
    let (id, secret) = text.split_once(':').ok_or_else(bad)?;
    Ok(Some((decode_form_component(id), decode_form_component(secret))))
}

/// The client making the request, authenticated as it registered.
async fn authenticate(state: &McpState, headers: &HeaderMap, form: &TokenForm) -> Result<store::Client, OAuthError> {
    let (client_id, secret, basic) = match basic_credentials(headers)? {
        Some((id, secret)) => {
            if form.client_id.as_deref().is_some_and(|c| c != id) {
                return Err(OAuthError::invalid_request("client_id differs from the Basic credentials"));
            }
            (id, Some(secret), true)
        }
        None => match &form.client_id {
            Some(id) => (id.clone(), form.client_secret.clone(), false),
            None => return Err(OAuthError::invalid_client("client authentication failed: no client_id", false)),
        },
    };
    let client = store::client(state.db(), &client_id)
        .await?
        .ok_or_else(|| OAuthError::invalid_client("client authentication failed: unknown client", basic))?;
    if let Some(expected) = &client.client_secret_hash {
        let presented = secret.as_deref().map(hash).unwrap_or_default();
        if !bool::from(presented.ct_eq(expected)) {
            return Err(OAuthError::invalid_client("client authentication failed", basic));
        }
    }
    Ok(client)
}

fn is_verifier(text: &str) -> bool {
    (43..=128).contains(&text.len()) && text.bytes().all(|b| b.is_ascii_alphanumeric() || b"-._~".contains(&b))
}

fn no_store(body: Value) -> Response {
    let mut response = Json(body).into_response();
    response.headers_mut().insert(header::CACHE_CONTROL, "no-store".parse().expect("static header"));
    response.headers_mut().insert(header::PRAGMA, "no-cache".parse().expect("static header"));
    response
}

/// Mints an access token (and a refresh token, if the client may refresh) for a grant.
async fn issue(tx: &mut sqlx::PgConnection, state: &McpState, client: &store::Client, grant: &Grant) -> Result<Value, OAuthError> {
    let now = Utc::now();
    let config = &state.config;
    let access = new_secret("mcp_at_");
    let expires = chrono::Duration::from_std(config.access_token_ttl).map_err(OAuthError::server_error)?;
    store::insert_access_token(&mut *tx, &hash(&access), grant.id, &grant.resource, now + expires).await?;
    let mut body = json!({
        "access_token": access,
        "token_type": "Bearer",
        "expires_in": config.access_token_ttl.as_secs(),
        "scope": grant.scope,
    });
    if client.grant_types.iter().any(|g| g == "refresh_token") {
        let refresh = new_secret("mcp_rt_");
        let lifetime = chrono::Duration::from_std(config.refresh_token_ttl).map_err(OAuthError::server_error)?;
        store::insert_refresh_token(&mut *tx, &hash(&refresh), grant.id, now + lifetime).await?;
        body["refresh_token"] = json!(refresh);
    }
    Ok(body)
}

fn check_resource(requested: Option<&str>, granted: &str) -> Result<(), OAuthError> {
    match requested {
        Some(resource) if resource.trim_end_matches('/') != granted => {
            Err(OAuthError::invalid_target(format!("the grant is for the resource {granted}, not {resource}")))
        }
        _ => Ok(()),
    }
}

/// `POST /token`.
pub async fn post_token(State(state): State<McpState>, headers: HeaderMap, form: Result<Form<TokenForm>, FormRejection>) -> Result<Response, OAuthError> {
    let Form(form) = form.map_err(|e| OAuthError::invalid_request(format!("malformed token request: {}", e.body_text())))?;
    let client = authenticate(&state, &headers, &form).await?;
    match form.grant_type.as_deref() {
        Some("authorization_code") => exchange_code(&state, &client, &form).await.map(no_store),
        Some("refresh_token") => refresh(&state, &client, &form).await.map(no_store),
        Some(other) => Err(OAuthError::unsupported_grant_type(format!("grant_type {other:?} is not supported"))),
        None => Err(OAuthError::invalid_request("grant_type is required")),
    }
}

async fn exchange_code(state: &McpState, client: &store::Client, form: &TokenForm) -> Result<Value, OAuthError> {
    let code = form.code.as_deref().ok_or_else(|| OAuthError::invalid_request("code is required"))?;
    let verifier = form.code_verifier.as_deref().ok_or_else(|| OAuthError::invalid_request("code_verifier is required (PKCE)"))?;
    let code_hash = hash(code);
    let mut tx = state.db().begin().await?;
    let found = match store::redeem_code(&mut tx, &code_hash).await? {
        Redeemed::Fresh(found) => found,
        Redeemed::Unknown => return Err(OAuthError::invalid_grant("the code is unknown or expired")),
        Redeemed::Replayed(grant) => {
            if let Some(grant) = grant {
                store::revoke_grant(&mut tx, grant, "authorization code replayed").await?;
            }
            tx.commit().await?;
            tracing::warn!(client_id = %client.client_id, "authorization code replayed; its grant is revoked");
            return Err(OAuthError::invalid_grant("the code was already used; the tokens issued for it are revoked"));
        }
    };
    // From here on the code is spent whatever happens: a wrong verifier cannot be retried.
    let refusal = if found.client_id != client.client_id {
        Some(OAuthError::invalid_grant("the code was issued to another client"))
    } else if form.redirect_uri.as_deref().is_some_and(|r| r != found.redirect_uri) {
        Some(OAuthError::invalid_grant("redirect_uri differs from the authorization request's"))
    } else if !is_verifier(verifier) || !bool::from(s256(verifier).as_bytes().ct_eq(found.code_challenge.as_bytes())) {
        Some(OAuthError::invalid_grant("code_verifier does not match the code_challenge"))
    } else {
        check_resource(form.resource.as_deref(), &found.resource).err()
    };
    if let Some(refusal) = refusal {
        tx.commit().await?;
        return Err(refusal);
    }
    let grant = store::insert_grant(&mut *tx, &client.client_id, found.user_id, &found.resource, &found.scope).await?;
    store::set_code_grant(&mut *tx, &code_hash, grant.id).await?;
    let body = issue(&mut tx, state, client, &grant).await?;
    tx.commit().await?;
    tracing::info!(client_id = %client.client_id, user_id = %grant.user_id, grant_id = %grant.id, "oauth tokens issued");
    Ok(body)
}

async fn refresh(state: &McpState, client: &store::Client, form: &TokenForm) -> Result<Value, OAuthError> {
    let token = form.refresh_token.as_deref().ok_or_else(|| OAuthError::invalid_request("refresh_token is required"))?;
    let mut tx = state.db().begin().await?;
    let grant = match store::rotate_refresh_token(&mut tx, &hash(token)).await? {
        Rotated::Fresh(grant) => grant,
        Rotated::Unknown => return Err(OAuthError::invalid_grant("the refresh token is unknown or expired")),
        Rotated::Replayed(grant_id) => {
            let newly = store::revoke_grant(&mut tx, grant_id, "refresh token replayed").await?;
            tx.commit().await?;
            if newly {
                tracing::warn!(client_id = %client.client_id, grant_id = %grant_id, "rotated refresh token replayed; the grant is revoked");
            }
            return Err(OAuthError::invalid_grant("the refresh token was already used or revoked; every token of its grant is revoked"));
        }
    };
    if grant.client_id != client.client_id {
        // Dropping the transaction leaves the token as it was.
        return Err(OAuthError::invalid_grant("the refresh token was issued to another client"));
    }
    check_resource(form.resource.as_deref(), &grant.resource)?;
    let body = issue(&mut tx, state, client, &grant).await?;
    tx.commit().await?;
    Ok(body)
}

/// `POST /authorize/revoke` (and `/revoke`): RFC 7009. Revoking a refresh token revokes its
/// grant; revoking an access token ends that token. Unknown tokens answer 200 too.
pub async fn post_revoke(State(state): State<McpState>, headers: HeaderMap, form: Result<Form<TokenForm>, FormRejection>) -> Result<Response, OAuthError> {
    let Form(form) = form.map_err(|e| OAuthError::invalid_request(format!("malformed revocation request: {}", e.body_text())))?;
    let client = authenticate(&state, &headers, &form).await?;
    let token = form.token.as_deref().ok_or_else(|| OAuthError::invalid_request("token is required"))?;
    let token_hash = hash(token);
    if let Some((grant_id, owner, is_refresh)) = store::token_grant(state.db(), &token_hash).await? {
        if owner != client.client_id {
            return Err(OAuthError::unauthorized_client("the token was issued to another client"));
        }
        if is_refresh {
            let mut tx = state.db().begin().await?;
            store::revoke_grant(&mut tx, grant_id, "revoked by the client").await?;
            tx.commit().await?;
        } else {
            store::delete_access_token(state.db(), &token_hash).await?;
        }
        tracing::info!(client_id = %client.client_id, grant_id = %grant_id, is_refresh, "token revoked");
    }
    Ok((StatusCode::OK, [(header::CACHE_CONTROL, "no-store")]).into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn basic_credentials_are_form_decoded() {
        let mut headers = HeaderMap::new();
        let encoded = base64::engine::general_purpose::STANDARD.encode("my%20client:s%3Acret");
        headers.insert(header::AUTHORIZATION, format!("Basic {encoded}").parse().unwrap());
        assert_eq!(basic_credentials(&headers).unwrap(), Some(("my client".into(), "s:cret".into())));
    }

    #[test]
    fn verifiers_follow_rfc_7636() {
        assert!(is_verifier("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"));
        assert!(!is_verifier("too-short"));
        assert!(!is_verifier(&"a".repeat(129)));
    }
}
