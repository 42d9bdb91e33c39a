//! Cases, with Tracecat's paths and shapes: `/cases` (list, create), `/cases/search` (filters
//! on every field, a sort, cursor pages), `/cases/search/aggregate`, batch update and delete,
//! one case (`GET/PATCH/DELETE /cases/{case_id}`, by id or `CASE-0042`), and its activity,
//! comments, tasks and tags. The use cases are `ferrocat_app::cases`; this module reads
//! requests and renders answers.

use axum::extract::{RawQuery, State};
use axum::http::StatusCode;
use axum::routing::{delete, get, patch, post};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::{Map, Value, json};
use uuid::Uuid;

use ferrocat_app::cases::search::{CaseFilter, MAX_LIMIT, PageRequest};
use ferrocat_app::cases::{self, Actor, CaseChanges, CasePriority, CaseSeverity, CaseStatus, NewCase, TaskStatus, attachments, comments, rows, tags, tasks};

use super::validate::invalid;
use super::{JsonBody, Path};
use crate::auth::{Principal, Role, WorkspaceAccess};
use crate::error::ApiError;
use crate::state::AppState;

/// The routes; uploads may carry up to `max_file_bytes` (and the form around them).
pub(super) fn router(max_file_bytes: u64) -> Router<AppState> {
    let upload_limit = usize::try_from(max_file_bytes).unwrap_or(usize::MAX).saturating_add(64 * 1024);
    Router::new()
        .route("/cases", get(list_cases).post(create_case))
        .route("/cases/search", get(search_cases))
        .route("/cases/search/aggregate", get(aggregate_cases))
        .route("/cases/batch-update", post(batch_update_cases))
        .route("/cases/batch-delete", post(batch_delete_cases))
        .route("/cases/{case_id}", get(get_case).patch(update_case).delete(delete_case))
        .route("/cases/{case_id}/events", get(list_case_events))
        .route("/cases/{case_id}/comments", get(list_case_comments).post(create_case_comment))
        .route("/cases/{case_id}/comments/threads", get(list_case_comment_threads))
        .route("/cases/{case_id}/comments/{comment_id}", patch(update_case_comment).delete(delete_case_comment))
        .route("/cases/{case_id}/tasks", get(list_case_tasks).post(create_case_task))
        .route("/cases/{case_id}/tasks/{task_id}", patch(update_case_task).delete(delete_case_task))
        .route("/cases/{case_id}/tags", get(list_tags_of_case).post(add_tag_to_case))
        .route("/cases/{case_id}/tags/{tag_identifier}", delete(remove_tag_from_case))
        .route("/cases/{case_id}/rows", get(list_case_rows).post(link_case_row))
        .route("/cases/{case_id}/rows/insert", post(insert_case_row))
        .route("/cases/{case_id}/rows/{table_id}/{row_id}", delete(unlink_case_row))
        .route(
            "/cases/{case_id}/attachments",
            get(list_case_attachments).post(upload_case_attachment).layer(axum::extract::DefaultBodyLimit::max(upload_limit)),
        )
        .route("/cases/{case_id}/attachments/{attachment_id}", get(get_case_attachment).delete(delete_case_attachment))
}

/// Who acts, as the activity log records it.
pub(super) fn actor(access: &WorkspaceAccess) -> Actor {
    match &access.principal {
        Principal::User(user) => Actor::User(user.id),
        Principal::ServiceAccount(account) => Actor::Service(account.id),
    }
}

