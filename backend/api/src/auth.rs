//! Passwords (argon2id), session tokens, the first-admin bootstrap, and the extractors that
//! authenticate a request (`AuthUser`) and authorise it for a workspace (`WorkspaceAccess`).

use argon2::password_hash::{PasswordHasher, SaltString, rand_core::OsRng};
use argon2::{Argon2, PasswordHash, PasswordVerifier};
use axum::extract::{FromRequestParts, Query};
use axum::http::request::Parts;
use axum_extra::extract::CookieJar;
use rand::RngCore;
use secrecy::ExposeSecret;
use serde::Deserialize;
use sha2::{Digest, Sha256};
use uuid::Uuid;

use crate::db::{users, workspaces};
use crate::error::ApiError;
use crate::state::AppState;

/// Name of the session cookie.
pub const SESSION_COOKIE: &str = "ferrocat_session";

/// Hashes a password with argon2id and a random salt (PHC string).
pub fn hash_password(password: &str) -> anyhow::Result<String> {
    let salt = SaltString::generate(&mut OsRng);
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| anyhow::anyhow!("hashing password: {e}"))
}

/// Checks a password against a PHC hash; a malformed hash never verifies.
pub fn verify_password(password: &str, hash: &str) -> bool {
    PasswordHash::new(hash).is_ok_and(|parsed| Argon2::default().verify_password(password.as_bytes(), &parsed).is_ok())
}

/// A fresh opaque session token (256 bits, base64url) and the SHA-256 stored for it.
pub fn new_session_token() -> (String, Vec<u8>) {
    let mut raw = [0u8; 32];
    rand::thread_rng().fill_bytes(&mut raw);
    let token = base64::Engine::encode(&base64::engine::general_purpose::URL_SAFE_NO_PAD, raw);
    let hash = token_hash(&token);
    (token, hash)
}

/// What the database stores for a session token.
pub fn token_hash(token: &str) -> Vec<u8> {
    Sha256::digest(token.as_bytes()).to_vec()
}

/// Creates the default workspace and the configured first admin, once; later starts change nothing.
pub async fn bootstrap(state: &AppState) -> anyhow::Result<()> {
    let workspace = workspaces::ensure_default(&state.db).await?;
    let Some((email, password)) = &state.config.admin else { return Ok(()) };
    if users::find_credentials(&state.db, email).await?.is_some() {
        return Ok(());
    }
    let hash = hash_password(password.expose_secret())?;
    let mut tx = state.db.begin().await?;
    match users::insert(&mut *tx, email, &hash, true).await {
        Ok(id) => {
            workspaces::upsert_membership(&mut *tx, id, workspace, "admin").await?;
            tx.commit().await?;
            tracing::info!(email = %email, "created the first admin");
        }
        // Another api process created it at the same moment.
        Err(sqlx::Error::Database(e)) if e.constraint() == Some("users_email_key") => {}
        Err(e) => return Err(e.into()),
    }
    Ok(())
}

/// The signed-in user of a request (session cookie), or 401.
#[derive(Debug, Clone)]
pub struct AuthUser(pub users::User);

impl FromRequestParts<AppState> for AuthUser {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let jar = CookieJar::from_headers(&parts.headers);
        let token = jar
            .get(SESSION_COOKIE)
            .map(|c| c.value().to_owned())
            .or_else(|| bearer(parts))
            .ok_or_else(|| ApiError::Unauthorized("not authenticated".into()))?;
        users::find_by_session(&state.db, &token_hash(&token))
            .await?
            .map(AuthUser)
            .ok_or_else(|| ApiError::Unauthorized("session expired or invalid".into()))
    }
}

fn bearer(parts: &Parts) -> Option<String> {
    let value = parts.headers.get(axum::http::header::AUTHORIZATION)?.to_str().ok()?;
    value.strip_prefix("Bearer ").map(|t| t.trim().to_owned())
}

/// Workspace roles, weakest first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Role {
    Viewer,
    Editor,
    Admin,
}

impl Role {
    fn parse(text: &str) -> Role {
        match text {
            "admin" => Role::Admin,
            "editor" => Role::Editor,
            _ => Role::Viewer,
        }
    }
}

#[derive(Deserialize)]
struct WorkspaceQuery {
    workspace_id: Option<String>,
}

/// The caller and the workspace named by `?workspace_id=` (or their only workspace), with the
/// caller's role. A workspace the caller is not in is reported as not found.
#[derive(Debug, Clone)]
pub struct WorkspaceAccess {
    pub user: users::User,
    pub workspace_id: Uuid,
    pub role: Role,
}

impl WorkspaceAccess {
    /// Fails with 403 unless the caller's role is at least `needed`.
    pub fn require(&self, needed: Role) -> Result<(), ApiError> {
        if self.role >= needed || self.user.is_superuser {
            Ok(())
        } else {
            Err(ApiError::Forbidden(format!("this needs the {needed:?} role in the workspace").to_lowercase()))
        }
    }
}

impl FromRequestParts<AppState> for WorkspaceAccess {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let AuthUser(user) = AuthUser::from_request_parts(parts, state).await?;
        let Query(query) = Query::<WorkspaceQuery>::from_request_parts(parts, state)
            .await
            .map_err(|e| ApiError::BadRequest(e.body_text()))?;
        let (workspace_id, role) = match query.workspace_id {
            Some(text) => {
                let id = ferrocat_shared::ids::parse_workspace_id(&text).map_err(|e| ApiError::BadRequest(e.to_string()))?;
                let role = workspaces::role_of(&state.db, user.id, id)
                    .await?
                    .ok_or_else(|| ApiError::NotFound("workspace not found".into()))?;
                (id, role)
            }
            None => {
                let mut all = workspaces::list_for_user(&state.db, user.id).await?;
                if all.len() != 1 {
                    return Err(ApiError::BadRequest("workspace_id query parameter is required".into()));
                }
                let only = all.remove(0);
                (only.workspace_id, only.role)
            }
        };
        Ok(WorkspaceAccess { user, workspace_id, role: Role::parse(&role) })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_verify_only_themselves() {
        let hash = hash_password("correct horse battery").unwrap();
        assert!(hash.starts_with("$argon2id$"));
        assert!(verify_password("correct horse battery", &hash));
        assert!(!verify_password("wrong horse battery", &hash));
        assert!(!verify_password("anything", "not-a-phc-string"));
    }

    #[test]
    fn session_tokens_are_unique_and_hashed() {
        let (a, ha) = new_session_token();
        let (b, _) = new_session_token();
        assert_ne!(a, b);
        assert_eq!(ha, token_hash(&a));
        assert_eq!(ha.len(), 32);
    }
}
