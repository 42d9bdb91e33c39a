//! Workflow use cases: create one (from a definition, or blank), find one, validate a
//! definition, replace a draft, commit the draft as the next immutable version (and point the
//! workflow's schedules at it), list the versions, restore one into the draft. The api's handlers
//! and the MCP tools both call these, so a commit means the same thing through either.

use serde_json::{Value, json};
use uuid::Uuid;

use ferrocat_dsl::Workflow;
use ferrocat_shared::ids;

use crate::db::workflows::{self, VersionRow, WorkflowRow};
use crate::{App, AppError};

/// A new workflow whose draft is `dsl` (an imported or written definition), with `text`, the
/// document it was written as, when it is one the editor can show as it is.
#[tracing::instrument(skip(app, dsl, text), fields(title = %dsl.title))]
pub async fn create(app: &App, workspace_id: Uuid, dsl: &Workflow, text: Option<&str>) -> Result<WorkflowRow, AppError> {
    let draft = draft_of(dsl)?;
    let row = workflows::insert(&app.db, workspace_id, &dsl.title, &dsl.description, &draft, text).await?;
    tracing::info!(workflow_id = %row.id, "workflow created");
    Ok(row)
}

/// `dsl` as a draft is stored: pinned to no registry version (a commit pins the current ones;
/// a lock in an imported document names another installation's versions).
fn draft_of(dsl: &Workflow) -> Result<Value, AppError> {
    let unpinned = Workflow { registry_lock: Vec::new(), ..dsl.clone() };
    serde_json::to_value(&unpinned).map_err(|e| AppError::Internal(e.into()))
}

/// A new workflow with a title and nothing else yet.
#[tracing::instrument(skip(app))]
pub async fn create_blank(app: &App, workspace_id: Uuid, title: &str, description: &str) -> Result<WorkflowRow, AppError> {
    if title.trim().is_empty() {
        return Err(AppError::BadRequest("title must not be empty".into()));
    }
    let draft = json!({"title": title, "description": description, "entrypoint": {}, "actions": []});
    Ok(workflows::insert(&app.db, workspace_id, title, description, &draft, None).await?)
}

/// `text` when it is a workflow document as its author wrote it (top-level `actions`), which
/// the editor can show with its comments; `None` for an export envelope, whose definition is
/// nested.
pub fn authored_text(text: &str) -> Option<&str> {
    let doc: serde_yaml::Value = serde_yaml::from_str(text).ok()?;
    doc.as_mapping()?.contains_key("actions").then_some(text)
}

/// Every committed version of `row`, newest first.
pub async fn versions(app: &App, workspace_id: Uuid, row: &WorkflowRow) -> Result<Vec<VersionRow>, AppError> {
    Ok(workflows::versions(&app.db, workspace_id, row.id).await?)
}

/// The draft of `row` becomes its committed version `version` (as the caller wrote it) again;
/// commit it to run it. Versions themselves never change.
#[tracing::instrument(skip(app, row), fields(workflow_id = %row.id))]
pub async fn restore(app: &App, workspace_id: Uuid, row: &WorkflowRow, version: &str) -> Result<WorkflowRow, AppError> {
    let not_found = || AppError::NotFound(format!("workflow {} has no version {version}", ids::workflow_id(row.id)));
    let number: i32 = version.parse().map_err(|_| not_found())?;
    let restored = workflows::restore(&app.db, workspace_id, row.id, number).await?.ok_or_else(not_found)?;
    tracing::info!(version = number, "definition restored into the draft");
    Ok(restored)
}

/// The workflow `workflow_id` (`wf_…`) of the workspace; not found when the id is not one or
/// names a workflow of another workspace.
pub async fn load(app: &App, workspace_id: Uuid, workflow_id: &str) -> Result<WorkflowRow, AppError> {
    let not_found = || AppError::NotFound(format!("workflow {workflow_id} not found"));
    let id = ids::parse_workflow_id(workflow_id).map_err(|_| not_found())?;
    workflows::get(&app.db, workspace_id, id).await?.ok_or_else(not_found)
}