/// A user id from JSON: absent keeps, null clears, a UUID sets.
fn assignee(value: Option<Value>) -> Result<Option<Option<Uuid>>, ApiError> {
    match value {
        None => Ok(None),
        Some(Value::Null) => Ok(Some(None)),
        Some(Value::String(text)) => Uuid::try_parse(&text).map(|id| Some(Some(id))).map_err(|_| invalid("assignee_id", "assignee_id is a user id")),
        Some(_) => Err(invalid("assignee_id", "assignee_id is a user id")),
    }
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
struct CreateCase {
    summary: String,
    #[serde(default)]
    description: String,
    status: Option<CaseStatus>,
    priority: Option<CasePriority>,
    severity: Option<CaseSeverity>,
    fields: Option<Map<String, Value>>,
    #[schema(value_type = Option<String>)]
    assignee_id: Option<Value>,
    payload: Option<Value>,
    /// Tag ids or refs.
    tags: Option<Vec<String>>,
    #[serde(default)]
    create_missing_tags: bool,
}

#[derive(Deserialize, utoipa::ToSchema, Default)]
#[serde(deny_unknown_fields)]
struct UpdateCase {
    summary: Option<String>,
    description: Option<String>,
    /// Add the description after the existing one instead of replacing it.
    #[serde(default)]
    append_description: bool,
    status: Option<CaseStatus>,
    priority: Option<CasePriority>,
    severity: Option<CaseSeverity>,
    fields: Option<Map<String, Value>>,
    /// A user id, or null to unassign.
    #[schema(value_type = Option<String>)]
    assignee_id: Option<Value>,
    payload: Option<Value>,
    /// Tag ids or refs; replaces every tag.
    tags: Option<Vec<String>>,
    #[serde(default)]
    create_missing_tags: bool,
}

impl UpdateCase {
    fn changes(&self) -> Result<CaseChanges, ApiError> {
        Ok(CaseChanges {
            summary: self.summary.clone(),
            description: self.description.clone(),
            append_description: self.append_description,
            status: self.status,
            priority: self.priority,
            severity: self.severity,
            payload: self.payload.clone(),
            fields: self.fields.clone(),
            assignee_id: assignee(self.assignee_id.clone())?,
            tags: self.tags.clone(),
            create_missing_tags: self.create_missing_tags,
        })
    }
}

/// The query of the list and search routes: repeated keys (`status=new&status=closed`, or
/// `status[]=…`) give lists; anything unknown is refused by name.
struct SearchQuery {
    filter: CaseFilter,
    page: PageRequest,
    include_payload: bool,
}

fn parse_search(raw: Option<&str>, filters_allowed: bool) -> Result<SearchQuery, ApiError> {
    let mut filter = CaseFilter::default();
    let defaults = PageRequest::default();
    let (mut limit, mut cursor, mut reverse) = (defaults.limit, None, false);
    let mut include_payload = false;
    let mut order_by = None;
    let mut sort = None;
    let time = |key: &str, value: &str| {
        chrono::DateTime::parse_from_rfc3339(value).map(|t| t.with_timezone(&chrono::Utc)).map_err(|_| invalid(key, "a timestamp in RFC 3339 (2026-12-06T10:00:00Z)"))
    };
    let boolean = |key: &str, value: &str| value.parse::<bool>().map_err(|_| invalid(key, "true or false"));
    for (key, value) in url::form_urlencoded::parse(raw.unwrap_or_default().as_bytes()) {
        let key = key.strip_suffix("[]").unwrap_or(&key).to_owned();
        let value = value.into_owned();
        let filter_key = matches!(
            key.as_str(),
            "search_term" | "short_id" | "status" | "priority" | "severity" | "tags" | "assignee_id" | "start_time" | "end_time" | "updated_after" | "updated_before" | "field"
        );
        if filter_key && !filters_allowed {
            return Err(invalid(&key, "filters belong to /cases/search"));
        }
        match key.as_str() {
            "workspace_id" => {}
            "limit" => {
                limit = value.parse().ok().filter(|n| (1..=MAX_LIMIT).contains(n)).ok_or_else(|| invalid("limit", format!("limit is 1-{MAX_LIMIT}")))?;
            }
            "cursor" => cursor = Some(value).filter(|c| !c.is_empty()),
            "reverse" => reverse = boolean("reverse", &value)?,
            "order_by" => order_by = Some(value),
            "sort" => sort = Some(value),
            "include_payload" => include_payload = boolean("include_payload", &value)?,
            "search_term" => filter.search_term = Some(value),
            "short_id" => filter.short_id = Some(value),
            "status" => filter.status.push(CaseStatus::parse(&value).ok_or_else(|| invalid("status", "not a case status"))?),
            "priority" => filter.priority.push(CasePriority::parse(&value).ok_or_else(|| invalid("priority", "not a case priority"))?),
            "severity" => filter.severity.push(CaseSeverity::parse(&value).ok_or_else(|| invalid("severity", "not a case severity"))?),
            "tags" => filter.tags.push(value),
            "assignee_id" => filter.assignee.push(value),
            "field" => filter.fields.push(value),
            "start_time" => filter.start_time = Some(time("start_time", &value)?),
            "end_time" => filter.end_time = Some(time("end_time", &value)?),
            "updated_after" => filter.updated_after = Some(time("updated_after", &value)?),
            "updated_before" => filter.updated_before = Some(time("updated_before", &value)?),
            other => return Err(invalid(other, format!("unknown query parameter {other:?}"))),
        }
    }
    let page = PageRequest::parse(limit, cursor, reverse, order_by.as_deref(), sort.as_deref())?;
    Ok(SearchQuery { filter, page, include_payload })
}

async fn page_of(state: &AppState, access: &WorkspaceAccess, raw: Option<&str>, filters: bool) -> Result<Value, ApiError> {
    let query = parse_search(raw, filters)?;
    let page = cases::search::search(&state.db, access.workspace_id, &query.filter, &query.page).await?;
    Ok(page.read(&state.db, query.include_payload).await?)
}

#[utoipa::path(
    get,
    path = "/cases",
    tag = "cases",
    params(
        ("workspace_id" = Option<String>, Query, description = "the workspace (optional when the caller has one)"),
        ("limit" = Option<i64>, Query, description = "page size, 1-200 (20)"),
        ("cursor" = Option<String>, Query, description = "a next_cursor or prev_cursor"),
        ("reverse" = Option<bool>, Query, description = "read the page before the cursor"),
        ("order_by" = Option<String>, Query, description = "created_at, updated_at, priority, severity, status or tasks"),
        ("sort" = Option<String>, Query, description = "asc or desc (desc)"),
        ("include_payload" = Option<bool>, Query, description = "include each case's payload"),
    ),
    responses((status = 200, description = "a page of cases", body = serde_json::Value), (status = "4XX", description = "the one error shape", body = crate::error::ErrorBody))
)]
async fn list_cases(State(state): State<AppState>, access: WorkspaceAccess, RawQuery(raw): RawQuery) -> Result<Json<Value>, ApiError> {
    Ok(Json(page_of(&state, &access, raw.as_deref(), false).await?))
}

