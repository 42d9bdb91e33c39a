//! Routes without authentication: LiteLLM's health paths (what Tracecat's probes call), `/`
//! describing the service, and the Prometheus text at `/metrics` (the gateway listens on an
//! internal address only).

use axum::extract::State;
use axum::http::header;
use axum::response::IntoResponse;
use axum::routing::get;
use axum::{Json, Router};
use serde_json::{Value, json};

use crate::state::AppState;

/// The health and about routes.
pub fn routes() -> Router<AppState> {
    let health = || async { Json(json!({"status": "ok"})) };
    Router::new()
        .route("/", get(about))
        .route("/health", get(health))
        .route("/health/liveliness", get(health))
        .route("/health/liveness", get(health))
        .route("/health/readiness", get(health))
}

async fn about() -> Json<Value> {
    Json(json!({
        "service": "ferrocat-llm-gateway",
        "version": env!("CARGO_PKG_VERSION"),
        "endpoints": ["/v1/chat/completions", "/v1/messages", "/v1/embeddings", "/v1/models", "/metrics"],
    }))
}

/// `GET /metrics`.
pub async fn get_metrics(State(state): State<AppState>) -> impl IntoResponse {
    ([(header::CONTENT_TYPE, "text/plain; version=0.0.4")], state.metrics.render())
}
