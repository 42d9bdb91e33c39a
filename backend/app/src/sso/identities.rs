//! Postgres storage of single sign-on: upstream identities linked to platform users, and the
//! sign-ins on their way through the provider (found again by the hash of their `state`).

use chrono::{DateTime, Utc};
use sqlx::PgExecutor;
use uuid::Uuid;

use crate::db::users::User;

/// The user an upstream identity is linked to.
pub async fn linked_user(db: impl PgExecutor<'_>, issuer: &str, subject: &str) -> sqlx::Result<Option<User>> {
    sqlx::query_as!(
        User,
        "SELECT u.id, u.email, u.is_superuser, u.is_active, u.email_verified, u.created_at, u.last_login_at
         FROM identities i JOIN users u ON u.id = i.user_id WHERE i.issuer = $1 AND i.subject = $2",
        issuer,
        subject
    )
    .fetch_optional(db)
    .await
}

/// A user by id.
pub async fn user_by_id(db: impl PgExecutor<'_>, id: Uuid) -> sqlx::Result<Option<User>> {
    sqlx::query_as!(
        User,
        "SELECT id, email, is_superuser, is_active, email_verified, created_at, last_login_at FROM users WHERE id = $1",
        id
    )
    .fetch_optional(db)
    .await
}

/// Links an identity to a user, or records another sign-in of a linked one.
pub async fn link(db: impl PgExecutor<'_>, issuer: &str, subject: &str, user_id: Uuid, email: Option<&str>) -> sqlx::Result<()> {
    sqlx::query!(
        "INSERT INTO identities (issuer, subject, user_id, email, last_login_at) VALUES ($1, $2, $3, $4, now())
         ON CONFLICT (issuer, subject) DO UPDATE SET email = EXCLUDED.email, last_login_at = now()",
        issuer,
        subject,
        user_id,
        email
    )
    .execute(db)
    .await?;
    Ok(())
}

/// A redirect to the provider to remember until its callback.
pub struct NewLogin<'a> {
    pub state_hash: &'a [u8],
    pub request_hash: &'a [u8],
    pub nonce: &'a str,
    pub pkce_verifier: &'a str,
    pub expires_at: DateTime<Utc>,
}

pub async fn insert_login(db: impl PgExecutor<'_>, new: &NewLogin<'_>) -> sqlx::Result<()> {
    sqlx::query!(
        "INSERT INTO oidc_logins (state_hash, request_hash, nonce, pkce_verifier, expires_at) VALUES ($1, $2, $3, $4, $5)",
        new.state_hash,
        new.request_hash,
        new.nonce,
        new.pkce_verifier,
        new.expires_at
    )
    .execute(db)
    .await?;
    Ok(())
}

/// A sign-in the callback finishes.
#[derive(Debug)]
pub struct Login {
    pub request_hash: Vec<u8>,
    pub nonce: String,
    pub pkce_verifier: String,
}

/// What a callback's `state` found.
#[derive(Debug)]
pub enum Taken {
    /// A live sign-in, now spent.
    Fresh(Login),
    /// A sign-in whose state already came back once.
    Replayed,
    /// No such sign-in, or it expired.
    Unknown,
}

/// Spends the sign-in started with this state, once.
pub async fn take_login(db: impl PgExecutor<'_> + Copy, state_hash: &[u8]) -> sqlx::Result<Taken> {
    let fresh = sqlx::query_as!(
        Login,
        "UPDATE oidc_logins SET used_at = now() WHERE state_hash = $1 AND used_at IS NULL AND expires_at > now()
         RETURNING request_hash, nonce, pkce_verifier",
        state_hash
    )
    .fetch_optional(db)
    .await?;
    if let Some(login) = fresh {
        return Ok(Taken::Fresh(login));
    }
    let used = sqlx::query_scalar!("SELECT used_at IS NOT NULL AS \"used!\" FROM oidc_logins WHERE state_hash = $1", state_hash)
        .fetch_optional(db)
        .await?;
    Ok(if used == Some(true) { Taken::Replayed } else { Taken::Unknown })
}
