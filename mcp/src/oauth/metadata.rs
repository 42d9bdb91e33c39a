//! Discovery: the authorization server's metadata (RFC 8414) and the protected resource's
//! (RFC 9728, served at the root and at the `/mcp` path form). MCP clients refuse a server
//! whose metadata lacks `code_challenge_methods_supported`, so it is always there.

use axum::Json;
use axum::extract::State;
use serde_json::{Value, json};

use super::SCOPE;
use crate::state::McpState;

/// `GET /.well-known/oauth-authorization-server`.
pub async fn get_authorization_server(State(state): State<McpState>) -> Json<Value> {
    let c = &state.config;
    Json(json!({
        "issuer": c.issuer(),
        "authorization_endpoint": c.url("/authorize"),
        "token_endpoint": c.url("/token"),
        "registration_endpoint": c.url("/register"),
        "revocation_endpoint": c.url("/authorize/revoke"),
        "scopes_supported": [SCOPE],
        "response_types_supported": ["code"],
        "response_modes_supported": ["query"],
        "grant_types_supported": ["authorization_code", "refresh_token"],
        "code_challenge_methods_supported": ["S256"],
        "token_endpoint_auth_methods_supported": ["none", "client_secret_basic", "client_secret_post"],
        "revocation_endpoint_auth_methods_supported": ["none", "client_secret_basic", "client_secret_post"],
        "authorization_response_iss_parameter_supported": true,
        "client_id_metadata_document_supported": true,
        "service_documentation": c.url("/mcp"),
    }))
}

/// `GET /.well-known/oauth-protected-resource` and `.../mcp`: the one resource, `/mcp`.
pub async fn get_protected_resource(State(state): State<McpState>) -> Json<Value> {
    let c = &state.config;
    Json(json!({
        "resource": c.resource(),
        "authorization_servers": [c.issuer()],
        "scopes_supported": [SCOPE],
        "bearer_methods_supported": ["header"],
        "resource_name": "ferrocat MCP",
    }))
}
