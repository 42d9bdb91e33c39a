//! Workspaces and their members. `GET /workspaces` lists the caller's workspaces; an
//! organisation admin (a superuser) creates, renames and deletes workspaces and manages who is
//! in them with which role, at Tracecat's paths (`/workspaces`, `/workspaces/{id}`,
//! `/workspaces/{id}/memberships[/{user_id}]`). Members may read their workspace; its admins
//! may also list its members. API keys get 403 on every route but the list: people and
//! workspaces are not managed with keys.

use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::get;
use axum::{Json, Router};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use ferrocat_app::db::{schedules, users, workspaces};

use super::validate::invalid;
use super::{JsonBody, Path};
use crate::auth::{AuthUser, Principal, Role};
use crate::error::{ApiError, ResultExt as _};
use crate::state::AppState;

pub(super) fn router() -> Router<AppState> {
    Router::new()
        .route("/workspaces", get(list_workspaces).post(create_workspace))
        .route("/workspaces/{workspace_id}", get(get_workspace).patch(update_workspace).delete(delete_workspace))
        .route("/workspaces/{workspace_id}/memberships", get(list_memberships).post(create_membership))
        .route(
            "/workspaces/{workspace_id}/memberships/{user_id}",
            get(get_membership).patch(update_membership).delete(delete_membership),
        )
}

/// A workspace the caller is in, with the caller's role.
#[derive(Serialize, utoipa::ToSchema)]
struct WorkspaceMembershipSummary {
    /// `ws_…`
    id: String,
    name: String,
    role: String,
}

/// A workspace.
#[derive(Serialize, utoipa::ToSchema)]
struct WorkspaceRead {
    /// `ws_…`
    id: String,
    name: String,
    created_at: DateTime<Utc>,
}

impl From<workspaces::WorkspaceRow> for WorkspaceRead {
    fn from(row: workspaces::WorkspaceRow) -> Self {
        Self { id: ferrocat_shared::ids::workspace_id(row.id), name: row.name, created_at: row.created_at }
    }
}

/// A member of a workspace and their role there.
#[derive(Serialize, utoipa::ToSchema)]
struct MembershipRead {
    user_id: Uuid,
    email: String,
    /// `ws_…`
    workspace_id: String,
    /// `admin`, `editor` or `viewer`.
    role: String,
    created_at: DateTime<Utc>,
}

