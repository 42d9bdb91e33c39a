//! The MCP server itself: its tools (workflows, runs, the action registry, secrets' names) and
//! resources (the DSL reference, the action catalogue). Every tool acts as the user of the
//! bearer token (the [`Caller`] the middleware put in the HTTP request) and checks that user's
//! role in the workspace it touches. Failures the model can act on come back as tool results
//! with `isError: true` and a JSON body `{error, detail, errors?}`.

mod cases;
mod catalog;
mod executions;
mod tables;
mod workflows;

use rmcp::handler::server::router::tool::ToolRouter;
use rmcp::model::{
    CallToolResult, Implementation, ListResourcesResult, PaginatedRequestParams, ReadResourceRequestParams, ReadResourceResponse,
    ReadResourceResult, ServerCapabilities, ServerConfig,
};
use rmcp::service::RequestContext;
use rmcp::{ErrorData, RoleServer, ServerHandler, tool_handler};
use serde_json::{Value, json};
use uuid::Uuid;

use ferrocat_app::accounts::Role;
use ferrocat_app::db::workspaces;
use ferrocat_app::AppError;
use ferrocat_shared::ids;

use crate::bearer::Caller;
use crate::resources;
use crate::state::McpState;

/// What went wrong in a tool call, in terms the model can act on.
#[derive(Debug, thiserror::Error)]
pub enum ToolError {
    #[error("{0}")]
    NotFound(String),
    #[error("{0}")]
    Forbidden(String),
    #[error("{0}")]
    BadRequest(String),
    /// The workflow does not parse or validate; `errors` are `{loc, msg}`.
    #[error("{detail}")]
    Invalid { detail: String, errors: Vec<Value> },
    #[error("{0}")]
    Conflict(String),
    #[error("{0}")]
    Unavailable(String),
    #[error("{0}")]
    ExecutionFailed(String),
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

impl From<sqlx::Error> for ToolError {
    fn from(error: sqlx::Error) -> Self {
        ToolError::Internal(error.into())
    }
}

impl From<AppError> for ToolError {
    fn from(error: AppError) -> Self {
        match error {
            AppError::Unprocessable { detail, errors } => ToolError::Invalid { detail, errors },
            AppError::ExecutionFailed(message) => ToolError::ExecutionFailed(message),
            AppError::Internal(error) => ToolError::Internal(error),
            AppError::NotFound(message) => ToolError::NotFound(message),
            AppError::Unauthorized(message) | AppError::Forbidden(message) => ToolError::Forbidden(message),
            AppError::Conflict(message) => ToolError::Conflict(message),
            AppError::Unavailable(message) => ToolError::Unavailable(message),
            other @ (AppError::BadRequest(_) | AppError::PayloadTooLarge(_) | AppError::TooManyRequests { .. }) => {
                ToolError::BadRequest(other.to_string())
            }
        }
    }
}

impl ToolError {
    fn kind(&self) -> &'static str {
        match self {
            ToolError::NotFound(_) => "not_found",
            ToolError::Forbidden(_) => "forbidden",
            ToolError::BadRequest(_) => "bad_request",
            ToolError::Invalid { .. } => "invalid_workflow",
            ToolError::Conflict(_) => "conflict",
            ToolError::Unavailable(_) => "unavailable",
            ToolError::ExecutionFailed(_) => "execution_failed",
            ToolError::Internal(_) => "internal",
        }
    }
}

/// A tool's outcome as an MCP result: structured JSON, or an error result.
pub(crate) fn respond(result: Result<Value, ToolError>) -> Result<CallToolResult, ErrorData> {
    match result {
        Ok(value) => Ok(CallToolResult::structured(value)),
        Err(error) => {
            let detail = match &error {
                ToolError::Internal(e) => {
                    tracing::error!(error = format!("{e:#}"), "mcp tool failed");
                    "internal error".to_owned()
                }
                other => other.to_string(),
            };
            let mut body = json!({"error": error.kind(), "detail": detail});
            if let ToolError::Invalid { errors, .. } = &error {
                body["errors"] = json!(errors);
            }
            Ok(CallToolResult::structured_error(body))
        }
    }
}

/// The caller a request's bearer token authenticated.
pub(crate) fn caller(context: &RequestContext<RoleServer>) -> Result<Caller, ToolError> {
    context
        .extensions
        .get::<http::request::Parts>()
        .and_then(|parts| parts.extensions.get::<Caller>())
        .cloned()
        .ok_or_else(|| ToolError::Internal(anyhow::anyhow!("the request carries no authenticated caller")))
}

