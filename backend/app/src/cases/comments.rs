//! Case comments with one level of replies: create, edit, delete (a thread starter that still
//! has replies leaves a tombstone; anything else goes), and the threaded view.

use chrono::{DateTime, Utc};
use serde_json::{Value, json};
use sqlx::PgPool;
use uuid::Uuid;

use super::events::{self, EventType};
use super::{Actor, CaseRow};
use crate::AppError;
use crate::checks::invalid;

/// Longest comment (Tracecat's).
pub const MAX_CONTENT: usize = 25_000;
/// Most comments one case holds.
const MAX_PER_CASE: i64 = 10_000;

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct CommentRow {
    pub id: Uuid,
    pub case_id: Uuid,
    pub parent_id: Option<Uuid>,
    pub content: String,
    pub user_id: Option<Uuid>,
    pub wf_exec_id: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub last_edited_at: Option<DateTime<Utc>>,
    pub deleted_at: Option<DateTime<Utc>>,
}

/// The columns a row is read from.
macro_rules! columns {
    () => {
        "id, case_id, parent_id, content, user_id, wf_exec_id, created_at, updated_at, last_edited_at, deleted_at"
    };
}

impl CommentRow {
    pub fn read_model(&self) -> Value {
        let deleted = self.deleted_at.is_some();
        json!({
            "id": self.id,
            "case_id": self.case_id,
            "parent_id": self.parent_id,
            "content": if deleted { "" } else { self.content.as_str() },
            "user_id": self.user_id,
            "wf_exec_id": self.wf_exec_id,
            "created_at": self.created_at,
            "updated_at": self.updated_at,
            "last_edited_at": self.last_edited_at,
            "deleted_at": self.deleted_at,
            "is_deleted": deleted,
        })
    }
}

fn check_content(content: &str) -> Result<(), AppError> {
    if content.trim().is_empty() || content.chars().count() > MAX_CONTENT {
        return Err(invalid("content", format!("a comment is 1-{MAX_CONTENT} characters")));
    }
    Ok(())
}

/// Every comment of the case, oldest first.
pub async fn list(db: &PgPool, case: &CaseRow) -> Result<Vec<CommentRow>, AppError> {
    Ok(sqlx::query_as::<_, CommentRow>(concat!("SELECT ", columns!(), " FROM case_comments WHERE case_id = $1 ORDER BY created_at, id"))
        .bind(case.id)
        .fetch_all(db)
        .await?)
}

/// The comment `id` of the case.
pub async fn get(db: impl sqlx::PgExecutor<'_>, case_id: Uuid, id: Uuid) -> Result<CommentRow, AppError> {
    sqlx::query_as::<_, CommentRow>(concat!("SELECT ", columns!(), " FROM case_comments WHERE case_id = $1 AND id = $2"))
        .bind(case_id)
        .bind(id)
        .fetch_optional(db)
        .await?
        .ok_or_else(|| AppError::NotFound(format!("comment {id} not found")))
}

/// The comment `id` of any case of the workspace, and its case.
pub async fn find_in_workspace(db: &PgPool, workspace_id: Uuid, id: Uuid) -> Result<(CaseRow, CommentRow), AppError> {
    let case_id: Uuid = sqlx::query_scalar("SELECT cm.case_id FROM case_comments cm JOIN cases c ON c.id = cm.case_id WHERE c.workspace_id = $1 AND cm.id = $2")
        .bind(workspace_id)
        .bind(id)
        .fetch_optional(db)
        .await?
        .ok_or_else(|| AppError::NotFound(format!("comment {id} not found")))?;
    let case = super::load(db, workspace_id, case_id).await?;
    let comment = get(db, case_id, id).await?;
    Ok((case, comment))
}

/// Adds a comment, or a reply to a top-level comment.
pub async fn create(db: &PgPool, case: &CaseRow, actor: &Actor, content: &str, parent_id: Option<Uuid>) -> Result<CommentRow, AppError> {
    create_asking(db, case, actor, content, parent_id, None).await
}

