//! Workflows: import/create, list, get, update, delete, validate (a document or the draft),
//! commit (validated, new immutable version), list versions, read a committed definition,
//! restore one into the draft, and export (Tracecat's format).

use axum::body::Bytes;
use axum::extract::{FromRequest, Multipart, Request, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, put};
use axum::{Json, Router};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use uuid::Uuid;

use ferrocat_app::db::workflows::{self, WorkflowChanges, WorkflowRow};
use ferrocat_dsl::Workflow;
use ferrocat_shared::ids;

use crate::auth::{Role, WorkspaceAccess};
use super::{JsonBody, Path, Query};
use crate::error::{ApiError, ResultExt};
use crate::state::AppState;

pub(super) fn router() -> Router<AppState> {
    Router::new()
        .route("/workflows", post(create_workflow).get(list_workflows))
        .route("/workflows/{workflow_id}", get(get_workflow).patch(update_workflow).delete(delete_workflow))
        .route("/workflows/{workflow_id}/draft", put(put_draft))
        .route("/workflows/{workflow_id}/commit", post(commit_workflow))
        .route("/workflows/{workflow_id}/definition", get(get_definition))
        .route("/workflows/{workflow_id}/definitions", get(list_definitions))
        .route("/workflows/{workflow_id}/definitions/{version}/restore", post(restore_definition))
        .route("/workflows/validate", post(validate_document))
        .route("/workflows/{workflow_id}/validate", post(validate_draft))
        .route("/workflows/{workflow_id}/export", get(export_workflow))
}

/// Parses a `{workflow_id}` path segment.
pub(crate) fn parse_workflow_path(text: &str) -> Result<Uuid, ApiError> {
    ids::parse_workflow_id(text).map_err(|e| ApiError::NotFound(e.to_string()))
}

/// Loads a workflow of the caller's workspace, or 404.
pub(crate) async fn load(state: &AppState, access: &WorkspaceAccess, workflow_id: &str) -> Result<WorkflowRow, ApiError> {
    Ok(ferrocat_app::workflows::load(state, access.workspace_id, workflow_id).await?)
}

/// A workflow as the api shows it: what it is, and its draft. The OpenAPI document (and so the
/// console's generated client) describes answers with this very type.
#[derive(Serialize, utoipa::ToSchema)]
pub(crate) struct WorkflowRead {
    /// `wf_…`
    id: String,
    /// `ws_…`
    workspace_id: String,
    title: String,
    description: String,
    status: String,
    /// The latest committed version; null until the first commit.
    version: Option<i32>,
    alias: Option<String>,
    tags: Vec<String>,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
    /// The draft, a workflow document.
    #[schema(value_type = std::collections::HashMap<String, serde_json::Value>)]
    definition: Value,
    /// The YAML or JSON the draft was written as (comments included), when there is one.
    definition_yaml: Option<String>,
}

/// A page of a workspace's workflows, newest first.
#[derive(Serialize, utoipa::ToSchema)]
pub(crate) struct WorkflowPage {
    items: Vec<WorkflowRead>,
    /// Pass as `cursor` for the next page.
    next_cursor: Option<DateTime<Utc>>,
    has_more: bool,
}

fn read(row: &WorkflowRow) -> WorkflowRead {
    WorkflowRead {
        id: ids::workflow_id(row.id),
        workspace_id: ids::workspace_id(row.workspace_id),
        title: row.title.clone(),
        description: row.description.clone(),
        status: row.status.clone(),
        version: row.version,
        alias: row.alias.clone(),
        tags: row.tags.clone(),
        created_at: row.created_at,
        updated_at: row.updated_at,
        definition: row.draft.clone(),
        definition_yaml: row.draft_yaml.clone(),
    }
}

fn read_model(row: &WorkflowRow) -> Json<WorkflowRead> {
    Json(read(row))
}

/// What a create request carried: a document to import, or just a title.
enum CreateBody {
    Import(String),
    Blank { title: String, description: String },
}

#[derive(Deserialize, utoipa::ToSchema)]
struct BlankWorkflow {
    title: String,
    #[serde(default)]
    description: String,
}

