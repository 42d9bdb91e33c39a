//! Executions (runs): start one with inputs, list a workflow's runs, and read one with its
//! per-action events, all from Temporal.

use axum::body::Bytes;
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::get;
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::{Value, json};

use ferrocat_app::db::workflows;
use ferrocat_app::runs;
use ferrocat_shared::ids;

use super::{JsonBody, Path, Query};
use super::workflows::load;
use crate::auth::{Role, WorkspaceAccess};
use crate::error::ApiError;
use crate::state::AppState;

pub(super) fn router() -> Router<AppState> {
    Router::new()
        .route("/workflow-executions", get(list_executions).post(create_execution))
        // Execution ids contain a `/`, so one wildcard route also carries `/cancel` and `/terminate`.
        .route("/workflow-executions/{*execution_id}", get(get_execution).post(control_execution))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
struct CreateExecution {
    workflow_id: String,
    #[serde(default)]
    inputs: Value,
}

#[utoipa::path(
    post,
    path = "/workflow-executions",
    tag = "executions",
    params(("workspace_id" = Option<String>, Query, description = "the workspace (optional when the caller has one)")),
    request_body = CreateExecution,
    responses((status = 200, description = "the run's ids", body = serde_json::Value), (status = "4XX", description = "the one error shape", body = crate::error::ErrorBody))
)]
async fn create_execution(
    State(state): State<AppState>,
    access: WorkspaceAccess,
    JsonBody(body): JsonBody<CreateExecution>,
) -> Result<Json<Value>, ApiError> {
    access.require(Role::Editor)?;
    let workflow = load(&state, &access, &body.workflow_id).await?;
    let (exec_id, _version) = runs::start_committed(&state, access.workspace_id, &workflow, body.inputs, "manual").await?;
    Ok(Json(json!({
        "message": "Workflow execution started",
        "wf_id": ids::workflow_id(workflow.id),
        "wf_exec_id": exec_id,
    })))
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
struct ListQuery {
    /// One workflow's runs; without it, the runs of every workflow of the workspace.
    workflow_id: Option<String>,
    /// At most this many, newest first (1 to 500, default 50).
    #[serde(default = "default_limit")]
    limit: usize,
    /// Only runs in this state: RUNNING, COMPLETED, FAILED, CANCELED, TERMINATED, TIMED_OUT or
    /// CONTINUED_AS_NEW.
    status: Option<String>,
    /// Only runs started this way: manual, webhook, schedule, subflow, ...
    trigger_type: Option<String>,
    /// Only runs started at or after this time.
    after: Option<chrono::DateTime<chrono::Utc>>,
    /// The next page: runs started before this time (the last item's `start_time`).
    before: Option<chrono::DateTime<chrono::Utc>>,
}

fn default_limit() -> usize {
    50
}

#[utoipa::path(
    get,
    path = "/workflow-executions",
    tag = "executions",
    params(("workspace_id" = Option<String>, Query, description = "the workspace (optional when the caller has one)"), ListQuery),
    responses((status = 200, description = "runs of a workflow, or of the workspace", body = Vec<runs::RunSummary>), (status = "4XX", description = "the one error shape", body = crate::error::ErrorBody))
)]
async fn list_executions(
    State(state): State<AppState>,
    access: WorkspaceAccess,
    Query(query): Query<ListQuery>,
) -> Result<Json<Vec<runs::RunSummary>>, ApiError> {
    if !(1..=500).contains(&query.limit) {
        return Err(ApiError::BadRequest("limit must be between 1 and 500".into()));
    }
    let workflow_ids = match &query.workflow_id {
        Some(id) => vec![ids::workflow_id(load(&state, &access, id).await?.id)],
        None => workflows::ids(&state.db, access.workspace_id).await?.into_iter().map(ids::workflow_id).collect(),
    };
    let filter = runs::RunFilter {
        limit: query.limit,
        status: query.status,
        trigger_type: query.trigger_type,
        after: query.after,
        before: query.before,
    };
    Ok(Json(runs::list(&state, &workflow_ids, &filter).await?))
}

/// Resolves an execution id of the caller's workspace to Temporal's id (`/`-separated); 404
/// for malformed ids and runs of other workspaces' workflows.
async fn resolve_execution(state: &AppState, access: &WorkspaceAccess, execution_id: &str) -> Result<String, ApiError> {
    let not_found = || ApiError::NotFound(format!("execution {execution_id} not found"));
    // Runs a schedule started carry Temporal's `-<scheduled time>` after their id.
    let unsuffixed = match execution_id.find("exec_") {
        Some(at) => &execution_id[..execution_id[at..].find('-').map_or(execution_id.len(), |end| at + end)],
        None => execution_id,
    };
    let workflow_id = ids::parse_execution_id(unsuffixed).map_err(|_| not_found())?;
    workflows::get(&state.db, access.workspace_id, workflow_id).await?.ok_or_else(not_found)?;
    // `wf_…:exec_…` is accepted for `wf_…/exec_…`; a scheduled run's time has colons of its own.
    Ok(if execution_id.contains('/') { execution_id.to_owned() } else { execution_id.replacen(':', "/", 1) })
}

