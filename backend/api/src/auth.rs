//! The extractors that authenticate a request (`Principal`: a session or an API key; `AuthUser`: a person only) and
//! authorise it for a workspace (`WorkspaceAccess`).

use axum::extract::{FromRequestParts, Query, RawPathParams};
use axum::http::request::Parts;
use axum_extra::extract::CookieJar;
use serde::Deserialize;
use uuid::Uuid;

// A workspace access carries a role; the cookie is the one the MCP sign-in pages read too.
pub use ferrocat_app::accounts::{Role, SESSION_COOKIE};
use ferrocat_app::api_keys;
use ferrocat_app::db::{service_accounts, users, workspaces};
use crate::error::ApiError;
use crate::state::AppState;

/// A service account acting through one of its API keys.
#[derive(Debug, Clone)]
pub struct ServiceAccount {
    pub id: Uuid,
    pub name: String,
    pub key_id: Uuid,
    /// The one workspace the key is bound to.
    pub workspace_id: Uuid,
    pub role: Role,
}

/// Who is calling: a person with a session (cookie, or its token as a bearer), or a service
/// account with an API key (`Authorization: Bearer tc_ws_sk_…`). 401 otherwise.
#[derive(Debug, Clone)]
pub enum Principal {
    User(users::User),
    ServiceAccount(ServiceAccount),
}

impl FromRequestParts<AppState> for Principal {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        if let Some(token) = bearer(parts)
            && api_keys::looks_like_key(&token)
        {
            return authenticate_key(state, &token).await.map(Principal::ServiceAccount);
        }
        let jar = CookieJar::from_headers(&parts.headers);
        let token = jar
            .get(SESSION_COOKIE)
            .map(|c| c.value().to_owned())
            .or_else(|| bearer(parts))
            .ok_or_else(|| ApiError::Unauthorized("not authenticated".into()))?;
        users::find_by_session(&state.db, &ferrocat_app::accounts::token_hash(&token), state.config.session_idle_seconds)
            .await?
            .map(Principal::User)
            .ok_or_else(|| ApiError::Unauthorized("session expired or invalid".into()))
    }
}

async fn authenticate_key(state: &AppState, key: &str) -> Result<ServiceAccount, ApiError> {
    let invalid = || ApiError::Unauthorized("invalid API key".into());
    let (key_id, secret) = api_keys::parse(key).ok_or_else(invalid)?;
    let credential = service_accounts::credential(&state.db, key_id).await?.ok_or_else(invalid)?;
    if !api_keys::verify(secret, &credential.secret_hash) {
        return Err(invalid());
    }
    if credential.revoked {
        return Err(ApiError::Unauthorized("API key revoked".into()));
    }
    if credential.disabled {
        return Err(ApiError::Unauthorized("service account disabled".into()));
    }
    service_accounts::touch_key(&state.db, key_id).await?;
    Ok(ServiceAccount {
        id: credential.service_account_id,
        name: credential.service_account_name,
        key_id,
        workspace_id: credential.workspace_id,
        role: Role::parse(&credential.role),
    })
}

/// The signed-in person of a request, or 401; an API key gets 403 (it acts for a workspace,
/// not for a person, and cannot manage people or credentials).
#[derive(Debug, Clone)]
pub struct AuthUser(pub users::User);

impl FromRequestParts<AppState> for AuthUser {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        match Principal::from_request_parts(parts, state).await? {
            Principal::User(user) => Ok(AuthUser(user)),
            Principal::ServiceAccount(_) => Err(ApiError::Forbidden("this route needs a signed-in user, not an API key".into())),
        }
    }
}

impl AuthUser {
    /// 403 unless the person is a superuser; `what` says what needs one ("listing users").
    pub fn require_superuser(&self, what: &str) -> Result<(), ApiError> {
        if self.0.is_superuser { Ok(()) } else { Err(ApiError::Forbidden(format!("{what} needs a superuser"))) }
    }
}

