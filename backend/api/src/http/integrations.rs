//! OAuth integrations, with Tracecat's routes: the providers (`GET /providers`,
//! `GET /providers/{provider_id}`), a workspace's integrations (`GET /integrations`,
//! `GET|PUT|DELETE /integrations/{provider_id}?grant_type=`), connecting
//! (`POST .../connect`, `.../disconnect`, `.../test`) and the authorization-code callback
//! (`GET /integrations/callback`, reached through the edge at `/api/integrations/callback`).
//! Client secrets and tokens go in and never come out.

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::{Map, Value, json};

use ferrocat_app::integrations::{self, Connected, IntegrationInput};

use super::{JsonBody, Path, Query};
use crate::auth::{AuthUser, Role, WorkspaceAccess};
use crate::error::ApiError;
use crate::state::AppState;

pub(super) fn router() -> Router<AppState> {
    Router::new()
        .route("/providers", get(list_oauth_providers))
        .route("/providers/{provider_id}", get(get_oauth_provider))
        .route("/integrations", get(list_integrations))
        .route("/integrations/callback", get(callback))
        .route("/integrations/{provider_id}", get(get_integration).put(configure).delete(delete_integration))
        .route("/integrations/{provider_id}/connect", post(connect))
        .route("/integrations/{provider_id}/disconnect", post(disconnect))
        .route("/integrations/{provider_id}/test", post(test_integration))
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
struct GrantQuery {
    /// `authorization_code` (default) or `client_credentials`.
    #[serde(default = "default_grant")]
    grant_type: String,
    /// Accepted (the extractor reads it).
    #[serde(rename = "workspace_id")]
    _workspace_id: Option<String>,
}

fn default_grant() -> String {
    "authorization_code".into()
}

/// What a provider is, and the workspace's integrations with it.
fn provider_read(state: &AppState, provider: &ferrocat_shared::oauth::Provider, rows: &[ferrocat_app::db::integrations::IntegrationRow]) -> Value {
    let grants: Vec<Value> = provider
        .grant_types
        .iter()
        .map(|grant| {
            let row = rows.iter().find(|r| r.provider_id == provider.id && &r.grant_type == grant);
            json!({
                "grant_type": grant,
                "integration_status": integrations::status(row),
                "default_scopes": provider.default_scopes(grant),
                "token_key": ferrocat_shared::oauth::token_key(&provider.id, grant),
            })
        })
        .collect();
    json!({
        "id": provider.id,
        "name": provider.name,
        "description": provider.description,
        "grant_types": provider.grant_types,
        "grants": grants,
        "secret_name": provider.secret_name(),
        "default_authorization_endpoint": provider.authorization_endpoint,
        "default_token_endpoint": provider.token_endpoint,
        "params": provider.params,
        "pkce": provider.pkce,
        "api_docs_url": provider.docs_url,
        "redirect_uri": integrations::redirect_uri(state),
    })
}

#[utoipa::path(
    get,
    path = "/providers",
    tag = "integrations",
    params(("workspace_id" = Option<String>, Query, description = "the workspace (optional when the caller has one)")),
    responses((status = 200, description = "every OAuth provider, with the workspace's integration status per grant", body = serde_json::Value), (status = "4XX", description = "the one error shape", body = crate::error::ErrorBody))
)]
async fn list_oauth_providers(State(state): State<AppState>, access: WorkspaceAccess) -> Result<Json<Vec<Value>>, ApiError> {
    let rows = integrations::list(&state, access.workspace_id).await?;
    Ok(Json(state.config.oauth.list().map(|p| provider_read(&state, p, &rows)).collect()))
}

