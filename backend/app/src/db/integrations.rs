//! The `oauth_integrations` and `oauth_states` tables (sealed columns stay sealed here; the use
//! cases and `ferrocat_shared::oauth` open them).

use chrono::{DateTime, Utc};
use serde_json::Value;
use sqlx::PgExecutor;
use uuid::Uuid;

/// One integration, as stored.
#[derive(Debug, Clone)]
pub struct IntegrationRow {
    pub id: Uuid,
    pub workspace_id: Uuid,
    pub provider_id: String,
    pub grant_type: String,
    pub client_id: String,
    pub encrypted_client: Vec<u8>,
    pub scopes: Vec<String>,
    pub params: Value,
    pub connected: bool,
    pub expires_at: Option<DateTime<Utc>>,
    pub granted_scopes: Option<Vec<String>>,
    pub last_error: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

pub async fn list(db: impl PgExecutor<'_>, workspace_id: Uuid) -> sqlx::Result<Vec<IntegrationRow>> {
    sqlx::query_as!(
        IntegrationRow,
        r#"SELECT id, workspace_id, provider_id, grant_type, client_id, encrypted_client, scopes, params,
                  encrypted_tokens IS NOT NULL AS "connected!", expires_at, granted_scopes, last_error, created_at, updated_at
           FROM oauth_integrations WHERE workspace_id = $1 ORDER BY provider_id, grant_type"#,
        workspace_id
    )
    .fetch_all(db)
    .await
}

pub async fn get(db: impl PgExecutor<'_>, workspace_id: Uuid, provider_id: &str, grant_type: &str) -> sqlx::Result<Option<IntegrationRow>> {
    sqlx::query_as!(
        IntegrationRow,
        r#"SELECT id, workspace_id, provider_id, grant_type, client_id, encrypted_client, scopes, params,
                  encrypted_tokens IS NOT NULL AS "connected!", expires_at, granted_scopes, last_error, created_at, updated_at
           FROM oauth_integrations WHERE workspace_id = $1 AND provider_id = $2 AND grant_type = $3"#,
        workspace_id,
        provider_id,
        grant_type
    )
    .fetch_optional(db)
    .await
}

/// What an integration is configured with.
pub struct Config<'a> {
    pub client_id: &'a str,
    pub encrypted_client: &'a [u8],
    pub scopes: &'a [String],
    pub params: &'a Value,
}

/// Creates the integration (`id` is only used when it is new) or replaces its configuration;
/// a new client id drops the tokens the old client held.
pub async fn upsert(
    db: impl PgExecutor<'_>,
    id: Uuid,
    workspace_id: Uuid,
    provider_id: &str,
    grant_type: &str,
    config: &Config<'_>,
) -> sqlx::Result<()> {
    sqlx::query!(
        "INSERT INTO oauth_integrations (id, workspace_id, provider_id, grant_type, client_id, encrypted_client, scopes, params)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
         ON CONFLICT ON CONSTRAINT oauth_integrations_key DO UPDATE SET
           client_id = EXCLUDED.client_id, encrypted_client = EXCLUDED.encrypted_client,
           scopes = EXCLUDED.scopes, params = EXCLUDED.params, updated_at = now(),
           encrypted_tokens = CASE WHEN oauth_integrations.client_id = EXCLUDED.client_id THEN oauth_integrations.encrypted_tokens END,
           expires_at = CASE WHEN oauth_integrations.client_id = EXCLUDED.client_id THEN oauth_integrations.expires_at END",
        id,
        workspace_id,
        provider_id,
        grant_type,
        config.client_id,
        config.encrypted_client,
        config.scopes,
        config.params
    )
    .execute(db)
    .await?;
    Ok(())
}

pub async fn delete(db: impl PgExecutor<'_>, id: Uuid) -> sqlx::Result<()> {
    sqlx::query!("DELETE FROM oauth_integrations WHERE id = $1", id).execute(db).await?;
    Ok(())
}

/// Forgets the tokens (the configuration stays).
pub async fn disconnect(db: impl PgExecutor<'_>, id: Uuid) -> sqlx::Result<()> {
    sqlx::query!(
        "UPDATE oauth_integrations SET encrypted_tokens = NULL, expires_at = NULL, granted_scopes = NULL, last_error = NULL, updated_at = now() WHERE id = $1",
        id
    )
    .execute(db)
    .await?;
    Ok(())
}

/// Records why the last token request failed.
pub async fn set_error(db: impl PgExecutor<'_>, id: Uuid, message: &str) -> sqlx::Result<()> {
    sqlx::query!("UPDATE oauth_integrations SET last_error = $2, updated_at = now() WHERE id = $1", id, message).execute(db).await?;
    Ok(())
}

/// Who connected the integration.
pub async fn set_connected_by(db: impl PgExecutor<'_>, id: Uuid, user_id: Uuid) -> sqlx::Result<()> {
    sqlx::query!("UPDATE oauth_integrations SET connected_by = $2 WHERE id = $1", id, user_id).execute(db).await?;
    Ok(())
}

/// An authorization-code flow started by `user_id`, valid for `ttl_seconds`; expired ones are
/// swept first.
pub async fn insert_state(
    db: &sqlx::PgPool,
    state: &str,
    integration_id: Uuid,
    user_id: Uuid,
    encrypted_verifier: &[u8],
    ttl_seconds: f64,
) -> sqlx::Result<()> {
    sqlx::query!("DELETE FROM oauth_states WHERE expires_at < now()").execute(db).await?;
    sqlx::query!(
        "INSERT INTO oauth_states (state, integration_id, user_id, encrypted_verifier, expires_at)
         VALUES ($1, $2, $3, $4, now() + make_interval(secs => $5))",
        state,
        integration_id,
        user_id,
        encrypted_verifier,
        ttl_seconds
    )
    .execute(db)
    .await?;
    Ok(())
}

/// A flow in progress, taken (used once).
pub struct StateRow {
    pub integration_id: Uuid,
    pub user_id: Uuid,
    pub encrypted_verifier: Vec<u8>,
    pub expired: bool,
}

pub async fn take_state(db: impl PgExecutor<'_>, state: &str) -> sqlx::Result<Option<StateRow>> {
    sqlx::query_as!(
        StateRow,
        r#"DELETE FROM oauth_states WHERE state = $1
           RETURNING integration_id, user_id, encrypted_verifier, expires_at < now() AS "expired!""#,
        state
    )
    .fetch_optional(db)
    .await
}

pub async fn get_by_id(db: impl PgExecutor<'_>, id: Uuid) -> sqlx::Result<Option<IntegrationRow>> {
    sqlx::query_as!(
        IntegrationRow,
        r#"SELECT id, workspace_id, provider_id, grant_type, client_id, encrypted_client, scopes, params,
                  encrypted_tokens IS NOT NULL AS "connected!", expires_at, granted_scopes, last_error, created_at, updated_at
           FROM oauth_integrations WHERE id = $1"#,
        id
    )
    .fetch_optional(db)
    .await
}