#[utoipa::path(
    get,
    path = "/cases/search",
    tag = "cases",
    params(
        ("workspace_id" = Option<String>, Query, description = "the workspace (optional when the caller has one)"),
        ("search_term" = Option<String>, Query, description = "text in the summary or description, or a short id"),
        ("short_id" = Option<String>, Query, description = "42 or CASE-0042"),
        ("status" = Option<Vec<String>>, Query, description = "statuses (repeat the key)"),
        ("priority" = Option<Vec<String>>, Query, description = "priorities"),
        ("severity" = Option<Vec<String>>, Query, description = "severities"),
        ("tags" = Option<Vec<String>>, Query, description = "tag ids or refs; a case must carry all"),
        ("assignee_id" = Option<Vec<String>>, Query, description = "user ids, or unassigned"),
        ("field" = Option<Vec<String>>, Query, description = "custom field filters, name:value"),
        ("start_time" = Option<String>, Query, description = "created at or after"),
        ("end_time" = Option<String>, Query, description = "created at or before"),
        ("updated_after" = Option<String>, Query, description = "updated at or after"),
        ("updated_before" = Option<String>, Query, description = "updated at or before"),
        ("limit" = Option<i64>, Query, description = "page size, 1-200 (20)"),
        ("cursor" = Option<String>, Query, description = "a next_cursor or prev_cursor"),
        ("reverse" = Option<bool>, Query, description = "read the page before the cursor"),
        ("order_by" = Option<String>, Query, description = "created_at, updated_at, priority, severity, status or tasks"),
        ("sort" = Option<String>, Query, description = "asc or desc (desc)"),
        ("include_payload" = Option<bool>, Query, description = "include each case's payload"),
    ),
    responses((status = 200, description = "a page of cases", body = serde_json::Value), (status = "4XX", description = "the one error shape", body = crate::error::ErrorBody))
)]
async fn search_cases(State(state): State<AppState>, access: WorkspaceAccess, RawQuery(raw): RawQuery) -> Result<Json<Value>, ApiError> {
    Ok(Json(page_of(&state, &access, raw.as_deref(), true).await?))
}

#[utoipa::path(
    get,
    path = "/cases/search/aggregate",
    tag = "cases",
    params(("workspace_id" = Option<String>, Query, description = "the workspace; the filters of /cases/search apply")),
    responses((status = 200, description = "{total, status_groups}", body = serde_json::Value), (status = "4XX", description = "the one error shape", body = crate::error::ErrorBody))
)]
async fn aggregate_cases(State(state): State<AppState>, access: WorkspaceAccess, RawQuery(raw): RawQuery) -> Result<Json<Value>, ApiError> {
    let query = parse_search(raw.as_deref(), true)?;
    Ok(Json(cases::search::aggregate(&state.db, access.workspace_id, &query.filter).await?))
}

#[utoipa::path(
    post,
    path = "/cases",
    tag = "cases",
    params(("workspace_id" = Option<String>, Query, description = "the workspace (optional when the caller has one)")),
    request_body = CreateCase,
    responses((status = 201, description = "the case", body = serde_json::Value), (status = "4XX", description = "the one error shape", body = crate::error::ErrorBody))
)]
async fn create_case(State(state): State<AppState>, access: WorkspaceAccess, JsonBody(body): JsonBody<CreateCase>) -> Result<(StatusCode, Json<Value>), ApiError> {
    access.require(Role::Editor)?;
    let input = NewCase {
        summary: body.summary,
        description: body.description,
        status: body.status,
        priority: body.priority,
        severity: body.severity,
        payload: body.payload,
        fields: body.fields,
        assignee_id: assignee(body.assignee_id)?.flatten(),
        tags: body.tags.unwrap_or_default(),
        create_missing_tags: body.create_missing_tags,
    };
    let row = cases::create(&state.db, access.workspace_id, &actor(&access), input).await?;
    Ok((StatusCode::CREATED, Json(cases::read(&state.db, &row).await?)))
}

#[utoipa::path(
    get,
    path = "/cases/{case_id}",
    tag = "cases",
    params(("case_id" = String, Path, description = "case id or short id (CASE-0042)"), ("workspace_id" = Option<String>, Query, description = "the workspace (optional when the caller has one)")),
    responses((status = 200, description = "the case", body = serde_json::Value), (status = "4XX", description = "the one error shape", body = crate::error::ErrorBody))
)]
async fn get_case(State(state): State<AppState>, access: WorkspaceAccess, Path(case_id): Path<String>) -> Result<Json<Value>, ApiError> {
    let row = cases::resolve(&state.db, access.workspace_id, &case_id).await?;
    if let Principal::User(_) = &access.principal {
        cases::viewed(&state.db, &row, &actor(&access)).await?;
    }
    Ok(Json(cases::read(&state.db, &row).await?))
}