#[utoipa::path(
    get,
    path = "/providers/{provider_id}",
    tag = "integrations",
    params(("provider_id" = String, Path, description = "provider id, e.g. microsoft_entra"), ("workspace_id" = Option<String>, Query, description = "the workspace (optional when the caller has one)")),
    responses((status = 200, description = "the provider", body = serde_json::Value), (status = "4XX", description = "the one error shape", body = crate::error::ErrorBody))
)]
async fn get_oauth_provider(
    State(state): State<AppState>,
    access: WorkspaceAccess,
    Path(provider_id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let provider = state.config.oauth.get(&provider_id).ok_or_else(|| ApiError::NotFound(format!("provider {provider_id} not found")))?;
    let rows = integrations::list(&state, access.workspace_id).await?;
    Ok(Json(provider_read(&state, provider, &rows)))
}

fn read_model(state: &AppState, row: &ferrocat_app::db::integrations::IntegrationRow) -> Value {
    match state.config.oauth.get(&row.provider_id) {
        Some(provider) => integrations::read_model(provider, row, &integrations::redirect_uri(state)),
        // A provider dropped from the catalog since: its row still shows, without what the
        // provider would add.
        None => json!({"id": row.id, "provider_id": row.provider_id, "grant_type": row.grant_type, "status": "provider_unavailable"}),
    }
}

#[utoipa::path(
    get,
    path = "/integrations",
    tag = "integrations",
    params(("workspace_id" = Option<String>, Query, description = "the workspace (optional when the caller has one)")),
    responses((status = 200, description = "the workspace's integrations", body = serde_json::Value), (status = "4XX", description = "the one error shape", body = crate::error::ErrorBody))
)]
async fn list_integrations(State(state): State<AppState>, access: WorkspaceAccess) -> Result<Json<Vec<Value>>, ApiError> {
    let rows = integrations::list(&state, access.workspace_id).await?;
    Ok(Json(rows.iter().map(|row| read_model(&state, row)).collect()))
}

#[utoipa::path(
    get,
    path = "/integrations/{provider_id}",
    tag = "integrations",
    params(("provider_id" = String, Path, description = "provider id"), ("workspace_id" = Option<String>, Query, description = "the workspace (optional when the caller has one)"), GrantQuery),
    responses((status = 200, description = "the integration (never its secret or tokens)", body = serde_json::Value), (status = "4XX", description = "the one error shape", body = crate::error::ErrorBody))
)]
async fn get_integration(
    State(state): State<AppState>,
    access: WorkspaceAccess,
    Path(provider_id): Path<String>,
    Query(query): Query<GrantQuery>,
) -> Result<Json<Value>, ApiError> {
    let row = integrations::get(&state, access.workspace_id, &provider_id, &query.grant_type).await?;
    Ok(Json(read_model(&state, &row)))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
struct Configure {
    client_id: Option<String>,
    /// Write-only.
    client_secret: Option<String>,
    /// Scopes to ask for (default: the provider's for the grant).
    scopes: Option<Vec<String>>,
    /// Values of the provider's endpoint placeholders, e.g. `{"tenant": "contoso.onmicrosoft.com"}`.
    params: Option<Map<String, Value>>,
    /// Accepted for Tracecat's clients; the query's `grant_type` decides.
    #[serde(rename = "grant_type")]
    _grant_type: Option<String>,
}

#[utoipa::path(
    put,
    path = "/integrations/{provider_id}",
    tag = "integrations",
    params(("provider_id" = String, Path, description = "provider id"), ("workspace_id" = Option<String>, Query, description = "the workspace (optional when the caller has one)"), GrantQuery),
    request_body = Configure,
    responses((status = 200, description = "configured", body = serde_json::Value), (status = "4XX", description = "the one error shape", body = crate::error::ErrorBody))
)]
async fn configure(
    State(state): State<AppState>,
    access: WorkspaceAccess,
    Path(provider_id): Path<String>,
    Query(query): Query<GrantQuery>,
    JsonBody(body): JsonBody<Configure>,
) -> Result<Json<Value>, ApiError> {
    access.require_user(Role::Editor)?;
    let input = IntegrationInput { client_id: body.client_id, client_secret: body.client_secret, scopes: body.scopes, params: body.params };
    let row = integrations::configure(&state, access.workspace_id, &provider_id, &query.grant_type, input).await?;
    Ok(Json(read_model(&state, &row)))
}

#[utoipa::path(
    delete,
    path = "/integrations/{provider_id}",
    tag = "integrations",
    params(("provider_id" = String, Path, description = "provider id"), ("workspace_id" = Option<String>, Query, description = "the workspace (optional when the caller has one)"), GrantQuery),
    responses((status = 204, description = "deleted with its tokens"), (status = "4XX", description = "the one error shape", body = crate::error::ErrorBody))
)]
async fn delete_integration(
    State(state): State<AppState>,
    access: WorkspaceAccess,
    Path(provider_id): Path<String>,
    Query(query): Query<GrantQuery>,
) -> Result<StatusCode, ApiError> {
    access.require_user(Role::Admin)?;
    integrations::delete(&state, access.workspace_id, &provider_id, &query.grant_type).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(
    post,
    path = "/integrations/{provider_id}/connect",
    tag = "integrations",
    params(("provider_id" = String, Path, description = "provider id"), ("workspace_id" = Option<String>, Query, description = "the workspace (optional when the caller has one)"), GrantQuery),
    responses((status = 200, description = "authorization code: {auth_url, provider_id} to send the user to; client credentials: the connected integration", body = serde_json::Value), (status = "4XX", description = "the one error shape", body = crate::error::ErrorBody))
)]
async fn connect(
    State(state): State<AppState>,
    access: WorkspaceAccess,
    Path(provider_id): Path<String>,
    Query(query): Query<GrantQuery>,
) -> Result<Json<Value>, ApiError> {
    // The flow is bound to the person who starts it: only they may finish it.
    let user = access.require_user(Role::Editor)?;
    match integrations::connect(&state, access.workspace_id, user.id, &provider_id, &query.grant_type).await? {
        Connected::Authorize(url) => Ok(Json(json!({"auth_url": url.as_str(), "provider_id": provider_id}))),
        Connected::Done(row) => Ok(Json(read_model(&state, &row))),
    }
}

