//! Webhooks: one per workflow, addressed publicly by workflow id and a derived secret.

use chrono::{DateTime, Utc};
use sqlx::PgExecutor;
use uuid::Uuid;

/// A webhook row.
#[derive(Debug, Clone)]
pub struct WebhookRow {
    pub id: Uuid,
    pub workflow_id: Uuid,
    pub workspace_id: Uuid,
    pub status: String,
    pub methods: Vec<String>,
    pub allowlisted_cidrs: Vec<String>,
    pub include_headers: bool,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// Settings a caller may choose.
#[derive(Debug, Clone)]
pub struct WebhookSettings {
    pub status: String,
    pub methods: Vec<String>,
    pub allowlisted_cidrs: Vec<String>,
    pub include_headers: bool,
}

/// Creates the workflow's webhook, or updates its settings when it exists.
pub async fn upsert(
    db: impl PgExecutor<'_>,
    workspace_id: Uuid,
    workflow_id: Uuid,
    settings: &WebhookSettings,
) -> sqlx::Result<WebhookRow> {
    sqlx::query_as!(
        WebhookRow,
        r#"INSERT INTO webhooks (id, workflow_id, workspace_id, status, methods, allowlisted_cidrs, include_headers)
           VALUES ($1, $2, $3, $4, $5, $6, $7)
           ON CONFLICT (workflow_id) DO UPDATE SET status = EXCLUDED.status, methods = EXCLUDED.methods,
               allowlisted_cidrs = EXCLUDED.allowlisted_cidrs, include_headers = EXCLUDED.include_headers,
               updated_at = now()
           RETURNING id, workflow_id, workspace_id, status, methods, allowlisted_cidrs, include_headers,
                     created_at, updated_at"#,
        Uuid::now_v7(),
        workflow_id,
        workspace_id,
        settings.status,
        &settings.methods,
        &settings.allowlisted_cidrs,
        settings.include_headers
    )
    .fetch_one(db)
    .await
}

/// The webhook of a workflow (no workspace filter: the public receiver resolves it by id).
pub async fn for_workflow(db: impl PgExecutor<'_>, workflow_id: Uuid) -> sqlx::Result<Option<WebhookRow>> {
    sqlx::query_as!(
        WebhookRow,
        r#"SELECT id, workflow_id, workspace_id, status, methods, allowlisted_cidrs, include_headers,
                  created_at, updated_at
           FROM webhooks WHERE workflow_id = $1"#,
        workflow_id
    )
    .fetch_optional(db)
    .await
}
