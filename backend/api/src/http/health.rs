//! `GET /health`, `GET /` and `GET /info`: liveness and what the frontend needs at boot.

use axum::extract::State;
use axum::routing::get;
use axum::{Json, Router};
use serde_json::{Value, json};

use crate::error::ApiError;
use crate::state::AppState;

pub(super) fn router() -> Router<AppState> {
    Router::new().route("/", get(get_health)).route("/health", get(get_health)).route("/info", get(get_info))
}

#[utoipa::path(
    get,
    path = "/health",
    tag = "health",
    responses((status = 200, description = "the api and its database answer", body = serde_json::Value), (status = "4XX", description = "the one error shape", body = crate::error::ErrorBody))
)]
async fn get_health(State(state): State<AppState>) -> Result<Json<Value>, ApiError> {
    sqlx::query("SELECT 1")
        .execute(&state.db)
        .await
        .map_err(|_| ApiError::Unavailable("database unavailable".into()))?;
    Ok(Json(json!({"status": "ok"})))
}

#[utoipa::path(
    get,
    path = "/info",
    tag = "health",
    responses((status = 200, description = "version and settings that are public", body = serde_json::Value), (status = "4XX", description = "the one error shape", body = crate::error::ErrorBody))
)]
async fn get_info(State(state): State<AppState>) -> Json<Value> {
    Json(json!({
        "version": env!("CARGO_PKG_VERSION"),
        "public_app_url": state.config.public_url,
        "public_api_url": format!("{}/api", state.config.public_url),
        "auth_allowed_types": if state.oidc.is_some() { json!(["basic", "oidc"]) } else { json!(["basic"]) },
        // The console's "Sign in with …" button, when a provider is configured.
        "oidc_name": state.oidc.as_deref().map(ferrocat_app::sso::Provider::name),
        "saml_enabled": false,
        "saml_enforced": false,
        "ee_multi_tenant": false,
    }))
}
