//! Invitations to a workspace.

use chrono::{DateTime, Utc};
use sqlx::PgExecutor;
use uuid::Uuid;

/// An invitation row, without its token hash.
#[derive(Debug, Clone)]
pub struct InvitationRow {
    pub id: Uuid,
    pub workspace_id: Uuid,
    pub email: String,
    pub role: String,
    pub invited_by: Option<Uuid>,
    pub created_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    pub accepted_at: Option<DateTime<Utc>>,
    pub revoked_at: Option<DateTime<Utc>>,
}

impl InvitationRow {
    /// `pending`, `accepted`, `revoked` or `expired` at `now`.
    pub fn status(&self, now: DateTime<Utc>) -> &'static str {
        match (self.accepted_at, self.revoked_at) {
            (Some(_), _) => "accepted",
            (None, Some(_)) => "revoked",
            (None, None) if self.expires_at <= now => "expired",
            (None, None) => "pending",
        }
    }
}

/// Revokes the open invitation of `email` in the workspace, if any (inviting again replaces it).
pub async fn revoke_open_for(db: impl PgExecutor<'_>, workspace_id: Uuid, email: &str) -> sqlx::Result<()> {
    sqlx::query!(
        r#"UPDATE invitations SET revoked_at = now()
           WHERE workspace_id = $1 AND lower(email) = lower($2) AND accepted_at IS NULL AND revoked_at IS NULL"#,
        workspace_id,
        email
    )
    .execute(db)
    .await?;
    Ok(())
}

/// Inserts an invitation.
pub async fn insert(
    db: impl PgExecutor<'_>,
    workspace_id: Uuid,
    email: &str,
    role: &str,
    token_hash: &[u8],
    invited_by: Option<Uuid>,
    expires_at: DateTime<Utc>,
) -> sqlx::Result<InvitationRow> {
    sqlx::query_as!(
        InvitationRow,
        r#"INSERT INTO invitations (id, workspace_id, email, role, token_hash, invited_by, expires_at)
           VALUES ($1, $2, $3, $4, $5, $6, $7)
           RETURNING id, workspace_id, email, role, invited_by, created_at, expires_at, accepted_at, revoked_at"#,
        Uuid::now_v7(),
        workspace_id,
        email,
        role,
        token_hash,
        invited_by,
        expires_at
    )
    .fetch_one(db)
    .await
}

/// The invitations of a workspace, newest first.
pub async fn list(db: impl PgExecutor<'_>, workspace_id: Uuid) -> sqlx::Result<Vec<InvitationRow>> {
    sqlx::query_as!(
        InvitationRow,
        r#"SELECT id, workspace_id, email, role, invited_by, created_at, expires_at, accepted_at, revoked_at
           FROM invitations WHERE workspace_id = $1 ORDER BY created_at DESC"#,
        workspace_id
    )
    .fetch_all(db)
    .await
}

/// Revokes an open invitation of the workspace; whether there was one.
pub async fn revoke(db: impl PgExecutor<'_>, workspace_id: Uuid, id: Uuid) -> sqlx::Result<bool> {
    let done = sqlx::query!(
        r#"UPDATE invitations SET revoked_at = now()
           WHERE workspace_id = $1 AND id = $2 AND accepted_at IS NULL AND revoked_at IS NULL"#,
        workspace_id,
        id
    )
    .execute(db)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// The open, unexpired invitation with this token hash, locked until the transaction ends.
pub async fn open_by_token(db: impl PgExecutor<'_>, token_hash: &[u8]) -> sqlx::Result<Option<InvitationRow>> {
    sqlx::query_as!(
        InvitationRow,
        r#"SELECT id, workspace_id, email, role, invited_by, created_at, expires_at, accepted_at, revoked_at
           FROM invitations
           WHERE token_hash = $1 AND accepted_at IS NULL AND revoked_at IS NULL AND expires_at > now()
           FOR UPDATE"#,
        token_hash
    )
    .fetch_optional(db)
    .await
}

/// Marks an invitation accepted by `user_id`.
pub async fn mark_accepted(db: impl PgExecutor<'_>, id: Uuid, user_id: Uuid) -> sqlx::Result<()> {
    sqlx::query!("UPDATE invitations SET accepted_at = now(), accepted_by = $2 WHERE id = $1", id, user_id).execute(db).await?;
    Ok(())
}

/// Counts a wrong password given to accept an invitation; at `burn_after` failures the
/// invitation is revoked. Whether it now is.
pub async fn record_failure(db: impl PgExecutor<'_>, id: Uuid, burn_after: i32) -> sqlx::Result<bool> {
    sqlx::query_scalar!(
        r#"UPDATE invitations
           SET failed_attempts = failed_attempts + 1,
               revoked_at = CASE WHEN failed_attempts + 1 >= $2 THEN now() ELSE revoked_at END
           WHERE id = $1
           RETURNING revoked_at IS NOT NULL AS "burned!""#,
        id,
        burn_after
    )
    .fetch_one(db)
    .await
}

/// The open, unexpired invitations of `email`, in every workspace: `(id, workspace_id, role)`.
pub async fn open_for_email(db: impl PgExecutor<'_>, email: &str) -> sqlx::Result<Vec<(Uuid, Uuid, String)>> {
    sqlx::query_as(
        "SELECT id, workspace_id, role FROM invitations
         WHERE lower(email) = lower($1) AND accepted_at IS NULL AND revoked_at IS NULL AND expires_at > now() ORDER BY created_at",
    )
    .bind(email)
    .fetch_all(db)
    .await
}
