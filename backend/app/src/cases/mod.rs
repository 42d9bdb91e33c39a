//! Case use cases, as in Tracecat: cases with per-workspace gapless numbers (`CASE-0042`),
//! status, priority, severity, payload, assignee, tags and custom fields; and every change
//! written to the activity log in the same transaction, which also feeds case triggers. The
//! api, the MCP server and the `core.cases.*` actions (through [`host::Host`]) all call these.

/// The columns a case row is read from (`c` is the cases table).
macro_rules! case_columns {
    () => {
        "c.id, c.workspace_id, c.case_number, c.summary, c.description, c.status, c.priority, c.severity, c.payload, c.fields, c.assignee_id, c.created_at, c.updated_at"
    };
}

pub mod attachments;
pub mod comments;
mod events;
pub mod fields;
pub mod host;
pub mod rows;
pub mod search;
pub mod tags;
pub mod tasks;
pub mod triggers;

use chrono::{DateTime, Utc};
use serde_json::{Map, Value, json};
use sqlx::{PgPool, Postgres, Transaction};
use uuid::Uuid;

pub use ferrocat_registry::actions::cases::{CasePriority, CaseSeverity, CaseStatus, TaskStatus};

use crate::AppError;
use crate::checks::invalid;
pub use events::EventType;

/// Longest summary (Tracecat's).
pub const MAX_SUMMARY: usize = 255;
/// Longest description, appended ones included.
pub const MAX_DESCRIPTION: usize = 5_000;
/// Largest payload, as JSON.
pub const MAX_PAYLOAD_BYTES: usize = 256 * 1024;

/// Who changes a case: the activity log says so, and changes made by a run never start
/// workflows (no loops).
#[derive(Debug, Clone)]
pub enum Actor {
    User(Uuid),
    /// A service account's API key.
    Service(Uuid),
    /// A workflow run, by execution id.
    Run(String),
}

impl Actor {
    pub fn user_id(&self) -> Option<Uuid> {
        match self {
            Actor::User(id) => Some(*id),
            _ => None,
        }
    }

    pub fn wf_exec_id(&self) -> Option<&str> {
        match self {
            Actor::Run(id) => Some(id),
            _ => None,
        }
    }
}

/// A stored case.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct CaseRow {
    pub id: Uuid,
    pub workspace_id: Uuid,
    pub case_number: i64,
    pub summary: String,
    pub description: String,
    pub status: String,
    pub priority: String,
    pub severity: String,
    pub payload: Option<Value>,
    pub fields: Value,
    pub assignee_id: Option<Uuid>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}


/// `CASE-0042` for case number 42.
pub fn short_id(number: i64) -> String {
    format!("CASE-{number:04}")
}

/// The number in `42` or `CASE-0042` (any case).
pub fn parse_short_id(text: &str) -> Option<i64> {
    let text = text.trim();
    // `get` rather than slicing: the text is anyone's, and may have a multi-byte character there.
    let digits = match text.get(..5) {
        Some(prefix) if prefix.eq_ignore_ascii_case("case-") => &text[5..],
        _ => text,
    };
    digits.parse().ok().filter(|n| *n > 0)
}

/// A case to create.
#[derive(Debug, Default)]
pub struct NewCase {
    pub summary: String,
    pub description: String,
    pub status: Option<CaseStatus>,
    pub priority: Option<CasePriority>,
    pub severity: Option<CaseSeverity>,
    pub payload: Option<Value>,
    pub fields: Option<Map<String, Value>>,
    pub assignee_id: Option<Uuid>,
    /// Tag ids or refs.
    pub tags: Vec<String>,
    pub create_missing_tags: bool,
}

/// Changes to a case; `None` leaves a value as it is.
#[derive(Debug, Default, Clone)]
pub struct CaseChanges {
    pub summary: Option<String>,
    pub description: Option<String>,
    /// Add `description` after the existing one (a blank line between) instead of replacing it.
    pub append_description: bool,
    pub status: Option<CaseStatus>,
    pub priority: Option<CasePriority>,
    pub severity: Option<CaseSeverity>,
    pub payload: Option<Value>,
    /// Values to set; a null clears one.
    pub fields: Option<Map<String, Value>>,
    /// `Some(None)` unassigns.
    pub assignee_id: Option<Option<Uuid>>,
    /// Replaces every tag (ids or refs).
    pub tags: Option<Vec<String>>,
    pub create_missing_tags: bool,
}

fn check_summary(summary: &str) -> Result<(), AppError> {
    if summary.trim().is_empty() || summary.chars().count() > MAX_SUMMARY {
        return Err(invalid("summary", format!("summary must be 1-{MAX_SUMMARY} characters")));
    }
    Ok(())
}