#[utoipa::path(
    patch,
    path = "/cases/{case_id}",
    tag = "cases",
    params(("case_id" = String, Path, description = "case id or short id"), ("workspace_id" = Option<String>, Query, description = "the workspace (optional when the caller has one)")),
    request_body = UpdateCase,
    responses((status = 204, description = "updated"), (status = "4XX", description = "the one error shape; 422 when closing with required fields empty", body = crate::error::ErrorBody))
)]
async fn update_case(State(state): State<AppState>, access: WorkspaceAccess, Path(case_id): Path<String>, JsonBody(body): JsonBody<UpdateCase>) -> Result<StatusCode, ApiError> {
    access.require(Role::Editor)?;
    let row = cases::resolve(&state.db, access.workspace_id, &case_id).await?;
    cases::update(&state.db, access.workspace_id, row.id, &actor(&access), body.changes()?).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(
    delete,
    path = "/cases/{case_id}",
    tag = "cases",
    params(("case_id" = String, Path, description = "case id or short id"), ("workspace_id" = Option<String>, Query, description = "the workspace (optional when the caller has one)")),
    responses((status = 204, description = "deleted"), (status = "4XX", description = "the one error shape", body = crate::error::ErrorBody))
)]
async fn delete_case(State(state): State<AppState>, access: WorkspaceAccess, Path(case_id): Path<String>) -> Result<StatusCode, ApiError> {
    access.require(Role::Editor)?;
    let row = cases::resolve(&state.db, access.workspace_id, &case_id).await?;
    cases::delete(&state.db, state.attachments.as_ref(), access.workspace_id, row.id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Most cases one batch names.
const MAX_BATCH: usize = 1000;

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
struct BatchUpdate {
    case_ids: Vec<String>,
    update: UpdateCase,
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
struct BatchDelete {
    case_ids: Vec<String>,
}

fn check_batch(ids: &[String]) -> Result<(), ApiError> {
    if ids.is_empty() || ids.len() > MAX_BATCH {
        return Err(invalid("case_ids", format!("a batch names 1-{MAX_BATCH} cases")));
    }
    Ok(())
}

fn batch_report(results: Vec<Value>) -> Value {
    let succeeded = results.iter().filter(|r| r["success"] == json!(true)).count();
    json!({"results": results, "succeeded": succeeded, "failed": results.len() - succeeded})
}

#[utoipa::path(
    post,
    path = "/cases/batch-update",
    tag = "cases",
    params(("workspace_id" = Option<String>, Query, description = "the workspace (optional when the caller has one)")),
    request_body = BatchUpdate,
    responses((status = 200, description = "{results, succeeded, failed}", body = serde_json::Value), (status = "4XX", description = "the one error shape", body = crate::error::ErrorBody))
)]
async fn batch_update_cases(State(state): State<AppState>, access: WorkspaceAccess, JsonBody(body): JsonBody<BatchUpdate>) -> Result<Json<Value>, ApiError> {
    access.require(Role::Editor)?;
    check_batch(&body.case_ids)?;
    let who = actor(&access);
    let changes = body.update.changes()?;
    let rows = resolve_all(&state, &access, &body.case_ids).await?;
    let mut results = Vec::with_capacity(rows.len());
    for (case_id, row) in body.case_ids.iter().zip(rows) {
        let outcome = cases::update(&state.db, access.workspace_id, row.id, &who, changes.clone()).await;
        results.push(json!({"case_id": case_id, "success": outcome.is_ok(), "error": outcome.err().map(|e| public_error(&e))}));
    }
    Ok(Json(batch_report(results)))
}

#[utoipa::path(
    post,
    path = "/cases/batch-delete",
    tag = "cases",
    params(("workspace_id" = Option<String>, Query, description = "the workspace (optional when the caller has one)")),
    request_body = BatchDelete,
    responses((status = 200, description = "{results, succeeded, failed}", body = serde_json::Value), (status = "4XX", description = "the one error shape", body = crate::error::ErrorBody))
)]
async fn batch_delete_cases(State(state): State<AppState>, access: WorkspaceAccess, JsonBody(body): JsonBody<BatchDelete>) -> Result<Json<Value>, ApiError> {
    access.require(Role::Editor)?;
    check_batch(&body.case_ids)?;
    let rows = resolve_all(&state, &access, &body.case_ids).await?;
    let mut results = Vec::with_capacity(rows.len());
    for (case_id, row) in body.case_ids.iter().zip(rows) {
        let outcome = cases::delete(&state.db, state.attachments.as_ref(), access.workspace_id, row.id).await;
        results.push(json!({"case_id": case_id, "success": outcome.is_ok(), "error": outcome.err().map(|e| public_error(&e))}));
    }
    Ok(Json(batch_report(results)))
}

/// Every case a batch names, or 404 naming those not in the workspace (and nothing changes).
async fn resolve_all(state: &AppState, access: &WorkspaceAccess, ids: &[String]) -> Result<Vec<cases::CaseRow>, ApiError> {
    let mut rows = Vec::with_capacity(ids.len());
    let mut missing = Vec::new();
    for id in ids {
        match cases::resolve(&state.db, access.workspace_id, id).await {
            Ok(row) => rows.push(row),
            Err(ferrocat_app::AppError::NotFound(_)) => missing.push(id.as_str()),
            Err(other) => return Err(other.into()),
        }
    }
    if !missing.is_empty() {
        return Err(ApiError::NotFound(format!("no such cases in this workspace: {}", missing.join(", "))));
    }
    Ok(rows)
}

/// What a batch reports of one failure: the caller's message, never internals.
fn public_error(error: &ferrocat_app::AppError) -> String {
    match error {
        ferrocat_app::AppError::Internal(e) => {
            tracing::error!(error = %e, "a batch item failed");
            "internal error".into()
        }
        other => other.to_string(),
    }
}

#[utoipa::path(
    get,
    path = "/cases/{case_id}/events",
    tag = "cases",
    params(("case_id" = String, Path, description = "case id or short id"), ("workspace_id" = Option<String>, Query, description = "the workspace (optional when the caller has one)")),
    responses((status = 200, description = "{events, users}", body = serde_json::Value), (status = "4XX", description = "the one error shape", body = crate::error::ErrorBody))
)]
async fn list_case_events(State(state): State<AppState>, access: WorkspaceAccess, Path(case_id): Path<String>) -> Result<Json<Value>, ApiError> {
    let row = cases::resolve(&state.db, access.workspace_id, &case_id).await?;
    Ok(Json(cases::activity(&state.db, &row).await?))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
struct CreateComment {
    content: String,
    parent_id: Option<Uuid>,
    /// A workflow (`wf_…`) to run for this comment, with the comment in its TRIGGER.
    workflow_id: Option<String>,
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
struct UpdateComment {
    content: String,
}

fn comment_id(text: &str) -> Result<Uuid, ApiError> {
    Uuid::try_parse(text).map_err(|_| ApiError::NotFound(format!("comment {text:?} not found")))
}

#[utoipa::path(
    get,
    path = "/cases/{case_id}/comments",
    tag = "cases",
    params(("case_id" = String, Path, description = "case id or short id"), ("workspace_id" = Option<String>, Query, description = "the workspace (optional when the caller has one)")),
    responses((status = 200, description = "the comments, oldest first", body = serde_json::Value), (status = "4XX", description = "the one error shape", body = crate::error::ErrorBody))
)]
async fn list_case_comments(State(state): State<AppState>, access: WorkspaceAccess, Path(case_id): Path<String>) -> Result<Json<Value>, ApiError> {
    let row = cases::resolve(&state.db, access.workspace_id, &case_id).await?;
    let rows = comments::list(&state.db, &row).await?;
    Ok(Json(json!(rows.iter().map(comments::CommentRow::read_model).collect::<Vec<_>>())))
}

