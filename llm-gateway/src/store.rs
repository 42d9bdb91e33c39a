//! The gateway's tables: the catalog as edited through the api (`llm_providers`, `llm_models`)
//! and the usage of every call (`llm_usage`). The api writes the catalog with the functions here
//! and announces each change (`NOTIFY ferrocat_llm_catalog`); a running gateway listens and swaps
//! in the new catalog without a restart. A catalog file (`--models`) stays in force over it.

use std::sync::Arc;
use std::time::Duration;

use arc_swap::ArcSwap;
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use serde::Serialize;
use sqlx::postgres::PgListener;
use sqlx::{PgConnection, PgExecutor, PgPool};
use tokio::task::JoinHandle;
use uuid::Uuid;

use crate::catalog::{Catalog, CatalogError, CatalogParts, ModelSpec};
use crate::credentials::{CredentialRef, StoredCredentials};
use crate::providers::ProviderEntry;
use crate::usage::{UsageRecord, UsageSink};

/// Channel the api notifies when the stored catalog changes.
pub const CATALOG_CHANNEL: &str = "ferrocat_llm_catalog";
/// Channel the api notifies when a secret changes (payload: the workspace id, empty for an
/// organisation secret).
pub const SECRETS_CHANNEL: &str = "ferrocat_secrets";

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

