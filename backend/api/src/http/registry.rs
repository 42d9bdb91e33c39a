//! `GET /registry/actions` and `GET /registry/actions/{name}`: the action table (with the git
//! registries' current templates); `/registry/repos`: the git registries, their syncs and
//! versions.

use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::{Value, json};

use ferrocat_app::registries;

use super::{JsonBody, Path};
use crate::auth::{AuthUser, Principal};
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
async fn list_actions(State(state): State<AppState>, _caller: Principal) -> Result<Json<Vec<Value>>, ApiError> {
    Ok(Json(registries::current_actions(&state).await?))
}

#[utoipa::path(
    get,
    path = "/registry/actions/{name}",
    tag = "registry",
    params(("name" = String, Path, description = "action name, e.g. core.http_request")),
    responses((status = 200, description = "one action", body = serde_json::Value), (status = "4XX", description = "the one error shape", body = crate::error::ErrorBody))
)]
async fn get_action(State(state): State<AppState>, _caller: Principal, Path(name): Path<String>) -> Result<Json<Value>, ApiError> {
    let (_, table) = ferrocat_app::registries::current_table(&state).await?;
    table
        .as_deref()
        .unwrap_or_else(|| ferrocat_registry::global())
        .get(&name)
        .map(|action| Json(action.describe()))
        .ok_or_else(|| ApiError::NotFound(format!("action {name} not found")))
}

/// Git registries: the organisation's, so superusers manage them.
pub(super) fn repos_router() -> Router<AppState> {
    Router::new()
        .route("/registry/repos", get(list_repos).post(create_repo))
        .route("/registry/repos/{repository_id}", get(get_repo).delete(delete_repo))
        .route("/registry/repos/{repository_id}/sync", post(sync_repo))
        .route("/registry/repos/{repository_id}/versions", get(list_versions))
        .route("/registry/repos/{repository_id}/versions/{version_id}/promote", post(promote_version))
}

fn repo_read(repo: &ferrocat_app::registries::Repository) -> Value {
    json!({
        "id": repo.id,
        "origin": repo.origin,
        "git_ref": repo.git_ref,
        "ssh_key_secret": repo.ssh_key_secret,
        "current_version_id": repo.current_version_id,
        "last_synced_at": repo.last_synced_at,
        "last_error": repo.last_error,
        "created_at": repo.created_at,
    })
}

fn version_read(version: &ferrocat_app::registries::Version) -> Value {
    json!({
        "id": version.id,
        "repository_id": version.repository_id,
        "version": version.version,
        "commit_sha": version.commit_sha,
        "actions": version.actions,
        "actions_count": version.actions.len(),
        "created_at": version.created_at,
    })
}

fn repo_id(text: &str) -> Result<uuid::Uuid, ApiError> {
    Ok(ferrocat_app::checks::parse_id("registry repository", text)?)
}

#[utoipa::path(
    get,
    path = "/registry/repos",
    tag = "registry",
    responses((status = 200, description = "the git registries", body = serde_json::Value), (status = "4XX", description = "the one error shape", body = crate::error::ErrorBody))
)]
async fn list_repos(State(state): State<AppState>, user: AuthUser) -> Result<Json<Vec<Value>>, ApiError> {
    user.require_superuser("managing registries")?;
    Ok(Json(registries::list(&state).await?.iter().map(repo_read).collect()))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
struct CreateRepo {
    /// `https://…`, `ssh://…`, `git://…` or `user@host:path`.
    origin: String,
    /// Branch or tag (default: the remote's default branch).
    git_ref: Option<String>,
    /// An organisation secret whose PRIVATE_KEY is the ssh deploy key.
    ssh_key_secret: Option<String>,
}

#[utoipa::path(
    post,
    path = "/registry/repos",
    tag = "registry",
    request_body = CreateRepo,
    responses((status = 201, description = "added (not synced yet)", body = serde_json::Value), (status = "4XX", description = "the one error shape", body = crate::error::ErrorBody))
)]
async fn create_repo(State(state): State<AppState>, user: AuthUser, JsonBody(body): JsonBody<CreateRepo>) -> Result<(StatusCode, Json<Value>), ApiError> {
    user.require_superuser("managing registries")?;
    let repo = registries::create(&state, &body.origin, body.git_ref.as_deref(), body.ssh_key_secret.as_deref()).await?;
    Ok((StatusCode::CREATED, Json(repo_read(&repo))))
}

