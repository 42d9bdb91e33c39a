//! Workspace variables, per environment, as in Tracecat: `GET/POST /variables`,
//! `GET /variables/{name}`, `POST /variables/{id}` (update), `DELETE /variables/{id}`. Values
//! are plain JSON (not secrets): they are returned as stored and reach runs as `VARS.name.key`.

use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::get;
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::{Value, json};

use ferrocat_app::db::variables::VariableRow;
use ferrocat_app::variables::{self, VariableInput, VariableUpdate};

use super::{JsonBody, Path, Query};
use crate::auth::{Role, WorkspaceAccess};
use crate::error::ApiError;
use crate::state::AppState;

pub(super) fn router() -> Router<AppState> {
    Router::new()
        .route("/variables", get(list_variables).post(create_variable))
        // One segment serves both a name (GET) and an id (update, delete), as for secrets.
        .route("/variables/{variable}", get(get_variable).post(update_variable).delete(delete_variable))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
struct CreateVariable {
    name: String,
    #[serde(default)]
    description: String,
    values: Value,
    #[serde(default)]
    tags: Option<Value>,
    #[serde(default = "default_environment")]
    environment: String,
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
struct UpdateVariable {
    name: Option<String>,
    description: Option<String>,
    values: Option<Value>,
    tags: Option<Value>,
    environment: Option<String>,
}

fn default_environment() -> String {
    "default".into()
}

fn read_model(row: &VariableRow) -> Value {
    json!({
        "id": row.id,
        "name": row.name,
        "description": row.description,
        "environment": row.environment,
        "values": row.values,
        "tags": row.tags,
        "workspace_id": ferrocat_shared::ids::workspace_id(row.workspace_id),
        "created_at": row.created_at,
        "updated_at": row.updated_at,
    })
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
struct ListQuery {
    environment: Option<String>,
    /// Accepted (the extractor reads it).
    #[serde(rename = "workspace_id")]
    _workspace_id: Option<String>,
}

#[utoipa::path(
    get,
    path = "/variables",
    tag = "variables",
    params(("workspace_id" = Option<String>, Query, description = "the workspace (optional when the caller has one)"), ListQuery),
    responses((status = 200, description = "variables", body = serde_json::Value), (status = "4XX", description = "the one error shape", body = crate::error::ErrorBody))
)]
async fn list_variables(
    State(state): State<AppState>,
    access: WorkspaceAccess,
    Query(query): Query<ListQuery>,
) -> Result<Json<Vec<Value>>, ApiError> {
    let rows = variables::list(&state, access.workspace_id, query.environment.as_deref()).await?;
    Ok(Json(rows.iter().map(read_model).collect()))
}

#[utoipa::path(
    post,
    path = "/variables",
    tag = "variables",
    params(("workspace_id" = Option<String>, Query, description = "the workspace (optional when the caller has one)")),
    request_body = CreateVariable,
    responses((status = 201, description = "created", body = serde_json::Value), (status = "4XX", description = "the one error shape", body = crate::error::ErrorBody))
)]
async fn create_variable(
    State(state): State<AppState>,
    access: WorkspaceAccess,
    JsonBody(body): JsonBody<CreateVariable>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    access.require(Role::Editor)?;
    let input = VariableInput {
        name: body.name,
        description: body.description,
        values: body.values,
        tags: body.tags,
        environment: body.environment,
    };
    let row = variables::create(&state, access.workspace_id, input).await?;
    Ok((StatusCode::CREATED, Json(read_model(&row))))
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
struct GetQuery {
    #[serde(default = "default_environment")]
    environment: String,
    /// Accepted (the extractor reads it).
    #[serde(rename = "workspace_id")]
    _workspace_id: Option<String>,
}

#[utoipa::path(
    get,
    path = "/variables/{variable}",
    tag = "variables",
    params(("variable" = String, Path, description = "variable name or id"), ("workspace_id" = Option<String>, Query, description = "the workspace (optional when the caller has one)"), GetQuery),
    responses((status = 200, description = "the variable", body = serde_json::Value), (status = "4XX", description = "the one error shape", body = crate::error::ErrorBody))
)]
async fn get_variable(
    State(state): State<AppState>,
    access: WorkspaceAccess,
    Path(name): Path<String>,
    Query(query): Query<GetQuery>,
) -> Result<Json<Value>, ApiError> {
    let row = variables::get(&state, access.workspace_id, &name, &query.environment).await?;
    Ok(Json(read_model(&row)))
}

#[utoipa::path(
    post,
    path = "/variables/{variable}",
    tag = "variables",
    params(("variable" = String, Path, description = "variable id"), ("workspace_id" = Option<String>, Query, description = "the workspace (optional when the caller has one)")),
    request_body = UpdateVariable,
    responses((status = 200, description = "updated", body = serde_json::Value), (status = "4XX", description = "the one error shape", body = crate::error::ErrorBody))
)]
async fn update_variable(
    State(state): State<AppState>,
    access: WorkspaceAccess,
    Path(variable): Path<String>,
    JsonBody(body): JsonBody<UpdateVariable>,
) -> Result<Json<Value>, ApiError> {
    access.require(Role::Editor)?;
    let changes = VariableUpdate {
        name: body.name,
        description: body.description,
        values: body.values,
        tags: body.tags,
        environment: body.environment,
    };
    let row = variables::update(&state, access.workspace_id, &variable, changes).await?;
    Ok(Json(read_model(&row)))
}

#[utoipa::path(
    delete,
    path = "/variables/{variable}",
    tag = "variables",
    params(("variable" = String, Path, description = "variable id"), ("workspace_id" = Option<String>, Query, description = "the workspace (optional when the caller has one)")),
    responses((status = 204, description = "deleted"), (status = "4XX", description = "the one error shape", body = crate::error::ErrorBody))
)]
async fn delete_variable(
    State(state): State<AppState>,
    access: WorkspaceAccess,
    Path(variable): Path<String>,
) -> Result<StatusCode, ApiError> {
    access.require(Role::Editor)?;
    variables::delete(&state, access.workspace_id, &variable).await?;
    Ok(StatusCode::NO_CONTENT)
}
