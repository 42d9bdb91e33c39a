//! `POST /register`: dynamic client registration (RFC 7591). Cursor, VS Code and Claude Code
//! register themselves here, usually as public clients (`token_endpoint_auth_method: none`)
//! with loopback or private-scheme redirect URIs.
//!
//! Registration is anonymous, so it is bounded: each client address may register
//! `FERROCAT_MCP_REGISTER_RATE_LIMIT` clients per window (429 beyond), only the checked fields
//! are stored (never the raw request), and a client nobody completes a grant for within
//! [`store::UNUSED_CLIENT_TTL_HOURS`] is forgotten.

use std::net::SocketAddr;

use axum::Json;
use axum::extract::rejection::JsonRejection;
use axum::extract::{ConnectInfo, State};
use axum::http::{HeaderMap, StatusCode};
use rand::Rng as _;
use serde::Deserialize;
use serde_json::{Value, json};

use super::error::OAuthError;
use super::{hash, new_secret, redirect, store};
use crate::state::McpState;

/// The client metadata this server reads (RFC 7591 §2); other fields are ignored.
#[derive(Debug, Deserialize)]
pub struct ClientMetadata {
    #[serde(default)]
    pub redirect_uris: Vec<String>,
    pub client_name: Option<String>,
    pub grant_types: Option<Vec<String>>,
    pub response_types: Option<Vec<String>>,
    pub token_endpoint_auth_method: Option<String>,
    pub application_type: Option<String>,
}

/// Metadata that passed the checks, with defaults filled in.
pub struct CheckedMetadata {
    pub redirect_uris: Vec<String>,
    pub client_name: String,
    pub grant_types: Vec<String>,
    pub token_endpoint_auth_method: String,
    pub application_type: String,
}

/// Checks client metadata (shared with client ID metadata documents); `default_auth` is the
/// authentication method when none is named.
pub fn check_metadata(meta: ClientMetadata, default_auth: &str) -> Result<CheckedMetadata, OAuthError> {
    if meta.redirect_uris.is_empty() {
        return Err(OAuthError::invalid_redirect_uri("redirect_uris must name at least one redirect URI"));
    }
    if meta.redirect_uris.len() > 20 {
        return Err(OAuthError::invalid_redirect_uri("at most 20 redirect URIs may be registered"));
    }
    for uri in &meta.redirect_uris {
        redirect::check_registrable(uri).map_err(OAuthError::invalid_redirect_uri)?;
    }
    let grant_types = meta.grant_types.unwrap_or_else(|| vec!["authorization_code".into()]);
    if let Some(other) = grant_types.iter().find(|g| *g != "authorization_code" && *g != "refresh_token") {
        return Err(OAuthError::invalid_client_metadata(format!(
            "grant type {other:?} is not supported (authorization_code, refresh_token)"
        )));
    }
    if !grant_types.iter().any(|g| g == "authorization_code") {
        return Err(OAuthError::invalid_client_metadata("grant_types must include authorization_code"));
    }
    if let Some(types) = &meta.response_types
        && types.iter().any(|t| t != "code")
    {
        return Err(OAuthError::invalid_client_metadata("only the response type \"code\" is supported"));
    }
    let method = meta.token_endpoint_auth_method.unwrap_or_else(|| default_auth.to_owned());
    if !["none", "client_secret_basic", "client_secret_post"].contains(&method.as_str()) {
        return Err(OAuthError::invalid_client_metadata(format!(
            "token_endpoint_auth_method {method:?} is not supported (none, client_secret_basic, client_secret_post)"
        )));
    }
    let application_type = meta.application_type.unwrap_or_else(|| "native".into());
    if application_type != "native" && application_type != "web" {
        return Err(OAuthError::invalid_client_metadata("application_type must be native or web"));
    }
    let client_name = meta.client_name.unwrap_or_default();
    if client_name.chars().count() > 200 {
        return Err(OAuthError::invalid_client_metadata("client_name is longer than 200 characters"));
    }
    Ok(CheckedMetadata { redirect_uris: meta.redirect_uris, client_name, grant_types, token_endpoint_auth_method: method, application_type })
}

/// Counts one registration from `ip`; 429 beyond the limit. When Redis cannot answer the
/// registration is let through (and the failure logged), as the api's limits do.
async fn check_rate(state: &McpState, ip: std::net::IpAddr) -> Result<(), OAuthError> {
    let limit = state.config.register_rate_limit;
    if limit == 0 {
        return Ok(());
    }
    match state.app.limiter.hit(&format!("mcp-register:{ip}"), limit, state.config.register_rate_window).await {
        Ok(decision) if !decision.allowed => {
            Err(OAuthError::too_many_requests("too many client registrations from this address", decision.retry_after_seconds()))
        }
        Ok(_) => Ok(()),
        Err(error) => {
            tracing::error!(error = %error, "registration rate limit unavailable; request let through");
            Ok(())
        }
    }
}

/// `POST /register`: 201 with the client's id (and secret, for confidential clients).
pub async fn register_client(
    State(state): State<McpState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    body: Result<Json<Value>, JsonRejection>,
) -> Result<(StatusCode, [(&'static str, &'static str); 1], Json<Value>), OAuthError> {
    check_rate(&state, ferrocat_shared::net::client_ip(peer, &headers)).await?;
    let Json(raw) = body.map_err(|e| OAuthError::invalid_client_metadata(format!("expected a JSON object: {}", e.body_text())))?;
    let meta: ClientMetadata =
        serde_json::from_value(raw).map_err(|e| OAuthError::invalid_client_metadata(format!("invalid client metadata: {e}")))?;
    // RFC 7591 §2: without a method named, the default is client_secret_basic.
    let checked = check_metadata(meta, "client_secret_basic")?;
    let client_id = new_secret("mcp_client_");
    let secret = (checked.token_endpoint_auth_method != "none").then(|| new_secret("mcp_secret_"));
    let secret_hash = secret.as_deref().map(hash);
    // What was checked, and nothing else the caller sent.
    let metadata = json!({
        "client_name": checked.client_name,
        "redirect_uris": checked.redirect_uris,
        "grant_types": checked.grant_types,
        "token_endpoint_auth_method": checked.token_endpoint_auth_method,
        "application_type": checked.application_type,
    });
    store::upsert_client(state.db(), &store::NewClient {
        client_id: &client_id,
        client_secret_hash: secret_hash.as_deref(),
        client_name: &checked.client_name,
        redirect_uris: &checked.redirect_uris,
        grant_types: &checked.grant_types,
        token_endpoint_auth_method: &checked.token_endpoint_auth_method,
        application_type: &checked.application_type,
        registration: "dcr",
        metadata: &metadata,
    })
    .await?;
    if rand::thread_rng().gen_ratio(1, 50)
        && let Err(e) = store::sweep(state.db()).await
    {
        tracing::warn!(error = %e, "sweeping expired oauth rows");
    }
    tracing::info!(client_id = %client_id, client_name = %checked.client_name, "oauth client registered");
    let mut response = json!({
        "client_id": client_id,
        "client_id_issued_at": chrono::Utc::now().timestamp(),
        "client_name": checked.client_name,
        "redirect_uris": checked.redirect_uris,
        "grant_types": checked.grant_types,
        "response_types": ["code"],
        "token_endpoint_auth_method": checked.token_endpoint_auth_method,
        "application_type": checked.application_type,
    });
    if let Some(secret) = secret {
        response["client_secret"] = json!(secret);
        response["client_secret_expires_at"] = json!(0);
    }
    Ok((StatusCode::CREATED, [("cache-control", "no-store")], Json(response)))
}