/// A workspace the caller belongs to and their role there.
pub(crate) struct Access {
    pub workspace_id: Uuid,
    pub role: Role,
    pub superuser: bool,
}

impl Access {
    /// Fails unless the role is at least `needed` (superusers always pass, as in the api).
    pub fn require(&self, needed: Role) -> Result<(), ToolError> {
        if self.role >= needed || self.superuser {
            Ok(())
        } else {
            Err(ToolError::Forbidden(format!("this needs the {} role in the workspace; you are {}", needed.as_str(), self.role.as_str())))
        }
    }
}

/// The MCP service: one per session (or per stateless request), sharing the state.
#[derive(Clone)]
pub struct FerrocatMcp {
    state: McpState,
    tool_router: ToolRouter<Self>,
}

impl FerrocatMcp {
    pub fn new(state: McpState) -> Self {
        Self { state, tool_router: Self::catalog_tools() + Self::workflow_tools() + Self::execution_tools() + Self::case_tools() + Self::table_tools() }
    }

    /// The workspace `requested` (a `ws_…` id or UUID), or the caller's only one; not found
    /// unless the caller is a member.
    pub(crate) async fn access(&self, caller: &Caller, requested: Option<&str>) -> Result<Access, ToolError> {
        let db = self.state.db();
        let (workspace_id, role) = match requested.filter(|r| !r.is_empty()) {
            Some(text) => {
                let not_found = || ToolError::NotFound(format!("workspace {text} not found (call list_workspaces)"));
                let id = ids::parse_workspace_id(text).map_err(|_| not_found())?;
                let role = workspaces::role_of(db, caller.user_id, id).await?.ok_or_else(not_found)?;
                (id, Role::parse(&role))
            }
            None => {
                let mut all = workspaces::list_for_user(db, caller.user_id).await?;
                if all.len() != 1 {
                    return Err(ToolError::BadRequest(format!(
                        "workspace_id is required: you belong to {} workspaces (call list_workspaces)",
                        all.len()
                    )));
                }
                let only = all.remove(0);
                (only.workspace_id, Role::parse(&only.role))
            }
        };
        Ok(Access { workspace_id, role, superuser: caller.is_superuser })
    }
}

const INSTRUCTIONS: &str = "ferrocat runs security workflows written in a YAML DSL (Tracecat's). \
Read the resource ferrocat://docs/dsl before writing a workflow and ferrocat://registry/actions for the actions. \
Typical loop: create_workflow (or update_workflow) with YAML, fix what validate_workflow reports, commit_workflow, \
then run_workflow with inputs and read the per-action results with get_execution. \
Cases: search_cases, get_case (CASE-0042 or id), comment_on_case, update_case. \
Lookup tables: list_tables, lookup_table_rows, search_table_rows. \
Workspace ids look like ws_…, workflow ids like wf_…; list_workspaces shows yours and your role.";

#[tool_handler(router = self.tool_router)]
impl ServerHandler for FerrocatMcp {
    fn get_info(&self) -> ServerConfig {
        ServerConfig::new(ServerCapabilities::builder().enable_resources().enable_tools().build())
            .with_server_info(Implementation::new("ferrocat", env!("CARGO_PKG_VERSION")))
            .with_instructions(INSTRUCTIONS)
    }

    async fn list_resources(
        &self,
        _request: Option<PaginatedRequestParams>,
        _context: RequestContext<RoleServer>,
    ) -> Result<ListResourcesResult, ErrorData> {
        Ok(ListResourcesResult::with_all_items(resources::list()))
    }

    async fn read_resource(
        &self,
        request: ReadResourceRequestParams,
        _context: RequestContext<RoleServer>,
    ) -> Result<ReadResourceResponse, ErrorData> {
        let app = &self.state.app;
        let contents = resources::read(&request.uri, || ferrocat_app::registries::current_actions(app))
            .await
            .map_err(|error| {
                tracing::error!(%error, "reading the action catalogue failed");
                ErrorData::internal_error("reading the action catalogue failed", None)
            })?
            .ok_or_else(|| ErrorData::resource_not_found(format!("no resource {}", request.uri), None))?;
        Ok(ReadResourceResult::new(vec![contents]).into())
    }
}
