//! The api's routes, one module per resource. Paths follow Tracecat's, without the `/api`
//! prefix that the edge strips.

mod auth;
mod executions;
mod health;
mod registry;
mod secrets;
mod service_accounts;
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
        .merge(secrets::router())
        .merge(registry::router())
        .merge(service_accounts::router())
        .layer(DefaultBodyLimit::max(limit))
        .layer(TraceLayer::new_for_http())
        .with_state(state)
}

/// A JSON request body whose rejections become [`ApiError`]s (400, 413 or 422 with the field).
pub(crate) struct JsonBody<T>(pub T);

impl<T, S> axum::extract::FromRequest<S> for JsonBody<T>
where
    T: serde::de::DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = crate::error::ApiError;

    async fn from_request(request: axum::extract::Request, state: &S) -> Result<Self, Self::Rejection> {
        let axum::Json(value) = axum::Json::<T>::from_request(request, state).await?;
        Ok(JsonBody(value))
    }
}
