//! The MCP server for IDEs and its OAuth 2.1 authorization server. For now it starts, answers
//! its health check and says what it is; the protocol and the OAuth flow are their own issue.

use std::net::SocketAddr;

use axum::http::StatusCode;
use axum::routing::get;
use axum::{Json, Router};
use serde_json::{Value, json};

use ferrocat_shared::config::{ConfigError, Env};

/// The MCP server's configuration.
#[derive(Debug, Clone)]
pub struct McpConfig {
    /// `FERROCAT_MCP_ADDR`, default `127.0.0.1:8099`.
    pub addr: SocketAddr,
}

impl McpConfig {
    /// Reads `FERROCAT_MCP_*`.
    pub fn from_env(env: &Env) -> Result<Self, ConfigError> {
        Ok(Self { addr: env.parse_or("FERROCAT_MCP_ADDR", SocketAddr::from(([127, 0, 0, 1], 8099)))? })
    }
}

/// The routes: health and `/mcp`, which says plainly that it is not served yet.
pub fn router() -> Router {
    Router::new()
        .route("/health", get(|| async { Json(json!({"status": "ok"})) }))
        .route("/mcp", get(not_yet).post(not_yet))
}

async fn not_yet() -> (StatusCode, Json<Value>) {
    (
        StatusCode::NOT_IMPLEMENTED,
        Json(json!({"service": "ferrocat-mcp", "version": env!("CARGO_PKG_VERSION"), "detail": "the MCP endpoint is not available in this version"})),
    )
}

/// Serves until `shutdown`.
pub async fn run(config: McpConfig, shutdown: impl std::future::Future<Output = ()> + Send + 'static) -> anyhow::Result<()> {
    let listener = tokio::net::TcpListener::bind(config.addr).await?;
    tracing::info!(addr = %listener.local_addr()?, "mcp listening");
    axum::serve(listener, router()).with_graceful_shutdown(shutdown).await?;
    Ok(())
}