/// Checks a stored catalog whole, as the api must before committing a change. Stored entries
/// may not name `env:` credentials: whoever edits the catalog through the api would otherwise
/// be able to send any variable of the gateway's environment to a base URL of their choosing.
pub fn validate_stored(parts: &CatalogParts) -> Result<Catalog, CatalogError> {
    for (owner, raw) in parts.credentials() {
        if matches!(CredentialRef::parse(raw), Ok(CredentialRef::Env(_))) {
            return Err(CatalogError::new(format!(
                "{owner}: env: credentials can only be set in a catalog file; store the key as a workspace secret and write secret:NAME"
            )));
        }
    }
    Catalog::build(parts)
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

/// The catalog in force: the file's (fixed at start) over the stored one (reloaded on change).
pub struct LiveCatalog {
    file: Catalog,
    current: ArcSwap<Catalog>,
    /// Whether per-model `rpm` can be enforced (the gateway has Redis).
    limits: bool,
}

impl LiveCatalog {
    /// Starts with the file's catalog alone; `limits` says whether `rpm` is enforced.
    pub fn new(file: Catalog, limits: bool) -> Self {
        Self { current: ArcSwap::from_pointee(file.clone()), file, limits }
    }

    /// The catalog to serve a call with (a cheap snapshot).
    pub fn load(&self) -> arc_swap::Guard<Arc<Catalog>> {
        self.current.load()
    }

    /// Serves the file's catalog over `stored` from now on.
    pub fn set_stored(&self, stored: &Catalog) {
        let (merged, shadowed) = self.file.layered(stored);
        if !shadowed.is_empty() {
            tracing::warn!(?shadowed, "stored models with the same name as a catalog file's are served as the file says");
        }
        let unlimited: Vec<&str> = merged.models().filter(|m| m.rpm.is_some()).map(|m| m.name.as_str()).collect();
        if !self.limits && !unlimited.is_empty() {
            tracing::warn!(models = ?unlimited, "these models set rpm, which is not enforced without FERROCAT_REDIS_URL");
        }
        tracing::info!(models = merged.len(), "model catalog loaded");
        self.current.store(Arc::new(merged));
    }

    async fn reload(&self, db: &PgPool) -> anyhow::Result<()> {
        let mut conn = db.acquire().await?;
        let parts = load_parts(&mut conn).await?;
        self.set_stored(&Catalog::build(&parts)?);
        Ok(())
    }

    /// [`LiveCatalog::reload`], keeping the previous catalog (and saying so) when it fails.
    async fn refresh(&self, db: &PgPool) {
        if let Err(e) = self.reload(db).await {
            tracing::error!(error = %e, "reloading the model catalog failed; serving the previous one");
        }
    }
}

/// Loads the stored catalog now and keeps it current: every catalog notification reloads it,
/// every secrets notification empties the credential cache, and a lost connection does both
/// once it is back (notifications sent meanwhile are lost).
pub async fn watch(db: PgPool, live: Arc<LiveCatalog>, credentials: Option<Arc<StoredCredentials>>) -> anyhow::Result<JoinHandle<()>> {
    let mut listener = PgListener::connect_with(&db).await?;
    listener.listen_all([CATALOG_CHANNEL, SECRETS_CHANNEL]).await?;
    live.reload(&db).await?;
    Ok(tokio::spawn(async move {
        loop {
            match listener.try_recv().await {
                Ok(Some(n)) if n.channel() == SECRETS_CHANNEL => {
                    if let Some(c) = &credentials {
                        c.invalidate();
                    }
                }
                Ok(Some(_)) => live.refresh(&db).await,
                Ok(None) => {
                    tracing::warn!("catalog notifications reconnected; reloading");
                    if let Some(c) = &credentials {
                        c.invalidate();
                    }
                    live.refresh(&db).await;
                }
                Err(e) => {
                    tracing::warn!(error = %e, "catalog notifications lost; retrying in 1 s");
                    tokio::time::sleep(Duration::from_secs(1)).await;
                }
            }
        }
    }))
}

/// Writes usage records to `llm_usage`, one multi-row insert per batch the usage task hands
/// over. A batch that fails to insert is logged and dropped (the metrics still have it).
pub struct DbUsageSink {
    db: PgPool,
}

impl DbUsageSink {
    pub fn new(db: PgPool) -> Self {
        Self { db }
    }
}

#[async_trait]
impl UsageSink for DbUsageSink {
    async fn record(&self, record: &UsageRecord) {
        self.record_batch(std::slice::from_ref(record)).await;
    }

    async fn record_batch(&self, records: &[UsageRecord]) {
        let (workspace, rows): (Vec<Uuid>, Vec<&UsageRecord>) = records
            .iter()
            .filter_map(|r| Some((ferrocat_shared::ids::parse_workspace_id(&r.workspace_id).ok()?, r)))
            .unzip();
        if rows.len() < records.len() {
            tracing::warn!(skipped = records.len() - rows.len(), "usage records without a workspace id are not stored");
        }
        if rows.is_empty() {
            return;
        }
        let run: Vec<Option<String>> = rows.iter().map(|r| r.run_id.clone()).collect();
        let model: Vec<String> = rows.iter().map(|r| r.model.clone()).collect();
        let served_by: Vec<Option<String>> = rows.iter().map(|r| r.served_by.as_ref().map(|s| s.0.clone())).collect();
        let provider: Vec<Option<String>> = rows.iter().map(|r| r.served_by.as_ref().map(|s| s.1.clone())).collect();
        let endpoint: Vec<String> = rows.iter().map(|r| r.endpoint.to_owned()).collect();
        let stream: Vec<bool> = rows.iter().map(|r| r.stream).collect();
        let status: Vec<i16> = rows.iter().map(|r| r.status as i16).collect();
        let attempts: Vec<i32> = rows.iter().map(|r| r.attempts as i32).collect();
        let input: Vec<i64> = rows.iter().map(|r| r.usage.input as i64).collect();
        let output: Vec<i64> = rows.iter().map(|r| r.usage.output as i64).collect();
        let latency: Vec<f64> = rows.iter().map(|r| r.latency.as_secs_f64() * 1e3).collect();
        let first: Vec<Option<f64>> = rows.iter().map(|r| r.first_event.map(|d| d.as_secs_f64() * 1e3)).collect();
        let at: Vec<DateTime<Utc>> = rows.iter().map(|r| r.at).collect();
        let done = sqlx::query!(
            r#"INSERT INTO llm_usage (created_at, workspace_id, run_id, model, served_by, provider, endpoint, stream,
                                      status, attempts, input_tokens, output_tokens, latency_ms, first_event_ms)
               SELECT * FROM UNNEST($1::timestamptz[], $2::uuid[], $3::text[], $4::text[], $5::text[], $6::text[],
                                    $7::text[], $8::bool[], $9::int2[], $10::int4[], $11::int8[], $12::int8[],
                                    $13::float8[], $14::float8[])"#,
            &at,
            &workspace,
            &run as &[Option<String>],
            &model,
            &served_by as &[Option<String>],
            &provider as &[Option<String>],
            &endpoint,
            &stream,
            &status,
            &attempts,
            &input,
            &output,
            &latency,
            &first as &[Option<f64>],
        )
        .execute(&self.db)
        .await;
        if let Err(e) = done {
            tracing::error!(error = %e, records = rows.len(), "storing usage records failed; they are dropped");
        }
    }
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
