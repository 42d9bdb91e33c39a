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
async fn get_info(State(state): State<AppState>) -> Result<Json<Value>, ApiError> {
    let rules = ferrocat_app::auth_settings::read(&state.db).await?;
    let saml_name = ferrocat_app::sso::saml::offered(&state.db, &rules).await?;
    let oidc = state.oidc.as_deref().filter(|_| rules.oidc_enabled);
    // Password sign-in stays listed while a break-glass account may use it.
    let types: Vec<&str> = [("basic", rules.basic_enabled || rules.break_glass_email.is_some()), ("oidc", oidc.is_some()), ("saml", saml_name.is_some())]
        .into_iter()
        .filter_map(|(t, on)| on.then_some(t))
        .collect();
    Ok(Json(json!({
        "version": env!("CARGO_PKG_VERSION"),
        "public_app_url": state.config.public_url,
        "public_api_url": format!("{}/api", state.config.public_url),
        "auth_allowed_types": types,
        // The console's "Sign in with …" buttons, for the methods that are on.
        "oidc_name": oidc.map(ferrocat_app::sso::Provider::name),
        "saml_name": saml_name,
        "saml_enabled": rules.saml_enabled,
        "saml_enforced": rules.sso_enforced,
        "ee_multi_tenant": false,
    })))
}