async fn read_create_body(request: Request, state: &AppState) -> Result<CreateBody, ApiError> {
    let content_type = request
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_ascii_lowercase();
    if content_type.starts_with("multipart/form-data") {
        let mut multipart = Multipart::from_request(request, state)
            .await
            .map_err(|e| ApiError::BadRequest(e.body_text()))?;
        let (mut title, mut description, mut file) = (None, String::new(), None);
        while let Some(field) = multipart.next_field().await.map_err(|e| ApiError::BadRequest(e.body_text()))? {
            let name = field.name().unwrap_or_default().to_owned();
            let text = field.text().await.map_err(|e| ApiError::BadRequest(e.body_text()))?;
            match name.as_str() {
                "file" => file = Some(text),
                "title" => title = Some(text),
                "description" => description = text,
                _ => {}
            }
        }
        return match (file, title) {
            (Some(text), _) => Ok(CreateBody::Import(text)),
            (None, Some(title)) => Ok(CreateBody::Blank { title, description }),
            (None, None) => Err(ApiError::BadRequest("expected a `file` field (YAML or JSON) or a `title`".into())),
        };
    }
    let body = Bytes::from_request(request, state).await.map_err(|e| ApiError::BadRequest(e.body_text()))?;
    let text = String::from_utf8(body.to_vec()).map_err(|_| ApiError::BadRequest("body is not UTF-8".into()))?;
    if content_type.starts_with("application/json") {
        // A JSON body is either a DSL document / export, or {title, description}.
        let value: Value = serde_json::from_str(&text).map_err(|e| ApiError::BadRequest(format!("invalid JSON: {e}")))?;
        if value.get("actions").is_some() || value.get("definition").is_some() {
            return Ok(CreateBody::Import(text));
        }
        let blank: BlankWorkflow =
            serde_json::from_value(value).map_err(|e| ApiError::BadRequest(format!("invalid workflow: {e}")))?;
        return Ok(CreateBody::Blank { title: blank.title, description: blank.description });
    }
    Ok(CreateBody::Import(text))
}

#[utoipa::path(
    post,
    path = "/workflows",
    tag = "workflows",
    params(("workspace_id" = Option<String>, Query, description = "the workspace (optional when the caller has one)")),
    request_body(content((BlankWorkflow = "application/json"), (String = "application/yaml")), description = "a title, or a workflow to import (YAML or JSON, Tracecat's export format too; multipart `file` also accepted)"),
    responses((status = 201, description = "created", body = WorkflowRead), (status = "4XX", description = "the one error shape", body = crate::error::ErrorBody))
)]
async fn create_workflow(
    State(state): State<AppState>,
    access: WorkspaceAccess,
    request: Request,
) -> Result<(StatusCode, Json<WorkflowRead>), ApiError> {
    access.require(Role::Editor)?;
    let row = match read_create_body(request, &state).await? {
        CreateBody::Import(text) => {
            let dsl = Workflow::parse(&text).map_err(|e| ApiError::Unprocessable {
                detail: format!("could not import the workflow: {e}"),
                errors: vec![json!({"loc": "definition", "msg": e.to_string()})],
            })?;
            ferrocat_app::workflows::create(&state, access.workspace_id, &dsl, ferrocat_app::workflows::authored_text(&text)).await?
        }
        CreateBody::Blank { title, description } => {
            ferrocat_app::workflows::create_blank(&state, access.workspace_id, &title, &description).await?
        }
    };
    Ok((StatusCode::CREATED, read_model(&row)))
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
struct ListQuery {
    #[serde(default = "default_limit")]
    limit: i64,
    cursor: Option<DateTime<Utc>>,
}

fn default_limit() -> i64 {
    20
}

#[utoipa::path(
    get,
    path = "/workflows",
    tag = "workflows",
    params(("workspace_id" = Option<String>, Query, description = "the workspace (optional when the caller has one)"), ListQuery),
    responses((status = 200, description = "a page of workflows", body = WorkflowPage), (status = "4XX", description = "the one error shape", body = crate::error::ErrorBody))
)]
async fn list_workflows(
    State(state): State<AppState>,
    access: WorkspaceAccess,
    Query(query): Query<ListQuery>,
) -> Result<Json<WorkflowPage>, ApiError> {
    if !(1..=200).contains(&query.limit) {
        return Err(ApiError::BadRequest("limit must be between 1 and 200".into()));
    }
    let rows = workflows::list(&state.db, access.workspace_id, query.cursor, query.limit + 1).await?;
    let has_more = rows.len() as i64 > query.limit;
    let items: Vec<&WorkflowRow> = rows.iter().take(query.limit as usize).collect();
    let next_cursor = if has_more { items.last().map(|r| r.created_at) } else { None };
    Ok(Json(WorkflowPage { items: items.into_iter().map(read).collect(), next_cursor, has_more }))
}

