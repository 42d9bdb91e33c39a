//! The HTTP surface: the router, and the extractors every endpoint shares, [`Caller`] (a
//! verified caller token) and [`JsonBody`] (a size-limited JSON object), so that handlers never
//! repeat authentication or body checks.

mod chat;
mod embeddings;
mod health;
mod messages;
mod models;

use std::time::Instant;

use axum::extract::{FromRequest, FromRequestParts, MatchedPath, Request, State};
use axum::http::StatusCode;
use axum::http::request::Parts;
use axum::middleware::{self, Next};
use axum::response::Response;
use axum::routing::{get, post};
use axum::Router;
use futures::StreamExt as _;
use serde_json::{Map, Value};

use crate::state::AppState;
use crate::auth::{Claims, token_from_headers, unix_now};
use crate::error::{ApiError, GatewayError};
use crate::wire::Dialect;

/// Every route of the gateway.
pub fn router(state: AppState) -> Router {
    Router::new()
        .route("/v1/chat/completions", post(chat::create_chat_completion))
        .route("/chat/completions", post(chat::create_chat_completion))
        .route("/v1/messages", post(messages::create_message))
        .route("/v1/embeddings", post(embeddings::create_embeddings))
        .route("/embeddings", post(embeddings::create_embeddings))
        .route("/v1/models", get(models::list_models))
        .route("/models", get(models::list_models))
        .route("/metrics", get(health::get_metrics))
        .merge(health::routes())
        .layer(middleware::from_fn_with_state(state.clone(), count_request))
        .layer(axum::extract::DefaultBodyLimit::disable())
        .layer(middleware::from_fn(ferrocat_shared::keepalive::close_if_unread))
        .with_state(state)
}

async fn count_request(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let started = Instant::now();
    let route = request.extensions().get::<MatchedPath>().map(|p| p.as_str().to_owned());
    let response = next.run(request).await;
    let route = route.as_deref().unwrap_or("unmatched");
    state.metrics.record_request(route, response.status().as_u16(), started.elapsed());
    response
}

/// The dialect of the endpoint a request is for (so that its errors look like that API's).
fn dialect_of(path: &str) -> Dialect {
    if path.ends_with("/messages") { Dialect::Anthropic } else { Dialect::OpenAi }
}

/// A caller whose token verified.
pub struct Caller(pub Claims);

impl FromRequestParts<AppState> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let dialect = dialect_of(parts.uri.path());
        let verify = || -> Result<Claims, ApiError> {
            let token = token_from_headers(&parts.headers)?;
            Ok(state.key.verify(token, unix_now())?)
        };
        verify().map(Caller).map_err(|e| e.in_dialect(dialect))
    }
}

/// A JSON object body of at most `FERROCAT_LLM_GATEWAY_MAX_BODY_BYTES` (413 beyond, 400 when it
/// is not a JSON object).
pub struct JsonBody(pub Map<String, Value>);

impl FromRequest<AppState> for JsonBody {
    type Rejection = ApiError;

    async fn from_request(request: Request, state: &AppState) -> Result<Self, ApiError> {
        let dialect = dialect_of(request.uri().path());
        let limit = state.config.max_body_bytes;
        let too_large = || ApiError::from(GatewayError::TooLarge { limit }).in_dialect(dialect);
        let declared = request
            .headers()
            .get(axum::http::header::CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse::<usize>().ok());
        if declared.is_some_and(|n| n > limit) {
            return Err(too_large());
        }
        let mut body = request.into_body().into_data_stream();
        let mut bytes = Vec::with_capacity(declared.unwrap_or(1024));
        while let Some(chunk) = body.next().await {
            let chunk = chunk.map_err(|_| ApiError::new(StatusCode::BAD_REQUEST, "invalid_request_error", "could not read the request body").in_dialect(dialect))?;
            if bytes.len() + chunk.len() > limit {
                return Err(too_large());
            }
            bytes.extend_from_slice(&chunk);
        }
        match serde_json::from_slice::<Value>(&bytes) {
            Ok(Value::Object(map)) => Ok(JsonBody(map)),
            Ok(_) => Err(ApiError::new(StatusCode::BAD_REQUEST, "invalid_request_error", "request body must be a JSON object").in_dialect(dialect)),
            Err(e) => Err(ApiError::new(StatusCode::BAD_REQUEST, "invalid_request_error", format!("request body is not valid JSON: {e}")).in_dialect(dialect)),
        }
    }
}
