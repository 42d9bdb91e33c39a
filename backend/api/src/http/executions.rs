//! Executions (runs): start one with inputs, list a workflow's runs, and read one with its
//! per-action events, all from Temporal.

use axum::body::Bytes;
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::get;
use axum::{Json, Router};
use futures_util::StreamExt;
use serde::Deserialize;
use serde_json::{Value, json};
use temporalio_client::WorkflowListOptions;

use ferrocat_shared::ids;
use ferrocat_shared::temporal::DSL_WORKFLOW;

use super::{JsonBody, Path, Query};
use super::workflows::load;
use crate::auth::{Role, WorkspaceAccess};
use ferrocat_app::db::workflows;
use crate::error::ApiError;
use ferrocat_app::runs::{self, status_name};
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
    workflow_id: String,
    /// At most this many, newest first (1 to 500, default 50).
    #[serde(default = "default_limit")]
    limit: usize,
    /// Only runs in this state: RUNNING, COMPLETED, FAILED, CANCELED, TERMINATED, TIMED_OUT or
    /// CONTINUED_AS_NEW.
    status: Option<String>,
    /// The next page: runs started before this time (the last item's `start_time`).
    before: Option<chrono::DateTime<chrono::Utc>>,
}

const STATUSES: [&str; 7] = ["RUNNING", "COMPLETED", "FAILED", "CANCELED", "TERMINATED", "TIMED_OUT", "CONTINUED_AS_NEW"];

fn default_limit() -> usize {
    50
}

#[utoipa::path(
    get,
    path = "/workflow-executions",
    tag = "executions",
    params(("workspace_id" = Option<String>, Query, description = "the workspace (optional when the caller has one)"), ListQuery),
    responses((status = 200, description = "runs of a workflow", body = serde_json::Value), (status = "4XX", description = "the one error shape", body = crate::error::ErrorBody))
)]
async fn list_executions(
    State(state): State<AppState>,
    access: WorkspaceAccess,
    Query(query): Query<ListQuery>,
) -> Result<Json<Vec<Value>>, ApiError> {
    if !(1..=500).contains(&query.limit) {
        return Err(ApiError::BadRequest("limit must be between 1 and 500".into()));
    }
    if let Some(status) = &query.status
        && !STATUSES.contains(&status.as_str())
    {
        return Err(ApiError::Unprocessable {
            detail: format!("status must be one of {}", STATUSES.join(", ")),
            errors: vec![json!({"loc": "query.status", "msg": format!("unknown status {status:?}")})],
        });
    }
    let workflow = load(&state, &access, &query.workflow_id).await?;
    let prefix = format!("{}/", ids::workflow_id(workflow.id));
    // Visibility queries cannot match an id prefix on every backend; filter here instead.
    let visibility = format!("WorkflowType = '{DSL_WORKFLOW}'");
    let mut stream = state.temporal.list_workflows(visibility, WorkflowListOptions::builder().limit(5000).build());
    let mut items = Vec::new();
    while let Some(next) = stream.next().await {
        let execution = next.map_err(|e| ApiError::Internal(anyhow::anyhow!("listing executions: {e}")))?;
        let started = execution.start_time().map(chrono::DateTime::<chrono::Utc>::from);
        let status = status_name(execution.status());
        if !execution.id().starts_with(&prefix)
            || query.status.as_deref().is_some_and(|wanted| wanted != status)
            || query.before.is_some_and(|before| started.is_none_or(|t| t >= before))
        {
            continue;
        }
        items.push(json!({
            "id": execution.id(),
            "run_id": execution.run_id(),
            "status": status,
            "start_time": started,
            "close_time": execution.close_time().map(chrono::DateTime::<chrono::Utc>::from),
        }));
        if items.len() >= query.limit {
            break;
        }
    }
    Ok(Json(items))
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
    responses((status = 200, description = "status, result and per-action events", body = serde_json::Value), (status = "4XX", description = "the one error shape", body = crate::error::ErrorBody))
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
