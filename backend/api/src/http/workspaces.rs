//! `GET /workspaces`: the caller's workspaces.

use axum::extract::State;
use axum::routing::get;
use axum::{Json, Router};
use serde_json::{Value, json};

use crate::auth::Principal;
use crate::db::workspaces;
use crate::error::ApiError;
use crate::state::AppState;

pub(super) fn router() -> Router<AppState> {
    Router::new().route("/workspaces", get(list_workspaces))
}

#[utoipa::path(
    get,
    path = "/workspaces",
    tag = "workspaces",
    responses((status = 200, description = "the caller's workspaces", body = serde_json::Value), (status = "4XX", description = "the one error shape", body = crate::error::ErrorBody))
)]
async fn list_workspaces(State(state): State<AppState>, principal: Principal) -> Result<Json<Vec<Value>>, ApiError> {
    let list = match principal {
        Principal::User(user) => workspaces::list_for_user(&state.db, user.id).await?,
        Principal::ServiceAccount(account) => workspaces::get(&state.db, account.workspace_id)
            .await?
            .map(|name| vec![workspaces::Membership { workspace_id: account.workspace_id, name, role: account.role.as_str().into() }])
            .unwrap_or_default(),
    };
    Ok(Json(
        list.into_iter()
            .map(|m| json!({"id": ferrocat_shared::ids::workspace_id(m.workspace_id), "name": m.name, "role": m.role}))
            .collect(),
    ))
}
