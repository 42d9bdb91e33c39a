//! The ferrocat api: REST for people and systems, and the public webhook receiver. It keeps
//! definitions, webhooks, users and secrets in Postgres and reads runs from Temporal.

pub mod auth;
pub mod config;
pub mod db;
pub mod error;
pub mod http;
pub mod runs;
pub mod state;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context as _;
use secrecy::ExposeSecret;

pub use config::ApiConfig;
pub use state::AppState;

/// Connects to Postgres and Temporal, bootstraps the first admin, and serves until `shutdown`.
pub async fn run(config: ApiConfig, shutdown: impl std::future::Future<Output = ()> + Send + 'static) -> anyhow::Result<()> {
    let db = ferrocat_shared::db::connect(config.database_url.expose_secret(), 20).await.context("connecting to Postgres")?;
    let temporal = config.temporal.connect_patiently(Duration::from_secs(30)).await?;
    let state = AppState { db, temporal, config: Arc::new(config) };
    auth::bootstrap(&state).await.context("bootstrapping the first admin")?;
    let listener = tokio::net::TcpListener::bind(state.config.addr)
        .await
        .with_context(|| format!("binding {}", state.config.addr))?;
    tracing::info!(addr = %listener.local_addr()?, "api listening");
    let app = http::api_router(state).into_make_service_with_connect_info::<SocketAddr>();
    axum::serve(listener, app).with_graceful_shutdown(shutdown).await?;
    Ok(())
}
