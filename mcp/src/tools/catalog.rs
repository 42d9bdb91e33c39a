//! Orientation tools: the caller's workspaces and roles, the registry's actions, and the names
//! of a workspace's secrets (their key names too, never their values).

use rmcp::handler::server::wrapper::Parameters;
use rmcp::model::CallToolResult;
use rmcp::service::RequestContext;
use rmcp::{ErrorData, RoleServer, schemars, tool, tool_router};
use serde::Deserialize;
use serde_json::{Value, json};

use ferrocat_app::db::{secrets, workspaces};
use ferrocat_shared::ids;

use super::{FerrocatMcp, ToolError, caller, respond};

#[derive(Debug, Deserialize, schemars::JsonSchema)]
pub struct ListSecretsArgs {
    pub workspace_id: Option<String>,
    /// Only this environment (default: every environment).
    pub environment: Option<String>,
}

#[derive(Debug, Deserialize, schemars::JsonSchema)]
pub struct GetSecretArgs {
    pub workspace_id: Option<String>,
    /// The secret's name, as used in `SECRETS.<name>.<KEY>`.
    pub name: String,
    /// Its environment (default `default`).
    pub environment: Option<String>,
}

fn secret_model(row: &secrets::SecretRow) -> Value {
    json!({
        "name": row.name,
        "type": row.kind,
        "environment": row.environment,
        "description": row.description,
        "keys": row.key_names,
        "usage": row.key_names.iter().map(|k| format!("${{{{ SECRETS.{}.{k} }}}}", row.name)).collect::<Vec<_>>(),
    })
}

impl FerrocatMcp {
    async fn do_list_workspaces(&self, context: &RequestContext<RoleServer>) -> Result<Value, ToolError> {
        let caller = caller(context)?;
        let all = workspaces::list_for_user(self.state.db(), caller.user_id).await?;
        Ok(json!({
            "user": caller.email,
            "workspaces": all.iter().map(|m| json!({"id": ids::workspace_id(m.workspace_id), "name": m.name, "role": m.role})).collect::<Vec<_>>(),
        }))
    }

    async fn do_list_secrets(&self, context: &RequestContext<RoleServer>, args: ListSecretsArgs) -> Result<Value, ToolError> {
        let caller = caller(context)?;
        let access = self.access(&caller, args.workspace_id.as_deref()).await?;
        let rows = ferrocat_app::secrets::list(&self.state.app, Some(access.workspace_id), args.environment.as_deref(), None).await?;
        Ok(json!({"secrets": rows.iter().map(secret_model).collect::<Vec<_>>()}))
    }

    async fn do_get_secret(&self, context: &RequestContext<RoleServer>, args: GetSecretArgs) -> Result<Value, ToolError> {
        let caller = caller(context)?;
        let access = self.access(&caller, args.workspace_id.as_deref()).await?;
        let environment = args.environment.as_deref().unwrap_or("default");
        let row = ferrocat_app::secrets::get(&self.state.app, Some(access.workspace_id), &args.name, environment).await?;
        Ok(secret_model(&row))
    }
}

#[tool_router(router = catalog_tools, vis = "pub(crate)")]
impl FerrocatMcp {
    #[tool(description = "List the workspaces you belong to, with your role in each (viewer, editor, admin).")]
    async fn list_workspaces(&self, context: RequestContext<RoleServer>) -> Result<CallToolResult, ErrorData> {
        respond(self.do_list_workspaces(&context).await)
    }

    #[tool(description = "List the registry's actions a workflow can use (built-in, integration templates, synced registries): name, namespace, description, argument schema.")]
    async fn list_actions(&self) -> Result<CallToolResult, ErrorData> {
        respond(ferrocat_app::registries::current_actions(&self.state.app).await.map(crate::resources::catalogue).map_err(Into::into))
    }

    #[tool(description = "List a workspace's secrets: names, environments and key names (never the values).")]
    async fn list_secrets(&self, Parameters(args): Parameters<ListSecretsArgs>, context: RequestContext<RoleServer>) -> Result<CallToolResult, ErrorData> {
        respond(self.do_list_secrets(&context, args).await)
    }

    #[tool(description = "Describe one secret by name: its type, key names and how to reference them (never the values).")]
    async fn get_secret(&self, Parameters(args): Parameters<GetSecretArgs>, context: RequestContext<RoleServer>) -> Result<CallToolResult, ErrorData> {
        respond(self.do_get_secret(&context, args).await)
    }
}
