//! Workflows (the editable draft) and their immutable committed definitions.

use chrono::{DateTime, Utc};
use serde_json::Value;
use sqlx::PgExecutor;
use uuid::Uuid;

/// A workflow row.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct WorkflowRow {
    pub id: Uuid,
    pub workspace_id: Uuid,
    pub title: String,
    pub description: String,
    pub status: String,
    pub alias: Option<String>,
    pub version: Option<i32>,
    pub draft: Value,
    /// The YAML the draft was saved from in the editor, when it was.
    pub draft_yaml: Option<String>,
    /// Labels that group workflows, in the order they were set.
    pub tags: Vec<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// A committed definition.
#[derive(Debug, Clone)]
pub struct DefinitionRow {
    pub id: Uuid,
    pub workflow_id: Uuid,
    pub version: i32,
    pub content: Value,
    pub created_at: DateTime<Utc>,
}

// JSON documents are bound as text and cast to `json`: binding a `Value` sends `jsonb`, which
// would reorder the author's keys (and so the keys of results built from them).

/// Inserts a draft, with the text it was written as when there is one.
pub async fn insert(
    db: impl PgExecutor<'_>,
    workspace_id: Uuid,
    title: &str,
    description: &str,
    draft: &Value,
    draft_yaml: Option<&str>,
) -> sqlx::Result<WorkflowRow> {
    sqlx::query_as!(
        WorkflowRow,
        r#"INSERT INTO workflows (id, workspace_id, title, description, draft, draft_yaml)
           VALUES ($1, $2, $3, $4, $5::text::json, $6)
           RETURNING id, workspace_id, title, description, status, alias, version, draft, draft_yaml, tags, created_at, updated_at"#,
        Uuid::now_v7(),
        workspace_id,
        title,
        description,
        draft.to_string(),
        draft_yaml
    )
    .fetch_one(db)
    .await
}

/// One workflow of a workspace.
pub async fn get(db: impl PgExecutor<'_>, workspace_id: Uuid, id: Uuid) -> sqlx::Result<Option<WorkflowRow>> {
    sqlx::query_as!(
        WorkflowRow,
        r#"SELECT id, workspace_id, title, description, status, alias, version, draft, draft_yaml, tags, created_at, updated_at
           FROM workflows WHERE workspace_id = $1 AND id = $2"#,
        workspace_id,
        id
    )
    .fetch_optional(db)
    .await
}

/// A page of a workspace's workflows, newest first, after the cursor (a creation time).
pub async fn list(
    db: impl PgExecutor<'_>,
    workspace_id: Uuid,
    before: Option<DateTime<Utc>>,
    limit: i64,
) -> sqlx::Result<Vec<WorkflowRow>> {
    sqlx::query_as!(
        WorkflowRow,
        r#"SELECT id, workspace_id, title, description, status, alias, version, draft, draft_yaml, tags, created_at, updated_at
           FROM workflows WHERE workspace_id = $1 AND ($2::timestamptz IS NULL OR created_at < $2)
           ORDER BY created_at DESC LIMIT $3"#,
        workspace_id,
        before,
        limit
    )
    .fetch_all(db)
    .await
}

/// The ids of every workflow of a workspace.
pub async fn ids(db: impl PgExecutor<'_>, workspace_id: Uuid) -> sqlx::Result<Vec<Uuid>> {
    sqlx::query_scalar!("SELECT id FROM workflows WHERE workspace_id = $1", workspace_id).fetch_all(db).await
}

/// Writes the next version of a workflow from its draft, in the caller's transaction; returns it.
pub async fn commit(
    tx: &mut sqlx::PgConnection,
    workspace_id: Uuid,
    workflow_id: Uuid,
    content: &Value,
    title: &str,
    description: &str,
) -> sqlx::Result<i32> {
    // Row lock: concurrent commits of one workflow get consecutive versions.
    let current = sqlx::query_scalar!(
        "SELECT version FROM workflows WHERE id = $1 AND workspace_id = $2 FOR UPDATE",
        workflow_id,
        workspace_id
    )
    .fetch_one(&mut *tx)
    .await?;
    let version = current.unwrap_or(0) + 1;
    sqlx::query!(
        r#"INSERT INTO workflow_definitions (id, workflow_id, workspace_id, version, content)
           VALUES ($1, $2, $3, $4, $5::text::json)"#,
        Uuid::now_v7(),
        workflow_id,
        workspace_id,
        version,
        content.to_string()
    )
    .execute(&mut *tx)
    .await?;
    sqlx::query!(
        "UPDATE workflows SET version = $2, title = $3, description = $4, updated_at = now() WHERE id = $1",
        workflow_id,
        version,
        title,
        description
    )
    .execute(&mut *tx)
    .await?;
    Ok(version)
}

