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

use ferrocat_app::db::secrets::{self, NewSecret, SecretChanges, SecretRow};

use super::{JsonBody, Path, Query};
use super::validate::{check_environment, check_identifier, check_tags, invalid};
use crate::auth::{AuthUser, Role, WorkspaceAccess};
use crate::error::{ApiError, ResultExt};
use crate::state::AppState;

pub(super) fn router() -> Router<AppState> {
    Router::new()
        .route("/secrets", get(list_secrets).post(create_secret))
        // One segment serves both a name (GET) and an id (update, delete), as in Tracecat.
        .route("/secrets/{secret}", get(get_secret).post(update_secret).delete(delete_secret))
        .route("/organization/secrets", get(list_org_secrets).post(create_org_secret))
        .route("/organization/secrets/{secret}", get(get_org_secret).post(update_org_secret).delete(delete_org_secret))
}

const TYPES: &[&str] = &["custom", "ssh_key", "mtls", "ca_cert", "github_app"];
const MAX_KEYS: usize = 100;
const MAX_VALUE_BYTES: usize = 64 * 1024;

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

fn check_type(kind: &str) -> Result<(), ApiError> {
    if !TYPES.contains(&kind) {
        return Err(invalid("type", format!("type must be one of {}", TYPES.join(", "))));
    }
    Ok(())
}

/// Checked `{KEY: value}` pairs, in order, and their names.
type CheckedKeys = (Vec<(String, String)>, Vec<String>);

/// Checks the pairs and returns them with their names; the values are never echoed in errors.
fn check_keys(keys: Vec<KeyValue>) -> Result<CheckedKeys, ApiError> {
    if keys.is_empty() || keys.len() > MAX_KEYS {
        return Err(invalid("keys", format!("a secret has between 1 and {MAX_KEYS} keys")));
    }
    let mut names: Vec<String> = Vec::with_capacity(keys.len());
    let mut pairs = Vec::with_capacity(keys.len());
    for KeyValue { key, value } in keys {
        check_identifier("keys.key", &key, 255)?;
        if names.contains(&key) {
            return Err(invalid("keys.key", format!("duplicate key {key:?}")));
        }
        if value.is_empty() || value.len() > MAX_VALUE_BYTES {
            return Err(invalid("keys.value", format!("the value of {key:?} must be 1 to {MAX_VALUE_BYTES} bytes")));
        }
        names.push(key.clone());
        pairs.push((key, value));
    }
    Ok((pairs, names))
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

const NAME_TAKEN: &str = "a secret with this name already exists in this environment";

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
    let rows = secrets::list(&state.db, owner, query.environment.as_deref(), query.kind.as_deref()).await?;
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
    check_identifier("name", &body.name, 100)?;
    check_type(&body.kind)?;
    check_environment(&body.environment)?;
    let tags = body.tags.unwrap_or_else(|| json!({}));
    check_tags(&tags)?;
    let (pairs, names) = check_keys(body.keys)?;
    let id = Uuid::now_v7();
    let sealed = state.config.keyring.seal_keys(id, &pairs);
    let row = secrets::insert(
        &state.db,
        &NewSecret {
            id,
            workspace_id: owner,
            name: &body.name,
            kind: &body.kind,
            environment: &body.environment,
            description: &body.description,
            sealed: &sealed,
            key_names: &names,
            tags: &tags,
        },
    )
    .await
    .on_constraint(name_key(owner), NAME_TAKEN)?;
    tracing::info!(secret = %row.name, environment = %row.environment, keys = ?row.key_names, organization = owner.is_none(), "secret created");
    announce(state, owner).await;
    Ok((StatusCode::CREATED, Json(read_model(&row))))
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
    let row = secrets::get_by_name(&state.db, owner, &name, &query.environment)
        .await?
        .ok_or_else(|| ApiError::NotFound(format!("secret {name:?} not found in environment {:?}", query.environment)))?;
    Ok(Json(read_model(&row)))
}

fn parse_secret_id(text: &str) -> Result<Uuid, ApiError> {
    Uuid::try_parse(text).map_err(|_| ApiError::NotFound(format!("secret {text:?} not found")))
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
    let id = parse_secret_id(&secret)?;
    if let Some(name) = &body.name {
        check_identifier("name", name, 100)?;
    }
    if let Some(kind) = &body.kind {
        check_type(kind)?;
    }
    if let Some(environment) = &body.environment {
        check_environment(environment)?;
    }
    if let Some(tags) = &body.tags {
        check_tags(tags)?;
    }
    // New keys replace the old ones wholesale, sealed for this row.
    let replaced = body.keys.map(check_keys).transpose()?;
    let sealed = replaced.as_ref().map(|(pairs, names)| (state.config.keyring.seal_keys(id, pairs), names));
    let changes = SecretChanges {
        name: body.name.as_deref(),
        kind: body.kind.as_deref(),
        environment: body.environment.as_deref(),
        description: body.description.as_deref(),
        tags: body.tags.as_ref(),
        sealed: sealed.as_ref().map(|(blob, names)| (blob.as_slice(), names.as_slice())),
    };
    let row = secrets::update(&state.db, owner, id, &changes)
        .await
        .on_constraint(name_key(owner), NAME_TAKEN)?
        .ok_or_else(|| ApiError::NotFound(format!("secret {secret:?} not found")))?;
    tracing::info!(secret = %row.name, environment = %row.environment, keys_replaced = sealed.is_some(), organization = owner.is_none(), "secret updated");
    announce(state, owner).await;
    Ok(Json(read_model(&row)))
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
    let id = parse_secret_id(&secret)?;
    if !secrets::delete(&state.db, owner, id).await? {
        return Err(ApiError::NotFound(format!("secret {secret:?} not found")));
    }
    tracing::info!(secret_id = %id, organization = owner.is_none(), "secret deleted");
    announce(state, owner).await;
    Ok(StatusCode::NO_CONTENT)
}

/// The unique constraint a name clash of `owner`'s secrets violates.
fn name_key(owner: Option<Uuid>) -> &'static str {
    if owner.is_some() { "secrets_name_key" } else { "secrets_org_name_key" }
}

/// Tells the model gateway to read secrets again (it caches provider keys). A lost
/// notification only delays that by the cache's lifetime, so it does not fail the request.
async fn announce(state: &AppState, owner: Option<Uuid>) {
    if let Err(e) = ferrocat_app::db::llm::notify_secrets(&state.db, owner).await {
        tracing::warn!(error = %e, "announcing a secret change failed");
    }
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
