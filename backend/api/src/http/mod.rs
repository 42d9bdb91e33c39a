//! The api's routes, one module per resource. Paths follow Tracecat's, without the `/api`
//! prefix that the edge strips.

mod auth;
mod case_settings;
mod cases;
mod executions;
mod health;
mod integrations;
mod invitations;
mod llm;
mod openapi;
mod origin;
mod registry;
mod schedules;
mod secrets;
mod service_accounts;
mod settings;
mod tables;
mod validate;
mod variables;
mod webhooks;
mod workflows;
mod workspaces;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use tower_http::trace::TraceLayer;

use crate::state::AppState;

pub use openapi::ApiDoc;

/// Every route of the api.
pub fn api_router(state: AppState, max_body_bytes: usize) -> Router {
    let limit = max_body_bytes;
    Router::new()
        .merge(health::router())
        .merge(openapi::router())
        .merge(auth::router())
        .merge(invitations::router())
        .merge(workspaces::router())
        .merge(workflows::router())
        .merge(webhooks::router())
        .merge(executions::router())
        .merge(schedules::router())
        .merge(secrets::router())
        .merge(variables::router())
        .merge(integrations::router())
        .merge(registry::router())
        .merge(registry::repos_router())
        .merge(llm::router())
        .merge(service_accounts::router())
        .merge(cases::router(state.config.attachments.max_file_bytes))
        .merge(case_settings::router())
        .merge(tables::router(state.config.table_import_max_bytes))
        .merge(settings::router())
        .route_layer(axum::middleware::from_fn(traced))
        .fallback(no_route)
        .method_not_allowed_fallback(no_method)
        .layer(axum::middleware::from_fn_with_state(state.clone(), origin::check))
        .layer(DefaultBodyLimit::max(limit))
        .layer(TraceLayer::new_for_http())
        .layer(axum::middleware::from_fn(ferrocat_shared::keepalive::close_if_unread))
        .with_state(state)
}

/// With traces on, every routed request runs in a server span named by its route's template
/// (never its path: a webhook's path holds its secret), the child of the edge's span.
async fn traced(request: axum::extract::Request, next: axum::middleware::Next) -> axum::response::Response {
    use opentelemetry::trace::FutureExt as _;
    let route = request.extensions().get::<axum::extract::MatchedPath>().map_or("?", |p| p.as_str());
    let Some(cx) = ferrocat_shared::telemetry::server_span(|| format!("{} {route}", request.method()), Some(request.headers())) else {
        return next.run(request).await;
    };
    let response = next.run(request).with_context(cx.clone()).await;
    ferrocat_shared::telemetry::end_server_span(&cx, response.status().as_u16());
    response
}

/// `axum::extract::Query` whose rejections are [`ApiError`]s (422 naming the parameter).
pub(crate) struct Query<T>(pub T);

impl<T, S> axum::extract::FromRequestParts<S> for Query<T>
where
    T: serde::de::DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = crate::error::ApiError;

    async fn from_request_parts(parts: &mut axum::http::request::Parts, state: &S) -> Result<Self, Self::Rejection> {
        let axum::extract::Query(value) = axum::extract::Query::<T>::from_request_parts(parts, state).await?;
        Ok(Query(value))
    }
}

/// `axum::extract::Path` whose rejections are [`ApiError`]s (JSON 404).
pub(crate) struct Path<T>(pub T);

impl<T, S> axum::extract::FromRequestParts<S> for Path<T>
where
    T: serde::de::DeserializeOwned + Send,
    S: Send + Sync,
{
    type Rejection = crate::error::ApiError;

    async fn from_request_parts(parts: &mut axum::http::request::Parts, state: &S) -> Result<Self, Self::Rejection> {
        let axum::extract::Path(value) = axum::extract::Path::<T>::from_request_parts(parts, state).await?;
        Ok(Path(value))
    }
}

/// A workspace role given in a request body: `admin`, `editor` or `viewer`, else a 422.
pub(crate) fn check_role(role: &str) -> Result<(), crate::error::ApiError> {
    if ["admin", "editor", "viewer"].contains(&role) {
        return Ok(());
    }
    Err(crate::error::ApiError::Unprocessable {
        detail: "role must be admin, editor or viewer".into(),
        errors: vec![serde_json::json!({"loc": "role", "msg": format!("invalid role {role:?}")})],
    })
}

/// Unknown routes answer in the one JSON error shape.
async fn no_route() -> crate::error::ApiError {
    crate::error::ApiError::NotFound("no such route".into())
}

/// A known route with another method answers in the one JSON error shape.
async fn no_method() -> crate::error::ApiError {
    crate::error::ApiError::MethodNotAllowed("method not allowed on this route".into())
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

/// 400 unless the request says its body is JSON (`application/json`, or `application/*+json`),
/// as axum's `Json` requires for every other JSON body.
pub(crate) fn require_json(headers: &axum::http::HeaderMap) -> Result<(), crate::error::ApiError> {
    let mime = headers
        .get(axum::http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .map(|v| v.trim().to_ascii_lowercase())
        .unwrap_or_default();
    let json = mime == "application/json" || (mime.starts_with("application/") && mime.ends_with("+json"));
    if json {
        Ok(())
    } else {
        Err(crate::error::ApiError::BadRequest("Expected request with `Content-Type: application/json`".into()))
    }
}

use ferrocat_shared::net::client_ip;
