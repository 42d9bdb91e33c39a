//! Run tools: start a committed workflow with inputs (and optionally wait for its result), list
//! a workflow's runs, and read one run with every action's input, result or error. Runs live in
//! Temporal; the api's run starter and history reader do the work.

use std::time::Duration;

use rmcp::handler::server::wrapper::Parameters;
use rmcp::model::CallToolResult;
use rmcp::service::RequestContext;
use rmcp::{ErrorData, RoleServer, schemars, tool, tool_router};
use serde::Deserialize;
use serde_json::{Value, json};

use ferrocat_app::accounts::Role;
use ferrocat_app::db::workflows;
use ferrocat_app::AppError;
use ferrocat_app::runs;
use ferrocat_shared::ids;

use super::{Access, FerrocatMcp, ToolError, caller, respond};

/// The longest a `run_workflow` call waits.
const MAX_WAIT_SECONDS: u64 = 600;

#[derive(Debug, Deserialize, schemars::JsonSchema)]
pub struct RunWorkflowArgs {
    pub workspace_id: Option<String>,
    /// Workflow id (`wf_…`); its latest committed version runs.
    pub workflow_id: String,
    /// The trigger inputs (an object matching `entrypoint.expects`).
    #[serde(default)]
    pub inputs: Value,
    /// Wait for the run to finish and return its result (default false).
    #[serde(default)]
    pub wait: bool,
    /// How long to wait, in seconds (default 60, at most 600).
    pub timeout_seconds: Option<u64>,
}

#[derive(Debug, Deserialize, schemars::JsonSchema)]
pub struct GetExecutionArgs {
    pub workspace_id: Option<String>,
    /// Execution id, as run_workflow or list_executions returned it (`wf_…/exec_…`).
    pub execution_id: String,
}

#[derive(Debug, Deserialize, schemars::JsonSchema)]
pub struct ListExecutionsArgs {
    pub workspace_id: Option<String>,
    pub workflow_id: String,
    /// How many runs to return (1-500, default 20).
    pub limit: Option<usize>,
}

impl FerrocatMcp {
    /// Temporal's id of an execution of the workspace (`/`-separated), or not found.
    async fn resolve_execution(&self, access: &Access, execution_id: &str) -> Result<String, ToolError> {
        let not_found = || ToolError::NotFound(format!("execution {execution_id} not found in this workspace"));
        // Runs a schedule started carry Temporal's `-<scheduled time>` after their id.
        let unsuffixed = match execution_id.find("exec_") {
            Some(at) => &execution_id[..execution_id[at..].find('-').map_or(execution_id.len(), |end| at + end)],
            None => execution_id,
        };
        let workflow_id = ids::parse_execution_id(unsuffixed).map_err(|_| not_found())?;
        workflows::get(self.state.db(), access.workspace_id, workflow_id).await?.ok_or_else(not_found)?;
        Ok(execution_id.replacen(':', "/", 1))
    }

    async fn do_run_workflow(&self, context: &RequestContext<RoleServer>, args: RunWorkflowArgs) -> Result<Value, ToolError> {
        let caller = caller(context)?;
        let access = self.access(&caller, args.workspace_id.as_deref()).await?;
        access.require(Role::Editor)?;
        let row = self.load_workflow(&access, &args.workflow_id).await?;
        let api = &self.state.app;
        let (exec_id, version) = runs::start_committed(api, access.workspace_id, &row, args.inputs, "manual").await.map_err(|error| match error {
            AppError::NotFound(detail) => ToolError::BadRequest(format!("{detail} (commit_workflow)")),
            AppError::BadRequest(detail) => ToolError::BadRequest(format!("the inputs do not fit entrypoint.expects: {detail}")),
            other => other.into(),
        })?;
        tracing::info!(wf_exec_id = %exec_id, user_id = %caller.user_id, "run started over mcp");
        if !args.wait {
            return Ok(json!({"execution_id": exec_id, "status": "RUNNING", "version": version}));
        }
        let wait = Duration::from_secs(args.timeout_seconds.unwrap_or(60).clamp(1, MAX_WAIT_SECONDS));
        Ok(match tokio::time::timeout(wait, runs::wait_result(api, &exec_id)).await {
            Ok(Ok(result)) => json!({"execution_id": exec_id, "status": "COMPLETED", "result": result}),
            Ok(Err(AppError::ExecutionFailed(error))) => json!({"execution_id": exec_id, "status": "FAILED", "error": error}),
            Ok(Err(other)) => return Err(other.into()),
            Err(_) => json!({
                "execution_id": exec_id,
                "status": "RUNNING",
                "detail": format!("still running after {}s: call get_execution later", wait.as_secs()),
            }),
        })
    }

    async fn do_get_execution(&self, context: &RequestContext<RoleServer>, args: GetExecutionArgs) -> Result<Value, ToolError> {
        let caller = caller(context)?;
        let access = self.access(&caller, args.workspace_id.as_deref()).await?;
        let exec_id = self.resolve_execution(&access, &args.execution_id).await?;
        let detail = runs::describe(&self.state.app, &exec_id).await?;
        serde_json::to_value(detail).map_err(|e| ToolError::Internal(e.into()))
    }

    async fn do_list_executions(&self, context: &RequestContext<RoleServer>, args: ListExecutionsArgs) -> Result<Value, ToolError> {
        let caller = caller(context)?;
        let access = self.access(&caller, args.workspace_id.as_deref()).await?;
        let limit = args.limit.unwrap_or(20);
        if !(1..=500).contains(&limit) {
            return Err(ToolError::BadRequest("limit must be between 1 and 500".into()));
        }
        let row = self.load_workflow(&access, &args.workflow_id).await?;
        let filter = runs::RunFilter { limit, ..Default::default() };
        let items = runs::list(&self.state.app, &[ferrocat_shared::ids::workflow_id(row.id)], &filter).await?;
        Ok(json!({"executions": items}))
    }
}

#[tool_router(router = execution_tools, vis = "pub(crate)")]
impl FerrocatMcp {
    #[tool(description = "Run a workflow's latest committed version with trigger inputs (editor role). With wait=true, returns {status, result|error}; else the execution id to read later.")]
    async fn run_workflow(&self, Parameters(args): Parameters<RunWorkflowArgs>, context: RequestContext<RoleServer>) -> Result<CallToolResult, ErrorData> {
        respond(self.do_run_workflow(&context, args).await)
    }

    #[tool(description = "Read one run: status, trigger, result or error, and every action's input, result or error.")]
    async fn get_execution(&self, Parameters(args): Parameters<GetExecutionArgs>, context: RequestContext<RoleServer>) -> Result<CallToolResult, ErrorData> {
        respond(self.do_get_execution(&context, args).await)
    }

    #[tool(description = "List a workflow's runs, newest first: id, status, start and close time.")]
    async fn list_executions(&self, Parameters(args): Parameters<ListExecutionsArgs>, context: RequestContext<RoleServer>) -> Result<CallToolResult, ErrorData> {
        respond(self.do_list_executions(&context, args).await)
    }
}
