//! Workspace secrets, per environment: `GET/POST /secrets`, `GET /secrets/{name}`,
//! `POST /secrets/{id}` (update), `DELETE /secrets/{id}`; and the organisation's, for
//! superusers, on the same paths under `/organization` (model provider keys that every
//! workspace may use; a workspace's own secret of the same name wins). Values are sealed on the
//! way in and never come back out: reads return key names only, and nothing here logs a value.

use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::get;
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::{Value, json};
use uuid::Uuid;

use ferrocat_app::db::secrets::SecretRow;
use ferrocat_app::secrets::{self, SecretInput, SecretUpdate};

use super::{JsonBody, Path, Query};
use crate::auth::{AuthUser, Role, WorkspaceAccess};
use crate::error::ApiError;
use crate::state::AppState;

pub(super) fn router() -> Router<AppState> {
    Router::new()
        .route("/secrets", get(list_secrets).post(create_secret))
        // One segment serves both a name (GET) and an id (update, delete), as in Tracecat.
        .route("/secrets/{secret}", get(get_secret).post(update_secret).delete(delete_secret))
        .route("/organization/secrets", get(list_org_secrets).post(create_org_secret))
        .route("/organization/secrets/{secret}", get(get_org_secret).post(update_org_secret).delete(delete_org_secret))
}

/// One `{key, value}` pair. `Debug` is not derived so a value cannot end up in a log line.
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
struct KeyValue {
    key: String,
    value: String,
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
struct CreateSecret {
    name: String,
    #[serde(default = "default_type", rename = "type")]
    kind: String,
    #[serde(default)]
    description: String,
    keys: Vec<KeyValue>,
    #[serde(default)]
    tags: Option<Value>,
    #[serde(default = "default_environment")]
    environment: String,
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
struct UpdateSecret {
    name: Option<String>,
    #[serde(rename = "type")]
    kind: Option<String>,
    description: Option<String>,
    keys: Option<Vec<KeyValue>>,
    tags: Option<Value>,
    environment: Option<String>,
}

fn default_type() -> String {
    "custom".into()
}

fn default_environment() -> String {
    "default".into()
}

fn read_model(row: &SecretRow) -> Value {
    json!({
        "id": row.id,
        "type": row.kind,
        "name": row.name,
        "description": row.description,
        "environment": row.environment,
        "keys": row.key_names,
        "tags": row.tags,
        "workspace_id": row.workspace_id.map(ferrocat_shared::ids::workspace_id),
        "created_at": row.created_at,
        "updated_at": row.updated_at,
    })
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
struct ListQuery {
    environment: Option<String>,
    #[serde(rename = "type")]
    kind: Option<String>,
}

#[utoipa::path(
    get,
    path = "/secrets",
    tag = "secrets",
    params(("workspace_id" = Option<String>, Query, description = "the workspace (optional when the caller has one)"), ListQuery),
    responses((status = 200, description = "secrets (names and keys, never values)", body = serde_json::Value), (status = "4XX", description = "the one error shape", body = crate::error::ErrorBody))
)]
async fn list_secrets(
    State(state): State<AppState>,
    access: WorkspaceAccess,
    Query(query): Query<ListQuery>,
) -> Result<Json<Vec<Value>>, ApiError> {
    list_in(&state, Some(access.workspace_id), query).await
}

async fn list_in(state: &AppState, owner: Option<Uuid>, query: ListQuery) -> Result<Json<Vec<Value>>, ApiError> {
    let rows = secrets::list(state, owner, query.environment.as_deref(), query.kind.as_deref()).await?;
    Ok(Json(rows.iter().map(read_model).collect()))
}

#[utoipa::path(
    post,
    path = "/secrets",
    tag = "secrets",
    params(("workspace_id" = Option<String>, Query, description = "the workspace (optional when the caller has one)")),
    request_body = CreateSecret,
    responses((status = 201, description = "created (values are not returned)", body = serde_json::Value), (status = "4XX", description = "the one error shape", body = crate::error::ErrorBody))
)]
async fn create_secret(
    State(state): State<AppState>,
    access: WorkspaceAccess,
    JsonBody(body): JsonBody<CreateSecret>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    access.require(Role::Editor)?;
    create_in(&state, Some(access.workspace_id), body).await
}

async fn create_in(state: &AppState, owner: Option<Uuid>, body: CreateSecret) -> Result<(StatusCode, Json<Value>), ApiError> {
    let input = SecretInput {
        name: body.name,
        kind: body.kind,
        description: body.description,
        keys: pairs(body.keys),
        tags: body.tags,
        environment: body.environment,
    };
    let row = secrets::create(state, owner, input).await?;
    Ok((StatusCode::CREATED, Json(read_model(&row))))
}

/// The body's pairs as the use case takes them.
fn pairs(keys: Vec<KeyValue>) -> Vec<(String, String)> {
    keys.into_iter().map(|KeyValue { key, value }| (key, value)).collect()
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
struct GetQuery {
    #[serde(default = "default_environment")]
    environment: String,
}

#[utoipa::path(
    get,
    path = "/secrets/{secret}",
    tag = "secrets",
    params(("secret" = String, Path, description = "secret name or id"), ("workspace_id" = Option<String>, Query, description = "the workspace (optional when the caller has one)"), GetQuery),
    responses((status = 200, description = "the secret, without values", body = serde_json::Value), (status = "4XX", description = "the one error shape", body = crate::error::ErrorBody))
)]
async fn get_secret(
    State(state): State<AppState>,
    access: WorkspaceAccess,
    Path(name): Path<String>,
    Query(query): Query<GetQuery>,
) -> Result<Json<Value>, ApiError> {
    get_in(&state, Some(access.workspace_id), name, query).await
}