#[utoipa::path(
    post,
    path = "/integrations/{provider_id}/disconnect",
    tag = "integrations",
    params(("provider_id" = String, Path, description = "provider id"), ("workspace_id" = Option<String>, Query, description = "the workspace (optional when the caller has one)"), GrantQuery),
    responses((status = 204, description = "tokens forgotten, configuration kept"), (status = "4XX", description = "the one error shape", body = crate::error::ErrorBody))
)]
async fn disconnect(
    State(state): State<AppState>,
    access: WorkspaceAccess,
    Path(provider_id): Path<String>,
    Query(query): Query<GrantQuery>,
) -> Result<StatusCode, ApiError> {
    access.require_user(Role::Editor)?;
    integrations::disconnect(&state, access.workspace_id, &provider_id, &query.grant_type).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(
    post,
    path = "/integrations/{provider_id}/test",
    tag = "integrations",
    params(("provider_id" = String, Path, description = "provider id"), ("workspace_id" = Option<String>, Query, description = "the workspace (optional when the caller has one)"), GrantQuery),
    responses((status = 200, description = "{success, provider_id, message}", body = serde_json::Value), (status = "4XX", description = "the one error shape", body = crate::error::ErrorBody))
)]
async fn test_integration(
    State(state): State<AppState>,
    access: WorkspaceAccess,
    Path(provider_id): Path<String>,
    Query(query): Query<GrantQuery>,
) -> Result<Json<Value>, ApiError> {
    access.require(Role::Editor)?;
    let (success, message) = integrations::test(&state, access.workspace_id, &provider_id, &query.grant_type).await?;
    Ok(Json(json!({"success": success, "provider_id": provider_id, "message": message})))
}

/// What an OAuth 2 provider sends back (RFC 6749 §4.1.2): here, and to the console's single
/// sign-on callback.
#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub(super) struct CallbackQuery {
    pub(super) code: Option<String>,
    pub(super) state: Option<String>,
    /// Set by the provider when the user refused.
    pub(super) error: Option<String>,
    pub(super) error_description: Option<String>,
}

#[utoipa::path(
    get,
    path = "/integrations/callback",
    tag = "integrations",
    params(CallbackQuery),
    responses(
        (status = 200, description = "with Accept: application/json, {status, provider_id, grant_type, redirect_url}", body = serde_json::Value),
        (status = 303, description = "otherwise, to the console"),
        (status = "4XX", description = "the one error shape", body = crate::error::ErrorBody)
    )
)]
async fn callback(State(state): State<AppState>, user: AuthUser, headers: HeaderMap, Query(query): Query<CallbackQuery>) -> Result<Response, ApiError> {
    if let Some(error) = query.error {
        let description = query.error_description.unwrap_or_default();
        return Err(ApiError::BadRequest(format!("the provider refused: {error} {description}").trim().to_owned()));
    }
    let (Some(code), Some(flow)) = (query.code, query.state) else {
        return Err(ApiError::BadRequest("the callback needs code and state".into()));
    };
    let row = integrations::callback(&state, user.0.id, &flow, &code).await?;
    // Back to the console's integrations page of the workspace, which says it is connected.
    let redirect_url = format!(
        "{}/workspaces/{}/integrations?provider_id={}&grant_type={}&status=connected",
        state.config.public_url,
        ferrocat_shared::ids::workspace_id(row.workspace_id),
        row.provider_id,
        row.grant_type
    );
    let wants_json = headers.get(axum::http::header::ACCEPT).and_then(|v| v.to_str().ok()).is_some_and(|v| v.contains("application/json"));
    if wants_json {
        return Ok(Json(json!({"status": "connected", "provider_id": row.provider_id, "grant_type": row.grant_type, "redirect_url": redirect_url})).into_response());
    }
    Ok(Redirect::to(&redirect_url).into_response())
}
