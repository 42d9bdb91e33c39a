//! `POST /v1/chat/completions`: OpenAI's chat API (streamed or not, tools, JSON mode), served by
//! whichever provider the catalog names.

use std::time::Instant;

use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::Response;

use super::{Caller, JsonBody};
use crate::state::AppState;
use crate::dispatch::{self, Call, Op};
use crate::error::ApiError;
use crate::wire::Dialect;

/// Answers a chat completion request.
pub async fn create_chat_completion(State(state): State<AppState>, Caller(claims): Caller, headers: HeaderMap, JsonBody(body): JsonBody) -> Result<Response, ApiError> {
    let call = Call { op: Op::Chat, endpoint: "chat", dialect: Dialect::OpenAi, body, claims, headers, started: Instant::now() };
    dispatch::call(state, call).await
}
