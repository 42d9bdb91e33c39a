//! `POST /v1/messages`: Anthropic's messages API (streamed or not, tools), served by whichever
//! provider the catalog names; errors in Anthropic's shape.

use std::time::Instant;

use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::Response;

use super::{Caller, JsonBody};
use crate::state::AppState;
use crate::dispatch::{self, Call, Op};
use crate::error::ApiError;
use crate::wire::Dialect;

/// Answers a messages request.
pub async fn create_message(State(state): State<AppState>, Caller(claims): Caller, headers: HeaderMap, JsonBody(body): JsonBody) -> Result<Response, ApiError> {
    let call = Call { op: Op::Chat, endpoint: "messages", dialect: Dialect::Anthropic, body, claims, headers, started: Instant::now() };
    dispatch::call(state, call).await
}
