//! The queries the MCP tools need that the api's repositories do not offer.

use serde_json::Value;
use sqlx::PgExecutor;
use uuid::Uuid;

/// Replaces a workflow's draft with a new definition (and its title and description); whether
/// the workflow exists in the workspace. The JSON is bound as text and cast to `json`, as the
/// api does, so the author's key order is kept.
pub async fn replace_draft(
    db: impl PgExecutor<'_>,
    workspace_id: Uuid,
    id: Uuid,
    title: &str,
    description: &str,
    draft: &Value,
) -> sqlx::Result<bool> {
    let done = sqlx::query(
        "UPDATE workflows SET draft = $5::text::json, title = $3, description = $4, updated_at = now()
         WHERE workspace_id = $1 AND id = $2",
    )
    .bind(workspace_id)
    .bind(id)
    .bind(title)
    .bind(description)
    .bind(draft.to_string())
    .execute(db)
    .await?;
    Ok(done.rows_affected() == 1)
}
