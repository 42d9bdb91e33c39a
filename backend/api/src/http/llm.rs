//! The model gateway's catalog and usage: providers and models, which anyone signed in may read
//! (a provider's `base_url`, often an internal host, and credential reference only superusers)
//! and superusers edit (the gateway picks up every change at once, `ferrocat_app::db::llm`),
//! and a workspace's token usage per model.
//!
//! Each change is validated against the whole stored catalog before it commits, under a lock, so
//! a provider still in use cannot be deleted and a model cannot name a provider or fallback that
//! does not exist. Stored credentials are `secret:NAME[.KEY]` references to the calling
//! workspace's secrets, never keys.

use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::get;
use axum::{Json, Router};
use chrono::{DateTime, Duration, Utc};
use serde::Deserialize;
use serde_json::{Value, json};

use ferrocat_app::db;
use ferrocat_app::llm_catalog::{self, ModelSpec, ProviderEntry};

use super::validate::invalid;
use super::{JsonBody, Path, Query};
use crate::auth::{AuthUser, Principal, Role, WorkspaceAccess};
use crate::error::ApiError;
use crate::state::AppState;

pub(super) fn router() -> Router<AppState> {
    Router::new()
        .route("/llm/providers", get(list_providers))
        .route("/llm/providers/{name}", get(get_provider).put(put_provider).delete(delete_provider))
        .route("/llm/models", get(list_models))
        .route("/llm/models/{name}", get(get_model).put(put_model).delete(delete_model))
        .route("/workspaces/{workspace_id}/llm/usage", get(get_usage))
}

/// Catalog names are what callers put in `model`: letters, digits and `._:@-`, at most 128.
fn check_name(kind: &str, name: &str) -> Result<(), ApiError> {
    let ok = !name.is_empty()
        && name.len() <= 128
        && name.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | ':' | '@' | '-'));
    if ok {
        Ok(())
    } else {
        Err(invalid("name", format!("{kind} name {name:?} must be 1 to 128 letters, digits or . _ : @ -")))
    }
}

fn named(name: &str, entry: impl serde::Serialize) -> Value {
    let mut out = json!({"name": name});
    if let Value::Object(fields) = serde_json::to_value(entry).expect("catalog entries serialize") {
        out.as_object_mut().expect("object").extend(fields);
    }
    out
}

/// Applies one change inside a transaction that holds the catalog lock, validates the result
/// whole, announces it and commits; a change that leaves the catalog invalid is a 422 and
/// leaves it as it was.
async fn commit(mut tx: sqlx::Transaction<'_, sqlx::Postgres>) -> Result<(), ApiError> {
    let parts = db::llm::load_parts(&mut tx).await?;
    llm_catalog::validate_stored(&parts).map_err(|e| invalid("body", e.to_string()))?;
    db::llm::notify_catalog(&mut tx).await?;
    tx.commit().await?;
    Ok(())
}

async fn begin(state: &AppState) -> Result<sqlx::Transaction<'static, sqlx::Postgres>, ApiError> {
    let mut tx = state.db.begin().await?;
    db::llm::lock_catalog(&mut *tx).await?;
    Ok(tx)
}

#[utoipa::path(
    get,
    path = "/llm/providers",
    tag = "llm",
    responses((status = 200, description = "the stored providers", body = serde_json::Value), (status = "4XX", description = "the one error shape", body = crate::error::ErrorBody))
)]
async fn list_providers(State(state): State<AppState>, who: Principal) -> Result<Json<Vec<Value>>, ApiError> {
    let parts = db::llm::load_parts(&mut *state.db.acquire().await?).await?;
    Ok(Json(parts.providers.iter().map(|(name, entry)| provider_view(&who, name, entry)).collect()))
}

/// A provider as `who` may see it: without `base_url` and `credential` unless a superuser.
fn provider_view(who: &Principal, name: &str, entry: &ProviderEntry) -> Value {
    let mut view = named(name, entry);
    if !matches!(who, Principal::User(user) if user.is_superuser)
        && let Some(fields) = view.as_object_mut()
    {
        fields.remove("base_url");
        fields.remove("credential");
    }
    view
}

#[utoipa::path(
    get,
    path = "/llm/providers/{name}",
    tag = "llm",
    params(("name" = String, Path, description = "provider name")),
    responses((status = 200, description = "the provider", body = serde_json::Value), (status = "4XX", description = "the one error shape", body = crate::error::ErrorBody))
)]
async fn get_provider(State(state): State<AppState>, who: Principal, Path(name): Path<String>) -> Result<Json<Value>, ApiError> {
    let parts = db::llm::load_parts(&mut *state.db.acquire().await?).await?;
    let entry = parts.providers.get(&name).ok_or_else(|| ApiError::NotFound(format!("no provider {name:?}")))?;
    Ok(Json(provider_view(&who, &name, entry)))
}

#[utoipa::path(
    put,
    path = "/llm/providers/{name}",
    tag = "llm",
    params(("name" = String, Path, description = "provider name")),
    request_body = ProviderEntry,
    responses((status = 201, description = "created", body = serde_json::Value), (status = 200, description = "replaced", body = serde_json::Value), (status = "4XX", description = "the one error shape", body = crate::error::ErrorBody))
)]
async fn put_provider(
    State(state): State<AppState>,
    user: AuthUser,
    Path(name): Path<String>,
    JsonBody(entry): JsonBody<ProviderEntry>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    user.require_superuser("editing the model catalog")?;
    check_name("provider", &name)?;
    let mut tx = begin(&state).await?;
    let created = db::llm::put_provider(&mut *tx, &name, &entry).await?;
    commit(tx).await?;
    tracing::info!(provider = %name, kind = ?entry.kind, created, "llm provider saved");
    Ok((if created { StatusCode::CREATED } else { StatusCode::OK }, Json(named(&name, &entry))))
}

