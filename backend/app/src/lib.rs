//! The use cases of ferrocat, written once for every face (the api, the MCP server, and through
//! the api the console): workflows, runs, schedules, accounts and their repositories, and the
//! model gateway's catalog contract ([`llm_catalog`]), with one domain error ([`AppError`]). A
//! face authenticates and authorises the caller, calls a use case, and renders what comes back.

pub mod accounts;
pub mod api_keys;
pub mod auth_settings;
pub mod cases;
pub mod checks;
pub mod column_types;
pub mod config;
pub mod db;
pub mod error;
pub mod integrations;
pub mod llm_catalog;
pub mod lockout;
pub mod passwords;
pub mod rate_limit;
pub mod registries;
pub mod runs;
pub mod schedules;
pub mod secrets;
pub mod sso;
pub mod tables;
pub mod variables;
pub mod workflows;

use std::sync::Arc;
use std::time::Duration;

use anyhow::Context as _;
use secrecy::ExposeSecret as _;
use sqlx::PgPool;

pub use config::AppConfig;
pub use error::AppError;

/// What the use cases work with: the pools and clients, and the settings. Cheap to clone.
#[derive(Clone)]
pub struct App {
    pub db: PgPool,
    pub temporal: temporalio_client::Client,
    pub config: Arc<AppConfig>,
    /// Counters in Redis (webhook rate limits, sign-in failures).
    pub limiter: rate_limit::RateLimiter,
    /// Reads back results kept in object storage.
    pub results: Option<ferrocat_shared::objects::ResultStore>,
    /// HTTP under the egress policy, for OAuth providers' token endpoints.
    pub http: ferrocat_shared::egress::EgressClient,
    /// Case attachments, when an object store is configured.
    pub attachments: Option<ferrocat_shared::objects::BlobStore>,
    /// The OpenID Connect provider the console signs in through (its answers come back to
    /// `/api/auth/oidc/callback`), when configured.
    pub oidc: Option<Arc<sso::Provider>>,
    /// Webhook requests being taken in at once (`FERROCAT_WEBHOOK_MAX_INFLIGHT`): beyond it a
    /// webhook gets 503 with Retry-After at once instead of queueing without bound.
    pub webhook_slots: Arc<tokio::sync::Semaphore>,
}

impl App {
    /// Connects to Postgres and Temporal (waiting up to 30 s for Temporal) and opens the Redis
    /// and object store clients. Changes nothing in the database.
    pub async fn connect(config: AppConfig) -> anyhow::Result<Self> {
        let db = ferrocat_shared::db::connect(config.database_url.expose_secret(), 20).await.context("connecting to Postgres")?;
        let temporal = config.temporal.connect_patiently(Duration::from_secs(30)).await?;
        let redis = redis::Client::open(config.redis_url.expose_secret()).context("opening the Redis client")?;
        let limiter = rate_limit::RateLimiter::new(redis, &config.redis_prefix);
        let results = config.results.as_ref().map(ferrocat_shared::objects::ResultStore::new);
        let attachments = config.results.as_ref().map(|store| ferrocat_shared::objects::BlobStore::new(store, &config.attachments));
        let http = ferrocat_shared::egress::EgressClient::new(config.egress.clone(), Default::default()).context("building the HTTP client")?;
        let callback = format!("{}/api/auth/oidc/callback", config.public_url.trim_end_matches('/'));
        let oidc = config.oidc.clone().map(|c| sso::Provider::new(c, callback)).transpose().context("the sso client")?.map(Arc::new);
        let webhook_slots = Arc::new(tokio::sync::Semaphore::new(config.webhook_max_inflight));
        Ok(Self { db, temporal, config: Arc::new(config), limiter, results, http, attachments, oidc, webhook_slots })
    }
}
