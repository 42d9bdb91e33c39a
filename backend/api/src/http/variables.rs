//! Workspace variables, per environment, as in Tracecat: `GET/POST /variables`,
//! `GET /variables/{name}`, `POST /variables/{id}` (update), `DELETE /variables/{id}`. Values
//! are plain JSON (not secrets): they are returned as stored and reach runs as `VARS.name.key`.

use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::get;
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::{Value, json};
use uuid::Uuid;

use ferrocat_app::db::variables::{self, NewVariable, VariableChanges, VariableRow};

use super::{JsonBody, Path, Query};
use super::validate::{check_environment, check_identifier, check_tags, invalid};
use crate::auth::{Role, WorkspaceAccess};
use crate::error::{ApiError, ResultExt};
use crate::state::AppState;

pub(super) fn router() -> Router<AppState> {
    Router::new()
        .route("/variables", get(list_variables).post(create_variable))
        // One segment serves both a name (GET) and an id (update, delete), as for secrets.
        .route("/variables/{variable}", get(get_variable).post(update_variable).delete(delete_variable))
}

const MAX_KEYS: usize = 100;
/// The serialized values of one variable, at most (they travel in every run's input).
const MAX_VALUES_BYTES: usize = 64 * 1024;
const NAME_TAKEN: &str = "a variable with this name already exists in this environment";

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

/// `values` is an object of identifier keys (`VARS.name.key`) and any JSON values.
fn check_values(values: &Value) -> Result<(), ApiError> {
    let Some(map) = values.as_object() else {
        return Err(invalid("values", "values must be an object of {key: value}".into()));
    };
    if map.is_empty() || map.len() > MAX_KEYS {
        return Err(invalid("values", format!("a variable has between 1 and {MAX_KEYS} keys")));
    }
    for key in map.keys() {
        check_identifier("values.key", key, 255)?;
    }
    if values.to_string().len() > MAX_VALUES_BYTES {
        return Err(invalid("values", format!("values must be at most {MAX_VALUES_BYTES} bytes as JSON")));
    }
    Ok(())
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
    let rows = variables::list(&state.db, access.workspace_id, query.environment.as_deref()).await?;
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
    check_identifier("name", &body.name, 100)?;
    check_environment(&body.environment)?;
    check_values(&body.values)?;
    let tags = body.tags.unwrap_or_else(|| json!({}));
    check_tags(&tags)?;
    let row = variables::insert(
        &state.db,
        &NewVariable {
            workspace_id: access.workspace_id,
            name: &body.name,
            description: &body.description,
            environment: &body.environment,
            values: &body.values,
            tags: &tags,
        },
    )
    .await
    .on_constraint("variables_name_key", NAME_TAKEN)?;
    tracing::info!(variable = %row.name, environment = %row.environment, "variable created");
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
    let row = variables::get_by_name(&state.db, access.workspace_id, &name, &query.environment)
        .await?
        .ok_or_else(|| ApiError::NotFound(format!("variable {name:?} not found in environment {:?}", query.environment)))?;
    Ok(Json(read_model(&row)))
}

fn parse_variable_id(text: &str) -> Result<Uuid, ApiError> {
    Uuid::try_parse(text).map_err(|_| ApiError::NotFound(format!("variable {text:?} not found")))
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
    let id = parse_variable_id(&variable)?;
    if let Some(name) = &body.name {
        check_identifier("name", name, 100)?;
    }
    if let Some(environment) = &body.environment {
        check_environment(environment)?;
    }
    if let Some(values) = &body.values {
        check_values(values)?;
    }
    if let Some(tags) = &body.tags {
        check_tags(tags)?;
    }
    let changes = VariableChanges {
        name: body.name.as_deref(),
        description: body.description.as_deref(),
        environment: body.environment.as_deref(),
        values: body.values.as_ref(),
        tags: body.tags.as_ref(),
    };
    let row = variables::update(&state.db, access.workspace_id, id, &changes)
        .await
        .on_constraint("variables_name_key", NAME_TAKEN)?
        .ok_or_else(|| ApiError::NotFound(format!("variable {variable:?} not found")))?;
    tracing::info!(variable = %row.name, environment = %row.environment, "variable updated");
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
    let id = parse_variable_id(&variable)?;
    if !variables::delete(&state.db, access.workspace_id, id).await? {
        return Err(ApiError::NotFound(format!("variable {variable:?} not found")));
    }
    tracing::info!(variable_id = %id, "variable deleted");
    Ok(StatusCode::NO_CONTENT)
}