#[utoipa::path(
    get,
    path = "/cases/{case_id}/comments/threads",
    tag = "cases",
    params(("case_id" = String, Path, description = "case id or short id"), ("workspace_id" = Option<String>, Query, description = "the workspace (optional when the caller has one)")),
    responses((status = 200, description = "[{comment, replies, reply_count, last_activity_at}]", body = serde_json::Value), (status = "4XX", description = "the one error shape", body = crate::error::ErrorBody))
)]
async fn list_case_comment_threads(State(state): State<AppState>, access: WorkspaceAccess, Path(case_id): Path<String>) -> Result<Json<Value>, ApiError> {
    let row = cases::resolve(&state.db, access.workspace_id, &case_id).await?;
    Ok(Json(json!(comments::threads(&comments::list(&state.db, &row).await?))))
}

#[utoipa::path(
    post,
    path = "/cases/{case_id}/comments",
    tag = "cases",
    params(("case_id" = String, Path, description = "case id or short id"), ("workspace_id" = Option<String>, Query, description = "the workspace (optional when the caller has one)")),
    request_body = CreateComment,
    responses((status = 201, description = "the comment", body = serde_json::Value), (status = "4XX", description = "the one error shape", body = crate::error::ErrorBody))
)]
async fn create_case_comment(
    State(state): State<AppState>,
    access: WorkspaceAccess,
    Path(case_id): Path<String>,
    JsonBody(body): JsonBody<CreateComment>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    access.require(Role::Editor)?;
    let row = cases::resolve(&state.db, access.workspace_id, &case_id).await?;
    // The workflow is checked before the comment is kept: a bad id changes nothing.
    let workflow = match &body.workflow_id {
        Some(id) => {
            let workflow = ferrocat_app::workflows::load(&state, access.workspace_id, id).await.map_err(|_| invalid("workflow_id", "no such workflow in this workspace"))?;
            ferrocat_app::runs::latest_committed(&state, access.workspace_id, workflow.id)
                .await
                .map_err(|_| invalid("workflow_id", "the workflow has no committed version to run"))?;
            Some(workflow)
        }
        None => None,
    };
    let who = actor(&access);
    let comment = comments::create(&state.db, &row, &who, &body.content, body.parent_id).await?;
    let mut answer = comment.read_model();
    if let Some(workflow) = workflow {
        let exec_id = comments::run_workflow(&state, &row, &comment, &workflow, &who).await?;
        answer["workflow_run"] = json!({"workflow_id": body.workflow_id, "wf_exec_id": exec_id});
    }
    Ok((StatusCode::CREATED, Json(answer)))
}

#[utoipa::path(
    patch,
    path = "/cases/{case_id}/comments/{comment_id}",
    tag = "cases",
    params(("case_id" = String, Path, description = "case id or short id"), ("comment_id" = String, Path, description = "comment id"), ("workspace_id" = Option<String>, Query, description = "the workspace (optional when the caller has one)")),
    request_body = UpdateComment,
    responses((status = 200, description = "the comment", body = serde_json::Value), (status = "4XX", description = "the one error shape", body = crate::error::ErrorBody))
)]
async fn update_case_comment(
    State(state): State<AppState>,
    access: WorkspaceAccess,
    Path((case_id, comment)): Path<(String, String)>,
    JsonBody(body): JsonBody<UpdateComment>,
) -> Result<Json<Value>, ApiError> {
    access.require(Role::Editor)?;
    let row = cases::resolve(&state.db, access.workspace_id, &case_id).await?;
    let moderator = access.require(Role::Admin).is_ok();
    let updated = comments::update(&state.db, &row, &actor(&access), comment_id(&comment)?, &body.content, moderator).await?;
    Ok(Json(updated.read_model()))
}

