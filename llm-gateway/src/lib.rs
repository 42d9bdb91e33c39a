//! The model gateway: OpenAI- and Anthropic-compatible endpoints in front of OpenAI, Anthropic,
//! Azure OpenAI, Gemini and any OpenAI-compatible server. Callers (the executor, agents) present
//! a short-lived signed token; the gateway resolves and injects the provider credentials, so keys
//! never enter a sandbox. See `config` for the settings and `catalog` for the model file.

pub mod auth;
pub mod catalog;
pub mod cli;
pub mod config;
pub mod credentials;
pub mod dispatch;
pub mod error;
pub mod http;
pub mod metrics;
pub mod providers;
pub mod ratelimit;
pub mod redact;
pub mod sse;
pub mod state;
pub mod store;
pub mod stream;
pub mod translate;
pub mod usage;
pub mod wire;

use std::sync::Arc;
use std::time::Duration;

use anyhow::Context as _;
use axum::Router;
use tokio::net::TcpListener;
use tokio::task::JoinHandle;

pub use config::GatewayConfig;
pub use state::{AppState, Shared};

use ferrocat_shared::secret_store::SecretStore;

use crate::auth::TokenKey;
use crate::credentials::{CredentialSource, StoredCredentials};
use crate::metrics::Metrics;
use crate::ratelimit::RateLimiter;
use crate::store::{DbUsageSink, LiveCatalog};
use crate::usage::{LogSink, UsageRecorder, UsageSink};

/// A built gateway, ready to serve.
pub struct Gateway {
    state: AppState,
    usage_task: JoinHandle<()>,
}

impl Gateway {
    /// Builds the gateway: HTTP client, Redis limiter (when limits are set), usage task.
    /// `credentials` defaults to the `env:` credentials captured in `config`; `sinks` receive
    /// every usage record besides the log.
    pub async fn build(config: GatewayConfig, credentials: Option<Arc<dyn CredentialSource>>, sinks: Vec<Arc<dyn UsageSink>>) -> anyhow::Result<Self> {
        let metrics = Metrics::new();
        let http = reqwest::Client::builder()
            .connect_timeout(config.connect_timeout)
            .read_timeout(config.upstream_timeout)
            .pool_idle_timeout(Duration::from_secs(90))
            .pool_max_idle_per_host(1024)
            .tcp_nodelay(true)
            .build()
            .context("building the HTTP client")?;
        // Stored models may set limits at any time, so a gateway with a database always has
        // its limiter when Redis is configured.
        let limits = config.limits_enabled() || config.database_url.is_some();
        let limiter = match (&config.redis_url, limits) {
            (Some(url), true) => Some(
                RateLimiter::connect(url, &config.redis_prefix, config.workspace_rpm, config.workspace_tpm, metrics.clone()).await?,
            ),
            (None, true) if config.limits_enabled() => {
                anyhow::bail!("rate or token limits are configured but FERROCAT_REDIS_URL is not set")
            }
            _ => None,
        };
        let mut all_sinks: Vec<Arc<dyn UsageSink>> = vec![Arc::new(LogSink)];
        if let Some(l) = &limiter {
            all_sinks.push(Arc::new(l.clone()));
        }
        all_sinks.extend(sinks);
        let (usage, usage_task) = UsageRecorder::spawn(config.usage_queue, metrics.clone(), all_sinks);
        let credentials = credentials.unwrap_or_else(|| Arc::new(config.credentials.clone()));
        let key = TokenKey::new(&config.signing_secret);
        let catalog = Arc::new(LiveCatalog::new(config.catalog.clone(), limiter.is_some()));
        let state = AppState(Arc::new(Shared { config, catalog, key, credentials, http, limiter, usage, metrics }));
        Ok(Self { state, usage_task })
    }

    /// The catalog it serves, to keep current ([`store::watch`]).
    pub fn catalog(&self) -> Arc<LiveCatalog> {
        self.state.catalog.clone()
    }

    /// The routes.
    pub fn router(&self) -> Router {
        http::router(self.state.clone())
    }

    /// Serves on `listener` until `shutdown`, then lets the usage queue drain (5 s at most).
    pub async fn serve(self, listener: TcpListener, shutdown: impl std::future::Future<Output = ()> + Send + 'static) -> anyhow::Result<()> {
        let router = self.router();
        let Gateway { state, usage_task } = self;
        drop(state);
        axum::serve(listener, router).with_graceful_shutdown(shutdown).await?;
        if tokio::time::timeout(Duration::from_secs(5), usage_task).await.is_err() {
            tracing::warn!("usage records still queued at shutdown were dropped");
        }
        Ok(())
    }
}

/// Serves the configured gateway until `shutdown`. With `FERROCAT_DATABASE_URL` it also serves
/// the catalog edited through the api, resolves `secret:` credentials from the workspaces'
/// secrets (with `FERROCAT_DB_ENCRYPTION_KEY`) and stores usage in `llm_usage`.
pub async fn run(config: GatewayConfig, shutdown: impl std::future::Future<Output = ()> + Send + 'static) -> anyhow::Result<()> {
    let listener = TcpListener::bind(config.addr).await.with_context(|| format!("binding {}", config.addr))?;
    let Some(url) = config.database_url.clone() else {
        tracing::info!(addr = %listener.local_addr()?, models = config.catalog.len(), "llm-gateway listening");
        return Gateway::build(config, None, vec![]).await?.serve(listener, shutdown).await;
    };
    let db = ferrocat_shared::db::connect(secrecy::ExposeSecret::expose_secret(&url), 8).await.context("connecting to Postgres")?;
    let stored = config
        .keyring
        .clone()
        .map(|keyring| Arc::new(StoredCredentials::new(config.credentials.clone(), SecretStore::new(db.clone(), keyring))));
    let sinks: Vec<Arc<dyn UsageSink>> = vec![Arc::new(DbUsageSink::new(db.clone()))];
    let gateway = Gateway::build(config, stored.clone().map(|c| c as Arc<dyn CredentialSource>), sinks).await?;
    let watcher = store::watch(db, gateway.catalog(), stored).await.context("loading the stored model catalog")?;
    tracing::info!(addr = %listener.local_addr()?, models = gateway.catalog().load().len(), "llm-gateway listening");
    let served = gateway.serve(listener, shutdown).await;
    watcher.abort();
    served
}