fn check_description(description: &str) -> Result<(), AppError> {
    if description.chars().count() > MAX_DESCRIPTION {
        return Err(invalid("description", format!("description must be at most {MAX_DESCRIPTION} characters")));
    }
    Ok(())
}

fn check_payload(payload: &Value) -> Result<(), AppError> {
    if !(payload.is_object() || payload.is_null()) {
        return Err(invalid("payload", "payload must be an object"));
    }
    if payload.to_string().len() > MAX_PAYLOAD_BYTES {
        return Err(invalid("payload", format!("payload must be at most {MAX_PAYLOAD_BYTES} bytes as JSON")));
    }
    Ok(())
}

/// The case `id` of the workspace, or not found (also for another workspace's case).
pub async fn load(db: &PgPool, workspace_id: Uuid, id: Uuid) -> Result<CaseRow, AppError> {
    load_in(db, workspace_id, id).await
}

async fn load_in<'e>(db: impl sqlx::PgExecutor<'e>, workspace_id: Uuid, id: Uuid) -> Result<CaseRow, AppError> {
    sqlx::query_as::<_, CaseRow>(concat!("SELECT ", case_columns!(), " FROM cases c WHERE c.workspace_id = $1 AND c.id = $2"))
        .bind(workspace_id)
        .bind(id)
        .fetch_optional(db)
        .await?
        .ok_or_else(|| AppError::NotFound(format!("case {id} not found")))
}

/// The case a route or an action names: its UUID, or its short id (`CASE-0042`, `42`).
pub async fn resolve(db: &PgPool, workspace_id: Uuid, text: &str) -> Result<CaseRow, AppError> {
    if let Ok(id) = Uuid::try_parse(text) {
        return load(db, workspace_id, id).await;
    }
    let number = parse_short_id(text).ok_or_else(|| AppError::NotFound(format!("case {text:?} not found")))?;
    sqlx::query_as::<_, CaseRow>(concat!("SELECT ", case_columns!(), " FROM cases c WHERE c.workspace_id = $1 AND c.case_number = $2"))
        .bind(workspace_id)
        .bind(number)
        .fetch_optional(db)
        .await?
        .ok_or_else(|| AppError::NotFound(format!("case {text:?} not found")))
}

/// Locks the case for a change in `tx`.
pub(crate) async fn lock(tx: &mut Transaction<'_, Postgres>, workspace_id: Uuid, id: Uuid) -> Result<CaseRow, AppError> {
    sqlx::query_as::<_, CaseRow>(concat!("SELECT ", case_columns!(), " FROM cases c WHERE c.workspace_id = $1 AND c.id = $2 FOR UPDATE"))
        .bind(workspace_id)
        .bind(id)
        .fetch_optional(&mut **tx)
        .await?
        .ok_or_else(|| AppError::NotFound(format!("case {id} not found")))
}

/// Refuses an assignee who is not a member of the workspace.
async fn check_assignee(tx: &mut Transaction<'_, Postgres>, workspace_id: Uuid, user_id: Uuid) -> Result<(), AppError> {
    let member: Option<i32> = sqlx::query_scalar("SELECT 1 FROM memberships WHERE workspace_id = $1 AND user_id = $2")
        .bind(workspace_id)
        .bind(user_id)
        .fetch_optional(&mut **tx)
        .await?;
    if member.is_none() {
        return Err(invalid("assignee_id", "the assignee must be a member of the workspace"));
    }
    Ok(())
}

/// The member of the workspace with `email`, for assignment by email.
pub async fn member_by_email(db: &PgPool, workspace_id: Uuid, email: &str) -> Result<Uuid, AppError> {
    sqlx::query_scalar(
        "SELECT u.id FROM users u JOIN memberships m ON m.user_id = u.id WHERE m.workspace_id = $1 AND lower(u.email) = lower($2)",
    )
    .bind(workspace_id)
    .bind(email)
    .fetch_optional(db)
    .await?
    .ok_or_else(|| AppError::NotFound(format!("no member of the workspace has the email {email:?}")))
}