#[utoipa::path(
    delete,
    path = "/cases/{case_id}/comments/{comment_id}",
    tag = "cases",
    params(("case_id" = String, Path, description = "case id or short id"), ("comment_id" = String, Path, description = "comment id"), ("workspace_id" = Option<String>, Query, description = "the workspace (optional when the caller has one)")),
    responses((status = 204, description = "deleted"), (status = "4XX", description = "the one error shape", body = crate::error::ErrorBody))
)]
async fn delete_case_comment(State(state): State<AppState>, access: WorkspaceAccess, Path((case_id, comment)): Path<(String, String)>) -> Result<StatusCode, ApiError> {
    access.require(Role::Editor)?;
    let row = cases::resolve(&state.db, access.workspace_id, &case_id).await?;
    let moderator = access.require(Role::Admin).is_ok();
    comments::delete(&state.db, &row, &actor(&access), comment_id(&comment)?, moderator).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
struct TaskBody {
    title: Option<String>,
    description: Option<String>,
    priority: Option<CasePriority>,
    status: Option<TaskStatus>,
    /// A user id, or null to clear.
    #[schema(value_type = Option<String>)]
    assignee_id: Option<Value>,
    /// A workflow id (`wf_…`), or null to clear.
    #[schema(value_type = Option<String>)]
    workflow_id: Option<Value>,
    default_trigger_values: Option<Map<String, Value>>,
}

impl TaskBody {
    fn input(self) -> Result<tasks::TaskInput, ApiError> {
        let workflow_id = match self.workflow_id {
            None => None,
            Some(Value::Null) => Some(None),
            Some(Value::String(text)) => Some(Some(
                ferrocat_shared::ids::parse_workflow_id(&text).map_err(|_| invalid("workflow_id", "workflow_id is a workflow id (wf_…)"))?,
            )),
            Some(_) => return Err(invalid("workflow_id", "workflow_id is a workflow id (wf_…)")),
        };
        Ok(tasks::TaskInput {
            title: self.title,
            description: self.description,
            priority: self.priority,
            status: self.status,
            assignee_id: assignee(self.assignee_id)?,
            workflow_id,
            default_trigger_values: self.default_trigger_values,
        })
    }
}

async fn task_of(state: &AppState, access: &WorkspaceAccess, case_id: &str, task_id: &str) -> Result<(cases::CaseRow, tasks::TaskRow), ApiError> {
    let row = cases::resolve(&state.db, access.workspace_id, case_id).await?;
    let id = Uuid::try_parse(task_id).map_err(|_| ApiError::NotFound(format!("task {task_id:?} not found")))?;
    let (owner, task) = tasks::find(&state.db, access.workspace_id, id).await?;
    if owner.id != row.id {
        return Err(ApiError::NotFound(format!("task {task_id:?} not found")));
    }
    Ok((row, task))
}

#[utoipa::path(
    get,
    path = "/cases/{case_id}/tasks",
    tag = "cases",
    params(("case_id" = String, Path, description = "case id or short id"), ("workspace_id" = Option<String>, Query, description = "the workspace (optional when the caller has one)")),
    responses((status = 200, description = "the tasks", body = serde_json::Value), (status = "4XX", description = "the one error shape", body = crate::error::ErrorBody))
)]
async fn list_case_tasks(State(state): State<AppState>, access: WorkspaceAccess, Path(case_id): Path<String>) -> Result<Json<Value>, ApiError> {
    let row = cases::resolve(&state.db, access.workspace_id, &case_id).await?;
    Ok(Json(json!(tasks::list(&state.db, &row).await?.iter().map(tasks::TaskRow::read_model).collect::<Vec<_>>())))
}

#[utoipa::path(
    post,
    path = "/cases/{case_id}/tasks",
    tag = "cases",
    params(("case_id" = String, Path, description = "case id or short id"), ("workspace_id" = Option<String>, Query, description = "the workspace (optional when the caller has one)")),
    request_body = TaskBody,
    responses((status = 201, description = "the task", body = serde_json::Value), (status = "4XX", description = "the one error shape", body = crate::error::ErrorBody))
)]
async fn create_case_task(
    State(state): State<AppState>,
    access: WorkspaceAccess,
    Path(case_id): Path<String>,
    JsonBody(body): JsonBody<TaskBody>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    access.require(Role::Editor)?;
    let row = cases::resolve(&state.db, access.workspace_id, &case_id).await?;
    let task = tasks::create(&state.db, &row, &actor(&access), body.input()?).await?;
    Ok((StatusCode::CREATED, Json(task.read_model())))
}

#[utoipa::path(
    patch,
    path = "/cases/{case_id}/tasks/{task_id}",
    tag = "cases",
    params(("case_id" = String, Path, description = "case id or short id"), ("task_id" = String, Path, description = "task id"), ("workspace_id" = Option<String>, Query, description = "the workspace (optional when the caller has one)")),
    request_body = TaskBody,
    responses((status = 200, description = "the task", body = serde_json::Value), (status = "4XX", description = "the one error shape", body = crate::error::ErrorBody))
)]
async fn update_case_task(
    State(state): State<AppState>,
    access: WorkspaceAccess,
    Path((case_id, task_id)): Path<(String, String)>,
    JsonBody(body): JsonBody<TaskBody>,
) -> Result<Json<Value>, ApiError> {
    access.require(Role::Editor)?;
    let (row, task) = task_of(&state, &access, &case_id, &task_id).await?;
    Ok(Json(tasks::update(&state.db, &row, &actor(&access), &task, body.input()?).await?.read_model()))
}

#[utoipa::path(
    delete,
    path = "/cases/{case_id}/tasks/{task_id}",
    tag = "cases",
    params(("case_id" = String, Path, description = "case id or short id"), ("task_id" = String, Path, description = "task id"), ("workspace_id" = Option<String>, Query, description = "the workspace (optional when the caller has one)")),
    responses((status = 204, description = "deleted"), (status = "4XX", description = "the one error shape", body = crate::error::ErrorBody))
)]
async fn delete_case_task(State(state): State<AppState>, access: WorkspaceAccess, Path((case_id, task_id)): Path<(String, String)>) -> Result<StatusCode, ApiError> {
    access.require(Role::Editor)?;
    let (row, task) = task_of(&state, &access, &case_id, &task_id).await?;
    tasks::delete(&state.db, &row, &actor(&access), &task).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
struct AddTag {
    /// A tag id or ref.
    tag_id: String,
    #[serde(default)]
    create_if_missing: bool,
}

#[utoipa::path(
    get,
    path = "/cases/{case_id}/tags",
    tag = "cases",
    params(("case_id" = String, Path, description = "case id or short id"), ("workspace_id" = Option<String>, Query, description = "the workspace (optional when the caller has one)")),
    responses((status = 200, description = "the case's tags", body = serde_json::Value), (status = "4XX", description = "the one error shape", body = crate::error::ErrorBody))
)]
async fn list_tags_of_case(State(state): State<AppState>, access: WorkspaceAccess, Path(case_id): Path<String>) -> Result<Json<Value>, ApiError> {
    let row = cases::resolve(&state.db, access.workspace_id, &case_id).await?;
    Ok(Json(json!(tags::of_case(&state.db, row.id).await?.iter().map(tags::TagRow::read_model).collect::<Vec<_>>())))
}

