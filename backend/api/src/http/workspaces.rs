//! `GET /workspaces`: the caller's workspaces.

use axum::extract::State;
use axum::routing::get;
use axum::{Json, Router};
use serde_json::{Value, json};

use crate::auth::AuthUser;
use crate::db::workspaces;
use crate::error::ApiError;
use crate::state::AppState;

pub(super) fn router() -> Router<AppState> {
    Router::new().route("/workspaces", get(list_workspaces))
}

async fn list_workspaces(State(state): State<AppState>, AuthUser(user): AuthUser) -> Result<Json<Vec<Value>>, ApiError> {
    let list = workspaces::list_for_user(&state.db, user.id).await?;
    Ok(Json(
        list.into_iter()
            .map(|m| json!({"id": ferrocat_shared::ids::workspace_id(m.workspace_id), "name": m.name, "role": m.role}))
            .collect(),
    ))
}