/// Creates a case with the workspace's next number, its tags and its activity.
#[tracing::instrument(skip_all, fields(workspace_id = %workspace_id))]
pub async fn create(db: &PgPool, workspace_id: Uuid, actor: &Actor, input: NewCase) -> Result<CaseRow, AppError> {
    check_summary(&input.summary)?;
    check_description(&input.description)?;
    if let Some(payload) = &input.payload {
        check_payload(payload)?;
    }
    let definitions = fields::definitions(db, workspace_id).await?;
    let mut values = fields::defaults(&definitions);
    if let Some(given) = &input.fields {
        fields::merge(&definitions, &mut values, given)?;
    }
    let status = input.status.unwrap_or(CaseStatus::New);
    if status.is_closing() {
        fields::check_closure(&definitions, &values)?;
    }
    let mut tx = db.begin().await?;
    if let Some(assignee) = input.assignee_id {
        check_assignee(&mut tx, workspace_id, assignee).await?;
    }
    let tag_ids = tags::resolve_many(&mut tx, workspace_id, &input.tags, input.create_missing_tags).await?;
    // Taken inside the transaction: a create that fails gives its number back.
    let number: i64 = sqlx::query_scalar(
        "INSERT INTO case_counters (workspace_id, last_number) VALUES ($1, 1)
         ON CONFLICT (workspace_id) DO UPDATE SET last_number = case_counters.last_number + 1 RETURNING last_number",
    )
    .bind(workspace_id)
    .fetch_one(&mut *tx)
    .await?;
    let row = sqlx::query_as::<_, CaseRow>(concat!("INSERT INTO cases AS c (id, workspace_id, case_number, summary, description, status, priority, severity, payload, fields, assignee_id)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) RETURNING ", case_columns!()))
    .bind(Uuid::now_v7())
    .bind(workspace_id)
    .bind(number)
    .bind(&input.summary)
    .bind(&input.description)
    .bind(status.as_str())
    .bind(input.priority.unwrap_or(CasePriority::Unknown).as_str())
    .bind(input.severity.unwrap_or(CaseSeverity::Unknown).as_str())
    .bind(&input.payload)
    .bind(Value::Object(values))
    .bind(input.assignee_id)
    .fetch_one(&mut *tx)
    .await?;
    events::record(&mut tx, &row, actor, EventType::CaseCreated, json!({})).await?;
    for tag in tag_ids {
        tags::link(&mut tx, &row, actor, &tag).await?;
    }
    tx.commit().await?;
    tracing::info!(case = %short_id(row.case_number), "case created");
    Ok(row)
}

