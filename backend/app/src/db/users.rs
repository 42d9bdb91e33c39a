//! Users and their sessions.

use chrono::{DateTime, Utc};
use sqlx::PgExecutor;
use uuid::Uuid;

/// A user row without the password hash.
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct User {
    pub id: Uuid,
    pub email: String,
    pub is_superuser: bool,
    pub is_active: bool,
    /// Whether the owner of the address proved it (an account made by accepting an invitation
    /// is not, until its owner signs in through the identity provider with that email verified).
    pub email_verified: bool,
    pub created_at: DateTime<Utc>,
    pub last_login_at: Option<DateTime<Utc>>,
}

/// The one normalisation of an email wherever one is a key (the sign-in lockout's bucket, the
/// account an address names): surrounding space trimmed, then Unicode lowercase. The database
/// compares with its own `lower()`, whose folding of some letters differs (`İ` becomes `i`
/// there, `i̇` here), so a row it finds is kept only when its key is the same as the input's:
/// an address that opens another lockout bucket never reaches the account.
pub fn email_key(email: &str) -> String {
    email.trim().to_lowercase()
}

/// The user with this email (the same [`email_key`]) and their password hash.
pub async fn find_credentials(db: impl PgExecutor<'_>, email: &str) -> sqlx::Result<Option<(User, String)>> {
    let key = email_key(email);
    let row = sqlx::query!(
        r#"SELECT id, email, hashed_password, is_superuser, is_active, email_verified, created_at, last_login_at
           FROM users WHERE lower(email) = lower($1)"#,
        email.trim()
    )
    .fetch_optional(db)
    .await?;
    Ok(row.filter(|r| email_key(&r.email) == key).map(|r| {
        (
            User {
                id: r.id,
                email: r.email,
                is_superuser: r.is_superuser,
                is_active: r.is_active,
                email_verified: r.email_verified,
                created_at: r.created_at,
                last_login_at: r.last_login_at,
            },
            r.hashed_password,
        )
    }))
}

/// Inserts a user whose address is taken as verified (the configured first admin, an account
/// an identity provider vouched for); fails on `users_email_key` when the email is taken.
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

/// Inserts an account created by accepting an invitation: unverified, since the token went to
/// the inviter and not necessarily to the address's owner.
pub async fn insert_unverified(db: impl PgExecutor<'_>, email: &str, hashed_password: &str) -> sqlx::Result<Uuid> {
    let id = Uuid::now_v7();
    sqlx::query!(
        "INSERT INTO users (id, email, hashed_password, email_verified) VALUES ($1, $2, $3, FALSE)",
        id,
        email,
        hashed_password
    )
    .execute(db)
    .await?;
    Ok(id)
}

/// Replaces a password hash.
pub async fn set_password(db: impl PgExecutor<'_>, id: Uuid, hashed_password: &str) -> sqlx::Result<()> {
    sqlx::query!("UPDATE users SET hashed_password = $2 WHERE id = $1", id, hashed_password).execute(db).await?;
    Ok(())
}

/// Marks an address proven by its owner.
pub async fn mark_verified(db: impl PgExecutor<'_>, id: Uuid) -> sqlx::Result<()> {
    sqlx::query!("UPDATE users SET email_verified = TRUE WHERE id = $1", id).execute(db).await?;
    Ok(())
}

/// Ends every session of a user but `keep` (the one asking, if any), and withdraws every MCP
/// grant (and so its tokens): after a password change nothing signed in with the old password
/// stays signed in.
pub async fn revoke_sessions(db: &sqlx::PgPool, id: Uuid, keep: Option<&[u8]>) -> sqlx::Result<()> {
    let mut tx = db.begin().await?;
    sqlx::query!(
        "DELETE FROM sessions WHERE user_id = $1 AND ($2::bytea IS NULL OR token_hash <> $2)",
        id,
        keep
    )
    .execute(&mut *tx)
    .await?;
    sqlx::query!("DELETE FROM oauth_grants WHERE user_id = $1", id).execute(&mut *tx).await?;
    tx.commit().await
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

/// How often a session's last use is written: not on every request, so the idle timeout costs
/// one write a minute per active session, not one per request.
const SESSION_REFRESH_SECONDS: f64 = 60.0;

/// The active user owning a session that has neither expired nor been idle for longer than
/// `idle_seconds`; the session's last use is refreshed when it is older than a minute.
pub async fn find_by_session(db: impl PgExecutor<'_>, token_hash: &[u8], idle_seconds: i64) -> sqlx::Result<Option<User>> {
    let idle = idle_seconds as f64;
    let refresh = SESSION_REFRESH_SECONDS.min(idle / 2.0);
    sqlx::query_as!(
        User,
        r#"WITH live AS (
               SELECT u.id, u.email, u.is_superuser, u.is_active, u.email_verified, u.created_at, u.last_login_at,
                      s.last_seen_at
               FROM sessions s JOIN users u ON u.id = s.user_id
               WHERE s.token_hash = $1 AND s.expires_at > now() AND u.is_active
                 AND s.last_seen_at > now() - make_interval(secs => $2)),
           touched AS (
               UPDATE sessions SET last_seen_at = now()
               WHERE token_hash = $1 AND EXISTS (SELECT 1 FROM live WHERE last_seen_at < now() - make_interval(secs => $3)))
           SELECT id AS "id!", email AS "email!", is_superuser AS "is_superuser!", is_active AS "is_active!",
                  email_verified AS "email_verified!", created_at AS "created_at!", last_login_at
           FROM live"#,
        token_hash,
        idle,
        refresh
    )
    .fetch_optional(db)
    .await
}

/// Ends a session.
pub async fn delete_session(db: impl PgExecutor<'_>, token_hash: &[u8]) -> sqlx::Result<()> {
    sqlx::query!("DELETE FROM sessions WHERE token_hash = $1", token_hash).execute(db).await?;
    Ok(())
}

/// A user by id.
pub async fn get(db: impl PgExecutor<'_>, id: Uuid) -> sqlx::Result<Option<User>> {
    sqlx::query_as!(
        User,
        "SELECT id, email, is_superuser, is_active, email_verified, created_at, last_login_at FROM users WHERE id = $1",
        id
    )
    .fetch_optional(db)
    .await
}

/// Every user, oldest first.
pub async fn list(db: impl PgExecutor<'_>) -> sqlx::Result<Vec<User>> {
    sqlx::query_as!(
        User,
        "SELECT id, email, is_superuser, is_active, email_verified, created_at, last_login_at FROM users ORDER BY created_at, id"
    )
    .fetch_all(db)
    .await
}

#[cfg(test)]
mod tests {
    use super::email_key;

    #[test]
    fn one_key_per_address_and_dotted_capital_i_is_not_i() {
        assert_eq!(email_key("  Alice@Example.COM "), "alice@example.com");
        assert_ne!(email_key("alİce@example.com"), email_key("alice@example.com"));
        assert_eq!(email_key("ALİCE@example.com"), email_key("alİce@example.com"));
    }
}