#[utoipa::path(
    post,
    path = "/cases/{case_id}/tags",
    tag = "cases",
    params(("case_id" = String, Path, description = "case id or short id"), ("workspace_id" = Option<String>, Query, description = "the workspace (optional when the caller has one)")),
    request_body = AddTag,
    responses((status = 201, description = "the tag", body = serde_json::Value), (status = "4XX", description = "the one error shape", body = crate::error::ErrorBody))
)]
async fn add_tag_to_case(
    State(state): State<AppState>,
    access: WorkspaceAccess,
    Path(case_id): Path<String>,
    JsonBody(body): JsonBody<AddTag>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    access.require(Role::Editor)?;
    let row = cases::resolve(&state.db, access.workspace_id, &case_id).await?;
    let tag = tags::add(&state.db, &row, &actor(&access), &body.tag_id, body.create_if_missing).await?;
    Ok((StatusCode::CREATED, Json(tag.read_model())))
}

#[utoipa::path(
    delete,
    path = "/cases/{case_id}/tags/{tag_identifier}",
    tag = "cases",
    params(("case_id" = String, Path, description = "case id or short id"), ("tag_identifier" = String, Path, description = "tag id or ref"), ("workspace_id" = Option<String>, Query, description = "the workspace (optional when the caller has one)")),
    responses((status = 204, description = "removed"), (status = "4XX", description = "the one error shape", body = crate::error::ErrorBody))
)]
async fn remove_tag_from_case(State(state): State<AppState>, access: WorkspaceAccess, Path((case_id, tag)): Path<(String, String)>) -> Result<StatusCode, ApiError> {
    access.require(Role::Editor)?;
    let row = cases::resolve(&state.db, access.workspace_id, &case_id).await?;
    tags::remove(&state.db, &row, &actor(&access), &tag).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(
    get,
    path = "/cases/{case_id}/rows",
    tag = "cases",
    params(("case_id" = String, Path, description = "case id or short id"), ("workspace_id" = Option<String>, Query, description = "the workspace (optional when the caller has one)")),
    responses((status = 200, description = "[{id, case_id, table_id, table_name, row_id, row_data, is_row_available}]", body = serde_json::Value), (status = "4XX", description = "the one error shape", body = crate::error::ErrorBody))
)]
async fn list_case_rows(State(state): State<AppState>, access: WorkspaceAccess, Path(case_id): Path<String>) -> Result<Json<Value>, ApiError> {
    let row = cases::resolve(&state.db, access.workspace_id, &case_id).await?;
    Ok(Json(json!(rows::list(&state.db, &row).await?)))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
struct CaseRowLink {
    /// The lookup table's id (or name).
    table_id: String,
    row_id: Uuid,
}

#[utoipa::path(
    post,
    path = "/cases/{case_id}/rows",
    tag = "cases",
    params(("case_id" = String, Path, description = "case id or short id"), ("workspace_id" = Option<String>, Query, description = "the workspace (optional when the caller has one)")),
    request_body = CaseRowLink,
    responses((status = 201, description = "the link, with the row", body = serde_json::Value), (status = "4XX", description = "the one error shape; 422 past 50 rows a case", body = crate::error::ErrorBody))
)]
async fn link_case_row(State(state): State<AppState>, access: WorkspaceAccess, Path(case_id): Path<String>, JsonBody(body): JsonBody<CaseRowLink>) -> Result<(StatusCode, Json<Value>), ApiError> {
    access.require(Role::Editor)?;
    let row = cases::resolve(&state.db, access.workspace_id, &case_id).await?;
    Ok((StatusCode::CREATED, Json(rows::link(&state.db, &row, &actor(&access), &body.table_id, body.row_id).await?)))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
struct CaseRowData {
    data: Map<String, Value>,
    #[serde(default)]
    upsert: bool,
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
struct CaseRowInsert {
    /// The lookup table's id (or name).
    table_id: String,
    row: CaseRowData,
}

#[utoipa::path(
    post,
    path = "/cases/{case_id}/rows/insert",
    tag = "cases",
    params(("case_id" = String, Path, description = "case id or short id"), ("workspace_id" = Option<String>, Query, description = "the workspace (optional when the caller has one)")),
    request_body = CaseRowInsert,
    responses((status = 201, description = "the link, with the new row", body = serde_json::Value), (status = "4XX", description = "the one error shape; 422 names the column at fault", body = crate::error::ErrorBody))
)]
async fn insert_case_row(State(state): State<AppState>, access: WorkspaceAccess, Path(case_id): Path<String>, JsonBody(body): JsonBody<CaseRowInsert>) -> Result<(StatusCode, Json<Value>), ApiError> {
    access.require(Role::Editor)?;
    let row = cases::resolve(&state.db, access.workspace_id, &case_id).await?;
    let link = rows::insert_and_link(&state.db, &row, &actor(&access), &body.table_id, body.row.data, body.row.upsert).await?;
    Ok((StatusCode::CREATED, Json(link)))
}

#[utoipa::path(
    delete,
    path = "/cases/{case_id}/rows/{table_id}/{row_id}",
    tag = "cases",
    params(("case_id" = String, Path, description = "case id or short id"), ("table_id" = String, Path, description = "table id"), ("row_id" = String, Path, description = "row id"), ("workspace_id" = Option<String>, Query, description = "the workspace (optional when the caller has one)")),
    responses((status = 204, description = "unlinked (the row stays in its table)"), (status = "4XX", description = "the one error shape", body = crate::error::ErrorBody))
)]
async fn unlink_case_row(State(state): State<AppState>, access: WorkspaceAccess, Path((case_id, table_id, row_id)): Path<(String, String, String)>) -> Result<StatusCode, ApiError> {
    access.require(Role::Editor)?;
    let row = cases::resolve(&state.db, access.workspace_id, &case_id).await?;
    let row_id = Uuid::try_parse(&row_id).map_err(|_| ApiError::NotFound(format!("row {row_id:?} not found")))?;
    rows::unlink(&state.db, &row, &actor(&access), &table_id, row_id).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(
    get,
    path = "/cases/{case_id}/attachments",
    tag = "cases",
    params(("case_id" = String, Path, description = "case id or short id"), ("workspace_id" = Option<String>, Query, description = "the workspace (optional when the caller has one)")),
    responses((status = 200, description = "the attachments", body = serde_json::Value), (status = "4XX", description = "the one error shape", body = crate::error::ErrorBody))
)]
async fn list_case_attachments(State(state): State<AppState>, access: WorkspaceAccess, Path(case_id): Path<String>) -> Result<Json<Value>, ApiError> {
    let row = cases::resolve(&state.db, access.workspace_id, &case_id).await?;
    Ok(Json(json!(attachments::list(&state.db, &row).await?.iter().map(attachments::AttachmentRow::read_model).collect::<Vec<_>>())))
}

