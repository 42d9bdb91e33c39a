//! Activities the DSL worker runs on its own queue: reading committed definitions for subflows
//! (`core.workflow.execute`), the one place workflow code needs the database.

use serde::{Deserialize, Serialize};
use sqlx::PgPool;
use temporalio_macros::activities;
use temporalio_sdk::ApplicationFailure;
use temporalio_sdk::activities::{ActivityContext, ActivityError};
use uuid::Uuid;

use ferrocat_dsl::Workflow;
use ferrocat_shared::ids;

/// Which workflow a subflow names: an id (`wf_…`) or an alias, and optionally a version.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ResolveWorkflow {
    pub workspace_id: Uuid,
    pub workflow_id: Option<String>,
    pub alias: Option<String>,
    pub version: Option<i32>,
    /// The environment the subflow is told to run in (`environment:`), if any; otherwise its
    /// definition's own.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub environment: Option<String>,
}

/// A committed definition ready to run.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ResolvedWorkflow {
    pub workflow_id: Uuid,
    pub version: i32,
    /// `config.environment` already set to the one it runs in.
    pub dsl: Workflow,
    /// `VARS` of that environment (`None` from a worker older than this field: the parent's).
    #[serde(default)]
    pub vars: Option<serde_json::Map<String, serde_json::Value>>,
}

/// Database access for workflow code.
pub struct Catalog {
    db: Option<PgPool>,
}

impl Catalog {
    /// A catalog over `db`; `None` makes every lookup fail with a clear message.
    pub fn new(db: Option<PgPool>) -> Self {
        Self { db }
    }

    /// Looks a committed definition up in its workspace.
    pub async fn resolve(&self, request: &ResolveWorkflow) -> Result<ResolvedWorkflow, String> {
        let db = self.db.as_ref().ok_or("subflows need the worker to reach the database (FERROCAT_DATABASE_URL)")?;
        let by_id = match &request.workflow_id {
            Some(text) => Some(ids::parse_workflow_id(text).map_err(|e| e.to_string())?),
            None => None,
        };
        if by_id.is_none() && request.alias.is_none() {
            return Err("core.workflow.execute needs workflow_id or workflow_alias".into());
        }
        let row = sqlx::query!(
            r#"SELECT w.id, d.version, d.content
               FROM workflows w JOIN workflow_definitions d ON d.workflow_id = w.id
               WHERE w.workspace_id = $1 AND (w.id = $2 OR w.alias = $3)
                 AND ($4::int IS NULL OR d.version = $4)
               ORDER BY d.version DESC LIMIT 1"#,
            request.workspace_id,
            by_id,
            request.alias,
            request.version
        )
        .fetch_optional(db)
        .await
        .map_err(|e| format!("looking the subflow up: {e}"))?;
        let name = request.workflow_id.clone().or(request.alias.clone()).unwrap_or_default();
        let row = row.ok_or_else(|| match request.version {
            Some(v) => format!("workflow '{name}' has no committed version {v}"),
            None => format!("workflow '{name}' not found or has no committed definition"),
        })?;
        let mut dsl: Workflow = serde_json::from_value::<Workflow>(row.content)
            .map_err(|e| format!("the definition of '{name}' does not parse: {e}"))?;
        if let Some(environment) = &request.environment {
            dsl.config.environment = environment.clone();
        }
        // The subflow sees its own environment's variables, not its parent's.
        let vars = ferrocat_shared::db::run_variables(db, request.workspace_id, &dsl.config.environment)
            .await
            .map_err(|e| format!("reading the variables of environment '{}': {e}", dsl.config.environment))?;
        Ok(ResolvedWorkflow { workflow_id: row.id, version: row.version, dsl, vars: Some(vars) })
    }
}

#[activities]
impl Catalog {
    /// Resolves a subflow's committed definition.
    #[activity(name = "resolve_workflow_activity")]
    pub async fn resolve_workflow(
        self: std::sync::Arc<Self>,
        _ctx: ActivityContext,
        request: ResolveWorkflow,
    ) -> Result<ResolvedWorkflow, ActivityError> {
        self.resolve(&request).await.map_err(|message| {
            ActivityError::Application(Box::new(
                ApplicationFailure::builder(anyhow::anyhow!(message))
                    .type_name("WorkflowResolutionError".to_owned())
                    .non_retryable(true)
                    .build(),
            ))
        })
    }
}

