//! The resource server's check in front of `/mcp`: every request carries an access token this
//! server minted for its own `/mcp` URL (RFC 8707 audience), else 401 with the RFC 9728
//! challenge that tells the client where to discover the authorization server.

use axum::extract::{Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use std::time::Duration;
use uuid::Uuid;

use crate::oauth::{SCOPE, hash, store};
use crate::state::McpState;

/// Who is calling `/mcp`: the user a token acts for, and through which client.
#[derive(Debug, Clone)]
pub struct Caller {
    pub user_id: Uuid,
    pub email: String,
    pub is_superuser: bool,
    pub client_id: String,
    pub grant_id: Uuid,
}

fn challenge(state: &McpState, error: Option<&str>) -> Response {
    let mut value = format!("Bearer resource_metadata=\"{}\", scope=\"{SCOPE}\"", state.config.resource_metadata_url());
    if let Some(description) = error {
        value.push_str(&format!(", error=\"invalid_token\", error_description=\"{description}\""));
    }
    let mut response = (StatusCode::UNAUTHORIZED, axum::Json(serde_json::json!({"error": "unauthorized", "detail": error.unwrap_or("a bearer token is required")}))).into_response();
    if let Ok(value) = HeaderValue::from_str(&value) {
        response.headers_mut().insert(header::WWW_AUTHENTICATE, value);
    }
    response
}

/// Largest refused request body read off the connection before answering (see [`refuse`]).
const DRAIN_LIMIT: usize = 64 * 1024;

/// Answers a refused request with `response` after reading what is left of its body. hyper
/// closes a keep-alive connection whose request body was not read, and whether the body had
/// already arrived when the answer went out is a race: a client that then sends its next
/// request on the same connection (the MCP SDKs fetch the resource metadata right after the
/// 401) saw it dropped, now and then. A body too large or too slow gets `Connection: close`.
async fn refuse(request: Request, mut response: Response) -> Response {
    let drained = tokio::time::timeout(Duration::from_secs(5), axum::body::to_bytes(request.into_body(), DRAIN_LIMIT)).await;
    if !matches!(drained, Ok(Ok(_))) {
        response.headers_mut().insert(header::CONNECTION, HeaderValue::from_static("close"));
    }
    response
}

/// Middleware: authenticates the bearer token and puts the [`Caller`] in the request's
/// extensions, where the MCP tools find it.
pub async fn require_bearer(State(state): State<McpState>, request: Request, next: Next) -> Response {
    let token = bearer_token(&request);
    match authenticate(&state, token).await {
        Ok(caller) => {
            let mut request = request;
            request.extensions_mut().insert(caller);
            next.run(request).await
        }
        Err(refusal) => refuse(request, refusal).await,
    }
}

fn bearer_token(request: &Request) -> Option<String> {
    request
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split_once(' '))
        .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
        .map(|(_, token)| token.trim().to_owned())
}

async fn authenticate(state: &McpState, token: Option<String>) -> Result<Caller, Response> {
    let Some(token) = token.filter(|t| !t.is_empty()) else { return Err(challenge(state, None)) };
    let found = match store::access_token(state.db(), &hash(&token)).await {
        Ok(found) => found,
        Err(e) => {
            tracing::error!(error = %e, "checking an access token");
            return Err((StatusCode::INTERNAL_SERVER_ERROR, "internal error").into_response());
        }
    };
    let Some(found) = found else { return Err(challenge(state, Some("the access token is unknown, expired or revoked"))) };
    // A token minted for another resource (another deployment's URL) is not for us.
    if found.audience != state.config.resource() {
        tracing::info!(audience = %found.audience, "access token for another resource refused");
        return Err(challenge(state, Some("the access token was not issued for this resource")));
    }
    Ok(Caller {
        user_id: found.user_id,
        email: found.email,
        is_superuser: found.is_superuser,
        client_id: found.client_id,
        grant_id: found.grant_id,
    })
}
