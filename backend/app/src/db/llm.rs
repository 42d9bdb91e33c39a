//! The model catalog's tables (`llm_providers`, `llm_models`) and the usage of every gateway call
//! (`llm_usage`, written by the gateway): the api writes the catalog here and announces each
//! change ([`notify_catalog`]); the gateway reads it back with [`load_parts`] and reloads on the
//! notification. The entries' shapes and validation are [`crate::llm_catalog`].

use chrono::{DateTime, Utc};
use serde::Serialize;
use sqlx::{PgConnection, PgExecutor, PgPool};
use uuid::Uuid;

use crate::llm_catalog::{CATALOG_CHANNEL, CatalogParts, ModelSpec, ProviderEntry, SECRETS_CHANNEL};

/// The stored catalog, in order (providers by name, models by creation).
pub async fn load_parts(db: &mut PgConnection) -> Result<CatalogParts, sqlx::Error> {
    let mut parts = CatalogParts::default();
    for row in sqlx::query!("SELECT name, entry FROM llm_providers ORDER BY name").fetch_all(&mut *db).await? {
        let entry: ProviderEntry = serde_json::from_value(row.entry).map_err(|e| sqlx::Error::Decode(Box::new(e)))?;
        parts.providers.insert(row.name, entry);
    }
    for row in sqlx::query!("SELECT name, spec FROM llm_models ORDER BY created_at, name").fetch_all(&mut *db).await? {
        let spec: ModelSpec = serde_json::from_value(row.spec).map_err(|e| sqlx::Error::Decode(Box::new(e)))?;
        parts.models.push((row.name, spec));
    }
    Ok(parts)
}

/// Serializes catalog edits until the transaction ends, so each validates what it commits.
pub async fn lock_catalog(db: impl PgExecutor<'_>) -> Result<(), sqlx::Error> {
    sqlx::query!("SELECT pg_advisory_xact_lock(hashtext($1))", CATALOG_CHANNEL).execute(db).await?;
    Ok(())
}

/// Creates or replaces a provider; true when it was new.
pub async fn put_provider(db: impl PgExecutor<'_>, name: &str, entry: &ProviderEntry) -> Result<bool, sqlx::Error> {
    let entry = serde_json::to_value(entry).expect("a provider entry serializes");
    let row = sqlx::query!(
        r#"INSERT INTO llm_providers (name, entry) VALUES ($1, $2)
           ON CONFLICT (name) DO UPDATE SET entry = EXCLUDED.entry, updated_at = now()
           RETURNING (xmax = 0) AS "created!""#,
        name,
        entry
    )
    .fetch_one(db)
    .await?;
    Ok(row.created)
}

/// Creates or replaces a model; true when it was new (a replaced model keeps its place).
pub async fn put_model(db: impl PgExecutor<'_>, name: &str, spec: &ModelSpec) -> Result<bool, sqlx::Error> {
    let spec = serde_json::to_value(spec).expect("a model spec serializes");
    let row = sqlx::query!(
        r#"INSERT INTO llm_models (name, spec) VALUES ($1, $2)
           ON CONFLICT (name) DO UPDATE SET spec = EXCLUDED.spec, updated_at = now()
           RETURNING (xmax = 0) AS "created!""#,
        name,
        spec
    )
    .fetch_one(db)
    .await?;
    Ok(row.created)
}

/// Deletes a provider; false when there was none.
pub async fn delete_provider(db: impl PgExecutor<'_>, name: &str) -> Result<bool, sqlx::Error> {
    Ok(sqlx::query!("DELETE FROM llm_providers WHERE name = $1", name).execute(db).await?.rows_affected() > 0)
}

/// Deletes a model; false when there was none.
pub async fn delete_model(db: impl PgExecutor<'_>, name: &str) -> Result<bool, sqlx::Error> {
    Ok(sqlx::query!("DELETE FROM llm_models WHERE name = $1", name).execute(db).await?.rows_affected() > 0)
}

/// Tells running gateways that the catalog changed (delivered when the transaction commits).
pub async fn notify_catalog(db: &mut PgConnection) -> Result<(), sqlx::Error> {
    sqlx::query!("SELECT pg_notify($1, '')", CATALOG_CHANNEL).execute(db).await?;
    Ok(())
}

/// Tells running gateways that a secret of `workspace_id` (`None`: the organisation) changed.
pub async fn notify_secrets(db: impl PgExecutor<'_>, workspace_id: Option<Uuid>) -> Result<(), sqlx::Error> {
    let payload = workspace_id.map(|w| w.to_string()).unwrap_or_default();
    sqlx::query!("SELECT pg_notify($1, $2)", SECRETS_CHANNEL, payload).execute(db).await?;
    Ok(())
}

/// Usage of one model in a period.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ModelUsage {
    pub model: String,
    pub requests: i64,
    /// Calls answered with a status of 400 or more.
    pub errors: i64,
    pub input_tokens: i64,
    pub output_tokens: i64,
    pub p50_latency_ms: Option<f64>,
    pub p99_latency_ms: Option<f64>,
}

/// Usage of a workspace between `since` and `until`, per model; only one run's with `run_id`.
pub async fn usage_by_model(
    db: &PgPool,
    workspace_id: Uuid,
    since: DateTime<Utc>,
    until: DateTime<Utc>,
    run_id: Option<&str>,
) -> Result<Vec<ModelUsage>, sqlx::Error> {
    sqlx::query_as!(
        ModelUsage,
        r#"SELECT model AS "model!", count(*) AS "requests!", count(*) FILTER (WHERE status >= 400) AS "errors!",
                  coalesce(sum(input_tokens), 0)::int8 AS "input_tokens!", coalesce(sum(output_tokens), 0)::int8 AS "output_tokens!",
                  percentile_cont(0.5) WITHIN GROUP (ORDER BY latency_ms) AS p50_latency_ms,
                  percentile_cont(0.99) WITHIN GROUP (ORDER BY latency_ms) AS p99_latency_ms
           FROM llm_usage
           WHERE workspace_id = $1 AND created_at >= $2 AND created_at < $3 AND ($4::text IS NULL OR run_id = $4)
           GROUP BY model ORDER BY model"#,
        workspace_id,
        since,
        until,
        run_id
    )
    .fetch_all(db)
    .await
}
