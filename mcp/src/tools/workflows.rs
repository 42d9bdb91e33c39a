//! Workflow tools: list, get (as YAML), create and update from YAML, validate, commit. Parse and
//! validation failures come back as `{loc, msg}` lists the model can fix and resubmit.

use rmcp::handler::server::wrapper::Parameters;
use rmcp::model::CallToolResult;
use rmcp::service::RequestContext;
use rmcp::{ErrorData, RoleServer, schemars, tool, tool_router};
use serde::Deserialize;
use serde_json::{Value, json};

use ferrocat_app::accounts::Role;
use ferrocat_app::db::workflows::{self, WorkflowRow};
use ferrocat_dsl::Workflow;
use ferrocat_shared::ids;

use super::{Access, FerrocatMcp, ToolError, caller, respond};

#[derive(Debug, Deserialize, schemars::JsonSchema)]
pub struct ListWorkflowsArgs {
    /// Workspace id (`ws_…`); optional when you belong to one workspace.
    pub workspace_id: Option<String>,
    /// How many to return, newest first (1-200, default 50).
    pub limit: Option<i64>,
}

#[derive(Debug, Deserialize, schemars::JsonSchema)]
pub struct GetWorkflowArgs {
    pub workspace_id: Option<String>,
    /// Workflow id (`wf_…`).
    pub workflow_id: String,
    /// A committed version to read; without it, the editable draft.
    pub version: Option<i32>,
}

#[derive(Debug, Deserialize, schemars::JsonSchema)]
pub struct CreateWorkflowArgs {
    pub workspace_id: Option<String>,
    /// The workflow definition in YAML (or JSON): see the resource ferrocat://docs/dsl.
    pub yaml: String,
}

#[derive(Debug, Deserialize, schemars::JsonSchema)]
pub struct UpdateWorkflowArgs {
    pub workspace_id: Option<String>,
    pub workflow_id: String,
    /// The whole new definition in YAML; it replaces the draft.
    pub yaml: String,
}

#[derive(Debug, Deserialize, schemars::JsonSchema)]
pub struct ValidateWorkflowArgs {
    pub workspace_id: Option<String>,
    /// Validate this workflow's draft...
    pub workflow_id: Option<String>,
    /// ...or this YAML document (nothing is stored).
    pub yaml: Option<String>,
}

#[derive(Debug, Deserialize, schemars::JsonSchema)]
pub struct CommitWorkflowArgs {
    pub workspace_id: Option<String>,
    pub workflow_id: String,
}

/// `{valid, errors: [{loc, msg}]}` for a parsed definition.
async fn validation_report(app: &ferrocat_app::App, dsl: &Workflow) -> Result<Value, ToolError> {
    Ok(ferrocat_app::workflows::validation_report(app, Ok(dsl.clone())).await?)
}

fn parse(yaml: &str) -> Result<Workflow, ToolError> {
    Workflow::parse(yaml).map_err(|e| ToolError::Invalid {
        detail: format!("the document is not a workflow: {e}"),
        errors: vec![json!({"loc": "definition", "msg": e.to_string()})],
    })
}

fn summary(row: &WorkflowRow) -> Value {
    json!({
        "id": ids::workflow_id(row.id),
        "workspace_id": ids::workspace_id(row.workspace_id),
        "title": row.title,
        "description": row.description,
        "status": row.status,
        "alias": row.alias,
        "version": row.version,
        "updated_at": row.updated_at,
    })
}

impl FerrocatMcp {
    /// A workflow of the workspace, or not found.
    pub(crate) async fn load_workflow(&self, access: &Access, workflow_id: &str) -> Result<WorkflowRow, ToolError> {
        Ok(ferrocat_app::workflows::load(&self.state.app, access.workspace_id, workflow_id).await?)
    }

    async fn do_list_workflows(&self, context: &RequestContext<RoleServer>, args: ListWorkflowsArgs) -> Result<Value, ToolError> {
        let caller = caller(context)?;
        let access = self.access(&caller, args.workspace_id.as_deref()).await?;
        let limit = args.limit.unwrap_or(50);
        if !(1..=200).contains(&limit) {
            return Err(ToolError::BadRequest("limit must be between 1 and 200".into()));
        }
        let rows = workflows::list(self.state.db(), access.workspace_id, None, limit).await?;
        Ok(json!({"workflows": rows.iter().map(summary).collect::<Vec<_>>()}))
    }

    async fn do_get_workflow(&self, context: &RequestContext<RoleServer>, args: GetWorkflowArgs) -> Result<Value, ToolError> {
        let caller = caller(context)?;
        let access = self.access(&caller, args.workspace_id.as_deref()).await?;
        let row = self.load_workflow(&access, &args.workflow_id).await?;
        let (version, definition) = match args.version {
            None => (None, row.draft.clone()),
            Some(version) => {
                let found = workflows::definition(self.state.db(), access.workspace_id, row.id, Some(version))
                    .await?
                    .ok_or_else(|| ToolError::NotFound(format!("workflow {} has no version {version}", args.workflow_id)))?;
                (Some(found.version), found.content)
            }
        };
        let yaml = serde_yaml::to_string(&definition).map_err(|e| ToolError::Internal(e.into()))?;
        Ok(json!({"workflow": summary(&row), "draft": version.is_none(), "version": version, "yaml": yaml}))
    }

