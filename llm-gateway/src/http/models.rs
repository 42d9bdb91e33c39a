//! `GET /v1/models`: the catalog models the caller's token allows, in OpenAI's list shape.

use axum::Json;
use axum::extract::State;
use serde_json::{Value, json};

use super::Caller;
use crate::state::AppState;

/// Lists the models the caller may use.
pub async fn list_models(State(state): State<AppState>, Caller(claims): Caller) -> Json<Value> {
    let data: Vec<Value> = state
        .catalog
        .load()
        .models()
        .filter(|m| claims.allows_model(&m.name))
        .map(|m| json!({"id": m.name, "object": "model", "created": 0, "owned_by": m.deployment.provider_name}))
        .collect();
    Json(json!({"object": "list", "data": data}))
}
