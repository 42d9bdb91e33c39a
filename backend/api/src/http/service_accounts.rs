//! Service accounts and their API keys, under `/workspaces/{workspace_id}/service-accounts`
//! (Tracecat's paths): list, create, get, disable, enable; keys: list, create (the key is in
//! that one response only), revoke. Workspace admins only, signed in as a person.

use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::{Value, json};
use uuid::Uuid;

use ferrocat_app::api_keys;
use ferrocat_app::db::service_accounts::{self, ApiKeyRow, ServiceAccountRow};

use super::{JsonBody, Path};
use crate::auth::{Role, WorkspaceAccess};
use crate::error::{ApiError, ResultExt};
use crate::state::AppState;

pub(super) fn router() -> Router<AppState> {
    const BASE: &str = "/workspaces/{workspace_id}/service-accounts";
    Router::new()
        .route(BASE, get(list_service_accounts).post(create_service_account))
        .route(&format!("{BASE}/{{account_id}}"), get(get_service_account))
        .route(&format!("{BASE}/{{account_id}}/disable"), post(disable_service_account))
        .route(&format!("{BASE}/{{account_id}}/enable"), post(enable_service_account))
        .route(&format!("{BASE}/{{account_id}}/api-keys"), get(list_api_keys).post(create_api_key))
        .route(&format!("{BASE}/{{account_id}}/api-keys/{{key_id}}/revoke"), post(revoke_api_key))
}

#[derive(Deserialize)]
struct AccountPath {
    account_id: String,
}

#[derive(Deserialize)]
struct KeyPath {
    account_id: String,
    key_id: String,
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
struct CreateAccount {
    name: String,
    #[serde(default)]
    description: String,
    #[serde(default = "default_role")]
    role: String,
}

fn default_role() -> String {
    "viewer".into()
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
struct CreateKey {
    #[serde(default = "default_key_name")]
    name: String,
}

fn default_key_name() -> String {
    "default".into()
}

fn account_model(row: &ServiceAccountRow) -> Value {
    json!({
        "id": row.id,
        "workspace_id": ferrocat_shared::ids::workspace_id(row.workspace_id),
        "name": row.name,
        "description": row.description,
        "role": row.role,
        "disabled": row.disabled_at.is_some(),
        "disabled_at": row.disabled_at,
        "created_by": row.created_by,
        "created_at": row.created_at,
        "updated_at": row.updated_at,
    })
}

fn key_model(row: &ApiKeyRow) -> Value {
    json!({
        "id": row.id,
        "service_account_id": row.service_account_id,
        "name": row.name,
        "preview": row.preview,
        "created_by": row.created_by,
        "created_at": row.created_at,
        "last_used_at": row.last_used_at,
        "revoked": row.revoked_at.is_some(),
        "revoked_at": row.revoked_at,
    })
}

fn check_name(loc: &str, name: &str) -> Result<(), ApiError> {
    if name.trim().is_empty() || name.len() > 100 {
        let msg = format!("{loc} must be 1 to 100 characters");
        return Err(ApiError::Unprocessable { detail: msg.clone(), errors: vec![json!({"loc": loc, "msg": msg})] });
    }
    Ok(())
}

fn parse_uuid(what: &str, text: &str) -> Result<Uuid, ApiError> {
    Uuid::try_parse(text).map_err(|_| ApiError::NotFound(format!("{what} {text:?} not found")))
}

async fn load_account(state: &AppState, access: &WorkspaceAccess, account_id: &str) -> Result<ServiceAccountRow, ApiError> {
    let id = parse_uuid("service account", account_id)?;
    service_accounts::get(&state.db, access.workspace_id, id)
        .await?
        .ok_or_else(|| ApiError::NotFound(format!("service account {account_id:?} not found")))
}

#[utoipa::path(
    get,
    path = "/workspaces/{workspace_id}/service-accounts",
    tag = "service-accounts",
    params(("workspace_id" = String, Path, description = "workspace id (ws_…)")),
    responses((status = 200, description = "service accounts", body = serde_json::Value), (status = "4XX", description = "the one error shape", body = crate::error::ErrorBody))
)]
async fn list_service_accounts(State(state): State<AppState>, access: WorkspaceAccess) -> Result<Json<Vec<Value>>, ApiError> {
    access.require_user(Role::Admin)?;
    let rows = service_accounts::list(&state.db, access.workspace_id).await?;
    Ok(Json(rows.iter().map(account_model).collect()))
}

