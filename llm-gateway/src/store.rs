//! The gateway's side of its tables: the catalog as edited through the api (`llm_providers`,
//! `llm_models`, written and announced by the api through `ferrocat_app::db::llm`), which a
//! running gateway listens for and swaps in without a restart, and the usage of every call
//! (`llm_usage`), which the gateway writes. A catalog file (`--models`) stays in force over the
//! stored catalog.

use std::sync::Arc;
use std::time::Duration;

use arc_swap::ArcSwap;
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use sqlx::PgPool;
use sqlx::postgres::PgListener;
use tokio::task::JoinHandle;
use uuid::Uuid;

use ferrocat_app::db::llm::load_parts;
use ferrocat_app::llm_catalog::{CATALOG_CHANNEL, SECRETS_CHANNEL};

use crate::catalog::Catalog;
use crate::credentials::StoredCredentials;
use crate::usage::{UsageRecord, UsageSink};

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