#[utoipa::path(
    get,
    path = "/workflows/{workflow_id}",
    tag = "workflows",
    params(("workflow_id" = String, Path, description = "workflow id (wf_…)"), ("workspace_id" = Option<String>, Query, description = "the workspace (optional when the caller has one)")),
    responses((status = 200, description = "the workflow with its draft", body = WorkflowRead), (status = "4XX", description = "the one error shape", body = crate::error::ErrorBody))
)]
async fn get_workflow(
    State(state): State<AppState>,
    access: WorkspaceAccess,
    Path(workflow_id): Path<String>,
) -> Result<Json<WorkflowRead>, ApiError> {
    let row = load(&state, &access, &workflow_id).await?;
    Ok(read_model(&row))
}

/// `{valid, errors}` for a definition: parse errors and validation issues, each with a `loc`.
/// `POST /workflows/validate`: checks a YAML or JSON document (a DSL definition or a Tracecat
/// export) without storing anything; 200 with `{valid, errors}`.
#[utoipa::path(
    post,
    path = "/workflows/validate",
    tag = "workflows",
    params(("workspace_id" = Option<String>, Query, description = "the workspace (optional when the caller has one)")),
    request_body(content = String, content_type = "application/yaml", description = "a workflow in YAML or JSON"),
    responses((status = 200, description = "validation result", body = serde_json::Value), (status = "4XX", description = "the one error shape", body = crate::error::ErrorBody))
)]
async fn validate_document(State(state): State<AppState>, _access: WorkspaceAccess, body: Bytes) -> Result<Json<Value>, ApiError> {
    let text = std::str::from_utf8(&body).map_err(|_| ApiError::BadRequest("body is not UTF-8".into()))?;
    Ok(Json(ferrocat_app::workflows::validation_report(&state, Workflow::parse(text).map_err(|e| e.to_string())).await?))
}

/// `POST /workflows/{id}/validate`: checks the draft as a commit would; 200 with `{valid, errors}`.
#[utoipa::path(
    post,
    path = "/workflows/{workflow_id}/validate",
    tag = "workflows",
    params(("workflow_id" = String, Path, description = "workflow id (wf_…)"), ("workspace_id" = Option<String>, Query, description = "the workspace (optional when the caller has one)")),
    responses((status = 200, description = "validation result", body = serde_json::Value), (status = "4XX", description = "the one error shape", body = crate::error::ErrorBody))
)]
async fn validate_draft(
    State(state): State<AppState>,
    access: WorkspaceAccess,
    Path(workflow_id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let row = load(&state, &access, &workflow_id).await?;
    Ok(Json(ferrocat_app::workflows::validation_report(&state, serde_json::from_value(row.draft).map_err(|e| e.to_string())).await?))
}

/// `POST /workflows/{id}/definitions/{version}/restore`: the draft becomes that version again
/// (commit it to run it); versions themselves never change.
#[utoipa::path(
    post,
    path = "/workflows/{workflow_id}/definitions/{version}/restore",
    tag = "workflows",
    params(("workflow_id" = String, Path, description = "workflow id (wf_…)"), ("version" = String, Path, description = "version number"), ("workspace_id" = Option<String>, Query, description = "the workspace (optional when the caller has one)")),
    responses((status = 200, description = "the draft, now that version", body = WorkflowRead), (status = "4XX", description = "the one error shape", body = crate::error::ErrorBody))
)]
async fn restore_definition(
    State(state): State<AppState>,
    access: WorkspaceAccess,
    Path((workflow_id, version)): Path<(String, String)>,
) -> Result<Json<WorkflowRead>, ApiError> {
    access.require(Role::Editor)?;
    let row = load(&state, &access, &workflow_id).await?;
    let restored = ferrocat_app::workflows::restore(&state, access.workspace_id, &row, &version).await?;
    Ok(read_model(&restored))
}

