//! Workflows: import/create, list, get, commit (validated, new immutable version), and read a
//! committed definition.

use axum::body::Bytes;
use axum::extract::{FromRequest, Multipart, Path, Query, Request, State};
use axum::http::{StatusCode, header};
use axum::routing::{get, post};
use axum::{Json, Router};
use chrono::{DateTime, Utc};
use serde::Deserialize;
use serde_json::{Value, json};
use uuid::Uuid;

use ferrocat_shared::dsl::Workflow;
use ferrocat_shared::ids;

use crate::auth::{Role, WorkspaceAccess};
use crate::db::workflows::{self, WorkflowRow};
use crate::error::ApiError;
use crate::state::AppState;

pub(super) fn router() -> Router<AppState> {
    Router::new()
        .route("/workflows", post(create_workflow).get(list_workflows))
        .route("/workflows/{workflow_id}", get(get_workflow))
        .route("/workflows/{workflow_id}/commit", post(commit_workflow))
        .route("/workflows/{workflow_id}/definition", get(get_definition))
}

/// Parses a `{workflow_id}` path segment.
pub(crate) fn parse_workflow_path(text: &str) -> Result<Uuid, ApiError> {
    ids::parse_workflow_id(text).map_err(|e| ApiError::NotFound(e.to_string()))
}

/// Loads a workflow of the caller's workspace, or 404.
pub(crate) async fn load(state: &AppState, access: &WorkspaceAccess, workflow_id: &str) -> Result<WorkflowRow, ApiError> {
    let id = parse_workflow_path(workflow_id)?;
    workflows::get(&state.db, access.workspace_id, id)
        .await?
        .ok_or_else(|| ApiError::NotFound(format!("workflow {workflow_id} not found")))
}

fn read_model(row: &WorkflowRow) -> Value {
    json!({
        "id": ids::workflow_id(row.id),
        "workspace_id": ids::workspace_id(row.workspace_id),
        "title": row.title,
        "description": row.description,
        "status": row.status,
        "version": row.version,
        "alias": row.alias,
        "created_at": row.created_at,
        "updated_at": row.updated_at,
        "definition": row.draft,
    })
}

/// What a create request carried: a document to import, or just a title.
enum CreateBody {
    Import(String),
    Blank { title: String, description: String },
}

#[derive(Deserialize)]
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

async fn create_workflow(
    State(state): State<AppState>,
    access: WorkspaceAccess,
    request: Request,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    access.require(Role::Editor)?;
    let (title, description, draft) = match read_create_body(request, &state).await? {
        CreateBody::Import(text) => {
            let dsl = Workflow::parse(&text).map_err(|e| ApiError::Unprocessable {
                detail: format!("could not import the workflow: {e}"),
                errors: vec![json!({"loc": "definition", "msg": e.to_string()})],
            })?;
            let draft = serde_json::to_value(&dsl).map_err(|e| ApiError::Internal(e.into()))?;
            (dsl.title.clone(), dsl.description.clone(), draft)
        }
        CreateBody::Blank { title, description } => {
            if title.trim().is_empty() {
                return Err(ApiError::BadRequest("title must not be empty".into()));
            }
            let draft = json!({"title": title, "description": description, "entrypoint": {}, "actions": []});
            (title, description, draft)
        }
    };
    let row = workflows::insert(&state.db, access.workspace_id, &title, &description, &draft).await?;
    Ok((StatusCode::CREATED, Json(read_model(&row))))
}

#[derive(Deserialize)]
struct ListQuery {
    #[serde(default = "default_limit")]
    limit: i64,
    cursor: Option<DateTime<Utc>>,
}

fn default_limit() -> i64 {
    20
}

async fn list_workflows(
    State(state): State<AppState>,
    access: WorkspaceAccess,
    Query(query): Query<ListQuery>,
) -> Result<Json<Value>, ApiError> {
    if !(1..=200).contains(&query.limit) {
        return Err(ApiError::BadRequest("limit must be between 1 and 200".into()));
    }
    let rows = workflows::list(&state.db, access.workspace_id, query.cursor, query.limit + 1).await?;
    let has_more = rows.len() as i64 > query.limit;
    let items: Vec<&WorkflowRow> = rows.iter().take(query.limit as usize).collect();
    let next_cursor = if has_more { items.last().map(|r| r.created_at) } else { None };
    Ok(Json(json!({
        "items": items.iter().map(|r| read_model(r)).collect::<Vec<_>>(),
        "next_cursor": next_cursor,
        "has_more": has_more,
    })))
}

async fn get_workflow(
    State(state): State<AppState>,
    access: WorkspaceAccess,
    Path(workflow_id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let row = load(&state, &access, &workflow_id).await?;
    Ok(Json(read_model(&row)))
}

async fn commit_workflow(
    State(state): State<AppState>,
    access: WorkspaceAccess,
    Path(workflow_id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    access.require(Role::Editor)?;
    let row = load(&state, &access, &workflow_id).await?;
    let dsl: Workflow = serde_json::from_value(row.draft.clone()).map_err(|e| ApiError::Unprocessable {
        detail: "the draft is not a valid workflow".into(),
        errors: vec![json!({"loc": "definition", "msg": e.to_string()})],
    })?;
    if let Err(issues) = dsl.validate() {
        return Err(ApiError::Unprocessable {
            detail: format!("workflow validation failed with {} error(s)", issues.len()),
            errors: issues.iter().map(|i| json!({"loc": i.loc, "msg": i.msg})).collect(),
        });
    }
    let content = serde_json::to_value(&dsl).map_err(|e| ApiError::Internal(e.into()))?;
    let mut tx = state.db.begin().await?;
    let version = workflows::commit(&mut tx, access.workspace_id, row.id, &content, &dsl.title, &dsl.description).await?;
    tx.commit().await?;
    Ok(Json(json!({
        "workflow_id": ids::workflow_id(row.id),
        "status": "success",
        "message": "Workflow committed successfully.",
        "errors": null,
        "metadata": {"version": version},
    })))
}

#[derive(Deserialize)]
struct DefinitionQuery {
    version: Option<i32>,
}

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
