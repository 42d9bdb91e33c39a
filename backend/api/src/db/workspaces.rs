//! Workspaces and memberships.

use sqlx::{PgExecutor, PgPool};
use uuid::Uuid;

/// The workspace created on first start.
pub const DEFAULT_WORKSPACE: &str = "Default Workspace";

/// A workspace the caller belongs to, with the caller's role.
#[derive(Debug, Clone)]
pub struct Membership {
    pub workspace_id: Uuid,
    pub name: String,
    pub role: String,
}

/// The id of the default workspace, created when missing (safe under concurrent starts).
///
/// When another process inserts it at the same moment, `ON CONFLICT DO NOTHING` waits for that
/// commit and returns nothing, and the statement's snapshot cannot see the new row either; a
/// second statement, with a fresh snapshot, does.
pub async fn ensure_default(db: &PgPool) -> sqlx::Result<Uuid> {
    let mut attempt = 0;
    loop {
        let found = sqlx::query_scalar!(
            r#"WITH ins AS (
               INSERT INTO workspaces (id, name) VALUES ($1, $2)
               ON CONFLICT (name) DO NOTHING RETURNING id)
           SELECT id AS "id!" FROM ins
           UNION ALL SELECT id FROM workspaces WHERE name = $2
           LIMIT 1"#,
            Uuid::now_v7(),
            DEFAULT_WORKSPACE
        )
        .fetch_optional(db)
        .await?;
        match found {
            Some(id) => return Ok(id),
            None if attempt < 3 => attempt += 1,
            None => return Err(sqlx::Error::RowNotFound),
        }
    }
}

/// Adds (or updates) a membership.
pub async fn upsert_membership(db: impl PgExecutor<'_>, user_id: Uuid, workspace_id: Uuid, role: &str) -> sqlx::Result<()> {
    sqlx::query!(
        r#"INSERT INTO memberships (user_id, workspace_id, role) VALUES ($1, $2, $3)
           ON CONFLICT (user_id, workspace_id) DO UPDATE SET role = EXCLUDED.role"#,
        user_id,
        workspace_id,
        role
    )
    .execute(db)
    .await?;
    Ok(())
}

/// Every workspace of a user, oldest first.
pub async fn list_for_user(db: impl PgExecutor<'_>, user_id: Uuid) -> sqlx::Result<Vec<Membership>> {
    sqlx::query_as!(
        Membership,
        r#"SELECT w.id AS workspace_id, w.name, m.role
           FROM memberships m JOIN workspaces w ON w.id = m.workspace_id
           WHERE m.user_id = $1 ORDER BY w.created_at"#,
        user_id
    )
    .fetch_all(db)
    .await
}

/// The user's role in one workspace, if a member.
pub async fn role_of(db: impl PgExecutor<'_>, user_id: Uuid, workspace_id: Uuid) -> sqlx::Result<Option<String>> {
    sqlx::query_scalar!(
        "SELECT role FROM memberships WHERE user_id = $1 AND workspace_id = $2",
        user_id,
        workspace_id
    )
    .fetch_optional(db)
    .await
}

/// The name of a workspace.
pub async fn get(db: impl PgExecutor<'_>, workspace_id: Uuid) -> sqlx::Result<Option<String>> {
    sqlx::query_scalar!("SELECT name FROM workspaces WHERE id = $1", workspace_id).fetch_optional(db).await
}