/// The session token of a request, as [`Principal`] finds it: the cookie, else a bearer that
/// is not an API key.
pub fn session_token(headers: &axum::http::HeaderMap) -> Option<String> {
    let bearer = headers
        .get(axum::http::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(|t| t.trim().to_owned());
    if bearer.as_deref().is_some_and(api_keys::looks_like_key) {
        return None;
    }
    CookieJar::from_headers(headers).get(SESSION_COOKIE).map(|c| c.value().to_owned()).or(bearer)
}

fn bearer(parts: &Parts) -> Option<String> {
    let value = parts.headers.get(axum::http::header::AUTHORIZATION)?.to_str().ok()?;
    value.strip_prefix("Bearer ").map(|t| t.trim().to_owned())
}

#[derive(Deserialize)]
struct WorkspaceQuery {
    workspace_id: Option<String>,
}

/// The caller and the workspace named by the `{workspace_id}` path segment or `?workspace_id=`
/// (else the caller's only workspace, or the key's), with the caller's role there. A workspace
/// the caller is not in, or that a key is not bound to, is reported as not found.
#[derive(Debug, Clone)]
pub struct WorkspaceAccess {
    pub principal: Principal,
    pub workspace_id: Uuid,
    pub role: Role,
}

impl WorkspaceAccess {
    /// Fails with 403 unless the caller's role is at least `needed` (superusers always pass).
    pub fn require(&self, needed: Role) -> Result<(), ApiError> {
        let superuser = matches!(&self.principal, Principal::User(u) if u.is_superuser);
        if self.role >= needed || superuser {
            Ok(())
        } else {
            Err(ApiError::Forbidden(format!("this needs the {} role in the workspace", needed.as_str())))
        }
    }

    /// Like [`WorkspaceAccess::require`], and the caller must be a person: credentials and
    /// memberships are not managed with API keys, so a leaked key cannot entrench itself.
    pub fn require_user(&self, needed: Role) -> Result<&users::User, ApiError> {
        match &self.principal {
            Principal::User(user) => self.require(needed).map(|()| user),
            Principal::ServiceAccount(_) => Err(ApiError::Forbidden("this route needs a signed-in user, not an API key".into())),
        }
    }

    /// The acting user's id, if a person is acting.
    pub fn user_id(&self) -> Option<Uuid> {
        match &self.principal {
            Principal::User(user) => Some(user.id),
            Principal::ServiceAccount(_) => None,
        }
    }
}

impl FromRequestParts<AppState> for WorkspaceAccess {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let principal = Principal::from_request_parts(parts, state).await?;
        let from_path = match RawPathParams::from_request_parts(parts, state).await {
            Ok(params) => params.iter().find(|(k, _)| *k == "workspace_id").map(|(_, v)| v.to_owned()),
            Err(_) => None,
        };
        let requested = match from_path {
            Some(text) => Some(text),
            None => {
                let Query(query) = Query::<WorkspaceQuery>::from_request_parts(parts, state)
                    .await
                    .map_err(|e| ApiError::BadRequest(e.body_text()))?;
                query.workspace_id
            }
        };
        let not_found = || ApiError::NotFound("workspace not found".into());
        let requested = match requested {
            Some(text) => Some(ferrocat_shared::ids::parse_workspace_id(&text).map_err(|_| not_found())?),
            None => None,
        };
        let (workspace_id, role) = match (&principal, requested) {
            (Principal::ServiceAccount(account), Some(id)) if id != account.workspace_id => return Err(not_found()),
            (Principal::ServiceAccount(account), _) => (account.workspace_id, account.role),
            (Principal::User(user), Some(id)) => {
                let role = workspaces::role_of(&state.db, user.id, id).await?.ok_or_else(not_found)?;
                (id, Role::parse(&role))
            }
            (Principal::User(user), None) => {
                let mut all = workspaces::list_for_user(&state.db, user.id).await?;
                if all.len() != 1 {
                    return Err(ApiError::BadRequest("workspace_id query parameter is required".into()));
                }
                let only = all.remove(0);
                (only.workspace_id, Role::parse(&only.role))
            }
        };
        Ok(WorkspaceAccess { principal, workspace_id, role })
    }
}
