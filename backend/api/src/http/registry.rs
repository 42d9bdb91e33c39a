//! `GET /registry/actions` and `GET /registry/actions/{name}`: the action table.

use axum::routing::get;
use axum::{Json, Router};
use serde_json::Value;


use super::Path;
use crate::auth::Principal;
use crate::error::ApiError;
use crate::state::AppState;

pub(super) fn router() -> Router<AppState> {
    Router::new()
        .route("/registry/actions", get(list_actions))
        .route("/registry/actions/{name}", get(get_action))
}

#[utoipa::path(
    get,
    path = "/registry/actions",
    tag = "registry",
    responses((status = 200, description = "every action with its argument schema", body = serde_json::Value), (status = "4XX", description = "the one error shape", body = crate::error::ErrorBody))
)]
async fn list_actions(_caller: Principal) -> Json<Vec<Value>> {
    Json(ferrocat_registry::global().list().iter().map(|action| action.describe()).collect())
}

#[utoipa::path(
    get,
    path = "/registry/actions/{name}",
    tag = "registry",
    params(("name" = String, Path, description = "action name, e.g. core.http_request")),
    responses((status = 200, description = "one action", body = serde_json::Value), (status = "4XX", description = "the one error shape", body = crate::error::ErrorBody))
)]
async fn get_action(_caller: Principal, Path(name): Path<String>) -> Result<Json<Value>, ApiError> {
    ferrocat_registry::global()
        .get(&name)
        .map(|action| Json(action.describe()))
        .ok_or_else(|| ApiError::NotFound(format!("action {name} not found")))
}
