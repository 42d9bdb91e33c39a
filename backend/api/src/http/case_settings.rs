//! What a workspace sets up for its cases, with Tracecat's paths: custom field definitions
//! (`/case-fields`, admins), tag definitions (`/case-tags`), and a workflow's case trigger
//! (`/workflows/{workflow_id}/case-trigger`).

use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::get;
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::{Value, json};

use ferrocat_app::cases::{fields, tags, triggers};

use super::{JsonBody, Path};
use crate::auth::{Role, WorkspaceAccess};
use crate::error::ApiError;
use crate::state::AppState;

pub(super) fn router() -> Router<AppState> {
    Router::new()
        .route("/case-fields", get(list_case_fields).post(create_case_field))
        .route("/case-fields/{field_id}", axum::routing::patch(update_case_field).delete(delete_case_field))
        .route("/case-tags", get(list_case_tags).post(create_case_tag))
        .route("/case-tags/{tag_id}", get(get_case_tag).patch(update_case_tag).delete(delete_case_tag))
        .route("/workflows/{workflow_id}/case-trigger", get(get_case_trigger).post(replace_case_trigger).patch(update_case_trigger))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
struct CreateField {
    /// The field's name: letters, digits and underscores.
    name: String,
    /// TEXT, INTEGER, NUMERIC, BOOLEAN, DATE, TIMESTAMPTZ, JSONB, SELECT or MULTI_SELECT.
    #[serde(rename = "type")]
    kind_type: String,
    display_name: Option<String>,
    #[serde(default)]
    description: String,
    #[serde(default = "yes")]
    nullable: bool,
    default: Option<Value>,
    options: Option<Vec<String>>,
    /// A hint for the console (LONG_TEXT, URL).
    kind: Option<String>,
    #[serde(default)]
    required_on_closure: bool,
}

fn yes() -> bool {
    true
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
struct UpdateField {
    display_name: Option<String>,
    description: Option<String>,
    nullable: Option<bool>,
    default: Option<Value>,
    options: Option<Vec<String>>,
    required_on_closure: Option<bool>,
}

#[utoipa::path(
    get,
    path = "/case-fields",
    tag = "cases",
    params(("workspace_id" = Option<String>, Query, description = "the workspace (optional when the caller has one)")),
    responses((status = 200, description = "the custom field definitions", body = serde_json::Value), (status = "4XX", description = "the one error shape", body = crate::error::ErrorBody))
)]
async fn list_case_fields(State(state): State<AppState>, access: WorkspaceAccess) -> Result<Json<Value>, ApiError> {
    let defs = fields::definitions(&state.db, access.workspace_id).await?;
    Ok(Json(json!(defs.iter().map(fields::FieldDef::read_model).collect::<Vec<_>>())))
}

#[utoipa::path(
    post,
    path = "/case-fields",
    tag = "cases",
    params(("workspace_id" = Option<String>, Query, description = "the workspace (optional when the caller has one)")),
    request_body = CreateField,
    responses((status = 201, description = "the definition", body = serde_json::Value), (status = "4XX", description = "the one error shape", body = crate::error::ErrorBody))
)]
async fn create_case_field(State(state): State<AppState>, access: WorkspaceAccess, JsonBody(body): JsonBody<CreateField>) -> Result<(StatusCode, Json<Value>), ApiError> {
    access.require(Role::Admin)?;
    let input = fields::NewField {
        name: body.name,
        kind_type: body.kind_type,
        display_name: body.display_name,
        description: body.description,
        nullable: body.nullable,
        default: body.default,
        options: body.options,
        kind: body.kind,
        required_on_closure: body.required_on_closure,
    };
    let def = fields::create(&state.db, access.workspace_id, input).await?;
    Ok((StatusCode::CREATED, Json(def.read_model())))
}