    async fn do_create_workflow(&self, context: &RequestContext<RoleServer>, args: CreateWorkflowArgs) -> Result<Value, ToolError> {
        let caller = caller(context)?;
        let access = self.access(&caller, args.workspace_id.as_deref()).await?;
        access.require(Role::Editor)?;
        let dsl = parse(&args.yaml)?;
        let row = ferrocat_app::workflows::create(&self.state.app, access.workspace_id, &dsl, None).await?;
        tracing::info!(workflow_id = %row.id, user_id = %caller.user_id, "workflow created over mcp");
        Ok(json!({"workflow": summary(&row), "validation": validation_report(&self.state.app, &dsl).await?}))
    }

    async fn do_update_workflow(&self, context: &RequestContext<RoleServer>, args: UpdateWorkflowArgs) -> Result<Value, ToolError> {
        let caller = caller(context)?;
        let access = self.access(&caller, args.workspace_id.as_deref()).await?;
        access.require(Role::Editor)?;
        let row = self.load_workflow(&access, &args.workflow_id).await?;
        let dsl = parse(&args.yaml)?;
        let row = ferrocat_app::workflows::replace_draft(&self.state.app, access.workspace_id, row.id, &dsl, None).await?;
        Ok(json!({"workflow": summary(&row), "validation": validation_report(&self.state.app, &dsl).await?}))
    }

    async fn do_validate_workflow(&self, context: &RequestContext<RoleServer>, args: ValidateWorkflowArgs) -> Result<Value, ToolError> {
        let caller = caller(context)?;
        let access = self.access(&caller, args.workspace_id.as_deref()).await?;
        let parsed = match (&args.workflow_id, &args.yaml) {
            (None, Some(yaml)) => Workflow::parse(yaml).map_err(|e| e.to_string()),
            (Some(id), None) => {
                let row = self.load_workflow(&access, id).await?;
                serde_json::from_value::<Workflow>(row.draft).map_err(|e| e.to_string())
            }
            _ => return Err(ToolError::BadRequest("give exactly one of workflow_id and yaml".into())),
        };
        Ok(match parsed {
            Ok(dsl) => validation_report(&self.state.app, &dsl).await?,
            Err(msg) => json!({"valid": false, "errors": [{"loc": "definition", "msg": msg}]}),
        })
    }

    async fn do_commit_workflow(&self, context: &RequestContext<RoleServer>, args: CommitWorkflowArgs) -> Result<Value, ToolError> {
        let caller = caller(context)?;
        let access = self.access(&caller, args.workspace_id.as_deref()).await?;
        access.require(Role::Editor)?;
        let row = self.load_workflow(&access, &args.workflow_id).await?;
        let committed = ferrocat_app::workflows::commit(&self.state.app, access.workspace_id, &row).await.map_err(|error| match error {
            ferrocat_app::AppError::Unprocessable { detail, errors } => {
                ToolError::Invalid { detail: format!("{detail}; fix them with update_workflow"), errors }
            }
            other => other.into(),
        })?;
        let version = committed.version;
        tracing::info!(workflow_id = %row.id, version, user_id = %caller.user_id, "workflow committed over mcp");
        Ok(json!({
            "workflow_id": ids::workflow_id(row.id),
            "version": version,
            "schedules_updated": committed.schedules_updated,
            "warnings": committed.warnings,
        }))
    }
}

#[tool_router(router = workflow_tools, vis = "pub(crate)")]
impl FerrocatMcp {
    #[tool(description = "List the workflows of a workspace (newest first): id, title, status, committed version.")]
    async fn list_workflows(&self, Parameters(args): Parameters<ListWorkflowsArgs>, context: RequestContext<RoleServer>) -> Result<CallToolResult, ErrorData> {
        respond(self.do_list_workflows(&context, args).await)
    }

    #[tool(description = "Get a workflow's definition as YAML: the draft, or a committed version.")]
    async fn get_workflow(&self, Parameters(args): Parameters<GetWorkflowArgs>, context: RequestContext<RoleServer>) -> Result<CallToolResult, ErrorData> {
        respond(self.do_get_workflow(&context, args).await)
    }

    #[tool(description = "Create a workflow from a YAML definition (editor role). Returns its id and a validation report {valid, errors:[{loc,msg}]}; commit it to run it.")]
    async fn create_workflow(&self, Parameters(args): Parameters<CreateWorkflowArgs>, context: RequestContext<RoleServer>) -> Result<CallToolResult, ErrorData> {
        respond(self.do_create_workflow(&context, args).await)
    }

    #[tool(description = "Replace a workflow's draft with a new YAML definition (editor role). Returns a validation report.")]
    async fn update_workflow(&self, Parameters(args): Parameters<UpdateWorkflowArgs>, context: RequestContext<RoleServer>) -> Result<CallToolResult, ErrorData> {
        respond(self.do_update_workflow(&context, args).await)
    }

    #[tool(description = "Validate a workflow's draft (workflow_id) or a YAML document (yaml) without storing anything: {valid, errors:[{loc,msg}]}.")]
    async fn validate_workflow(&self, Parameters(args): Parameters<ValidateWorkflowArgs>, context: RequestContext<RoleServer>) -> Result<CallToolResult, ErrorData> {
        respond(self.do_validate_workflow(&context, args).await)
    }

    #[tool(description = "Commit a workflow's draft as its next immutable version (editor role); fails with the validation errors if it is not valid.")]
    async fn commit_workflow(&self, Parameters(args): Parameters<CommitWorkflowArgs>, context: RequestContext<RoleServer>) -> Result<CallToolResult, ErrorData> {
        respond(self.do_commit_workflow(&context, args).await)
    }
}
