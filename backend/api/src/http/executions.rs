//! Executions (runs): start one with inputs, list a workflow's runs, and read one with its
//! per-action events, all from Temporal.

use axum::extract::{Path, Query, State};
use axum::routing::get;
use axum::{Json, Router};
use futures_util::StreamExt;
use serde::Deserialize;
use serde_json::{Value, json};
use temporalio_client::WorkflowListOptions;

use ferrocat_shared::dsl::Workflow;
use ferrocat_shared::ids;
use ferrocat_shared::temporal::DSL_WORKFLOW;

use super::workflows::load;
use crate::auth::{Role, WorkspaceAccess};
use crate::db::workflows;
use crate::error::ApiError;
use crate::runs::{self, NewRun, status_name};
use crate::state::AppState;

pub(super) fn router() -> Router<AppState> {
    Router::new()
        .route("/workflow-executions", get(list_executions).post(create_execution))
        .route("/workflow-executions/{*execution_id}", get(get_execution))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CreateExecution {
    workflow_id: String,
    #[serde(default)]
    inputs: Value,
}

async fn create_execution(
    State(state): State<AppState>,
    access: WorkspaceAccess,
    body: Result<Json<CreateExecution>, axum::extract::rejection::JsonRejection>,
) -> Result<Json<Value>, ApiError> {
    access.require(Role::Editor)?;
    let Json(body) = body.map_err(|e| ApiError::BadRequest(e.body_text()))?;
    let workflow = load(&state, &access, &body.workflow_id).await?;
    let definition = workflows::definition(&state.db, access.workspace_id, workflow.id, None)
        .await?
        .ok_or_else(|| ApiError::NotFound("the workflow has no committed definition".into()))?;
    let dsl: Workflow = serde_json::from_value(definition.content).map_err(|e| ApiError::Internal(e.into()))?;
    ferrocat_shared::dsl::normalize_trigger_inputs(&dsl.entrypoint.expects, &body.inputs)
        .map_err(|e| ApiError::BadRequest(e.to_string()))?;
    let exec_id = runs::start(&state, NewRun {
        workflow_id: workflow.id,
        workspace_id: access.workspace_id,
        version: definition.version,
        dsl,
        trigger: body.inputs,
        trigger_type: "manual",
    })
    .await?;
    Ok(Json(json!({
        "message": "Workflow execution started",
        "wf_id": ids::workflow_id(workflow.id),
        "wf_exec_id": exec_id,
    })))
}

#[derive(Deserialize)]
struct ListQuery {
    workflow_id: String,
    #[serde(default = "default_limit")]
    limit: usize,
}

fn default_limit() -> usize {
    50
}

async fn list_executions(
    State(state): State<AppState>,
    access: WorkspaceAccess,
    Query(query): Query<ListQuery>,
) -> Result<Json<Vec<Value>>, ApiError> {
    if !(1..=500).contains(&query.limit) {
        return Err(ApiError::BadRequest("limit must be between 1 and 500".into()));
    }
    let workflow = load(&state, &access, &query.workflow_id).await?;
    let prefix = format!("{}/", ids::workflow_id(workflow.id));
    // Visibility queries cannot match an id prefix on every backend; filter here instead.
    let visibility = format!("WorkflowType = '{DSL_WORKFLOW}'");
    let mut stream = state.temporal.list_workflows(visibility, WorkflowListOptions::builder().limit(5000).build());
    let mut items = Vec::new();
    while let Some(next) = stream.next().await {
        let execution = next.map_err(|e| ApiError::Internal(anyhow::anyhow!("listing executions: {e}")))?;
        if !execution.id().starts_with(&prefix) {
            continue;
        }
        items.push(json!({
            "id": execution.id(),
            "run_id": execution.run_id(),
            "status": status_name(execution.status()),
            "start_time": execution.start_time().map(chrono::DateTime::<chrono::Utc>::from),
            "close_time": execution.close_time().map(chrono::DateTime::<chrono::Utc>::from),
        }));
        if items.len() >= query.limit {
            break;
        }
    }
    Ok(Json(items))
}

async fn get_execution(
    State(state): State<AppState>,
    access: WorkspaceAccess,
    Path(execution_id): Path<String>,
) -> Result<Json<runs::ExecutionDetail>, ApiError> {
    let workflow_id =
        ids::parse_execution_id(&execution_id).map_err(|_| ApiError::NotFound(format!("execution {execution_id} not found")))?;
    // The run must belong to a workflow of the caller's workspace.
    workflows::get(&state.db, access.workspace_id, workflow_id)
        .await?
        .ok_or_else(|| ApiError::NotFound(format!("execution {execution_id} not found")))?;
    let exec_id = execution_id.replacen(':', "/", 1);
    Ok(Json(runs::describe(&state, &exec_id).await?))
}
