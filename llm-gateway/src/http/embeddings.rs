//! `POST /v1/embeddings`: OpenAI's embeddings API, for OpenAI-format providers and Gemini.

use std::time::Instant;

use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::Response;

use super::{Caller, JsonBody};
use crate::state::AppState;
use crate::dispatch::{self, Call, Op};
use crate::error::ApiError;
use crate::wire::Dialect;

/// Answers an embeddings request.
pub async fn create_embeddings(State(state): State<AppState>, Caller(claims): Caller, headers: HeaderMap, JsonBody(body): JsonBody) -> Result<Response, ApiError> {
    let call = Call { op: Op::Embeddings, endpoint: "embeddings", dialect: Dialect::OpenAi, body, claims, headers, started: Instant::now() };
    dispatch::call(state, call).await
}
