//! The api's routes, one module per resource. Paths follow Tracecat's, without the `/api`
//! prefix that the edge strips.

mod auth;
mod executions;
mod health;
mod webhooks;
mod workflows;
mod workspaces;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use tower_http::trace::TraceLayer;

use crate::state::AppState;

/// Every route of the api.
pub fn api_router(state: AppState) -> Router {
    let limit = state.config.max_body_bytes;
    Router::new()
        .merge(health::router())
        .merge(auth::router())
        .merge(workspaces::router())
        .merge(workflows::router())
        .merge(webhooks::router())
        .merge(executions::router())
        .layer(DefaultBodyLimit::max(limit))
        .layer(TraceLayer::new_for_http())
        .with_state(state)
}