/// The multipart form of an upload: one part `file`.
#[derive(utoipa::ToSchema)]
#[allow(dead_code)]
struct UploadForm {
    #[schema(value_type = String, format = Binary)]
    file: Vec<u8>,
}

#[utoipa::path(
    post,
    path = "/cases/{case_id}/attachments",
    tag = "cases",
    params(("case_id" = String, Path, description = "case id or short id"), ("workspace_id" = Option<String>, Query, description = "the workspace (optional when the caller has one)")),
    request_body(content = UploadForm, content_type = "multipart/form-data"),
    responses(
        (status = 201, description = "the attachment", body = serde_json::Value),
        (status = 413, description = "the file, or the case's files together, are too large", body = crate::error::ErrorBody),
        (status = "4XX", description = "the one error shape; 422 says why a file's type is refused", body = crate::error::ErrorBody)
    )
)]
async fn upload_case_attachment(
    State(state): State<AppState>,
    access: WorkspaceAccess,
    Path(case_id): Path<String>,
    mut form: axum::extract::Multipart,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    access.require(Role::Editor)?;
    let row = cases::resolve(&state.db, access.workspace_id, &case_id).await?;
    let bad_form = |e: axum::extract::multipart::MultipartError| match e.status() {
        StatusCode::PAYLOAD_TOO_LARGE => ApiError::PayloadTooLarge(format!("a file may be at most {} bytes", state.config.attachments.max_file_bytes)),
        _ => ApiError::BadRequest(format!("the form could not be read: {}", e.body_text())),
    };
    while let Some(field) = form.next_field().await.map_err(bad_form)? {
        if field.name() != Some("file") {
            continue;
        }
        let file_name = field.file_name().map(str::to_owned).ok_or_else(|| invalid("file", "the file part has no file name"))?;
        let content_type = field.content_type().unwrap_or_default().to_owned();
        let bytes = field.bytes().await.map_err(bad_form)?;
        let settings = &state.config.attachments;
        let file = attachments::NewFile { file_name, content_type, bytes: bytes.to_vec() };
        let saved = attachments::upload(&state.db, state.attachments.as_ref(), settings, &row, &actor(&access), file).await?;
        return Ok((StatusCode::CREATED, Json(saved.read_model())));
    }
    Err(invalid("file", "the form has no part named file"))
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
struct DownloadQuery {
    /// Show an image inline instead of downloading it.
    #[serde(default)]
    preview: bool,
    /// Accepted (the extractor reads it).
    #[serde(rename = "workspace_id")]
    _workspace_id: Option<String>,
}

fn attachment_id(text: &str) -> Result<Uuid, ApiError> {
    Uuid::try_parse(text).map_err(|_| ApiError::NotFound(format!("attachment {text:?} not found")))
}

#[utoipa::path(
    get,
    path = "/cases/{case_id}/attachments/{attachment_id}",
    tag = "cases",
    params(("case_id" = String, Path, description = "case id or short id"), ("attachment_id" = String, Path, description = "attachment id"), DownloadQuery),
    responses((status = 200, description = "{download_url, file_name, content_type}: a link valid for an hour", body = serde_json::Value), (status = "4XX", description = "the one error shape", body = crate::error::ErrorBody))
)]
async fn get_case_attachment(
    State(state): State<AppState>,
    access: WorkspaceAccess,
    Path((case_id, attachment)): Path<(String, String)>,
    super::Query(query): super::Query<DownloadQuery>,
) -> Result<Json<Value>, ApiError> {
    let row = cases::resolve(&state.db, access.workspace_id, &case_id).await?;
    let found = attachments::get(&state.db, &row, attachment_id(&attachment)?).await?;
    let link = attachments::download(state.attachments.as_ref(), &found, query.preview, std::time::Duration::from_secs(3600)).await?;
    Ok(Json(link))
}

#[utoipa::path(
    delete,
    path = "/cases/{case_id}/attachments/{attachment_id}",
    tag = "cases",
    params(("case_id" = String, Path, description = "case id or short id"), ("attachment_id" = String, Path, description = "attachment id"), ("workspace_id" = Option<String>, Query, description = "the workspace (optional when the caller has one)")),
    responses((status = 204, description = "deleted (its content too, when no other attachment has it)"), (status = "4XX", description = "the one error shape", body = crate::error::ErrorBody))
)]
async fn delete_case_attachment(State(state): State<AppState>, access: WorkspaceAccess, Path((case_id, attachment)): Path<(String, String)>) -> Result<StatusCode, ApiError> {
    access.require(Role::Editor)?;
    let row = cases::resolve(&state.db, access.workspace_id, &case_id).await?;
    let moderator = access.require(Role::Admin).is_ok();
    attachments::delete(&state.db, state.attachments.as_ref(), &row, &actor(&access), attachment_id(&attachment)?, moderator).await?;
    Ok(StatusCode::NO_CONTENT)
}