/// The editor's save: the draft becomes the document sent (YAML or JSON), kept as written so
/// its comments and layout come back; it must be a workflow, not yet a valid one (commit
/// checks that).
#[utoipa::path(
    put,
    path = "/workflows/{workflow_id}/draft",
    tag = "workflows",
    params(("workflow_id" = String, Path, description = "workflow id (wf_…)"), ("workspace_id" = Option<String>, Query, description = "the workspace (optional when the caller has one)")),
    request_body(content = String, content_type = "application/yaml", description = "the draft in YAML or JSON"),
    responses((status = 200, description = "the workflow with its new draft", body = WorkflowRead), (status = "4XX", description = "the one error shape", body = crate::error::ErrorBody))
)]
async fn put_draft(
    State(state): State<AppState>,
    access: WorkspaceAccess,
    Path(workflow_id): Path<String>,
    body: Bytes,
) -> Result<Json<WorkflowRead>, ApiError> {
    access.require(Role::Editor)?;
    let row = load(&state, &access, &workflow_id).await?;
    let text = std::str::from_utf8(&body).map_err(|_| ApiError::BadRequest("body is not UTF-8".into()))?;
    let dsl = Workflow::parse(text).map_err(|e| ApiError::Unprocessable {
        detail: "the draft is not a workflow document".into(),
        errors: vec![json!({"loc": "definition", "msg": e.to_string()})],
    })?;
    let row = ferrocat_app::workflows::replace_draft(&state, access.workspace_id, row.id, &dsl, ferrocat_app::workflows::authored_text(text)).await?;
    Ok(read_model(&row))
}