#[utoipa::path(
    get,
    path = "/registry/repos/{repository_id}",
    tag = "registry",
    params(("repository_id" = String, Path, description = "repository id")),
    responses((status = 200, description = "the repository", body = serde_json::Value), (status = "4XX", description = "the one error shape", body = crate::error::ErrorBody))
)]
async fn get_repo(State(state): State<AppState>, user: AuthUser, Path(id): Path<String>) -> Result<Json<Value>, ApiError> {
    user.require_superuser("managing registries")?;
    Ok(Json(repo_read(&registries::get(&state, repo_id(&id)?).await?)))
}

#[utoipa::path(
    delete,
    path = "/registry/repos/{repository_id}",
    tag = "registry",
    params(("repository_id" = String, Path, description = "repository id")),
    responses((status = 204, description = "removed with its versions"), (status = "4XX", description = "the one error shape", body = crate::error::ErrorBody))
)]
async fn delete_repo(State(state): State<AppState>, user: AuthUser, Path(id): Path<String>) -> Result<StatusCode, ApiError> {
    user.require_superuser("managing registries")?;
    registries::delete(&state, repo_id(&id)?).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize, utoipa::ToSchema, Default)]
#[serde(deny_unknown_fields)]
struct SyncRepo {
    /// A commit to sync (40 hex digits); default: the head of the ref.
    target_commit_sha: Option<String>,
}

#[utoipa::path(
    post,
    path = "/registry/repos/{repository_id}/sync",
    tag = "registry",
    params(("repository_id" = String, Path, description = "repository id")),
    request_body = SyncRepo,
    responses((status = 200, description = "the new current version", body = serde_json::Value), (status = "4XX", description = "the one error shape (422 lists each template problem as file:line)", body = crate::error::ErrorBody))
)]
async fn sync_repo(State(state): State<AppState>, user: AuthUser, Path(id): Path<String>, JsonBody(body): JsonBody<SyncRepo>) -> Result<Json<Value>, ApiError> {
    user.require_superuser("managing registries")?;
    let version = registries::sync(&state, repo_id(&id)?, body.target_commit_sha.as_deref()).await?;
    Ok(Json(version_read(&version)))
}

#[utoipa::path(
    get,
    path = "/registry/repos/{repository_id}/versions",
    tag = "registry",
    params(("repository_id" = String, Path, description = "repository id")),
    responses((status = 200, description = "its versions, newest first", body = serde_json::Value), (status = "4XX", description = "the one error shape", body = crate::error::ErrorBody))
)]
async fn list_versions(State(state): State<AppState>, user: AuthUser, Path(id): Path<String>) -> Result<Json<Vec<Value>>, ApiError> {
    user.require_superuser("managing registries")?;
    Ok(Json(registries::versions(&state, repo_id(&id)?).await?.iter().map(version_read).collect()))
}

#[utoipa::path(
    post,
    path = "/registry/repos/{repository_id}/versions/{version_id}/promote",
    tag = "registry",
    params(("repository_id" = String, Path, description = "repository id"), ("version_id" = String, Path, description = "version id")),
    responses((status = 200, description = "the repository, with that version current", body = serde_json::Value), (status = "4XX", description = "the one error shape", body = crate::error::ErrorBody))
)]
async fn promote_version(State(state): State<AppState>, user: AuthUser, Path((id, version)): Path<(String, String)>) -> Result<Json<Value>, ApiError> {
    user.require_superuser("managing registries")?;
    let version = ferrocat_app::checks::parse_id("registry version", &version)?;
    Ok(Json(repo_read(&registries::promote(&state, repo_id(&id)?, version).await?)))
}