/// A committed definition: the given version, or the latest.
pub async fn definition(
    db: impl PgExecutor<'_>,
    workspace_id: Uuid,
    workflow_id: Uuid,
    version: Option<i32>,
) -> sqlx::Result<Option<DefinitionRow>> {
    sqlx::query_as!(
        DefinitionRow,
        r#"SELECT id, workflow_id, version, content, created_at FROM workflow_definitions
           WHERE workspace_id = $1 AND workflow_id = $2 AND ($3::int IS NULL OR version = $3)
           ORDER BY version DESC LIMIT 1"#,
        workspace_id,
        workflow_id,
        version
    )
    .fetch_optional(db)
    .await
}

/// Changes to a workflow's metadata; `None` keeps the current value.
#[derive(Default)]
pub struct WorkflowChanges<'a> {
    pub title: Option<&'a str>,
    pub description: Option<&'a str>,
    pub status: Option<&'a str>,
    /// `Some(None)` clears the alias.
    pub alias: Option<Option<&'a str>>,
    /// Replaces the tags.
    pub tags: Option<&'a [String]>,
}

/// Applies changes to a workflow of the workspace; fails on `workflows_alias_key` when the
/// alias is taken. `None` when there is no such workflow.
pub async fn update(
    db: impl PgExecutor<'_>,
    workspace_id: Uuid,
    id: Uuid,
    changes: &WorkflowChanges<'_>,
) -> sqlx::Result<Option<WorkflowRow>> {
    sqlx::query_as!(
        WorkflowRow,
        r#"UPDATE workflows SET
               title = COALESCE($3, title), description = COALESCE($4, description), status = COALESCE($5, status),
               alias = CASE WHEN $6 THEN $7 ELSE alias END, tags = COALESCE($8, tags), updated_at = now()
           WHERE workspace_id = $1 AND id = $2
           RETURNING id, workspace_id, title, description, status, alias, version, draft, draft_yaml, tags, created_at, updated_at"#,
        workspace_id,
        id,
        changes.title,
        changes.description,
        changes.status,
        changes.alias.is_some(),
        changes.alias.flatten(),
        changes.tags
    )
    .fetch_optional(db)
    .await
}

/// Deletes a workflow with its versions and webhook; whether it existed.
pub async fn delete(db: impl PgExecutor<'_>, workspace_id: Uuid, id: Uuid) -> sqlx::Result<bool> {
    let done = sqlx::query!("DELETE FROM workflows WHERE workspace_id = $1 AND id = $2", workspace_id, id).execute(db).await?;
    Ok(done.rows_affected() == 1)
}

/// A committed version, without its content.
#[derive(Debug, Clone)]
pub struct VersionRow {
    pub id: Uuid,
    pub version: i32,
    pub created_at: DateTime<Utc>,
}

/// Every committed version of a workflow, newest first.
pub async fn versions(db: impl PgExecutor<'_>, workspace_id: Uuid, workflow_id: Uuid) -> sqlx::Result<Vec<VersionRow>> {
    sqlx::query_as!(
        VersionRow,
        r#"SELECT id, version, created_at FROM workflow_definitions
           WHERE workspace_id = $1 AND workflow_id = $2 ORDER BY version DESC"#,
        workspace_id,
        workflow_id
    )
    .fetch_all(db)
    .await
}

/// Replaces a workflow's draft (and its title and description) with a committed version's
/// content; `None` when the workflow or the version does not exist.
pub async fn restore(db: impl PgExecutor<'_>, workspace_id: Uuid, id: Uuid, version: i32) -> sqlx::Result<Option<WorkflowRow>> {
    sqlx::query_as!(
        WorkflowRow,
        r#"UPDATE workflows w SET draft = d.content, draft_yaml = NULL,
               title = COALESCE(d.content::jsonb ->> 'title', w.title),
               description = COALESCE(d.content::jsonb ->> 'description', w.description),
               updated_at = now()
           FROM workflow_definitions d
           WHERE w.workspace_id = $1 AND w.id = $2 AND d.workflow_id = w.id AND d.version = $3
           RETURNING w.id, w.workspace_id, w.title, w.description, w.status, w.alias, w.version, w.draft, w.draft_yaml, w.tags,
                     w.created_at, w.updated_at"#,
        workspace_id,
        id,
        version
    )
    .fetch_optional(db)
    .await
}

/// Replaces a workflow's draft with a new definition (and its title and description), and the
/// text it was written as (`None` when there is none); `None` when the workflow is not in the
/// workspace. The JSON is bound as text and cast to `json`, so the author's key order is kept.
pub async fn replace_draft(
    db: impl PgExecutor<'_>,
    workspace_id: Uuid,
    id: Uuid,
    title: &str,
    description: &str,
    draft: &Value,
    yaml: Option<&str>,
) -> sqlx::Result<Option<WorkflowRow>> {
    sqlx::query_as::<_, WorkflowRow>(
        "UPDATE workflows SET draft = $5::text::json, draft_yaml = $6, title = $3, description = $4, updated_at = now()
         WHERE workspace_id = $1 AND id = $2
         RETURNING id, workspace_id, title, description, status, alias, version, draft, draft_yaml, tags, created_at, updated_at",
    )
    .bind(workspace_id)
    .bind(id)
    .bind(title)
    .bind(description)
    .bind(draft.to_string())
    .bind(yaml)
    .fetch_optional(db)
    .await
}