impl MembershipRead {
    fn new(workspace_id: Uuid, member: workspaces::Member) -> Self {
        Self {
            user_id: member.user_id,
            email: member.email,
            workspace_id: ferrocat_shared::ids::workspace_id(workspace_id),
            role: member.role,
            created_at: member.created_at,
        }
    }
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
struct WorkspaceCreate {
    /// 1 to 100 characters, unique.
    name: String,
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
struct WorkspaceUpdate {
    /// 1 to 100 characters, unique.
    name: String,
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
struct MembershipCreate {
    user_id: Uuid,
    /// `admin`, `editor` or `viewer` (default `editor`).
    #[serde(default = "default_role")]
    role: String,
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
struct MembershipUpdate {
    /// `admin`, `editor` or `viewer`.
    role: String,
}

fn default_role() -> String {
    "editor".into()
}

#[derive(Deserialize)]
struct MemberPath {
    workspace_id: String,
    user_id: String,
}

/// A workspace name: trimmed, 1 to 100 characters, no control characters.
fn check_name(name: &str) -> Result<String, ApiError> {
    let name = name.trim();
    if name.is_empty() || name.chars().count() > 100 || name.chars().any(char::is_control) {
        return Err(invalid("name", "a workspace name is 1 to 100 characters, without control characters"));
    }
    Ok(name.to_owned())
}

/// The workspace named in the path, if the caller may see it: superusers see every workspace,
/// members theirs with at least `needed`; others are told it does not exist.
async fn authorize(state: &AppState, user: &users::User, text: &str, needed: Role) -> Result<workspaces::WorkspaceRow, ApiError> {
    let not_found = || ApiError::NotFound(format!("workspace {text:?} not found"));
    let id = ferrocat_shared::ids::parse_workspace_id(text).map_err(|_| not_found())?;
    if !user.is_superuser {
        let role = workspaces::role_of(&state.db, user.id, id).await?.ok_or_else(not_found)?;
        if Role::parse(&role) < needed {
            return Err(ApiError::Forbidden(format!("this needs the {} role in the workspace", needed.as_str())));
        }
    }
    workspaces::find(&state.db, id).await?.ok_or_else(not_found)
}

#[utoipa::path(
    get,
    path = "/workspaces",
    tag = "workspaces",
    responses((status = 200, description = "the caller's workspaces", body = Vec<WorkspaceMembershipSummary>), (status = "4XX", description = "the one error shape", body = crate::error::ErrorBody))
)]
async fn list_workspaces(State(state): State<AppState>, principal: Principal) -> Result<Json<Vec<WorkspaceMembershipSummary>>, ApiError> {
    let list = match principal {
        Principal::User(user) => workspaces::list_for_user(&state.db, user.id).await?,
        Principal::ServiceAccount(account) => workspaces::get(&state.db, account.workspace_id)
            .await?
            .map(|name| vec![workspaces::Membership { workspace_id: account.workspace_id, name, role: account.role.as_str().into() }])
            .unwrap_or_default(),
    };
    Ok(Json(
        list.into_iter()
            .map(|m| WorkspaceMembershipSummary { id: ferrocat_shared::ids::workspace_id(m.workspace_id), name: m.name, role: m.role })
            .collect(),
    ))
}

/// `POST /workspaces` (superusers): a new workspace, with its creator as its admin.
#[utoipa::path(
    post,
    path = "/workspaces",
    tag = "workspaces",
    request_body = WorkspaceCreate,
    responses((status = 201, description = "the new workspace", body = WorkspaceRead), (status = "4XX", description = "the one error shape", body = crate::error::ErrorBody))
)]
async fn create_workspace(
    State(state): State<AppState>,
    user: AuthUser,
    JsonBody(body): JsonBody<WorkspaceCreate>,
) -> Result<(StatusCode, Json<WorkspaceRead>), ApiError> {
    user.require_superuser("creating a workspace")?;
    let name = check_name(&body.name)?;
    let mut tx = state.db.begin().await?;
    let row = workspaces::create(&mut *tx, &name).await.on_constraint("workspaces_name_key", "a workspace with this name exists")?;
    workspaces::upsert_membership(&mut *tx, user.0.id, row.id, "admin").await?;
    tx.commit().await?;
    tracing::info!(workspace_id = %row.id, "workspace created");
    Ok((StatusCode::CREATED, Json(row.into())))
}

#[utoipa::path(
    get,
    path = "/workspaces/{workspace_id}",
    tag = "workspaces",
    params(("workspace_id" = String, Path, description = "workspace id (ws_…)")),
    responses((status = 200, description = "the workspace (members and superusers)", body = WorkspaceRead), (status = "4XX", description = "the one error shape", body = crate::error::ErrorBody))
)]
async fn get_workspace(State(state): State<AppState>, AuthUser(user): AuthUser, Path(id): Path<String>) -> Result<Json<WorkspaceRead>, ApiError> {
    Ok(Json(authorize(&state, &user, &id, Role::Viewer).await?.into()))
}

/// `PATCH /workspaces/{workspace_id}` (superusers): renames a workspace.
#[utoipa::path(
    patch,
    path = "/workspaces/{workspace_id}",
    tag = "workspaces",
    params(("workspace_id" = String, Path, description = "workspace id (ws_…)")),
    request_body = WorkspaceUpdate,
    responses((status = 200, description = "the renamed workspace", body = WorkspaceRead), (status = "4XX", description = "the one error shape", body = crate::error::ErrorBody))
)]
async fn update_workspace(
    State(state): State<AppState>,
    user: AuthUser,
    Path(id): Path<String>,
    JsonBody(body): JsonBody<WorkspaceUpdate>,
) -> Result<Json<WorkspaceRead>, ApiError> {
    user.require_superuser("renaming a workspace")?;
    let workspace = authorize(&state, &user.0, &id, Role::Admin).await?;
    let name = check_name(&body.name)?;
    let row = workspaces::rename(&state.db, workspace.id, &name)
        .await
        .on_constraint("workspaces_name_key", "a workspace with this name exists")?
        .ok_or_else(|| ApiError::NotFound(format!("workspace {id:?} not found")))?;
    tracing::info!(workspace_id = %row.id, "workspace renamed");
    Ok(Json(row.into()))
}

