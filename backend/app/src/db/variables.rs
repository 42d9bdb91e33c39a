//! Workspace variables: plain `{key: value}` sets per environment (`VARS.name.key`).

use chrono::{DateTime, Utc};
use serde_json::Value;
use sqlx::PgExecutor;
use uuid::Uuid;

/// A variable row.
#[derive(Debug, Clone)]
pub struct VariableRow {
    pub id: Uuid,
    pub workspace_id: Uuid,
    pub name: String,
    pub description: String,
    pub environment: String,
    pub values: Value,
    pub tags: Value,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// A new variable.
pub struct NewVariable<'a> {
    pub workspace_id: Uuid,
    pub name: &'a str,
    pub description: &'a str,
    pub environment: &'a str,
    pub values: &'a Value,
    pub tags: &'a Value,
}

/// Inserts a variable; fails on `variables_name_key` when the name is taken in that environment.
pub async fn insert(db: impl PgExecutor<'_>, new: &NewVariable<'_>) -> sqlx::Result<VariableRow> {
    sqlx::query_as!(
        VariableRow,
        r#"INSERT INTO variables (id, workspace_id, name, description, environment, "values", tags)
           VALUES ($1, $2, $3, $4, $5, $6, $7)
           RETURNING id, workspace_id, name, description, environment, "values", tags, created_at, updated_at"#,
        Uuid::now_v7(),
        new.workspace_id,
        new.name,
        new.description,
        new.environment,
        new.values,
        new.tags
    )
    .fetch_one(db)
    .await
}

/// A workspace's variables, optionally of one environment, by name.
pub async fn list(db: impl PgExecutor<'_>, workspace_id: Uuid, environment: Option<&str>) -> sqlx::Result<Vec<VariableRow>> {
    sqlx::query_as!(
        VariableRow,
        r#"SELECT id, workspace_id, name, description, environment, "values", tags, created_at, updated_at
           FROM variables WHERE workspace_id = $1 AND ($2::text IS NULL OR environment = $2)
           ORDER BY name, environment"#,
        workspace_id,
        environment
    )
    .fetch_all(db)
    .await
}

/// A variable by name in one environment.
pub async fn get_by_name(
    db: impl PgExecutor<'_>,
    workspace_id: Uuid,
    name: &str,
    environment: &str,
) -> sqlx::Result<Option<VariableRow>> {
    sqlx::query_as!(
        VariableRow,
        r#"SELECT id, workspace_id, name, description, environment, "values", tags, created_at, updated_at
           FROM variables WHERE workspace_id = $1 AND name = $2 AND environment = $3"#,
        workspace_id,
        name,
        environment
    )
    .fetch_optional(db)
    .await
}

/// Changes to a variable; `None` keeps the current value.
#[derive(Default)]
pub struct VariableChanges<'a> {
    pub name: Option<&'a str>,
    pub description: Option<&'a str>,
    pub environment: Option<&'a str>,
    pub values: Option<&'a Value>,
    pub tags: Option<&'a Value>,
}

/// Applies changes to a variable of the workspace; `None` when there is no such variable.
pub async fn update(
    db: impl PgExecutor<'_>,
    workspace_id: Uuid,
    id: Uuid,
    changes: &VariableChanges<'_>,
) -> sqlx::Result<Option<VariableRow>> {
    sqlx::query_as!(
        VariableRow,
        r#"UPDATE variables SET
               name = COALESCE($3, name), description = COALESCE($4, description),
               environment = COALESCE($5, environment), "values" = COALESCE($6, "values"),
               tags = COALESCE($7, tags), updated_at = now()
           WHERE workspace_id = $1 AND id = $2
           RETURNING id, workspace_id, name, description, environment, "values", tags, created_at, updated_at"#,
        workspace_id,
        id,
        changes.name,
        changes.description,
        changes.environment,
        changes.values,
        changes.tags
    )
    .fetch_optional(db)
    .await
}

/// Deletes a variable of the workspace; whether it existed.
pub async fn delete(db: impl PgExecutor<'_>, workspace_id: Uuid, id: Uuid) -> sqlx::Result<bool> {
    let done = sqlx::query!("DELETE FROM variables WHERE workspace_id = $1 AND id = $2", workspace_id, id).execute(db).await?;
    Ok(done.rows_affected() == 1)
}

/// `VARS` for a run: every variable of the workspace's `environment` as `{name: {key: value}}`.
pub use ferrocat_shared::db::run_variables as resolve;
