//! Invitations to a workspace: a workspace admin invites an email with a role and gets a
//! one-time token (shown once, stored as its SHA-256, valid 7 days by default); the invitee
//! accepts with it, creating an account with a password or joining with the one they have.
//!
//! The token goes to the inviter, who need not own the address, so:
//! - joining an existing account takes that account's password under the same sign-in lockout
//!   as `/auth/login` (per account and per address), and an invitation is burned after
//!   [`BURN_AFTER`] wrong passwords: it is no password oracle;
//! - or the caller is signed in as the invited account (no password: its session proves it);
//! - an account created here is unverified until its owner signs in through the identity
//!   provider with that address verified. An unverified account is never adopted by single
//!   sign-on with its password kept: the sign-in takes it over (password and sessions of
//!   whoever created it dropped), after which its owner accepts pending invitations while
//!   signed in. See `mcp/src/oauth/sso.rs`.

use std::net::SocketAddr;

use axum::extract::{ConnectInfo, State};
use axum::http::{HeaderMap, StatusCode};
use axum::routing::{delete, get, post};
use axum::{Json, Router};
use chrono::{Duration, Utc};
use rand::RngCore as _;
use serde::Deserialize;
use serde_json::{Value, json};
use sha2::{Digest as _, Sha256};
use uuid::Uuid;

use ferrocat_app::db::invitations::{self, InvitationRow};
use ferrocat_app::db::{users, workspaces};
use ferrocat_app::lockout::SignInAttempt;

use super::validate::invalid;
use super::{JsonBody, Path, client_ip};
use crate::auth::{Role, SESSION_COOKIE, WorkspaceAccess};
use crate::error::{ApiError, ResultExt as _};
use crate::state::AppState;

pub(super) fn router() -> Router<AppState> {
    Router::new()
        .route("/workspaces/{workspace_id}/invitations", get(list_invitations).post(create_invitation))
        .route("/workspaces/{workspace_id}/invitations/{invitation_id}", delete(revoke_invitation))
        .route("/invitations/accept", post(accept_invitation))
}

/// Longest an invitation may stay valid.
const MAX_DAYS: i64 = 30;

/// Wrong passwords an invitation survives; the last one revokes it.
pub const BURN_AFTER: i32 = 5;

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
struct CreateInvitation {
    email: String,
    #[serde(default = "default_role")]
    role: String,
    /// Days until it expires (1 to 30, default 7).
    #[serde(default = "default_days")]
    expires_in_days: i64,
}

fn default_role() -> String {
    "editor".into()
}