/// `DELETE /workspaces/{workspace_id}` (superusers): the workspace and everything in it. Its
/// Temporal schedules are deleted first, so none outlives the workflow it would start; rows go
/// with the workspace (foreign keys cascade). Runs already in Temporal keep their history.
#[utoipa::path(
    delete,
    path = "/workspaces/{workspace_id}",
    tag = "workspaces",
    params(("workspace_id" = String, Path, description = "workspace id (ws_…)")),
    responses((status = 204, description = "deleted, with everything in it"), (status = "4XX", description = "the one error shape", body = crate::error::ErrorBody))
)]
async fn delete_workspace(State(state): State<AppState>, user: AuthUser, Path(id): Path<String>) -> Result<StatusCode, ApiError> {
    user.require_superuser("deleting a workspace")?;
    let workspace = authorize(&state, &user.0, &id, Role::Admin).await?;
    for schedule in schedules::list(&state.db, workspace.id, None).await? {
        ferrocat_app::schedules::delete(&state, schedule.id).await?;
    }
    if !workspaces::delete(&state.db, workspace.id).await? {
        return Err(ApiError::NotFound(format!("workspace {id:?} not found")));
    }
    tracing::info!(workspace_id = %workspace.id, "workspace deleted");
    Ok(StatusCode::NO_CONTENT)
}

/// `GET /workspaces/{workspace_id}/memberships`: its members (its admins and superusers).
#[utoipa::path(
    get,
    path = "/workspaces/{workspace_id}/memberships",
    tag = "workspaces",
    params(("workspace_id" = String, Path, description = "workspace id (ws_…)")),
    responses((status = 200, description = "the members and their roles", body = Vec<MembershipRead>), (status = "4XX", description = "the one error shape", body = crate::error::ErrorBody))
)]
async fn list_memberships(
    State(state): State<AppState>,
    AuthUser(user): AuthUser,
    Path(id): Path<String>,
) -> Result<Json<Vec<MembershipRead>>, ApiError> {
    let workspace = authorize(&state, &user, &id, Role::Admin).await?;
    let members = workspaces::members(&state.db, workspace.id).await?;
    Ok(Json(members.into_iter().map(|m| MembershipRead::new(workspace.id, m)).collect()))
}

/// The user id of a membership path, and the workspace, for a superuser.
async fn member_target(state: &AppState, user: &AuthUser, path: &MemberPath, what: &str) -> Result<(Uuid, Uuid), ApiError> {
    user.require_superuser(what)?;
    let workspace = authorize(state, &user.0, &path.workspace_id, Role::Admin).await?;
    let member = Uuid::try_parse(&path.user_id).map_err(|_| ApiError::NotFound(format!("no member {:?}", path.user_id)))?;
    Ok((workspace.id, member))
}

/// `POST /workspaces/{workspace_id}/memberships` (superusers): adds an existing user.
#[utoipa::path(
    post,
    path = "/workspaces/{workspace_id}/memberships",
    tag = "workspaces",
    params(("workspace_id" = String, Path, description = "workspace id (ws_…)")),
    request_body = MembershipCreate,
    responses((status = 201, description = "the new membership", body = MembershipRead), (status = "4XX", description = "the one error shape", body = crate::error::ErrorBody))
)]
async fn create_membership(
    State(state): State<AppState>,
    user: AuthUser,
    Path(id): Path<String>,
    JsonBody(body): JsonBody<MembershipCreate>,
) -> Result<(StatusCode, Json<MembershipRead>), ApiError> {
    user.require_superuser("adding a member")?;
    let workspace = authorize(&state, &user.0, &id, Role::Admin).await?;
    super::check_role(&body.role)?;
    if users::get(&state.db, body.user_id).await?.is_none() {
        return Err(invalid("user_id", format!("there is no user {}", body.user_id)));
    }
    if !workspaces::add_member(&state.db, workspace.id, body.user_id, &body.role).await? {
        return Err(ApiError::Conflict("this user is already a member of the workspace; change their role instead".into()));
    }
    let member = workspaces::member(&state.db, workspace.id, body.user_id)
        .await?
        .ok_or_else(|| ApiError::Conflict("the membership was removed meanwhile".into()))?;
    tracing::info!(workspace_id = %workspace.id, user_id = %body.user_id, role = %body.role, "member added");
    Ok((StatusCode::CREATED, Json(MembershipRead::new(workspace.id, member))))
}

