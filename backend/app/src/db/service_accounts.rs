//! Service accounts (machine identities bound to one workspace) and their API keys.

use chrono::{DateTime, Utc};
use sqlx::PgExecutor;
use uuid::Uuid;

/// A service account row.
#[derive(Debug, Clone)]
pub struct ServiceAccountRow {
    pub id: Uuid,
    pub workspace_id: Uuid,
    pub name: String,
    pub description: String,
    pub role: String,
    pub created_by: Option<Uuid>,
    pub disabled_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// An API key row, without its hash.
#[derive(Debug, Clone)]
pub struct ApiKeyRow {
    pub id: Uuid,
    pub service_account_id: Uuid,
    pub name: String,
    pub preview: String,
    pub created_by: Option<Uuid>,
    pub created_at: DateTime<Utc>,
    pub last_used_at: Option<DateTime<Utc>>,
    pub revoked_at: Option<DateTime<Utc>>,
}

/// What authenticating a key needs: its hash, whether it still works, and what it may do.
#[derive(Debug, Clone)]
pub struct KeyCredential {
    pub key_id: Uuid,
    pub secret_hash: Vec<u8>,
    pub revoked: bool,
    pub service_account_id: Uuid,
    pub service_account_name: String,
    pub disabled: bool,
    pub workspace_id: Uuid,
    pub role: String,
}

/// Inserts a service account; fails on `service_accounts_name_key` when the name is taken.
pub async fn insert(
    db: impl PgExecutor<'_>,
    workspace_id: Uuid,
    name: &str,
    description: &str,
    role: &str,
    created_by: Option<Uuid>,
) -> sqlx::Result<ServiceAccountRow> {
    sqlx::query_as!(
        ServiceAccountRow,
        r#"INSERT INTO service_accounts (id, workspace_id, name, description, role, created_by)
           VALUES ($1, $2, $3, $4, $5, $6)
           RETURNING id, workspace_id, name, description, role, created_by, disabled_at, created_at, updated_at"#,
        Uuid::now_v7(),
        workspace_id,
        name,
        description,
        role,
        created_by
    )
    .fetch_one(db)
    .await
}

/// The service accounts of a workspace, oldest first.
pub async fn list(db: impl PgExecutor<'_>, workspace_id: Uuid) -> sqlx::Result<Vec<ServiceAccountRow>> {
    sqlx::query_as!(
        ServiceAccountRow,
        r#"SELECT id, workspace_id, name, description, role, created_by, disabled_at, created_at, updated_at
           FROM service_accounts WHERE workspace_id = $1 ORDER BY created_at"#,
        workspace_id
    )
    .fetch_all(db)
    .await
}

/// One service account of a workspace.
pub async fn get(db: impl PgExecutor<'_>, workspace_id: Uuid, id: Uuid) -> sqlx::Result<Option<ServiceAccountRow>> {
    sqlx::query_as!(
        ServiceAccountRow,
        r#"SELECT id, workspace_id, name, description, role, created_by, disabled_at, created_at, updated_at
           FROM service_accounts WHERE workspace_id = $1 AND id = $2"#,
        workspace_id,
        id
    )
    .fetch_optional(db)
    .await
}

/// Disables or re-enables a service account (its keys stop or resume working).
pub async fn set_disabled(
    db: impl PgExecutor<'_>,
    workspace_id: Uuid,
    id: Uuid,
    disabled: bool,
) -> sqlx::Result<Option<ServiceAccountRow>> {
    sqlx::query_as!(
        ServiceAccountRow,
        r#"UPDATE service_accounts
           SET disabled_at = CASE WHEN $3 THEN COALESCE(disabled_at, now()) ELSE NULL END, updated_at = now()
           WHERE workspace_id = $1 AND id = $2
           RETURNING id, workspace_id, name, description, role, created_by, disabled_at, created_at, updated_at"#,
        workspace_id,
        id,
        disabled
    )
    .fetch_optional(db)
    .await
}

/// Stores a new key by the SHA-256 of its secret.
pub async fn insert_key(
    db: impl PgExecutor<'_>,
    account: &ServiceAccountRow,
    key_id: Uuid,
    name: &str,
    secret_hash: &[u8],
    preview: &str,
    created_by: Option<Uuid>,
) -> sqlx::Result<ApiKeyRow> {
    sqlx::query_as!(
        ApiKeyRow,
        r#"INSERT INTO api_keys (id, service_account_id, workspace_id, name, secret_hash, preview, created_by)
           VALUES ($1, $2, $3, $4, $5, $6, $7)
           RETURNING id, service_account_id, name, preview, created_by, created_at, last_used_at, revoked_at"#,
        key_id,
        account.id,
        account.workspace_id,
        name,
        secret_hash,
        preview,
        created_by
    )
    .fetch_one(db)
    .await
}

/// The keys of a service account, newest first.
pub async fn list_keys(db: impl PgExecutor<'_>, workspace_id: Uuid, account_id: Uuid) -> sqlx::Result<Vec<ApiKeyRow>> {
    sqlx::query_as!(
        ApiKeyRow,
        r#"SELECT id, service_account_id, name, preview, created_by, created_at, last_used_at, revoked_at
           FROM api_keys WHERE workspace_id = $1 AND service_account_id = $2 ORDER BY created_at DESC"#,
        workspace_id,
        account_id
    )
    .fetch_all(db)
    .await
}

/// Revokes a key (idempotent: the first revocation time is kept).
pub async fn revoke_key(
    db: impl PgExecutor<'_>,
    workspace_id: Uuid,
    account_id: Uuid,
    key_id: Uuid,
) -> sqlx::Result<Option<ApiKeyRow>> {
    sqlx::query_as!(
        ApiKeyRow,
        r#"UPDATE api_keys SET revoked_at = COALESCE(revoked_at, now())
           WHERE workspace_id = $1 AND service_account_id = $2 AND id = $3
           RETURNING id, service_account_id, name, preview, created_by, created_at, last_used_at, revoked_at"#,
        workspace_id,
        account_id,
        key_id
    )
    .fetch_optional(db)
    .await
}

/// Looks a key up by id for authentication.
pub async fn credential(db: impl PgExecutor<'_>, key_id: Uuid) -> sqlx::Result<Option<KeyCredential>> {
    sqlx::query_as!(
        KeyCredential,
        r#"SELECT k.id AS key_id, k.secret_hash, k.revoked_at IS NOT NULL AS "revoked!",
                  a.id AS service_account_id, a.name AS service_account_name,
                  a.disabled_at IS NOT NULL AS "disabled!", a.workspace_id, a.role
           FROM api_keys k JOIN service_accounts a ON a.id = k.service_account_id
           WHERE k.id = $1"#,
        key_id
    )
    .fetch_optional(db)
    .await
}

/// Records a use of a key, at most once a minute per key (so reads do not all become writes).
pub async fn touch_key(db: impl PgExecutor<'_>, key_id: Uuid) -> sqlx::Result<()> {
    sqlx::query!(
        r#"UPDATE api_keys SET last_used_at = now()
           WHERE id = $1 AND (last_used_at IS NULL OR last_used_at < now() - interval '1 minute')"#,
        key_id
    )
    .execute(db)
    .await?;
    Ok(())
}
