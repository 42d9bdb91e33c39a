//! Users and their sessions.

use chrono::{DateTime, Utc};
use sqlx::PgExecutor;
use uuid::Uuid;

/// A user row without the password hash.
#[derive(Debug, Clone, serde::Serialize)]
pub struct User {
    pub id: Uuid,
    pub email: String,
    pub is_superuser: bool,
    pub is_active: bool,
    pub created_at: DateTime<Utc>,
    pub last_login_at: Option<DateTime<Utc>>,
}

/// The user with this email (case-insensitive) and their password hash.
pub async fn find_credentials(db: impl PgExecutor<'_>, email: &str) -> sqlx::Result<Option<(User, String)>> {
    let row = sqlx::query!(
        r#"SELECT id, email, hashed_password, is_superuser, is_active, created_at, last_login_at
           FROM users WHERE lower(email) = lower($1)"#,
        email
    )
    .fetch_optional(db)
    .await?;
    Ok(row.map(|r| {
        (
            User {
                id: r.id,
                email: r.email,
                is_superuser: r.is_superuser,
                is_active: r.is_active,
                created_at: r.created_at,
                last_login_at: r.last_login_at,
            },
            r.hashed_password,
        )
    }))
}

/// Inserts a user; fails on `users_email_key` when the email is taken.
pub async fn insert(db: impl PgExecutor<'_>, email: &str, hashed_password: &str, is_superuser: bool) -> sqlx::Result<Uuid> {
    let id = Uuid::now_v7();
    sqlx::query!(
        "INSERT INTO users (id, email, hashed_password, is_superuser) VALUES ($1, $2, $3, $4)",
        id,
        email,
        hashed_password,
        is_superuser
    )
    .execute(db)
    .await?;
    Ok(id)
}

/// Records a successful login.
pub async fn touch_login(db: impl PgExecutor<'_>, id: Uuid) -> sqlx::Result<()> {
    sqlx::query!("UPDATE users SET last_login_at = now() WHERE id = $1", id).execute(db).await?;
    Ok(())
}

/// Stores a new session by the SHA-256 of its token.
pub async fn insert_session(
    db: impl PgExecutor<'_>,
    token_hash: &[u8],
    user_id: Uuid,
    expires_at: DateTime<Utc>,
) -> sqlx::Result<()> {
    sqlx::query!(
        "INSERT INTO sessions (token_hash, user_id, expires_at) VALUES ($1, $2, $3)",
        token_hash,
        user_id,
        expires_at
    )
    .execute(db)
    .await?;
    Ok(())
}

/// The active user owning an unexpired session.
pub async fn find_by_session(db: impl PgExecutor<'_>, token_hash: &[u8]) -> sqlx::Result<Option<User>> {
    sqlx::query_as!(
        User,
        r#"SELECT u.id, u.email, u.is_superuser, u.is_active, u.created_at, u.last_login_at
           FROM sessions s JOIN users u ON u.id = s.user_id
           WHERE s.token_hash = $1 AND s.expires_at > now() AND u.is_active"#,
        token_hash
    )
    .fetch_optional(db)
    .await
}

/// Ends a session.
pub async fn delete_session(db: impl PgExecutor<'_>, token_hash: &[u8]) -> sqlx::Result<()> {
    sqlx::query!("DELETE FROM sessions WHERE token_hash = $1", token_hash).execute(db).await?;
    Ok(())
}

/// Every user, oldest first.
pub async fn list(db: impl PgExecutor<'_>) -> sqlx::Result<Vec<User>> {
    sqlx::query_as!(
        User,
        "SELECT id, email, is_superuser, is_active, created_at, last_login_at FROM users ORDER BY created_at, id"
    )
    .fetch_all(db)
    .await
}