#[utoipa::path(
    post,
    path = "/workflows/{workflow_id}/commit",
    tag = "workflows",
    params(("workflow_id" = String, Path, description = "workflow id (wf_…)"), ("workspace_id" = Option<String>, Query, description = "the workspace (optional when the caller has one)")),
    responses((status = 200, description = "a new immutable version", body = serde_json::Value), (status = "4XX", description = "the one error shape", body = crate::error::ErrorBody))
)]
async fn commit_workflow(
    State(state): State<AppState>,
    access: WorkspaceAccess,
    Path(workflow_id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    access.require(Role::Editor)?;
    let row = load(&state, &access, &workflow_id).await?;
    let committed = ferrocat_app::workflows::commit(&state, access.workspace_id, &row).await?;
    let (version, schedules_updated, warnings) = (committed.version, committed.schedules_updated, committed.warnings);
    Ok(Json(json!({
        "workflow_id": ids::workflow_id(row.id),
        "status": "success",
        "message": "Workflow committed successfully.",
        "errors": null,
        "metadata": {"version": version, "schedules_updated": schedules_updated, "warnings": warnings},
    })))
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
struct DefinitionQuery {
    version: Option<i32>,
}

#[utoipa::path(
    get,
    path = "/workflows/{workflow_id}/definition",
    tag = "workflows",
    params(("workflow_id" = String, Path, description = "workflow id (wf_…)"), ("workspace_id" = Option<String>, Query, description = "the workspace (optional when the caller has one)"), DefinitionQuery),
    responses((status = 200, description = "a committed definition", body = serde_json::Value), (status = "4XX", description = "the one error shape", body = crate::error::ErrorBody))
)]
async fn get_definition(
    State(state): State<AppState>,
    access: WorkspaceAccess,
    Path(workflow_id): Path<String>,
    Query(query): Query<DefinitionQuery>,
) -> Result<Json<Value>, ApiError> {
    let row = load(&state, &access, &workflow_id).await?;
    let definition = workflows::definition(&state.db, access.workspace_id, row.id, query.version)
        .await?
        .ok_or_else(|| ApiError::NotFound("no committed definition".into()))?;
    Ok(Json(json!({
        "id": definition.id,
        "workflow_id": ids::workflow_id(definition.workflow_id),
        "version": definition.version,
        "created_at": definition.created_at,
        "content": definition.content,
    })))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
struct UpdateWorkflow {
    title: Option<String>,
    description: Option<String>,
    status: Option<String>,
    /// Absent keeps the alias; `null` clears it.
    #[serde(default, deserialize_with = "present")]
    alias: Option<Option<String>>,
    /// Replaces the tags: at most 20, each 1-50 letters, digits, spaces, '-', '_', ':' or '.'.
    tags: Option<Vec<String>>,
}

/// Tags as stored: trimmed, without repeats, each a short label.
fn clean_tags(tags: &[String]) -> Result<Vec<String>, ApiError> {
    let mut out: Vec<String> = Vec::new();
    for tag in tags {
        let tag = tag.trim();
        let ok = (1..=50).contains(&tag.chars().count())
            && tag.chars().all(|c| c.is_alphanumeric() || matches!(c, ' ' | '-' | '_' | ':' | '.'));
        if !ok {
            return Err(invalid("tags", "each tag is 1-50 letters, digits, spaces, '-', '_', ':' or '.'"));
        }
        if !out.iter().any(|t| t == tag) {
            out.push(tag.to_owned());
        }
    }
    if out.len() > 20 {
        return Err(invalid("tags", "at most 20 tags"));
    }
    Ok(out)
}

/// Tells an absent field (`None`) from an explicit `null` (`Some(None)`).
fn present<'de, D: serde::Deserializer<'de>>(deserializer: D) -> Result<Option<Option<String>>, D::Error> {
    Option::<String>::deserialize(deserializer).map(Some)
}

fn invalid(loc: &str, msg: &str) -> ApiError {
    ApiError::Unprocessable { detail: msg.to_owned(), errors: vec![json!({"loc": loc, "msg": msg})] }
}

#[utoipa::path(
    patch,
    path = "/workflows/{workflow_id}",
    tag = "workflows",
    params(("workflow_id" = String, Path, description = "workflow id (wf_…)"), ("workspace_id" = Option<String>, Query, description = "the workspace (optional when the caller has one)")),
    request_body = UpdateWorkflow,
    responses((status = 200, description = "updated", body = WorkflowRead), (status = "4XX", description = "the one error shape", body = crate::error::ErrorBody))
)]
async fn update_workflow(
    State(state): State<AppState>,
    access: WorkspaceAccess,
    Path(workflow_id): Path<String>,
    JsonBody(body): JsonBody<UpdateWorkflow>,
) -> Result<Json<WorkflowRead>, ApiError> {
    access.require(Role::Editor)?;
    let row = load(&state, &access, &workflow_id).await?;
    if body.title.as_deref().is_some_and(|t| t.trim().is_empty()) {
        return Err(invalid("title", "title must not be empty"));
    }
    if body.status.as_deref().is_some_and(|s| s != "online" && s != "offline") {
        return Err(invalid("status", "status must be online or offline"));
    }
    if let Some(Some(alias)) = &body.alias {
        let ok = !alias.is_empty() && alias.len() <= 100 && alias.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
        if !ok {
            return Err(invalid("alias", "alias must be 1-100 letters, digits, '-' or '_'"));
        }
    }
    let tags = body.tags.as_deref().map(clean_tags).transpose()?;
    let changes = WorkflowChanges {
        tags: tags.as_deref(),
        title: body.title.as_deref(),
        description: body.description.as_deref(),
        status: body.status.as_deref(),
        alias: body.alias.as_ref().map(Option::as_deref),
    };
    let row = workflows::update(&state.db, access.workspace_id, row.id, &changes)
        .await
        .on_constraint("workflows_alias_key", "another workflow of this workspace has this alias")?
        .ok_or_else(|| ApiError::NotFound(format!("workflow {workflow_id} not found")))?;
    Ok(read_model(&row))
}