/// [`create`], and when `run_workflow` names a committed workflow of the workspace, asks the
/// case-event dispatcher to run it for this comment, once (how a run's comment starts one).
#[tracing::instrument(skip_all, fields(case_id = %case.id))]
pub async fn create_asking(
    db: &PgPool,
    case: &CaseRow,
    actor: &Actor,
    content: &str,
    parent_id: Option<Uuid>,
    run_workflow: Option<Uuid>,
) -> Result<CommentRow, AppError> {
    if let Some(workflow) = run_workflow {
        // A run asking for itself would never end; a chain through other workflows is as
        // deliberate as a subflow that calls its parent.
        if let Actor::Run(exec) = actor
            && ferrocat_shared::ids::parse_execution_id(exec).is_ok_and(|own| own == workflow)
        {
            return Err(invalid("workflow_id", "a workflow cannot ask, from a comment, to run itself"));
        }
        let committed: bool = sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM workflow_definitions WHERE workspace_id = $1 AND workflow_id = $2)")
            .bind(case.workspace_id)
            .bind(workflow)
            .fetch_one(db)
            .await?;
        if !committed {
            return Err(invalid("workflow_id", "no committed workflow with this id in the workspace"));
        }
    }
    check_content(content)?;
    let mut tx = db.begin().await?;
    // Serialises comments on one case, so the count below holds.
    super::lock(&mut tx, case.workspace_id, case.id).await?;
    let count: i64 = sqlx::query_scalar("SELECT count(*) FROM case_comments WHERE case_id = $1").bind(case.id).fetch_one(&mut *tx).await?;
    if count >= MAX_PER_CASE {
        return Err(invalid("content", format!("a case holds at most {MAX_PER_CASE} comments")));
    }
    if let Some(parent) = parent_id {
        let parent = get(&mut *tx, case.id, parent).await.map_err(|_| invalid("parent_id", "the parent comment is not a comment of this case"))?;
        if parent.parent_id.is_some() {
            return Err(invalid("parent_id", "replies are one level deep: reply to the thread's first comment"));
        }
        if parent.deleted_at.is_some() {
            return Err(invalid("parent_id", "the parent comment was deleted"));
        }
    }
    let row = sqlx::query_as::<_, CommentRow>(concat!("INSERT INTO case_comments (id, case_id, parent_id, content, user_id, wf_exec_id) VALUES ($1, $2, $3, $4, $5, $6) RETURNING ", columns!()))
    .bind(Uuid::now_v7())
    .bind(case.id)
    .bind(parent_id)
    .bind(content)
    .bind(actor.user_id())
    .bind(actor.wf_exec_id())
    .fetch_one(&mut *tx)
    .await?;
    let kind = if parent_id.is_some() { EventType::CommentReplyCreated } else { EventType::CommentCreated };
    let mut data = thread_data(&row);
    if let Some(workflow) = run_workflow {
        data[events::RUN_WORKFLOW_KEY] = json!(ferrocat_shared::ids::workflow_id(workflow));
    }
    events::record(&mut tx, case, actor, kind, data).await?;
    tx.commit().await?;
    Ok(row)
}

fn thread_data(row: &CommentRow) -> Value {
    json!({"comment_id": row.id, "parent_id": row.parent_id, "thread_root_id": row.parent_id.unwrap_or(row.id)})
}

/// Only the author (or an admin, `may_moderate`) edits or deletes a person's comment; a
/// comment a run wrote is anyone's with write access.
fn check_owner(row: &CommentRow, actor: &Actor, may_moderate: bool) -> Result<(), AppError> {
    match (row.user_id, actor.user_id()) {
        (Some(author), Some(me)) if author == me => Ok(()),
        (None, _) => Ok(()),
        _ if may_moderate => Ok(()),
        _ => Err(AppError::Forbidden("only the author or an admin may change this comment".into())),
    }
}

/// Changes a comment's text.
pub async fn update(db: &PgPool, case: &CaseRow, actor: &Actor, id: Uuid, content: &str, may_moderate: bool) -> Result<CommentRow, AppError> {
    check_content(content)?;
    let mut tx = db.begin().await?;
    let old = get(&mut *tx, case.id, id).await?;
    if old.deleted_at.is_some() {
        return Err(AppError::NotFound(format!("comment {id} was deleted")));
    }
    check_owner(&old, actor, may_moderate)?;
    let row = sqlx::query_as::<_, CommentRow>(concat!("UPDATE case_comments SET content = $3, updated_at = now(), last_edited_at = now() WHERE case_id = $1 AND id = $2 RETURNING ", columns!()))
    .bind(case.id)
    .bind(id)
    .bind(content)
    .fetch_one(&mut *tx)
    .await?;
    let kind = if row.parent_id.is_some() { EventType::CommentReplyUpdated } else { EventType::CommentUpdated };
    events::record(&mut tx, case, actor, kind, thread_data(&row)).await?;
    tx.commit().await?;
    Ok(row)
}