#[utoipa::path(
    patch,
    path = "/case-fields/{field_id}",
    tag = "cases",
    params(("field_id" = String, Path, description = "the field's name"), ("workspace_id" = Option<String>, Query, description = "the workspace (optional when the caller has one)")),
    request_body = UpdateField,
    responses((status = 200, description = "the definition", body = serde_json::Value), (status = "4XX", description = "the one error shape", body = crate::error::ErrorBody))
)]
async fn update_case_field(
    State(state): State<AppState>,
    access: WorkspaceAccess,
    Path(field_id): Path<String>,
    JsonBody(body): JsonBody<UpdateField>,
) -> Result<Json<Value>, ApiError> {
    access.require(Role::Admin)?;
    let changes = fields::FieldChanges {
        display_name: body.display_name,
        description: body.description,
        nullable: body.nullable,
        default: body.default,
        options: body.options,
        required_on_closure: body.required_on_closure,
    };
    Ok(Json(fields::update(&state.db, access.workspace_id, &field_id, changes).await?.read_model()))
}

#[utoipa::path(
    delete,
    path = "/case-fields/{field_id}",
    tag = "cases",
    params(("field_id" = String, Path, description = "the field's name"), ("workspace_id" = Option<String>, Query, description = "the workspace (optional when the caller has one)")),
    responses((status = 204, description = "deleted, with its value on every case"), (status = "4XX", description = "the one error shape", body = crate::error::ErrorBody))
)]
async fn delete_case_field(State(state): State<AppState>, access: WorkspaceAccess, Path(field_id): Path<String>) -> Result<StatusCode, ApiError> {
    access.require(Role::Admin)?;
    fields::delete(&state.db, access.workspace_id, &field_id).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
struct TagBody {
    name: Option<String>,
    /// A hex colour (#ff6600).
    color: Option<String>,
}

#[utoipa::path(
    get,
    path = "/case-tags",
    tag = "cases",
    params(("workspace_id" = Option<String>, Query, description = "the workspace (optional when the caller has one)")),
    responses((status = 200, description = "the tag definitions", body = serde_json::Value), (status = "4XX", description = "the one error shape", body = crate::error::ErrorBody))
)]
async fn list_case_tags(State(state): State<AppState>, access: WorkspaceAccess) -> Result<Json<Value>, ApiError> {
    Ok(Json(json!(tags::list(&state.db, access.workspace_id).await?.iter().map(tags::TagRow::read_model).collect::<Vec<_>>())))
}

#[utoipa::path(
    post,
    path = "/case-tags",
    tag = "cases",
    params(("workspace_id" = Option<String>, Query, description = "the workspace (optional when the caller has one)")),
    request_body = TagBody,
    responses((status = 201, description = "the tag", body = serde_json::Value), (status = "4XX", description = "the one error shape", body = crate::error::ErrorBody))
)]
async fn create_case_tag(State(state): State<AppState>, access: WorkspaceAccess, JsonBody(body): JsonBody<TagBody>) -> Result<(StatusCode, Json<Value>), ApiError> {
    access.require(Role::Editor)?;
    let name = body.name.ok_or_else(|| super::validate::invalid("name", "a tag needs a name"))?;
    let tag = tags::create(&state.db, access.workspace_id, &name, body.color).await?;
    Ok((StatusCode::CREATED, Json(tag.read_model())))
}

#[utoipa::path(
    get,
    path = "/case-tags/{tag_id}",
    tag = "cases",
    params(("tag_id" = String, Path, description = "tag id or ref"), ("workspace_id" = Option<String>, Query, description = "the workspace (optional when the caller has one)")),
    responses((status = 200, description = "the tag", body = serde_json::Value), (status = "4XX", description = "the one error shape", body = crate::error::ErrorBody))
)]
async fn get_case_tag(State(state): State<AppState>, access: WorkspaceAccess, Path(tag_id): Path<String>) -> Result<Json<Value>, ApiError> {
    Ok(Json(tags::get(&state.db, access.workspace_id, &tag_id).await?.read_model()))
}

#[utoipa::path(
    patch,
    path = "/case-tags/{tag_id}",
    tag = "cases",
    params(("tag_id" = String, Path, description = "tag id or ref"), ("workspace_id" = Option<String>, Query, description = "the workspace (optional when the caller has one)")),
    request_body = TagBody,
    responses((status = 200, description = "the tag", body = serde_json::Value), (status = "4XX", description = "the one error shape", body = crate::error::ErrorBody))
)]
async fn update_case_tag(State(state): State<AppState>, access: WorkspaceAccess, Path(tag_id): Path<String>, JsonBody(body): JsonBody<TagBody>) -> Result<Json<Value>, ApiError> {
    access.require(Role::Editor)?;
    Ok(Json(tags::update(&state.db, access.workspace_id, &tag_id, body.name, body.color).await?.read_model()))
}

