//! Schedules: the mirrored configuration of each workflow's Temporal schedules.

use chrono::{DateTime, Utc};
use serde_json::Value;
use sqlx::PgExecutor;
use uuid::Uuid;

/// A schedule row.
#[derive(Debug, Clone)]
pub struct ScheduleRow {
    pub id: Uuid,
    pub workspace_id: Uuid,
    pub workflow_id: Uuid,
    pub status: String,
    pub cron: Option<String>,
    pub every_ms: Option<i64>,
    pub offset_ms: Option<i64>,
    pub start_at: Option<DateTime<Utc>>,
    pub end_at: Option<DateTime<Utc>>,
    pub inputs: Value,
    pub timeout_s: Option<f64>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// The configuration a caller chooses (all of it, on create and on update).
#[derive(Debug, Clone)]
pub struct ScheduleSettings {
    pub status: String,
    pub cron: Option<String>,
    pub every_ms: Option<i64>,
    pub offset_ms: Option<i64>,
    pub start_at: Option<DateTime<Utc>>,
    pub end_at: Option<DateTime<Utc>>,
    pub inputs: Value,
    pub timeout_s: Option<f64>,
}

/// Inserts a schedule.
pub async fn insert(
    db: impl PgExecutor<'_>,
    id: Uuid,
    workspace_id: Uuid,
    workflow_id: Uuid,
    s: &ScheduleSettings,
) -> sqlx::Result<ScheduleRow> {
    sqlx::query_as!(
        ScheduleRow,
        r#"INSERT INTO schedules (id, workspace_id, workflow_id, status, cron, every_ms, offset_ms, start_at, end_at, inputs, timeout_s)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)
           RETURNING id, workspace_id, workflow_id, status, cron, every_ms, offset_ms, start_at, end_at, inputs, timeout_s,
                     created_at, updated_at"#,
        id,
        workspace_id,
        workflow_id,
        s.status,
        s.cron,
        s.every_ms,
        s.offset_ms,
        s.start_at,
        s.end_at,
        s.inputs,
        s.timeout_s
    )
    .fetch_one(db)
    .await
}

/// A workspace's schedules, optionally of one workflow, oldest first.
pub async fn list(db: impl PgExecutor<'_>, workspace_id: Uuid, workflow_id: Option<Uuid>) -> sqlx::Result<Vec<ScheduleRow>> {
    sqlx::query_as!(
        ScheduleRow,
        r#"SELECT id, workspace_id, workflow_id, status, cron, every_ms, offset_ms, start_at, end_at, inputs, timeout_s,
                  created_at, updated_at
           FROM schedules WHERE workspace_id = $1 AND ($2::uuid IS NULL OR workflow_id = $2)
           ORDER BY created_at, id"#,
        workspace_id,
        workflow_id
    )
    .fetch_all(db)
    .await
}

/// A schedule of the workspace, locked for update when inside a transaction.
pub async fn get_for_update(db: impl PgExecutor<'_>, workspace_id: Uuid, id: Uuid) -> sqlx::Result<Option<ScheduleRow>> {
    sqlx::query_as!(
        ScheduleRow,
        r#"SELECT id, workspace_id, workflow_id, status, cron, every_ms, offset_ms, start_at, end_at, inputs, timeout_s,
                  created_at, updated_at
           FROM schedules WHERE workspace_id = $1 AND id = $2 FOR UPDATE"#,
        workspace_id,
        id
    )
    .fetch_optional(db)
    .await
}

/// Replaces a schedule's configuration.
pub async fn update(db: impl PgExecutor<'_>, id: Uuid, s: &ScheduleSettings) -> sqlx::Result<ScheduleRow> {
    sqlx::query_as!(
        ScheduleRow,
        r#"UPDATE schedules SET status = $2, cron = $3, every_ms = $4, offset_ms = $5, start_at = $6, end_at = $7,
               inputs = $8, timeout_s = $9, updated_at = now()
           WHERE id = $1
           RETURNING id, workspace_id, workflow_id, status, cron, every_ms, offset_ms, start_at, end_at, inputs, timeout_s,
                     created_at, updated_at"#,
        id,
        s.status,
        s.cron,
        s.every_ms,
        s.offset_ms,
        s.start_at,
        s.end_at,
        s.inputs,
        s.timeout_s
    )
    .fetch_one(db)
    .await
}

/// Deletes a schedule row.
pub async fn delete(db: impl PgExecutor<'_>, id: Uuid) -> sqlx::Result<bool> {
    let done = sqlx::query!("DELETE FROM schedules WHERE id = $1", id).execute(db).await?;
    Ok(done.rows_affected() == 1)
}
