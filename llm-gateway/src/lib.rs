//! The model gateway (OpenAI- and Anthropic-compatible, injecting provider keys). For now it
//! starts, answers its health routes and says what it is; the gateway itself is its own issue.

use std::net::SocketAddr;

use axum::routing::get;
use axum::{Json, Router};
use serde_json::{Value, json};

use ferrocat_shared::config::{ConfigError, Env};

/// The gateway's configuration.
#[derive(Debug, Clone)]
pub struct GatewayConfig {
    /// `FERROCAT_LLM_GATEWAY_ADDR`, default `127.0.0.1:4000`.
    pub addr: SocketAddr,
}

impl GatewayConfig {
    /// Reads `FERROCAT_LLM_GATEWAY_*`.
    pub fn from_env(env: &Env) -> Result<Self, ConfigError> {
        Ok(Self { addr: env.parse_or("FERROCAT_LLM_GATEWAY_ADDR", SocketAddr::from(([127, 0, 0, 1], 4000)))? })
    }
}

/// The routes: LiteLLM's health paths, and `/` describing the service.
pub fn router() -> Router {
    let health = || async { Json(json!({"status": "ok"})) };
    Router::new()
        .route("/", get(about))
        .route("/health", get(health))
        .route("/health/liveliness", get(health))
        .route("/health/liveness", get(health))
        .route("/health/readiness", get(health))
}

async fn about() -> Json<Value> {
    Json(json!({"service": "ferrocat-llm-gateway", "version": env!("CARGO_PKG_VERSION"), "endpoints": []}))
}

/// Serves until `shutdown`.
pub async fn run(config: GatewayConfig, shutdown: impl std::future::Future<Output = ()> + Send + 'static) -> anyhow::Result<()> {
    let listener = tokio::net::TcpListener::bind(config.addr).await?;
    tracing::info!(addr = %listener.local_addr()?, "llm-gateway listening");
    axum::serve(listener, router()).with_graceful_shutdown(shutdown).await?;
    Ok(())
}
