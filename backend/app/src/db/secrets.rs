//! Workspace secrets, and organisation secrets (no workspace: `workspace_id` NULL; the model
//! gateway falls back to them). Functions take the owner as `Option<Uuid>`, `None` for the
//! organisation. Reads return key names only: the sealed values are selected solely by
//! [`all_sealed`] (re-sealing after a key rotation), never by a route.

use chrono::{DateTime, Utc};
use serde_json::Value;
use sqlx::PgExecutor;
use uuid::Uuid;

/// A secret row without its sealed values.
#[derive(Debug, Clone)]
pub struct SecretRow {
    pub id: Uuid,
    pub workspace_id: Option<Uuid>,
    pub name: String,
    pub kind: String,
    pub environment: String,
    pub description: String,
    pub key_names: Vec<String>,
    pub tags: Value,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// A new secret, already sealed.
pub struct NewSecret<'a> {
    pub id: Uuid,
    pub workspace_id: Option<Uuid>,
    pub name: &'a str,
    pub kind: &'a str,
    pub environment: &'a str,
    pub description: &'a str,
    pub sealed: &'a [u8],
    pub key_names: &'a [String],
    pub tags: &'a Value,
}

/// Inserts a secret; fails on `secrets_name_key` (`secrets_org_name_key` for the organisation)
/// when the name is taken in that environment.
pub async fn insert(db: impl PgExecutor<'_>, new: &NewSecret<'_>) -> sqlx::Result<SecretRow> {
    sqlx::query_as!(
        SecretRow,
        r#"INSERT INTO secrets (id, workspace_id, name, type, environment, description, encrypted_keys, key_names, tags)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
           RETURNING id, workspace_id, name, type AS kind, environment, description, key_names, tags,
                     created_at, updated_at"#,
        new.id,
        new.workspace_id,
        new.name,
        new.kind,
        new.environment,
        new.description,
        new.sealed,
        new.key_names,
        new.tags
    )
    .fetch_one(db)
    .await
}

/// A workspace's secrets, optionally of one environment and type, by name.
pub async fn list(
    db: impl PgExecutor<'_>,
    workspace_id: Option<Uuid>,
    environment: Option<&str>,
    kind: Option<&str>,
) -> sqlx::Result<Vec<SecretRow>> {
    sqlx::query_as!(
        SecretRow,
        r#"SELECT id, workspace_id, name, type AS kind, environment, description, key_names, tags, created_at, updated_at
           FROM secrets
           WHERE workspace_id IS NOT DISTINCT FROM $1 AND ($2::text IS NULL OR environment = $2) AND ($3::text IS NULL OR type = $3)
           ORDER BY name, environment"#,
        workspace_id,
        environment,
        kind
    )
    .fetch_all(db)
    .await
}

/// A secret by name in one environment.
pub async fn get_by_name(
    db: impl PgExecutor<'_>,
    workspace_id: Option<Uuid>,
    name: &str,
    environment: &str,
) -> sqlx::Result<Option<SecretRow>> {
    sqlx::query_as!(
        SecretRow,
        r#"SELECT id, workspace_id, name, type AS kind, environment, description, key_names, tags, created_at, updated_at
           FROM secrets WHERE workspace_id IS NOT DISTINCT FROM $1 AND name = $2 AND environment = $3"#,
        workspace_id,
        name,
        environment
    )
    .fetch_optional(db)
    .await
}

/// Changes to a secret; `None` keeps the current value. New values come sealed for this row.
#[derive(Default)]
pub struct SecretChanges<'a> {
    pub name: Option<&'a str>,
    pub kind: Option<&'a str>,
    pub environment: Option<&'a str>,
    pub description: Option<&'a str>,
    pub tags: Option<&'a Value>,
    pub sealed: Option<(&'a [u8], &'a [String])>,
}

/// Applies changes to a secret of the workspace; `None` when there is no such secret.
pub async fn update(
    db: impl PgExecutor<'_>,
    workspace_id: Option<Uuid>,
    id: Uuid,
    changes: &SecretChanges<'_>,
) -> sqlx::Result<Option<SecretRow>> {
    let (sealed, key_names) = changes.sealed.unzip();
    sqlx::query_as!(
        SecretRow,
        r#"UPDATE secrets SET
               name = COALESCE($3, name), type = COALESCE($4, type), environment = COALESCE($5, environment),
               description = COALESCE($6, description), tags = COALESCE($7, tags),
               encrypted_keys = COALESCE($8, encrypted_keys), key_names = COALESCE($9, key_names),
               updated_at = now()
           WHERE workspace_id IS NOT DISTINCT FROM $1 AND id = $2
           RETURNING id, workspace_id, name, type AS kind, environment, description, key_names, tags,
                     created_at, updated_at"#,
        workspace_id,
        id,
        changes.name,
        changes.kind,
        changes.environment,
        changes.description,
        changes.tags,
        sealed,
        key_names
    )
    .fetch_optional(db)
    .await
}

/// Deletes a secret of the workspace; whether it existed.
pub async fn delete(db: impl PgExecutor<'_>, workspace_id: Option<Uuid>, id: Uuid) -> sqlx::Result<bool> {
    let done = sqlx::query!("DELETE FROM secrets WHERE workspace_id IS NOT DISTINCT FROM $1 AND id = $2", workspace_id, id)
        .execute(db)
        .await?;
    Ok(done.rows_affected() == 1)
}

/// Every secret's id and sealed values, for re-sealing under a new key.
pub async fn all_sealed(db: impl PgExecutor<'_>) -> sqlx::Result<Vec<(Uuid, Vec<u8>)>> {
    let rows = sqlx::query!("SELECT id, encrypted_keys FROM secrets").fetch_all(db).await?;
    Ok(rows.into_iter().map(|r| (r.id, r.encrypted_keys)).collect())
}

/// Replaces a secret's sealed values if they are still `previous` (a concurrent update wins).
pub async fn reseal(db: impl PgExecutor<'_>, id: Uuid, previous: &[u8], sealed: &[u8]) -> sqlx::Result<bool> {
    let done = sqlx::query!("UPDATE secrets SET encrypted_keys = $3 WHERE id = $1 AND encrypted_keys = $2", id, previous, sealed)
        .execute(db)
        .await?;
    Ok(done.rows_affected() == 1)
}
