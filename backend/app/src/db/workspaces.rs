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

/// A workspace row.
#[derive(Debug, Clone)]
pub struct WorkspaceRow {
    pub id: Uuid,
    pub name: String,
    pub created_at: chrono::DateTime<chrono::Utc>,
}

/// A member of a workspace.
#[derive(Debug, Clone)]
pub struct Member {
    pub user_id: Uuid,
    pub email: String,
    pub role: String,
    pub created_at: chrono::DateTime<chrono::Utc>,
}

/// Creates a workspace; fails on `workspaces_name_key` when the name is taken.
pub async fn create(db: impl PgExecutor<'_>, name: &str) -> sqlx::Result<WorkspaceRow> {
    sqlx::query_as!(
        WorkspaceRow,
        "INSERT INTO workspaces (id, name) VALUES ($1, $2) RETURNING id, name, created_at",
        Uuid::now_v7(),
        name
    )
    .fetch_one(db)
    .await
}

/// A workspace by id.
pub async fn find(db: impl PgExecutor<'_>, id: Uuid) -> sqlx::Result<Option<WorkspaceRow>> {
    sqlx::query_as!(WorkspaceRow, "SELECT id, name, created_at FROM workspaces WHERE id = $1", id).fetch_optional(db).await
}

/// Renames a workspace; `None` when there is none with this id.
pub async fn rename(db: impl PgExecutor<'_>, id: Uuid, name: &str) -> sqlx::Result<Option<WorkspaceRow>> {
    sqlx::query_as!(
        WorkspaceRow,
        "UPDATE workspaces SET name = $2 WHERE id = $1 RETURNING id, name, created_at",
        id,
        name
    )
    .fetch_optional(db)
    .await
}

/// Deletes a workspace and everything in it: every table holding a workspace's rows refers to
/// it `ON DELETE CASCADE`, except the model usage log (no foreign key, see its migration),
/// cleared here in the same transaction. Whether there was one.
pub async fn delete(db: &PgPool, id: Uuid) -> sqlx::Result<bool> {
    let mut tx = db.begin().await?;
    sqlx::query!("DELETE FROM llm_usage WHERE workspace_id = $1", id).execute(&mut *tx).await?;
    let done = sqlx::query!("DELETE FROM workspaces WHERE id = $1", id).execute(&mut *tx).await?;
    tx.commit().await?;
    Ok(done.rows_affected() == 1)
}

/// The members of a workspace, oldest membership first.
pub async fn members(db: impl PgExecutor<'_>, workspace_id: Uuid) -> sqlx::Result<Vec<Member>> {
    sqlx::query_as!(
        Member,
        r#"SELECT m.user_id, u.email, m.role, m.created_at
           FROM memberships m JOIN users u ON u.id = m.user_id
           WHERE m.workspace_id = $1 ORDER BY m.created_at, m.user_id"#,
        workspace_id
    )
    .fetch_all(db)
    .await
}

/// One member of a workspace.
pub async fn member(db: impl PgExecutor<'_>, workspace_id: Uuid, user_id: Uuid) -> sqlx::Result<Option<Member>> {
    sqlx::query_as!(
        Member,
        r#"SELECT m.user_id, u.email, m.role, m.created_at
           FROM memberships m JOIN users u ON u.id = m.user_id
           WHERE m.workspace_id = $1 AND m.user_id = $2"#,
        workspace_id,
        user_id
    )
    .fetch_optional(db)
    .await
}

/// Adds a member; `false` when the user already is one.
pub async fn add_member(db: impl PgExecutor<'_>, workspace_id: Uuid, user_id: Uuid, role: &str) -> sqlx::Result<bool> {
    let done = sqlx::query!(
        "INSERT INTO memberships (user_id, workspace_id, role) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING",
        user_id,
        workspace_id,
        role
    )
    .execute(db)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Changes a member's role; `false` when the user is not a member.
pub async fn set_role(db: impl PgExecutor<'_>, workspace_id: Uuid, user_id: Uuid, role: &str) -> sqlx::Result<bool> {
    let done = sqlx::query!(
        "UPDATE memberships SET role = $3 WHERE workspace_id = $1 AND user_id = $2",
        workspace_id,
        user_id,
        role
    )
    .execute(db)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Removes a member; `false` when the user was not one.
pub async fn remove_member(db: impl PgExecutor<'_>, workspace_id: Uuid, user_id: Uuid) -> sqlx::Result<bool> {
    let done = sqlx::query!("DELETE FROM memberships WHERE workspace_id = $1 AND user_id = $2", workspace_id, user_id)
        .execute(db)
        .await?;
    Ok(done.rows_affected() == 1)
}