/// Every problem of `dsl`: the language's own checks, then what the action table says of its
/// actions (unknown actions, arguments they do not take or lack, templates' literal types),
/// the table holding the current versions of the git registries; and those versions (the lock
/// a commit pins).
pub async fn check(app: &App, dsl: &Workflow) -> Result<(Vec<String>, Vec<ferrocat_dsl::ValidationIssue>), AppError> {
    let (lock, table) = crate::registries::current_table(app).await?;
    let mut issues = dsl.validate().err().unwrap_or_default();
    issues.extend(ferrocat_registry::template::check::check_workflow(dsl, table.as_deref().unwrap_or_else(|| ferrocat_registry::global())));
    Ok((lock, issues))
}

/// `{valid, errors: [{loc, msg}]}` for a definition, or for why it did not parse.
pub async fn validation_report(app: &App, parsed: Result<Workflow, String>) -> Result<Value, AppError> {
    let errors: Vec<Value> = match parsed {
        Err(msg) => vec![json!({"loc": "definition", "msg": msg})],
        Ok(dsl) => check(app, &dsl).await?.1.iter().map(|i| json!({"loc": i.loc, "msg": i.msg})).collect(),
    };
    Ok(json!({"valid": errors.is_empty(), "errors": errors}))
}

/// Replaces the draft of workflow `id` with `dsl` (and its title and description), keeping
/// `text`, the YAML or JSON it was written as, when given; not found when there is no such
/// workflow in the workspace.
#[tracing::instrument(skip(app, dsl, text))]
pub async fn replace_draft(app: &App, workspace_id: Uuid, id: Uuid, dsl: &Workflow, text: Option<&str>) -> Result<WorkflowRow, AppError> {
    let draft = draft_of(dsl)?;
    workflows::replace_draft(&app.db, workspace_id, id, &dsl.title, &dsl.description, &draft, text)
        .await?
        .ok_or_else(|| AppError::NotFound(format!("workflow {} not found", ids::workflow_id(id))))
}

/// What a commit made.
#[derive(Debug, Clone)]
pub struct Committed {
    /// The new version's number.
    pub version: i32,
    /// The committed definition.
    pub dsl: Workflow,
    /// Schedules now running the new version.
    pub schedules_updated: usize,
    /// Schedules still running an older one, and why.
    pub warnings: Vec<String>,
}

/// Commits the draft of `row` as its next immutable version, after validating it as a run
/// would; then points each of the workflow's schedules at the new version (a schedule that
/// cannot be updated is reported in `warnings`, the commit stands).
#[tracing::instrument(skip(app, row), fields(workflow_id = %row.id))]
pub async fn commit(app: &App, workspace_id: Uuid, row: &WorkflowRow) -> Result<Committed, AppError> {
    let dsl: Workflow = serde_json::from_value(row.draft.clone()).map_err(|e| AppError::Unprocessable {
        detail: "the draft is not a valid workflow".into(),
        errors: vec![json!({"loc": "definition", "msg": e.to_string()})],
    })?;
    let (lock, issues) = check(app, &dsl).await?;
    if !issues.is_empty() {
        return Err(AppError::Unprocessable {
            detail: format!("workflow validation failed with {} error(s)", issues.len()),
            errors: issues.iter().map(|i| json!({"loc": i.loc, "msg": i.msg})).collect(),
        });
    }
    // The version runs use, pinned to the registry versions it was checked against.
    let dsl = Workflow { registry_lock: lock, ..dsl };
    let content = serde_json::to_value(&dsl).map_err(|e| AppError::Internal(e.into()))?;
    let mut tx = app.db.begin().await?;
    let version = workflows::commit(&mut tx, workspace_id, row.id, &content, &dsl.title, &dsl.description).await?;
    tx.commit().await?;
    let mut schedules_updated = 0;
    let mut warnings = Vec::new();
    for schedule in crate::db::schedules::list(&app.db, workspace_id, Some(row.id)).await? {
        match crate::schedules::replace(app, &schedule, dsl.clone(), version).await {
            Ok(()) => schedules_updated += 1,
            Err(e) => {
                let id = crate::schedules::schedule_id(schedule.id);
                tracing::error!(schedule_id = %id, error = %e, "schedule still runs the previous version");
                warnings.push(format!("schedule {id} still runs the previous version: {e}"));
            }
        }
    }
    tracing::info!(version, schedules_updated, "workflow committed");
    Ok(Committed { version, dsl, schedules_updated, warnings })
}