#[utoipa::path(
    delete,
    path = "/llm/providers/{name}",
    tag = "llm",
    params(("name" = String, Path, description = "provider name")),
    responses((status = 204, description = "deleted"), (status = "4XX", description = "the one error shape (422 while models use it)", body = crate::error::ErrorBody))
)]
async fn delete_provider(State(state): State<AppState>, user: AuthUser, Path(name): Path<String>) -> Result<StatusCode, ApiError> {
    user.require_superuser("editing the model catalog")?;
    let mut tx = begin(&state).await?;
    if !db::llm::delete_provider(&mut *tx, &name).await? {
        return Err(ApiError::NotFound(format!("no provider {name:?}")));
    }
    commit(tx).await?;
    tracing::info!(provider = %name, "llm provider deleted");
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(
    get,
    path = "/llm/models",
    tag = "llm",
    responses((status = 200, description = "the stored models, in creation order", body = serde_json::Value), (status = "4XX", description = "the one error shape", body = crate::error::ErrorBody))
)]
async fn list_models(State(state): State<AppState>, _who: Principal) -> Result<Json<Vec<Value>>, ApiError> {
    let parts = db::llm::load_parts(&mut *state.db.acquire().await?).await?;
    Ok(Json(parts.models.iter().map(|(name, spec)| named(name, spec)).collect()))
}

#[utoipa::path(
    get,
    path = "/llm/models/{name}",
    tag = "llm",
    params(("name" = String, Path, description = "model name")),
    responses((status = 200, description = "the model", body = serde_json::Value), (status = "4XX", description = "the one error shape", body = crate::error::ErrorBody))
)]
async fn get_model(State(state): State<AppState>, _who: Principal, Path(name): Path<String>) -> Result<Json<Value>, ApiError> {
    let parts = db::llm::load_parts(&mut *state.db.acquire().await?).await?;
    let (_, spec) = parts.models.iter().find(|(n, _)| n == &name).ok_or_else(|| ApiError::NotFound(format!("no model {name:?}")))?;
    Ok(Json(named(&name, spec)))
}

#[utoipa::path(
    put,
    path = "/llm/models/{name}",
    tag = "llm",
    params(("name" = String, Path, description = "model name, as callers write it in `model`")),
    request_body = ModelSpec,
    responses((status = 201, description = "created", body = serde_json::Value), (status = 200, description = "replaced", body = serde_json::Value), (status = "4XX", description = "the one error shape", body = crate::error::ErrorBody))
)]
async fn put_model(
    State(state): State<AppState>,
    user: AuthUser,
    Path(name): Path<String>,
    JsonBody(spec): JsonBody<ModelSpec>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    user.require_superuser("editing the model catalog")?;
    check_name("model", &name)?;
    let mut tx = begin(&state).await?;
    let created = db::llm::put_model(&mut *tx, &name, &spec).await?;
    commit(tx).await?;
    tracing::info!(model = %name, provider = %spec.provider, created, "llm model saved");
    Ok((if created { StatusCode::CREATED } else { StatusCode::OK }, Json(named(&name, &spec))))
}

#[utoipa::path(
    delete,
    path = "/llm/models/{name}",
    tag = "llm",
    params(("name" = String, Path, description = "model name")),
    responses((status = 204, description = "deleted"), (status = "4XX", description = "the one error shape (422 while another model falls back to it)", body = crate::error::ErrorBody))
)]
async fn delete_model(State(state): State<AppState>, user: AuthUser, Path(name): Path<String>) -> Result<StatusCode, ApiError> {
    user.require_superuser("editing the model catalog")?;
    let mut tx = begin(&state).await?;
    if !db::llm::delete_model(&mut *tx, &name).await? {
        return Err(ApiError::NotFound(format!("no model {name:?}")));
    }
    commit(tx).await?;
    tracing::info!(model = %name, "llm model deleted");
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
struct UsageQuery {
    /// Start of the period (RFC 3339; default 30 days ago).
    since: Option<DateTime<Utc>>,
    /// End of the period, exclusive (RFC 3339; default now).
    until: Option<DateTime<Utc>>,
    /// Only this run's calls.
    run_id: Option<String>,
}

#[utoipa::path(
    get,
    path = "/workspaces/{workspace_id}/llm/usage",
    tag = "llm",
    params(("workspace_id" = String, Path, description = "workspace id (ws_…)"), UsageQuery),
    responses((status = 200, description = "calls, errors, tokens and latency per model", body = serde_json::Value), (status = "4XX", description = "the one error shape", body = crate::error::ErrorBody))
)]
async fn get_usage(
    State(state): State<AppState>,
    access: WorkspaceAccess,
    Query(query): Query<UsageQuery>,
) -> Result<Json<Value>, ApiError> {
    access.require(Role::Viewer)?;
    let until = query.until.unwrap_or_else(Utc::now);
    let since = query.since.unwrap_or(until - Duration::days(30));
    if since > until {
        return Err(invalid("since", "since must not be after until"));
    }
    let models = db::llm::usage_by_model(&state.db, access.workspace_id, since, until, query.run_id.as_deref()).await?;
    let total = json!({
        "requests": models.iter().map(|m| m.requests).sum::<i64>(),
        "errors": models.iter().map(|m| m.errors).sum::<i64>(),
        "input_tokens": models.iter().map(|m| m.input_tokens).sum::<i64>(),
        "output_tokens": models.iter().map(|m| m.output_tokens).sum::<i64>(),
    });
    Ok(Json(json!({
        "workspace_id": ferrocat_shared::ids::workspace_id(access.workspace_id),
        "since": since,
        "until": until,
        "run_id": query.run_id,
        "total": total,
        "models": models,
    })))
}