#[utoipa::path(
    post,
    path = "/workspaces/{workspace_id}/service-accounts",
    tag = "service-accounts",
    params(("workspace_id" = String, Path, description = "workspace id (ws_…)")),
    request_body = CreateAccount,
    responses((status = 201, description = "created", body = serde_json::Value), (status = "4XX", description = "the one error shape", body = crate::error::ErrorBody))
)]
async fn create_service_account(
    State(state): State<AppState>,
    access: WorkspaceAccess,
    JsonBody(body): JsonBody<CreateAccount>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let user = access.require_user(Role::Admin)?;
    check_name("name", &body.name)?;
    super::check_role(&body.role)?;
    let row =
        service_accounts::insert(&state.db, access.workspace_id, body.name.trim(), &body.description, &body.role, Some(user.id))
            .await
            .on_constraint("service_accounts_name_key", "a service account with this name already exists")?;
    tracing::info!(service_account_id = %row.id, role = %row.role, "service account created");
    Ok((StatusCode::CREATED, Json(account_model(&row))))
}

#[utoipa::path(
    get,
    path = "/workspaces/{workspace_id}/service-accounts/{account_id}",
    tag = "service-accounts",
    params(("account_id" = String, Path, description = "service account id"), ("workspace_id" = String, Path, description = "workspace id (ws_…)")),
    responses((status = 200, description = "the account", body = serde_json::Value), (status = "4XX", description = "the one error shape", body = crate::error::ErrorBody))
)]
async fn get_service_account(
    State(state): State<AppState>,
    access: WorkspaceAccess,
    Path(path): Path<AccountPath>,
) -> Result<Json<Value>, ApiError> {
    access.require_user(Role::Admin)?;
    Ok(Json(account_model(&load_account(&state, &access, &path.account_id).await?)))
}

async fn set_disabled(
    state: &AppState,
    access: &WorkspaceAccess,
    account_id: &str,
    disabled: bool,
) -> Result<Json<Value>, ApiError> {
    access.require_user(Role::Admin)?;
    let id = parse_uuid("service account", account_id)?;
    let row = service_accounts::set_disabled(&state.db, access.workspace_id, id, disabled)
        .await?
        .ok_or_else(|| ApiError::NotFound(format!("service account {account_id:?} not found")))?;
    tracing::info!(service_account_id = %row.id, disabled, "service account status changed");
    Ok(Json(account_model(&row)))
}

#[utoipa::path(
    post,
    path = "/workspaces/{workspace_id}/service-accounts/{account_id}/disable",
    tag = "service-accounts",
    params(("account_id" = String, Path, description = "service account id"), ("workspace_id" = String, Path, description = "workspace id (ws_…)")),
    responses((status = 200, description = "disabled", body = serde_json::Value), (status = "4XX", description = "the one error shape", body = crate::error::ErrorBody))
)]
async fn disable_service_account(
    State(state): State<AppState>,
    access: WorkspaceAccess,
    Path(path): Path<AccountPath>,
) -> Result<Json<Value>, ApiError> {
    set_disabled(&state, &access, &path.account_id, true).await
}