#[utoipa::path(
    get,
    path = "/workspaces/{workspace_id}/memberships/{user_id}",
    tag = "workspaces",
    params(("workspace_id" = String, Path, description = "workspace id (ws_…)"), ("user_id" = String, Path, description = "user id")),
    responses((status = 200, description = "the membership", body = MembershipRead), (status = "4XX", description = "the one error shape", body = crate::error::ErrorBody))
)]
async fn get_membership(
    State(state): State<AppState>,
    AuthUser(user): AuthUser,
    Path(path): Path<MemberPath>,
) -> Result<Json<MembershipRead>, ApiError> {
    let workspace = authorize(&state, &user, &path.workspace_id, Role::Admin).await?;
    let not_found = || ApiError::NotFound(format!("no member {:?}", path.user_id));
    let member_id = Uuid::try_parse(&path.user_id).map_err(|_| not_found())?;
    let member = workspaces::member(&state.db, workspace.id, member_id).await?.ok_or_else(not_found)?;
    Ok(Json(MembershipRead::new(workspace.id, member)))
}

/// `PATCH /workspaces/{workspace_id}/memberships/{user_id}` (superusers): changes a role.
#[utoipa::path(
    patch,
    path = "/workspaces/{workspace_id}/memberships/{user_id}",
    tag = "workspaces",
    params(("workspace_id" = String, Path, description = "workspace id (ws_…)"), ("user_id" = String, Path, description = "user id")),
    request_body = MembershipUpdate,
    responses((status = 200, description = "the membership with its new role", body = MembershipRead), (status = "4XX", description = "the one error shape", body = crate::error::ErrorBody))
)]
async fn update_membership(
    State(state): State<AppState>,
    user: AuthUser,
    Path(path): Path<MemberPath>,
    JsonBody(body): JsonBody<MembershipUpdate>,
) -> Result<Json<MembershipRead>, ApiError> {
    let (workspace_id, member_id) = member_target(&state, &user, &path, "changing a member's role").await?;
    super::check_role(&body.role)?;
    let not_found = || ApiError::NotFound(format!("no member {:?}", path.user_id));
    if !workspaces::set_role(&state.db, workspace_id, member_id, &body.role).await? {
        return Err(not_found());
    }
    let member = workspaces::member(&state.db, workspace_id, member_id).await?.ok_or_else(not_found)?;
    tracing::info!(%workspace_id, user_id = %member_id, role = %body.role, "member role changed");
    Ok(Json(MembershipRead::new(workspace_id, member)))
}

/// `DELETE /workspaces/{workspace_id}/memberships/{user_id}` (superusers): removes a member.
#[utoipa::path(
    delete,
    path = "/workspaces/{workspace_id}/memberships/{user_id}",
    tag = "workspaces",
    params(("workspace_id" = String, Path, description = "workspace id (ws_…)"), ("user_id" = String, Path, description = "user id")),
    responses((status = 204, description = "removed"), (status = "4XX", description = "the one error shape", body = crate::error::ErrorBody))
)]
async fn delete_membership(State(state): State<AppState>, user: AuthUser, Path(path): Path<MemberPath>) -> Result<StatusCode, ApiError> {
    let (workspace_id, member_id) = member_target(&state, &user, &path, "removing a member").await?;
    if !workspaces::remove_member(&state.db, workspace_id, member_id).await? {
        return Err(ApiError::NotFound(format!("no member {:?}", path.user_id)));
    }
    tracing::info!(%workspace_id, user_id = %member_id, "member removed");
    Ok(StatusCode::NO_CONTENT)
}
