//! The activity log: one row per change, written in the changing transaction, naming the
//! person or the run. Rows made by people and keys are `pending` for the case-trigger
//! dispatcher ([`super::triggers`]); a `NOTIFY` at commit wakes it. Rows made by runs are
//! never pending, so a workflow that changes a case does not start workflows, unless a comment
//! it writes names a workflow to run (Tracecat's comment `workflow_id`).

use serde_json::{Value, json};
use sqlx::{PgPool, Postgres, Transaction};
use uuid::Uuid;

use super::{Actor, CaseRow};
use crate::AppError;

/// The channel the dispatcher listens on.
pub const CHANNEL: &str = "ferrocat_case_events";

/// The key of a comment event's data that names a workflow to run for the comment (`wf_…`).
pub const RUN_WORKFLOW_KEY: &str = "run_workflow_id";

/// Tracecat's case event types.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EventType {
    CaseCreated,
    CaseUpdated,
    CaseClosed,
    CaseReopened,
    CaseViewed,
    PriorityChanged,
    SeverityChanged,
    StatusChanged,
    FieldsChanged,
    AssigneeChanged,
    AttachmentCreated,
    AttachmentDeleted,
    TagAdded,
    TagRemoved,
    PayloadChanged,
    TaskCreated,
    TaskDeleted,
    TaskStatusChanged,
    TaskPriorityChanged,
    TaskWorkflowChanged,
    TaskAssigneeChanged,
    CommentCreated,
    CommentUpdated,
    CommentDeleted,
    CommentReplyCreated,
    CommentReplyUpdated,
    CommentReplyDeleted,
    TableRowLinked,
    TableRowUnlinked,
}

impl EventType {
    pub const ALL: &'static [EventType] = &[
        EventType::CaseCreated,
        EventType::CaseUpdated,
        EventType::CaseClosed,
        EventType::CaseReopened,
        EventType::CaseViewed,
        EventType::PriorityChanged,
        EventType::SeverityChanged,
        EventType::StatusChanged,
        EventType::FieldsChanged,
        EventType::AssigneeChanged,
        EventType::AttachmentCreated,
        EventType::AttachmentDeleted,
        EventType::TagAdded,
        EventType::TagRemoved,
        EventType::PayloadChanged,
        EventType::TaskCreated,
        EventType::TaskDeleted,
        EventType::TaskStatusChanged,
        EventType::TaskPriorityChanged,
        EventType::TaskWorkflowChanged,
        EventType::TaskAssigneeChanged,
        EventType::CommentCreated,
        EventType::CommentUpdated,
        EventType::CommentDeleted,
        EventType::CommentReplyCreated,
        EventType::CommentReplyUpdated,
        EventType::CommentReplyDeleted,
        EventType::TableRowLinked,
        EventType::TableRowUnlinked,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            EventType::CaseCreated => "case_created",
            EventType::CaseUpdated => "case_updated",
            EventType::CaseClosed => "case_closed",
            EventType::CaseReopened => "case_reopened",
            EventType::CaseViewed => "case_viewed",
            EventType::PriorityChanged => "priority_changed",
            EventType::SeverityChanged => "severity_changed",
            EventType::StatusChanged => "status_changed",
            EventType::FieldsChanged => "fields_changed",
            EventType::AssigneeChanged => "assignee_changed",
            EventType::AttachmentCreated => "attachment_created",
            EventType::AttachmentDeleted => "attachment_deleted",
            EventType::TagAdded => "tag_added",
            EventType::TagRemoved => "tag_removed",
            EventType::PayloadChanged => "payload_changed",
            EventType::TaskCreated => "task_created",
            EventType::TaskDeleted => "task_deleted",
            EventType::TaskStatusChanged => "task_status_changed",
            EventType::TaskPriorityChanged => "task_priority_changed",
            EventType::TaskWorkflowChanged => "task_workflow_changed",
            EventType::TaskAssigneeChanged => "task_assignee_changed",
            EventType::CommentCreated => "comment_created",
            EventType::CommentUpdated => "comment_updated",
            EventType::CommentDeleted => "comment_deleted",
            EventType::CommentReplyCreated => "comment_reply_created",
            EventType::CommentReplyUpdated => "comment_reply_updated",
            EventType::CommentReplyDeleted => "comment_reply_deleted",
            EventType::TableRowLinked => "table_row_linked",
            EventType::TableRowUnlinked => "table_row_unlinked",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL.iter().copied().find(|t| t.as_str() == text)
    }
}

/// Writes one event for `case` in `tx`, with the run's id in its data when a run made it.
pub(crate) async fn record(tx: &mut Transaction<'_, Postgres>, case: &CaseRow, actor: &Actor, kind: EventType, mut data: Value) -> Result<(), AppError> {
    if let (Some(exec), Some(map)) = (actor.wf_exec_id(), data.as_object_mut()) {
        map.insert("wf_exec_id".into(), json!(exec));
    }
    // A comment that names a workflow to run is delivered whoever wrote it: that run is asked
    // for by name, not heard by a trigger.
    let asks_for_run = data.get(RUN_WORKFLOW_KEY).is_some();
    let pending = (actor.wf_exec_id().is_none() && kind != EventType::CaseViewed) || asks_for_run;
    sqlx::query(
        "INSERT INTO case_events (id, workspace_id, case_id, type, data, user_id, wf_exec_id, pending) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
    )
    .bind(Uuid::now_v7())
    .bind(case.workspace_id)
    .bind(case.id)
    .bind(kind.as_str())
    .bind(&data)
    .bind(actor.user_id())
    .bind(actor.wf_exec_id())
    .bind(pending)
    .execute(&mut **tx)
    .await?;
    if pending {
        // Delivered at commit, once per transaction however many events it wrote.
        sqlx::query("SELECT pg_notify($1, '')").bind(CHANNEL).execute(&mut **tx).await?;
    }
    Ok(())
}

/// `{events: [...], users: [...]}` of a case, oldest first.
pub(crate) async fn list(db: &PgPool, case: &CaseRow) -> Result<Value, AppError> {
    type Row = (Uuid, String, Value, Option<Uuid>, Option<String>, chrono::DateTime<chrono::Utc>);
    let rows: Vec<Row> = sqlx::query_as(
        "SELECT id, type, data, user_id, wf_exec_id, created_at FROM case_events WHERE case_id = $1 ORDER BY seq LIMIT 5000",
    )
    .bind(case.id)
    .fetch_all(db)
    .await?;
    let user_ids: Vec<Uuid> = rows.iter().filter_map(|r| r.3).collect();
    let users: Vec<(Uuid, String)> = sqlx::query_as("SELECT id, email FROM users WHERE id = ANY($1)").bind(&user_ids).fetch_all(db).await?;
    let events: Vec<Value> = rows
        .into_iter()
        .map(|(id, kind, data, user_id, wf_exec_id, created_at)| {
            json!({"id": id, "case_id": case.id, "type": kind, "data": data, "user_id": user_id, "wf_exec_id": wf_exec_id, "created_at": created_at})
        })
        .collect();
    Ok(json!({
        "events": events,
        "users": users.into_iter().map(|(id, email)| json!({"id": id, "email": email})).collect::<Vec<_>>(),
    }))
}