#[utoipa::path(
    delete,
    path = "/workflows/{workflow_id}",
    tag = "workflows",
    params(("workflow_id" = String, Path, description = "workflow id (wf_…)"), ("workspace_id" = Option<String>, Query, description = "the workspace (optional when the caller has one)")),
    responses((status = 204, description = "deleted"), (status = "4XX", description = "the one error shape", body = crate::error::ErrorBody))
)]
async fn delete_workflow(
    State(state): State<AppState>,
    access: WorkspaceAccess,
    Path(workflow_id): Path<String>,
) -> Result<StatusCode, ApiError> {
    access.require(Role::Admin)?;
    let row = load(&state, &access, &workflow_id).await?;
    // Its schedules go first, so no Temporal schedule outlives the workflow it would start.
    for schedule in ferrocat_app::db::schedules::list(&state.db, access.workspace_id, Some(row.id)).await? {
        ferrocat_app::schedules::delete(&state, schedule.id).await?;
    }
    if !workflows::delete(&state.db, access.workspace_id, row.id).await? {
        return Err(ApiError::NotFound(format!("workflow {workflow_id} not found")));
    }
    tracing::info!(workflow_id = %row.id, "workflow deleted");
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(
    get,
    path = "/workflows/{workflow_id}/definitions",
    tag = "workflows",
    params(("workflow_id" = String, Path, description = "workflow id (wf_…)"), ("workspace_id" = Option<String>, Query, description = "the workspace (optional when the caller has one)")),
    responses((status = 200, description = "every committed version", body = serde_json::Value), (status = "4XX", description = "the one error shape", body = crate::error::ErrorBody))
)]
async fn list_definitions(
    State(state): State<AppState>,
    access: WorkspaceAccess,
    Path(workflow_id): Path<String>,
) -> Result<Json<Vec<Value>>, ApiError> {
    let row = load(&state, &access, &workflow_id).await?;
    let versions = ferrocat_app::workflows::versions(&state, access.workspace_id, &row).await?;
    Ok(Json(
        versions
            .into_iter()
            .map(|v| json!({"id": v.id, "workflow_id": ids::workflow_id(row.id), "version": v.version, "created_at": v.created_at}))
            .collect(),
    ))
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
struct ExportQuery {
    #[serde(default = "default_format")]
    format: String,
    version: Option<i32>,
    #[serde(default)]
    draft: bool,
    /// Accepted (the extractor reads it); not part of the export.
    #[serde(rename = "workspace_id")]
    _workspace_id: Option<String>,
}

fn default_format() -> String {
    "json".into()
}

/// Tracecat's export document: `{workflow_id, version, created_at, updated_at, definition}`;
/// `POST /workflows` imports it back.
#[utoipa::path(
    get,
    path = "/workflows/{workflow_id}/export",
    tag = "workflows",
    params(("workflow_id" = String, Path, description = "workflow id (wf_…)"), ("workspace_id" = Option<String>, Query, description = "the workspace (optional when the caller has one)"), ExportQuery),
    responses((status = 200, description = "the workflow in Tracecat's export format"), (status = "4XX", description = "the one error shape", body = crate::error::ErrorBody))
)]
async fn export_workflow(
    State(state): State<AppState>,
    access: WorkspaceAccess,
    Path(workflow_id): Path<String>,
    Query(query): Query<ExportQuery>,
) -> Result<Response, ApiError> {
    if query.format != "json" && query.format != "yaml" {
        return Err(ApiError::BadRequest("format must be json or yaml".into()));
    }
    let row = load(&state, &access, &workflow_id).await?;
    let (version, definition) = if query.draft {
        (row.version, row.draft.clone())
    } else {
        let found = workflows::definition(&state.db, access.workspace_id, row.id, query.version)
            .await?
            .ok_or_else(|| ApiError::NotFound("no committed definition".into()))?;
        (Some(found.version), found.content)
    };
    let document = json!({
        "workspace_id": ids::workspace_id(row.workspace_id),
        "workflow_id": ids::workflow_id(row.id),
        "created_at": row.created_at,
        "updated_at": row.updated_at,
        "version": version,
        "definition": definition,
    });
    let slug: String = row.title.chars().map(|c| if c.is_ascii_alphanumeric() { c.to_ascii_lowercase() } else { '_' }).collect();
    let (body, content_type) = if query.format == "yaml" {
        (serde_yaml::to_string(&document).map_err(|e| ApiError::Internal(e.into()))?, "application/yaml")
    } else {
        (serde_json::to_string_pretty(&document).map_err(|e| ApiError::Internal(e.into()))?, "application/json")
    };
    let disposition = format!("attachment; filename=\"{slug}_{}.{}\"", ids::workflow_id(row.id), query.format);
    Ok(([(header::CONTENT_TYPE, content_type.to_owned()), (header::CONTENT_DISPOSITION, disposition)], body).into_response())
}