fn default_days() -> i64 {
    7
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
struct AcceptInvitation {
    token: String,
    /// A new account's password, or the existing account's; not needed when the caller is
    /// signed in as the invited account.
    #[serde(default)]
    password: Option<String>,
}

/// The membership an accepted invitation gave.
#[derive(serde::Serialize, utoipa::ToSchema)]
struct AcceptedInvitation {
    /// `ws_…`
    workspace_id: String,
    role: String,
    user_id: Uuid,
    email: String,
    /// Whether the account's address is proven (false for an account created here).
    email_verified: bool,
}

#[derive(Deserialize)]
struct InvitationPath {
    #[allow(dead_code)]
    workspace_id: String,
    invitation_id: String,
}

/// A plausible address: one `@` between non-empty parts, no spaces, at most 254 bytes.
fn check_email(email: &str) -> Result<(), ApiError> {
    let ok = email.len() <= 254
        && !email.chars().any(char::is_whitespace)
        && email.split_once('@').is_some_and(|(local, domain)| !local.is_empty() && !domain.is_empty() && !domain.contains('@'));
    if ok { Ok(()) } else { Err(invalid("email", format!("{email:?} is not an email address"))) }
}

fn token_hash(token: &str) -> Vec<u8> {
    Sha256::digest(token.as_bytes()).to_vec()
}

fn model(row: &InvitationRow) -> Value {
    json!({
        "id": row.id,
        "workspace_id": ferrocat_shared::ids::workspace_id(row.workspace_id),
        "email": row.email,
        "role": row.role,
        "status": row.status(Utc::now()),
        "invited_by": row.invited_by,
        "created_at": row.created_at,
        "expires_at": row.expires_at,
        "accepted_at": row.accepted_at,
        "revoked_at": row.revoked_at,
    })
}

#[utoipa::path(
    post,
    path = "/workspaces/{workspace_id}/invitations",
    tag = "invitations",
    params(("workspace_id" = String, Path, description = "workspace id (ws_…)")),
    request_body = CreateInvitation,
    responses((status = 201, description = "the invitation, with its token shown once", body = serde_json::Value), (status = "4XX", description = "the one error shape", body = crate::error::ErrorBody))
)]
async fn create_invitation(
    State(state): State<AppState>,
    access: WorkspaceAccess,
    JsonBody(body): JsonBody<CreateInvitation>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let user = access.require_user(Role::Admin)?;
    let email = body.email.trim().to_owned();
    check_email(&email)?;
    super::check_role(&body.role)?;
    if !(1..=MAX_DAYS).contains(&body.expires_in_days) {
        return Err(invalid("expires_in_days", format!("expires_in_days must be between 1 and {MAX_DAYS}")));
    }
    let mut raw = [0u8; 32];
    rand::thread_rng().fill_bytes(&mut raw);
    let token = format!("fc_inv_{}", hex::encode(raw));
    let expires_at = Utc::now() + Duration::days(body.expires_in_days);
    let mut tx = state.db.begin().await?;
    invitations::revoke_open_for(&mut *tx, access.workspace_id, &email).await?;
    let row = invitations::insert(&mut *tx, access.workspace_id, &email, &body.role, &token_hash(&token), Some(user.id), expires_at)
        .await
        .on_constraint("invitations_open_key", "this address was just invited; try again")?;
    tx.commit().await?;
    tracing::info!(invitation_id = %row.id, role = %row.role, "invitation created");
    let mut out = model(&row);
    // The fragment never reaches a server, so the token stays out of access logs.
    out["accept_url"] = json!(format!("{}/invitations/accept#token={token}", state.config.public_url));
    out["token"] = json!(token);
    Ok((StatusCode::CREATED, Json(out)))
}

#[utoipa::path(
    get,
    path = "/workspaces/{workspace_id}/invitations",
    tag = "invitations",
    params(("workspace_id" = String, Path, description = "workspace id (ws_…)")),
    responses((status = 200, description = "the workspace's invitations (never their tokens)", body = serde_json::Value), (status = "4XX", description = "the one error shape", body = crate::error::ErrorBody))
)]
async fn list_invitations(State(state): State<AppState>, access: WorkspaceAccess) -> Result<Json<Vec<Value>>, ApiError> {
    access.require_user(Role::Admin)?;
    Ok(Json(invitations::list(&state.db, access.workspace_id).await?.iter().map(model).collect()))
}