#[utoipa::path(
    get,
    path = "/workflow-executions/{execution_id}",
    tag = "executions",
    params(("execution_id" = String, Path, description = "execution id (wf_…/exec_…)"), ("workspace_id" = Option<String>, Query, description = "the workspace (optional when the caller has one)"), DetailQuery),
    responses((status = 200, description = "status, result and per-action events", body = runs::ExecutionDetail), (status = "4XX", description = "the one error shape", body = crate::error::ErrorBody))
)]
async fn get_execution(
    State(state): State<AppState>,
    access: WorkspaceAccess,
    Path(execution_id): Path<String>,
    Query(query): Query<DetailQuery>,
) -> Result<Json<runs::ExecutionDetail>, ApiError> {
    let exec_id = resolve_execution(&state, &access, &execution_id).await?;
    let mut detail = runs::describe_raw(&state, &exec_id).await?;
    let view = if query.inline_results { runs::StoredView::Inline } else { runs::StoredView::Links };
    runs::present_stored(&state, &mut detail, view).await;
    Ok(Json(detail))
}

#[derive(Deserialize, Default, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
struct DetailQuery {
    /// Results over the threshold are download links (presigned, through /s3, 5 minutes);
    /// `true` reads them back into the answer instead.
    #[serde(default)]
    inline_results: bool,
    /// Read by the workspace extractor.
    #[serde(default)]
    #[allow(dead_code)]
    workspace_id: Option<String>,
}

#[derive(Deserialize, Default, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
struct ControlBody {
    reason: Option<String>,
}

/// `POST /workflow-executions/{id}/cancel` and `/terminate` (editor role); 204 once Temporal
/// took the request, 409 when the run has already closed.
/// `POST …/terminate` is served by [`control_execution`] too; this documents it.
#[utoipa::path(
    post,
    path = "/workflow-executions/{execution_id}/terminate",
    tag = "executions",
    params(("execution_id" = String, Path, description = "execution id (wf_…/exec_…)"), ("workspace_id" = Option<String>, Query, description = "the workspace (optional when the caller has one)")),
    request_body(content = ControlBody, content_type = "application/json"),
    responses((status = 204, description = "terminated"), (status = "4XX", description = "the one error shape", body = crate::error::ErrorBody))
)]
#[allow(dead_code)]
pub(super) fn terminate_execution() {}

#[utoipa::path(
    post,
    path = "/workflow-executions/{execution_id}/cancel",
    tag = "executions",
    params(("execution_id" = String, Path, description = "execution id (wf_…/exec_…)"), ("workspace_id" = Option<String>, Query, description = "the workspace (optional when the caller has one)")),
    request_body(content = ControlBody, content_type = "application/json"),
    responses((status = 204, description = "cancel requested"), (status = "4XX", description = "the one error shape", body = crate::error::ErrorBody))
)]
async fn control_execution(
    State(state): State<AppState>,
    access: WorkspaceAccess,
    Path(path): Path<String>,
    body: Bytes,
) -> Result<StatusCode, ApiError> {
    let not_found = || ApiError::NotFound(format!("no such route for execution {path}"));
    let (execution_id, action) = path.rsplit_once('/').ok_or_else(not_found)?;
    if action != "cancel" && action != "terminate" {
        return Err(not_found());
    }
    access.require(Role::Editor)?;
    let body: ControlBody = if body.iter().all(u8::is_ascii_whitespace) {
        ControlBody::default()
    } else {
        serde_json::from_slice(&body).map_err(|e| ApiError::BadRequest(format!("invalid body: {e}")))?
    };
    let exec_id = resolve_execution(&state, &access, execution_id).await?;
    let who = match access.user_id() {
        Some(id) => format!("user {id}"),
        None => "an API key".to_owned(),
    };
    let reason = body.reason.unwrap_or_else(|| format!("{action} requested by {who}"));
    if action == "cancel" {
        runs::cancel(&state, &exec_id, &reason).await?;
    } else {
        runs::terminate(&state, &exec_id, &reason).await?;
    }
    tracing::info!(wf_exec_id = %exec_id, action, "execution control requested");
    Ok(StatusCode::NO_CONTENT)
}
