//! `GET /registry/actions` and `GET /registry/actions/{name}`: the built-in actions.

use axum::routing::get;
use axum::{Json, Router};
use serde_json::{Value, json};

use ferrocat_shared::registry::{ActionSpec, REGISTRY};

use super::Path;
use crate::auth::Principal;
use crate::error::ApiError;
use crate::state::AppState;

pub(super) fn router() -> Router<AppState> {
    Router::new()
        .route("/registry/actions", get(list_actions))
        .route("/registry/actions/{name}", get(get_action))
}

fn read_model(spec: &ActionSpec) -> Value {
    let namespace = spec.name.rsplit_once('.').map_or("", |(ns, _)| ns);
    json!({
        "action": spec.name,
        "name": spec.name,
        "namespace": namespace,
        "description": spec.description,
        "origin": "ferrocat",
        "args": ferrocat_workers::actions::arg_schema(spec.name),
    })
}

#[utoipa::path(
    get,
    path = "/registry/actions",
    tag = "registry",
    responses((status = 200, description = "every built-in action with its argument schema", body = serde_json::Value), (status = "4XX", description = "the one error shape", body = crate::error::ErrorBody))
)]
async fn list_actions(_caller: Principal) -> Json<Vec<Value>> {
    Json(REGISTRY.iter().map(read_model).collect())
}

#[utoipa::path(
    get,
    path = "/registry/actions/{name}",
    tag = "registry",
    params(("name" = String, Path, description = "action name, e.g. core.http_request")),
    responses((status = 200, description = "one action", body = serde_json::Value), (status = "4XX", description = "the one error shape", body = crate::error::ErrorBody))
)]
async fn get_action(_caller: Principal, Path(name): Path<String>) -> Result<Json<Value>, ApiError> {
    REGISTRY
        .iter()
        .find(|spec| spec.name == name)
        .map(|spec| Json(read_model(spec)))
        .ok_or_else(|| ApiError::NotFound(format!("action {name} not found")))
}
