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
pub mod stream;
pub mod translate;
pub mod usage;

use std::ops::Deref;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context as _;
use axum::Router;
use tokio::net::TcpListener;
use tokio::task::JoinHandle;

pub use config::GatewayConfig;

use crate::auth::TokenKey;
use crate::credentials::CredentialSource;
use crate::metrics::Metrics;
use crate::ratelimit::RateLimiter;
use crate::usage::{LogSink, UsageRecorder, UsageSink};

/// What every handler shares.
pub struct Shared {
    pub config: GatewayConfig,
    pub key: TokenKey,
    pub credentials: Arc<dyn CredentialSource>,
    pub http: reqwest::Client,
    pub limiter: Option<RateLimiter>,
    pub usage: UsageRecorder,
    pub metrics: Arc<Metrics>,
}

/// The handlers' state (cheap to clone).
#[derive(Clone)]
pub struct AppState(Arc<Shared>);

impl Deref for AppState {
    type Target = Shared;
    fn deref(&self) -> &Shared {
        &self.0
    }
}

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
        let limiter = match (&config.redis_url, config.limits_enabled()) {
            (Some(url), true) => Some(
                RateLimiter::connect(url, &config.redis_prefix, config.workspace_rpm, config.workspace_tpm, metrics.clone()).await?,
            ),
            (None, true) => anyhow::bail!("rate or token limits are configured but FERROCAT_REDIS_URL is not set"),
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
        let state = AppState(Arc::new(Shared { config, key, credentials, http, limiter, usage, metrics }));
        Ok(Self { state, usage_task })
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

/// Serves the configured gateway until `shutdown`.
pub async fn run(config: GatewayConfig, shutdown: impl std::future::Future<Output = ()> + Send + 'static) -> anyhow::Result<()> {
    let listener = TcpListener::bind(config.addr).await.with_context(|| format!("binding {}", config.addr))?;
    tracing::info!(addr = %listener.local_addr()?, models = config.catalog.models().count(), "llm-gateway listening");
    Gateway::build(config, None, vec![]).await?.serve(listener, shutdown).await
}
