//! The ferrocat api: REST for people and systems, and the public webhook receiver. It keeps
//! definitions, webhooks, users and secrets in Postgres, counters in Redis, and reads runs from
//! Temporal.

pub mod auth;
pub mod config;
pub mod error;
pub mod http;
pub mod state;

use std::net::SocketAddr;

use anyhow::Context as _;
use axum::Router;

pub use config::ApiConfig;
pub use state::AppState;

/// Connects to Postgres and Temporal, bootstraps the first admin, re-seals secrets still sealed
/// by a retired key, and returns the state and every route (not yet listening).
pub async fn build(config: ApiConfig) -> anyhow::Result<(AppState, Router)> {
    let state = ferrocat_app::App::connect(config.app).await?;
    ferrocat_app::accounts::bootstrap(&state).await.context("bootstrapping the first admin")?;
    reseal_secrets(&state).await.context("re-sealing secrets under the current key")?;
    ferrocat_app::runs::forget_old_steps(&state).await.context("forgetting old template steps")?;
    // Case events start their subscribed workflows from here (see `cases::triggers`).
    if state.config.case_triggers {
        tokio::spawn(ferrocat_app::cases::triggers::run_dispatcher(state.clone()));
    }
    Ok((state.clone(), http::api_router(state, config.max_body_bytes)))
}

/// Serves `router` on `listener` until `shutdown`.
pub async fn serve(
    listener: tokio::net::TcpListener,
    router: Router,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    tracing::info!(addr = %listener.local_addr()?, "api listening");
    let app = router.into_make_service_with_connect_info::<SocketAddr>();
    axum::serve(listener, app).with_graceful_shutdown(shutdown).await?;
    Ok(())
}

/// Builds the api and serves it on the configured address until `shutdown`.
pub async fn run(config: ApiConfig, shutdown: impl std::future::Future<Output = ()> + Send + 'static) -> anyhow::Result<()> {
    let addr = config.addr;
    let (_state, router) = build(config).await?;
    let listener = tokio::net::TcpListener::bind(addr).await.with_context(|| format!("binding {addr}"))?;
    serve(listener, router, shutdown).await
}

/// Completes a key rotation: every secret (and integration's client secret and tokens) sealed by
/// a retired key is sealed again under the current one, after which the retired key can be
/// removed from the configuration.
async fn reseal_secrets(state: &AppState) -> anyhow::Result<()> {
    let keyring = &state.config.keyring;
    let mut resealed = 0usize;
    for (id, blob) in ferrocat_app::db::secrets::all_sealed(&state.db).await? {
        if !keyring.is_stale(&blob) {
            continue;
        }
        // A secret no configured key opens stays as it is (and unusable) rather than stop the api.
        let keys = match keyring.open_keys(id, &blob) {
            Ok(keys) => keys,
            Err(error) => {
                tracing::error!(secret_id = %id, error = %error, "cannot re-seal a secret");
                continue;
            }
        };
        if ferrocat_app::db::secrets::reseal(&state.db, id, &blob, &keyring.seal_keys(id, &keys)).await? {
            resealed += 1;
        }
    }
    resealed += ferrocat_shared::oauth::reseal(&state.db, keyring).await?;
    if resealed > 0 {
        tracing::info!(resealed, key_id = %keyring.current_key_id(), "re-sealed secrets and integrations under the current key");
    }
    Ok(())
}