#[utoipa::path(
    post,
    path = "/workspaces/{workspace_id}/service-accounts/{account_id}/enable",
    tag = "service-accounts",
    params(("account_id" = String, Path, description = "service account id"), ("workspace_id" = String, Path, description = "workspace id (ws_…)")),
    responses((status = 200, description = "enabled", body = serde_json::Value), (status = "4XX", description = "the one error shape", body = crate::error::ErrorBody))
)]
async fn enable_service_account(
    State(state): State<AppState>,
    access: WorkspaceAccess,
    Path(path): Path<AccountPath>,
) -> Result<Json<Value>, ApiError> {
    set_disabled(&state, &access, &path.account_id, false).await
}

#[utoipa::path(
    get,
    path = "/workspaces/{workspace_id}/service-accounts/{account_id}/api-keys",
    tag = "service-accounts",
    params(("account_id" = String, Path, description = "service account id"), ("workspace_id" = String, Path, description = "workspace id (ws_…)")),
    responses((status = 200, description = "its keys (never the secrets)", body = serde_json::Value), (status = "4XX", description = "the one error shape", body = crate::error::ErrorBody))
)]
async fn list_api_keys(
    State(state): State<AppState>,
    access: WorkspaceAccess,
    Path(path): Path<AccountPath>,
) -> Result<Json<Vec<Value>>, ApiError> {
    access.require_user(Role::Admin)?;
    let account = load_account(&state, &access, &path.account_id).await?;
    let rows = service_accounts::list_keys(&state.db, access.workspace_id, account.id).await?;
    Ok(Json(rows.iter().map(key_model).collect()))
}

#[utoipa::path(
    post,
    path = "/workspaces/{workspace_id}/service-accounts/{account_id}/api-keys",
    tag = "service-accounts",
    params(("account_id" = String, Path, description = "service account id"), ("workspace_id" = String, Path, description = "workspace id (ws_…)")),
    request_body = CreateKey,
    responses((status = 201, description = "the new key, shown once", body = serde_json::Value), (status = "4XX", description = "the one error shape", body = crate::error::ErrorBody))
)]
async fn create_api_key(
    State(state): State<AppState>,
    access: WorkspaceAccess,
    Path(path): Path<AccountPath>,
    JsonBody(body): JsonBody<CreateKey>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let user = access.require_user(Role::Admin)?;
    check_name("name", &body.name)?;
    let account = load_account(&state, &access, &path.account_id).await?;
    if account.disabled_at.is_some() {
        return Err(ApiError::Conflict("the service account is disabled".into()));
    }
    let new = api_keys::generate();
    let row = service_accounts::insert_key(
        &state.db,
        &account,
        new.key_id,
        body.name.trim(),
        &new.secret_hash,
        &new.preview,
        Some(user.id),
    )
    .await?;
    tracing::info!(service_account_id = %account.id, key_id = %row.id, "api key created");
    let mut model = key_model(&row);
    // The only time the key is ever shown.
    model["key"] = Value::String(new.key);
    Ok((StatusCode::CREATED, Json(model)))
}

#[utoipa::path(
    post,
    path = "/workspaces/{workspace_id}/service-accounts/{account_id}/api-keys/{key_id}/revoke",
    tag = "service-accounts",
    params(("account_id" = String, Path, description = "service account id"), ("key_id" = String, Path, description = "key id"), ("workspace_id" = String, Path, description = "workspace id (ws_…)")),
    responses((status = 200, description = "revoked", body = serde_json::Value), (status = "4XX", description = "the one error shape", body = crate::error::ErrorBody))
)]
async fn revoke_api_key(
    State(state): State<AppState>,
    access: WorkspaceAccess,
    Path(path): Path<KeyPath>,
) -> Result<Json<Value>, ApiError> {
    access.require_user(Role::Admin)?;
    let account = load_account(&state, &access, &path.account_id).await?;
    let key_id = parse_uuid("api key", &path.key_id)?;
    let row = service_accounts::revoke_key(&state.db, access.workspace_id, account.id, key_id)
        .await?
        .ok_or_else(|| ApiError::NotFound(format!("api key {:?} not found", path.key_id)))?;
    tracing::info!(service_account_id = %account.id, key_id = %row.id, "api key revoked");
    Ok(Json(key_model(&row)))
}
