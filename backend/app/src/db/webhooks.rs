//! Webhooks: one per workflow, addressed publicly by workflow id and a derived secret, with an
//! optional API key.

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
    /// Goes into the URL secret once the secret was rotated; `None` before the first rotation.
    pub secret_salt: Option<String>,
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
                     secret_salt, created_at, updated_at"#,
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
                  secret_salt, created_at, updated_at
           FROM webhooks WHERE workflow_id = $1"#,
        workflow_id
    )
    .fetch_optional(db)
    .await
}

/// Replaces the salt of the workflow's webhook (a new URL secret; the old one stops working).
pub async fn rotate_secret(db: impl PgExecutor<'_>, workflow_id: Uuid, salt: &str) -> sqlx::Result<Option<WebhookRow>> {
    sqlx::query_as!(
        WebhookRow,
        r#"UPDATE webhooks SET secret_salt = $2, updated_at = now() WHERE workflow_id = $1
           RETURNING id, workflow_id, workspace_id, status, methods, allowlisted_cidrs, include_headers,
                     secret_salt, created_at, updated_at"#,
        workflow_id,
        salt
    )
    .fetch_optional(db)
    .await
}

/// A webhook's API key, without its hash.
#[derive(Debug, Clone)]
pub struct WebhookKeyRow {
    pub preview: String,
    pub created_at: DateTime<Utc>,
    pub revoked_at: Option<DateTime<Utc>>,
}

/// What checking a request's `x-tracecat-api-key` needs.
#[derive(Debug, Clone)]
pub struct WebhookKeyCredential {
    pub secret_hash: Vec<u8>,
    pub revoked: bool,
}

/// Issues the webhook's key, replacing (rotating) any previous one.
pub async fn put_api_key(
    db: impl PgExecutor<'_>,
    webhook_id: Uuid,
    secret_hash: &[u8],
    preview: &str,
    created_by: Option<Uuid>,
) -> sqlx::Result<WebhookKeyRow> {
    sqlx::query_as!(
        WebhookKeyRow,
        r#"INSERT INTO webhook_api_keys (webhook_id, secret_hash, preview, created_by) VALUES ($1, $2, $3, $4)
           ON CONFLICT (webhook_id) DO UPDATE SET secret_hash = EXCLUDED.secret_hash, preview = EXCLUDED.preview,
               created_by = EXCLUDED.created_by, created_at = now(), revoked_at = NULL
           RETURNING preview, created_at, revoked_at"#,
        webhook_id,
        secret_hash,
        preview,
        created_by
    )
    .fetch_one(db)
    .await
}

/// The webhook's key as the management routes show it.
pub async fn api_key(db: impl PgExecutor<'_>, webhook_id: Uuid) -> sqlx::Result<Option<WebhookKeyRow>> {
    sqlx::query_as!(
        WebhookKeyRow,
        "SELECT preview, created_at, revoked_at FROM webhook_api_keys WHERE webhook_id = $1",
        webhook_id
    )
    .fetch_optional(db)
    .await
}

/// The webhook's key as the receiver checks it.
pub async fn api_key_credential(db: impl PgExecutor<'_>, webhook_id: Uuid) -> sqlx::Result<Option<WebhookKeyCredential>> {
    sqlx::query_as!(
        WebhookKeyCredential,
        r#"SELECT secret_hash, revoked_at IS NOT NULL AS "revoked!" FROM webhook_api_keys WHERE webhook_id = $1"#,
        webhook_id
    )
    .fetch_optional(db)
    .await
}

/// Marks the key revoked (requests are refused until it is replaced or deleted); false when
/// there is no key that is not revoked already.
pub async fn revoke_api_key(db: impl PgExecutor<'_>, webhook_id: Uuid) -> sqlx::Result<bool> {
    let result = sqlx::query!(
        "UPDATE webhook_api_keys SET revoked_at = now() WHERE webhook_id = $1 AND revoked_at IS NULL",
        webhook_id
    )
    .execute(db)
    .await?;
    Ok(result.rows_affected() == 1)
}

/// Deletes the key (the webhook no longer needs one); false when there was none.
pub async fn delete_api_key(db: impl PgExecutor<'_>, webhook_id: Uuid) -> sqlx::Result<bool> {
    let result = sqlx::query!("DELETE FROM webhook_api_keys WHERE webhook_id = $1", webhook_id).execute(db).await?;
    Ok(result.rows_affected() == 1)
}