/// Applies `changes` to case `id`, recording each change; refuses resolving or closing while
/// a field required on closure is empty (values given in the same change count).
#[tracing::instrument(skip_all, fields(workspace_id = %workspace_id, case_id = %id))]
pub async fn update(db: &PgPool, workspace_id: Uuid, id: Uuid, actor: &Actor, changes: CaseChanges) -> Result<CaseRow, AppError> {
    if let Some(summary) = &changes.summary {
        check_summary(summary)?;
    }
    if let Some(payload) = &changes.payload {
        check_payload(payload)?;
    }
    let definitions = fields::definitions(db, workspace_id).await?;
    let mut tx = db.begin().await?;
    let old = lock(&mut tx, workspace_id, id).await?;
    let mut new = old.clone();
    let mut recorded: Vec<(EventType, Value)> = Vec::new();
    if let Some(summary) = changes.summary
        && summary != old.summary
    {
        recorded.push((EventType::CaseUpdated, json!({"field": "summary", "old": old.summary, "new": summary})));
        new.summary = summary;
    }
    if let Some(description) = changes.description {
        let description = match (changes.append_description, old.description.trim().is_empty()) {
            (true, false) => format!("{}\n\n{description}", old.description),
            _ => description,
        };
        check_description(&description)?;
        if description != old.description {
            recorded.push((EventType::CaseUpdated, json!({"field": "description"})));
            new.description = description;
        }
    }
    if let Some(status) = changes.status
        && status.as_str() != old.status
    {
        let kind = if status == CaseStatus::Closed {
            EventType::CaseClosed
        } else if old.status == CaseStatus::Closed.as_str() {
            EventType::CaseReopened
        } else {
            EventType::StatusChanged
        };
        recorded.push((kind, json!({"old": old.status, "new": status})));
        new.status = status.as_str().to_owned();
    }
    if let Some(priority) = changes.priority
        && priority.as_str() != old.priority
    {
        recorded.push((EventType::PriorityChanged, json!({"old": old.priority, "new": priority})));
        new.priority = priority.as_str().to_owned();
    }
    if let Some(severity) = changes.severity
        && severity.as_str() != old.severity
    {
        recorded.push((EventType::SeverityChanged, json!({"old": old.severity, "new": severity})));
        new.severity = severity.as_str().to_owned();
    }
    if let Some(payload) = changes.payload {
        let payload = (!payload.is_null()).then_some(payload);
        if payload != old.payload {
            recorded.push((EventType::PayloadChanged, json!({})));
            new.payload = payload;
        }
    }
    if let Some(given) = &changes.fields {
        let mut values = old.fields.as_object().cloned().unwrap_or_default();
        let before = values.clone();
        fields::merge(&definitions, &mut values, given)?;
        let diff: Vec<Value> = given
            .keys()
            .filter(|k| before.get(*k) != values.get(*k))
            .map(|k| json!({"field": k, "old": before.get(k).cloned().unwrap_or(Value::Null), "new": values.get(k).cloned().unwrap_or(Value::Null)}))
            .collect();
        if !diff.is_empty() {
            recorded.push((EventType::FieldsChanged, json!({"changes": diff})));
        }
        new.fields = Value::Object(values);
    }
    if let Some(assignee) = changes.assignee_id
        && assignee != old.assignee_id
    {
        if let Some(user) = assignee {
            check_assignee(&mut tx, workspace_id, user).await?;
        }
        recorded.push((EventType::AssigneeChanged, json!({"old": old.assignee_id, "new": assignee})));
        new.assignee_id = assignee;
    }
    // Closing is checked against the values as they will be, whatever this change touched.
    if CaseStatus::parse(&new.status).is_some_and(CaseStatus::is_closing) && (changes.status.is_some() || changes.fields.is_some()) {
        fields::check_closure(&definitions, new.fields.as_object().unwrap_or(&Map::new()))?;
    }
    let row = if recorded.is_empty() {
        old.clone()
    } else {
        sqlx::query_as::<_, CaseRow>(concat!("UPDATE cases AS c SET summary = $3, description = $4, status = $5, priority = $6, severity = $7, payload = $8,
                    fields = $9, assignee_id = $10, updated_at = now()
             WHERE c.workspace_id = $1 AND c.id = $2 RETURNING ", case_columns!()))
        .bind(workspace_id)
        .bind(id)
        .bind(&new.summary)
        .bind(&new.description)
        .bind(&new.status)
        .bind(&new.priority)
        .bind(&new.severity)
        .bind(&new.payload)
        .bind(&new.fields)
        .bind(new.assignee_id)
        .fetch_one(&mut *tx)
        .await?
    };
    for (kind, data) in recorded {
        events::record(&mut tx, &row, actor, kind, data).await?;
    }
    if let Some(wanted) = &changes.tags {
        tags::replace(&mut tx, &row, actor, wanted, changes.create_missing_tags).await?;
    }
    tx.commit().await?;
    Ok(row)
}

/// Deletes case `id` with everything that hangs off it; attachments' contents go when no other
/// case refers to them.
#[tracing::instrument(skip_all, fields(workspace_id = %workspace_id, case_id = %id))]
pub async fn delete(db: &PgPool, blobs: Option<&ferrocat_shared::objects::BlobStore>, workspace_id: Uuid, id: Uuid) -> Result<(), AppError> {
    let contents: Vec<String> = sqlx::query_scalar(
        "SELECT DISTINCT a.sha256 FROM case_attachments a JOIN cases c ON c.id = a.case_id WHERE c.workspace_id = $1 AND c.id = $2",
    )
    .bind(workspace_id)
    .bind(id)
    .fetch_all(db)
    .await?;
    let deleted = sqlx::query("DELETE FROM cases WHERE workspace_id = $1 AND id = $2").bind(workspace_id).bind(id).execute(db).await?;
    if deleted.rows_affected() == 0 {
        return Err(AppError::NotFound(format!("case {id} not found")));
    }
    attachments::forget_contents(db, blobs, &contents).await?;
    tracing::info!("case deleted");
    Ok(())
}

/// Records that a person opened the case (`case_viewed`), as Tracecat does on a read.
pub async fn viewed(db: &PgPool, row: &CaseRow, actor: &Actor) -> Result<(), AppError> {
    let mut tx = db.begin().await?;
    events::record(&mut tx, row, actor, EventType::CaseViewed, json!({})).await?;
    tx.commit().await?;
    Ok(())
}

/// The activity log of a case, oldest first, with the users who appear in it.
pub async fn activity(db: &PgPool, row: &CaseRow) -> Result<Value, AppError> {
    events::list(db, row).await
}

/// The tags of each of `ids`, `{id, ref, name, color}` each.
async fn tags_of(db: &PgPool, ids: &[Uuid]) -> Result<std::collections::HashMap<Uuid, Vec<Value>>, AppError> {
    let rows: Vec<(Uuid, Uuid, String, String, Option<String>)> = sqlx::query_as(
        "SELECT l.case_id, t.id, t.ref, t.name, t.color FROM case_tag_links l JOIN case_tags t ON t.id = l.tag_id
         WHERE l.case_id = ANY($1) ORDER BY t.name",
    )
    .bind(ids)
    .fetch_all(db)
    .await?;
    let mut map: std::collections::HashMap<Uuid, Vec<Value>> = std::collections::HashMap::new();
    for (case_id, id, r, name, color) in rows {
        map.entry(case_id).or_default().push(json!({"id": id, "ref": r, "name": name, "color": color}));
    }
    Ok(map)
}

/// `{id, email}` of each of `ids`.
async fn users_of(db: &PgPool, ids: &[Uuid]) -> Result<std::collections::HashMap<Uuid, Value>, AppError> {
    let rows: Vec<(Uuid, String)> = sqlx::query_as("SELECT id, email FROM users WHERE id = ANY($1)").bind(ids).fetch_all(db).await?;
    Ok(rows.into_iter().map(|(id, email)| (id, json!({"id": id, "email": email}))).collect())
}

/// Tasks done and in all, per case.
async fn task_counts(db: &PgPool, ids: &[Uuid]) -> Result<std::collections::HashMap<Uuid, (i64, i64)>, AppError> {
    let rows: Vec<(Uuid, i64, i64)> = sqlx::query_as(
        "SELECT case_id, count(*) FILTER (WHERE status = 'completed'), count(*) FROM case_tasks WHERE case_id = ANY($1) GROUP BY case_id",
    )
    .bind(ids)
    .fetch_all(db)
    .await?;
    Ok(rows.into_iter().map(|(id, done, all)| (id, (done, all))).collect())
}

/// What lists show of each case (Tracecat's CaseReadMinimal), with the payload when asked.
pub async fn read_minimal(db: &PgPool, rows: &[CaseRow], include_payload: bool) -> Result<Vec<Value>, AppError> {
    let ids: Vec<Uuid> = rows.iter().map(|r| r.id).collect();
    let assignees: Vec<Uuid> = rows.iter().filter_map(|r| r.assignee_id).collect();
    let (mut tags, users, tasks) = (tags_of(db, &ids).await?, users_of(db, &assignees).await?, task_counts(db, &ids).await?);
    Ok(rows
        .iter()
        .map(|row| {
            let (done, all) = tasks.get(&row.id).copied().unwrap_or((0, 0));
            let mut out = json!({
                "id": row.id,
                "short_id": short_id(row.case_number),
                "case_number": row.case_number,
                "created_at": row.created_at,
                "updated_at": row.updated_at,
                "summary": row.summary,
                "status": row.status,
                "priority": row.priority,
                "severity": row.severity,
                "assignee_id": row.assignee_id,
                "assignee": row.assignee_id.and_then(|id| users.get(&id).cloned()),
                "tags": tags.remove(&row.id).unwrap_or_default(),
                "field_values": row.fields,
                "num_tasks_completed": done,
                "num_tasks_total": all,
            });
            if include_payload {
                out["payload"] = row.payload.clone().unwrap_or(Value::Null);
            }
            out
        })
        .collect())
}

/// A whole case (Tracecat's CaseRead): the list's view plus the description, the payload and
/// each custom field's definition with its value.
pub async fn read(db: &PgPool, row: &CaseRow) -> Result<Value, AppError> {
    let mut out = read_minimal(db, std::slice::from_ref(row), true).await?.remove(0);
    let definitions = fields::definitions(db, row.workspace_id).await?;
    out["description"] = json!(row.description);
    out["fields"] = Value::Array(
        definitions
            .iter()
            .map(|d| {
                let mut field = d.read_model();
                field["value"] = row.fields.get(&d.name).cloned().unwrap_or(Value::Null);
                field
            })
            .collect(),
    );
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_ids_read_both_ways() {
        assert_eq!(short_id(42), "CASE-0042");
        assert_eq!(short_id(123_456), "CASE-123456");
        assert_eq!(parse_short_id("CASE-0042"), Some(42));
        assert_eq!(parse_short_id("case-7"), Some(7));
        assert_eq!(parse_short_id("42"), Some(42));
        assert_eq!(parse_short_id("CASE-"), None);
        assert_eq!(parse_short_id("0"), None);
        assert_eq!(parse_short_id("wf_abc"), None);
        assert_eq!(parse_short_id("CAS\u{e9}-42"), None, "a multi-byte character across the prefix");
        assert_eq!(parse_short_id("\u{1F600}\u{1F600}"), None);
    }
}