#[utoipa::path(
    delete,
    path = "/case-tags/{tag_id}",
    tag = "cases",
    params(("tag_id" = String, Path, description = "tag id or ref"), ("workspace_id" = Option<String>, Query, description = "the workspace (optional when the caller has one)")),
    responses((status = 204, description = "deleted, and removed from every case"), (status = "4XX", description = "the one error shape", body = crate::error::ErrorBody))
)]
async fn delete_case_tag(State(state): State<AppState>, access: WorkspaceAccess, Path(tag_id): Path<String>) -> Result<StatusCode, ApiError> {
    access.require(Role::Admin)?;
    tags::delete(&state.db, access.workspace_id, &tag_id).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
struct TriggerBody {
    /// online or offline.
    status: Option<String>,
    /// Case event types (case_created, status_changed, comment_created, …).
    event_types: Option<Vec<String>>,
    /// Tag refs; a case must carry one of them (none: every case).
    tag_filters: Option<Vec<String>>,
}

async fn workflow_of(state: &AppState, access: &WorkspaceAccess, workflow_id: &str) -> Result<uuid::Uuid, ApiError> {
    Ok(ferrocat_app::workflows::load(state, access.workspace_id, workflow_id).await?.id)
}

#[utoipa::path(
    get,
    path = "/workflows/{workflow_id}/case-trigger",
    tag = "workflows",
    params(("workflow_id" = String, Path, description = "workflow id"), ("workspace_id" = Option<String>, Query, description = "the workspace (optional when the caller has one)")),
    responses((status = 200, description = "the case trigger", body = serde_json::Value), (status = "4XX", description = "the one error shape", body = crate::error::ErrorBody))
)]
async fn get_case_trigger(State(state): State<AppState>, access: WorkspaceAccess, Path(workflow_id): Path<String>) -> Result<Json<Value>, ApiError> {
    let id = workflow_of(&state, &access, &workflow_id).await?;
    Ok(Json(triggers::get(&state.db, access.workspace_id, id).await?.read_model()))
}

async fn set_trigger(state: &AppState, access: &WorkspaceAccess, workflow_id: &str, body: TriggerBody, replace: bool) -> Result<Json<Value>, ApiError> {
    access.require(Role::Editor)?;
    let id = workflow_of(state, access, workflow_id).await?;
    let input = triggers::TriggerInput { status: body.status, event_types: body.event_types, tag_filters: body.tag_filters };
    Ok(Json(triggers::set(&state.db, access.workspace_id, id, input, replace).await?.read_model()))
}

#[utoipa::path(
    post,
    path = "/workflows/{workflow_id}/case-trigger",
    tag = "workflows",
    params(("workflow_id" = String, Path, description = "workflow id"), ("workspace_id" = Option<String>, Query, description = "the workspace (optional when the caller has one)")),
    request_body = TriggerBody,
    responses((status = 200, description = "the case trigger, replaced", body = serde_json::Value), (status = "4XX", description = "the one error shape", body = crate::error::ErrorBody))
)]
async fn replace_case_trigger(State(state): State<AppState>, access: WorkspaceAccess, Path(workflow_id): Path<String>, JsonBody(body): JsonBody<TriggerBody>) -> Result<Json<Value>, ApiError> {
    set_trigger(&state, &access, &workflow_id, body, true).await
}

#[utoipa::path(
    patch,
    path = "/workflows/{workflow_id}/case-trigger",
    tag = "workflows",
    params(("workflow_id" = String, Path, description = "workflow id"), ("workspace_id" = Option<String>, Query, description = "the workspace (optional when the caller has one)")),
    request_body = TriggerBody,
    responses((status = 200, description = "the case trigger, changed", body = serde_json::Value), (status = "4XX", description = "the one error shape", body = crate::error::ErrorBody))
)]
async fn update_case_trigger(State(state): State<AppState>, access: WorkspaceAccess, Path(workflow_id): Path<String>, JsonBody(body): JsonBody<TriggerBody>) -> Result<Json<Value>, ApiError> {
    set_trigger(&state, &access, &workflow_id, body, false).await
}