#[utoipa::path(
    delete,
    path = "/workspaces/{workspace_id}/invitations/{invitation_id}",
    tag = "invitations",
    params(("workspace_id" = String, Path, description = "workspace id (ws_…)"), ("invitation_id" = String, Path, description = "invitation id")),
    responses((status = 204, description = "revoked"), (status = "4XX", description = "the one error shape", body = crate::error::ErrorBody))
)]
async fn revoke_invitation(
    State(state): State<AppState>,
    access: WorkspaceAccess,
    Path(path): Path<InvitationPath>,
) -> Result<StatusCode, ApiError> {
    access.require_user(Role::Admin)?;
    let not_found = || ApiError::NotFound(format!("no open invitation {:?}", path.invitation_id));
    let id = Uuid::try_parse(&path.invitation_id).map_err(|_| not_found())?;
    if !invitations::revoke(&state.db, access.workspace_id, id).await? {
        return Err(not_found());
    }
    tracing::info!(invitation_id = %id, "invitation revoked");
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(
    post,
    path = "/invitations/accept",
    tag = "invitations",
    request_body = AcceptInvitation,
    security((), ("session" = [])),
    responses((status = 200, description = "joined: the workspace and role", body = AcceptedInvitation), (status = "4XX", description = "the one error shape", body = crate::error::ErrorBody))
)]
async fn accept_invitation(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    JsonBody(body): JsonBody<AcceptInvitation>,
) -> Result<Json<AcceptedInvitation>, ApiError> {
    let gone = || ApiError::NotFound("this invitation is not valid: unknown, expired, used or revoked".into());
    let signed_in = match axum_extra::extract::CookieJar::from_headers(&headers).get(SESSION_COOKIE) {
        Some(cookie) => {
            users::find_by_session(&state.db, &ferrocat_app::accounts::token_hash(cookie.value()), state.config.session_idle_seconds).await?
        }
        None => None,
    };
    let mut tx = state.db.begin().await?;
    let invitation = invitations::open_by_token(&mut *tx, &token_hash(body.token.trim())).await?.ok_or_else(gone)?;
    let (user_id, email_verified) = match users::find_credentials(&mut *tx, &invitation.email).await? {
        // Signed in as the invited account: the session proves it is theirs.
        Some((user, _)) if signed_in.as_ref().is_some_and(|s| s.id == user.id) => (user.id, user.email_verified),
        // Otherwise an existing account joins by proving its password, under the sign-in lockout.
        Some((user, hash)) => {
            let Some(password) = body.password else {
                return Err(ApiError::Unauthorized(format!(
                    "the password of {} is needed to accept (or accept while signed in as that account)",
                    invitation.email
                )));
            };
            let attempt = SignInAttempt::new(&invitation.email, client_ip(peer, &headers));
            attempt.check(&state).await?;
            let verified = ferrocat_app::accounts::verify_password_blocking(password, hash).await?;
            if !verified || !user.is_active {
                // The failure outlives this transaction.
                drop(tx);
                attempt.failed(&state).await;
                let burned = invitations::record_failure(&state.db, invitation.id, BURN_AFTER).await?;
                tracing::warn!(invitation_id = %invitation.id, burned, "wrong password accepting an invitation");
                if burned {
                    return Err(ApiError::Unauthorized(
                        "too many wrong passwords: this invitation is now revoked; ask for a new one".into(),
                    ));
                }
                let mut detail = format!("the password of {} is needed to accept", invitation.email);
                if !user.email_verified {
                    detail.push_str(
                        ": an account for this address exists but its owner never proved the address; if it is yours and \
                         you do not know its password, sign in through single sign-on with this address (which takes the \
                         account over), then accept while signed in, or ask an administrator",
                    );
                }
                return Err(ApiError::Unauthorized(detail));
            }
            attempt.succeeded(&state).await;
            (user.id, user.email_verified)
        }
        None => {
            let Some(password) = body.password else {
                return Err(invalid("password", "a password is needed to create the account".to_owned()));
            };
            ferrocat_app::passwords::check(&password, state.config.min_password_length, &invitation.email)
                .map_err(|weak| invalid("password", weak.to_string()))?;
            let hash = ferrocat_app::accounts::hash_password_blocking(password).await?;
            let id = users::insert_unverified(&mut *tx, &invitation.email, &hash)
                .await
                .on_constraint("users_email_key", "an account with this email was just created; accept again")?;
            (id, false)
        }
    };
    workspaces::upsert_membership(&mut *tx, user_id, invitation.workspace_id, &invitation.role).await?;
    invitations::mark_accepted(&mut *tx, invitation.id, user_id).await?;
    tx.commit().await?;
    tracing::info!(invitation_id = %invitation.id, %user_id, role = %invitation.role, "invitation accepted");
    Ok(Json(AcceptedInvitation {
        workspace_id: ferrocat_shared::ids::workspace_id(invitation.workspace_id),
        role: invitation.role,
        user_id,
        email: invitation.email,
        email_verified,
    }))
}