async fn get_in(state: &AppState, owner: Option<Uuid>, name: String, query: GetQuery) -> Result<Json<Value>, ApiError> {
    let row = secrets::get(state, owner, &name, &query.environment).await?;
    Ok(Json(read_model(&row)))
}

#[utoipa::path(
    post,
    path = "/secrets/{secret}",
    tag = "secrets",
    params(("secret" = String, Path, description = "secret id"), ("workspace_id" = Option<String>, Query, description = "the workspace (optional when the caller has one)")),
    request_body = UpdateSecret,
    responses((status = 200, description = "updated", body = serde_json::Value), (status = "4XX", description = "the one error shape", body = crate::error::ErrorBody))
)]
async fn update_secret(
    State(state): State<AppState>,
    access: WorkspaceAccess,
    Path(secret): Path<String>,
    JsonBody(body): JsonBody<UpdateSecret>,
) -> Result<Json<Value>, ApiError> {
    access.require(Role::Editor)?;
    update_in(&state, Some(access.workspace_id), secret, body).await
}

async fn update_in(state: &AppState, owner: Option<Uuid>, secret: String, body: UpdateSecret) -> Result<Json<Value>, ApiError> {
    let changes = SecretUpdate {
        name: body.name,
        kind: body.kind,
        description: body.description,
        keys: body.keys.map(pairs),
        tags: body.tags,
        environment: body.environment,
    };
    Ok(Json(read_model(&secrets::update(state, owner, &secret, changes).await?)))
}

#[utoipa::path(
    delete,
    path = "/secrets/{secret}",
    tag = "secrets",
    params(("secret" = String, Path, description = "secret id"), ("workspace_id" = Option<String>, Query, description = "the workspace (optional when the caller has one)")),
    responses((status = 204, description = "deleted"), (status = "4XX", description = "the one error shape", body = crate::error::ErrorBody))
)]
async fn delete_secret(
    State(state): State<AppState>,
    access: WorkspaceAccess,
    Path(secret): Path<String>,
) -> Result<StatusCode, ApiError> {
    access.require(Role::Admin)?;
    delete_in(&state, Some(access.workspace_id), secret).await
}

async fn delete_in(state: &AppState, owner: Option<Uuid>, secret: String) -> Result<StatusCode, ApiError> {
    secrets::delete(state, owner, &secret).await?;
    Ok(StatusCode::NO_CONTENT)
}

// Organisation secrets are for superusers only, reads included (names say which vendors the
// organisation pays), and never for API keys (`AuthUser` refuses them).
#[utoipa::path(
    get,
    path = "/organization/secrets",
    tag = "secrets",
    params(ListQuery),
    responses((status = 200, description = "the organisation's secrets (names and keys, never values)", body = serde_json::Value), (status = "4XX", description = "the one error shape", body = crate::error::ErrorBody))
)]
async fn list_org_secrets(State(state): State<AppState>, user: AuthUser, Query(query): Query<ListQuery>) -> Result<Json<Vec<Value>>, ApiError> {
    user.require_superuser("managing organisation secrets")?;
    list_in(&state, None, query).await
}

#[utoipa::path(
    post,
    path = "/organization/secrets",
    tag = "secrets",
    request_body = CreateSecret,
    responses((status = 201, description = "created (values are not returned)", body = serde_json::Value), (status = "4XX", description = "the one error shape", body = crate::error::ErrorBody))
)]
async fn create_org_secret(
    State(state): State<AppState>,
    user: AuthUser,
    JsonBody(body): JsonBody<CreateSecret>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    user.require_superuser("managing organisation secrets")?;
    create_in(&state, None, body).await
}

#[utoipa::path(
    get,
    path = "/organization/secrets/{secret}",
    tag = "secrets",
    params(("secret" = String, Path, description = "secret name"), GetQuery),
    responses((status = 200, description = "the secret, without values", body = serde_json::Value), (status = "4XX", description = "the one error shape", body = crate::error::ErrorBody))
)]
async fn get_org_secret(
    State(state): State<AppState>,
    user: AuthUser,
    Path(name): Path<String>,
    Query(query): Query<GetQuery>,
) -> Result<Json<Value>, ApiError> {
    user.require_superuser("managing organisation secrets")?;
    get_in(&state, None, name, query).await
}

#[utoipa::path(
    post,
    path = "/organization/secrets/{secret}",
    tag = "secrets",
    params(("secret" = String, Path, description = "secret id")),
    request_body = UpdateSecret,
    responses((status = 200, description = "updated", body = serde_json::Value), (status = "4XX", description = "the one error shape", body = crate::error::ErrorBody))
)]
async fn update_org_secret(
    State(state): State<AppState>,
    user: AuthUser,
    Path(secret): Path<String>,
    JsonBody(body): JsonBody<UpdateSecret>,
) -> Result<Json<Value>, ApiError> {
    user.require_superuser("managing organisation secrets")?;
    update_in(&state, None, secret, body).await
}

#[utoipa::path(
    delete,
    path = "/organization/secrets/{secret}",
    tag = "secrets",
    params(("secret" = String, Path, description = "secret id")),
    responses((status = 204, description = "deleted"), (status = "4XX", description = "the one error shape", body = crate::error::ErrorBody))
)]
async fn delete_org_secret(State(state): State<AppState>, user: AuthUser, Path(secret): Path<String>) -> Result<StatusCode, ApiError> {
    user.require_superuser("managing organisation secrets")?;
    delete_in(&state, None, secret).await
}
