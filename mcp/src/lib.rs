//! The MCP server for IDEs (`ferrocat mcp`): MCP over streamable HTTP at `/mcp` (rmcp; the
//! 2025-06-18/2025-11-25 session era and the stateless 2026-07-28 era), protected by bearer
//! tokens from its own OAuth 2.1 authorization server, whose routes (`/authorize`, `/token`,
//! `/register`, `/consent`, the well-known metadata) are served here too. Tools call the use
//! cases of `ferrocat-app`, as the signed-in user, within that user's roles.

pub mod bearer;
pub mod config;
pub mod oauth;
pub mod resources;
pub mod state;
pub mod tools;

use std::net::SocketAddr;
use std::sync::Arc;

use anyhow::Context as _;
use axum::routing::get;
use axum::{Json, Router, middleware};
use rmcp::transport::streamable_http_server::session::local::LocalSessionManager;
use rmcp::transport::streamable_http_server::{StreamableHttpServerConfig, StreamableHttpService};
use serde_json::json;
use tokio_util::sync::CancellationToken;
use tower_http::trace::TraceLayer;

pub use config::McpConfig;
pub use state::McpState;

/// Connects to Postgres, Temporal and Redis and returns the shared state. (The api bootstraps
/// the first admin and re-seals secrets; this server changes nothing at start but expired
/// OAuth rows.)
pub async fn build(config: McpConfig) -> anyhow::Result<McpState> {
    let app = ferrocat_app::App::connect(config.app.clone()).await.context("connecting the platform's stores")?;
    // Expired OAuth rows (and registrations never used) go at start; `/authorize` and
    // `/register` sweep now and then afterwards.
    if let Err(error) = oauth::store::sweep(&app.db).await {
        tracing::warn!(%error, "sweeping expired oauth rows at start");
    }
    let oidc = match &config.oidc {
        Some(oidc) => Some(Arc::new(ferrocat_app::sso::Provider::new(oidc.clone(), config.oidc_redirect_uri()).context("the sso client")?)),
        None => None,
    };
    let http = oauth::cimd::http_client(config.cimd_allow_insecure);
    Ok(McpState { app, oidc, config: Arc::new(config), http })
}

/// Every route: `/mcp` behind the bearer check, the OAuth routes and `/health` public.
/// Cancelling `shutdown` ends the open MCP sessions and streams.
pub fn router(state: McpState, shutdown: CancellationToken) -> Router {
    let c = &state.config;
    let transport = StreamableHttpServerConfig::default()
        .with_allowed_hosts(c.mcp_allowed_hosts())
        .with_allowed_origins(c.mcp_allowed_origins())
        .with_legacy_session_mode(c.legacy_sessions)
        .with_sse_keep_alive(c.sse_keep_alive)
        .with_cancellation_token(shutdown);
    let for_sessions = state.clone();
    let mcp = StreamableHttpService::new(
        move || Ok(tools::FerrocatMcp::new(for_sessions.clone())),
        Arc::new(LocalSessionManager::default()),
        transport,
    );
    // `.layer` covers only the routes added before it: the OAuth routes stay public.
    let protected = Router::new().nest_service("/mcp", mcp).layer(middleware::from_fn_with_state(state.clone(), bearer::require_bearer));
    Router::new()
        .merge(protected)
        .merge(oauth::router())
        .route("/health", get(|| async { Json(json!({"status": "ok"})) }))
        .layer(TraceLayer::new_for_http())
        .layer(middleware::from_fn(ferrocat_shared::keepalive::close_if_unread))
        .with_state(state)
}

/// Serves `router` on `listener` until `shutdown`.
pub async fn serve(
    listener: tokio::net::TcpListener,
    router: Router,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    tracing::info!(addr = %listener.local_addr()?, "mcp listening");
    axum::serve(listener, router.into_make_service_with_connect_info::<SocketAddr>()).with_graceful_shutdown(shutdown).await?;
    Ok(())
}

/// Builds the server and serves it on the configured address until `shutdown`.
pub async fn run(config: McpConfig, shutdown: impl std::future::Future<Output = ()> + Send + 'static) -> anyhow::Result<()> {
    let addr = config.addr;
    let state = build(config).await?;
    let sessions = CancellationToken::new();
    let app = router(state, sessions.clone());
    let listener = tokio::net::TcpListener::bind(addr).await.with_context(|| format!("binding {addr}"))?;
    serve(listener, app, async move {
        shutdown.await;
        // Open SSE streams would hold the graceful shutdown forever.
        sessions.cancel();
    })
    .await
}