/// Deletes a comment: a thread starter with replies is kept as a tombstone (`soft`), anything
/// else is removed (`hard`).
pub async fn delete(db: &PgPool, case: &CaseRow, actor: &Actor, id: Uuid, may_moderate: bool) -> Result<(), AppError> {
    let mut tx = db.begin().await?;
    let old = get(&mut *tx, case.id, id).await?;
    check_owner(&old, actor, may_moderate)?;
    let replies: i64 = sqlx::query_scalar("SELECT count(*) FROM case_comments WHERE parent_id = $1").bind(id).fetch_one(&mut *tx).await?;
    let mode = if replies > 0 {
        sqlx::query("UPDATE case_comments SET deleted_at = now(), content = '' WHERE id = $1").bind(id).execute(&mut *tx).await?;
        "soft"
    } else {
        sqlx::query("DELETE FROM case_comments WHERE id = $1").bind(id).execute(&mut *tx).await?;
        // A tombstone whose last reply goes has nothing left to hold.
        if let Some(parent) = old.parent_id {
            sqlx::query("DELETE FROM case_comments p WHERE p.id = $1 AND p.deleted_at IS NOT NULL AND NOT EXISTS (SELECT 1 FROM case_comments r WHERE r.parent_id = p.id)")
                .bind(parent)
                .execute(&mut *tx)
                .await?;
        }
        "hard"
    };
    let kind = if old.parent_id.is_some() { EventType::CommentReplyDeleted } else { EventType::CommentDeleted };
    let mut data = thread_data(&old);
    data["delete_mode"] = json!(mode);
    events::record(&mut tx, case, actor, kind, data).await?;
    tx.commit().await?;
    Ok(())
}

/// What a workflow run for a comment gets as `TRIGGER` (Tracecat's comment payload).
pub fn comment_trigger(case: &CaseRow, comment: &CommentRow, tags: &[super::tags::TagRow], triggered_by: Value) -> Value {
    json!({
        "case_id": case.id,
        "short_id": super::short_id(case.case_number),
        "workspace_id": ferrocat_shared::ids::workspace_id(case.workspace_id),
        "comment": comment.read_model(),
        "text": comment.content,
        "comment_id": comment.id,
        "parent_id": comment.parent_id,
        "thread_root_id": comment.parent_id.unwrap_or(comment.id),
        "is_reply": comment.parent_id.is_some(),
        "triggered_by": triggered_by,
        "tags": tags.iter().map(|t| t.read_model()).collect::<Vec<_>>(),
    })
}

/// Who asked for a comment's run, as its `TRIGGER.triggered_by` says.
pub fn triggered_by(actor: &Actor) -> Value {
    match actor {
        Actor::User(id) => json!({"type": "user", "user_id": id, "service_id": null}),
        Actor::Service(id) => json!({"type": "service", "user_id": null, "service_id": id}),
        Actor::Run(exec) => json!({"type": "workflow", "user_id": null, "service_id": null, "wf_exec_id": exec}),
    }
}

/// Starts workflow `workflow_id`'s committed version for a comment, as Tracecat's comment
/// `workflow_id` does, with the comment in `TRIGGER`; the execution id.
pub async fn run_workflow(app: &crate::App, case: &CaseRow, comment: &CommentRow, workflow: &crate::db::workflows::WorkflowRow, actor: &Actor) -> Result<String, AppError> {
    let tags = super::tags::of_case(&app.db, case.id).await?;
    let trigger = comment_trigger(case, comment, &tags, triggered_by(actor));
    let (exec_id, _) = crate::runs::start_committed(app, case.workspace_id, workflow, trigger, "case").await?;
    tracing::info!(exec_id, comment_id = %comment.id, "workflow started for a comment");
    Ok(exec_id)
}

/// The comments as threads: `[{comment, replies, reply_count, last_activity_at}]`.
pub fn threads(rows: &[CommentRow]) -> Vec<Value> {
    rows.iter()
        .filter(|r| r.parent_id.is_none())
        .map(|root| {
            let replies: Vec<&CommentRow> = rows.iter().filter(|r| r.parent_id == Some(root.id)).collect();
            let last = replies.iter().map(|r| r.updated_at).chain(std::iter::once(root.updated_at)).max();
            json!({
                "comment": root.read_model(),
                "replies": replies.iter().map(|r| r.read_model()).collect::<Vec<_>>(),
                "reply_count": replies.len(),
                "last_activity_at": last,
            })
        })
        .collect()
}

/// The thread `comment` belongs to.
pub async fn thread_of(db: &PgPool, case: &CaseRow, comment: &CommentRow) -> Result<Value, AppError> {
    let root = comment.parent_id.unwrap_or(comment.id);
    let rows = list(db, case).await?;
    threads(&rows)
        .into_iter()
        .find(|t| t["comment"]["id"] == json!(root))
        .ok_or_else(|| AppError::NotFound(format!("comment {} not found", comment.id)))
}
