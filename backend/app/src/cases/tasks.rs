//! Case tasks: title, description, priority, status (todo, in_progress, completed, blocked),
//! assignee, and a workflow to run with default inputs; each change in the activity log.

use chrono::{DateTime, Utc};
use serde_json::{Map, Value, json};
use sqlx::PgPool;
use uuid::Uuid;

use super::events::{self, EventType};
use super::{Actor, CasePriority, CaseRow, TaskStatus};
use crate::AppError;
use crate::checks::invalid;

const MAX_TITLE: usize = 255;
const MAX_DESCRIPTION: usize = 1_000;
const MAX_PER_CASE: i64 = 200;

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct TaskRow {
    pub id: Uuid,
    pub case_id: Uuid,
    pub title: String,
    pub description: String,
    pub priority: String,
    pub status: String,
    pub assignee_id: Option<Uuid>,
    pub workflow_id: Option<Uuid>,
    pub default_trigger_values: Option<Value>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// The columns a row is read from.
macro_rules! columns {
    () => {
        "id, case_id, title, description, priority, status, assignee_id, workflow_id, default_trigger_values, created_at, updated_at"
    };
}

impl TaskRow {
    pub fn read_model(&self) -> Value {
        json!({
            "id": self.id,
            "case_id": self.case_id,
            "title": self.title,
            "description": self.description,
            "priority": self.priority,
            "status": self.status,
            "assignee_id": self.assignee_id,
            "workflow_id": self.workflow_id.map(ferrocat_shared::ids::workflow_id),
            "default_trigger_values": self.default_trigger_values,
            "created_at": self.created_at,
            "updated_at": self.updated_at,
        })
    }
}

/// A task to add, or changes to one (`None` leaves a value; `Some(None)` clears an optional).
#[derive(Debug, Default)]
pub struct TaskInput {
    pub title: Option<String>,
    pub description: Option<String>,
    pub priority: Option<CasePriority>,
    pub status: Option<TaskStatus>,
    pub assignee_id: Option<Option<Uuid>>,
    pub workflow_id: Option<Option<Uuid>>,
    pub default_trigger_values: Option<Map<String, Value>>,
}

fn check(title: &str, description: &str) -> Result<(), AppError> {
    if title.trim().is_empty() || title.chars().count() > MAX_TITLE {
        return Err(invalid("title", format!("a task title is 1-{MAX_TITLE} characters")));
    }
    if description.chars().count() > MAX_DESCRIPTION {
        return Err(invalid("description", format!("a task description is at most {MAX_DESCRIPTION} characters")));
    }
    Ok(())
}

async fn check_refs(db: &PgPool, workspace_id: Uuid, input: &TaskInput) -> Result<(), AppError> {
    if let Some(Some(user)) = input.assignee_id {
        let member: Option<i32> =
            sqlx::query_scalar("SELECT 1 FROM memberships WHERE workspace_id = $1 AND user_id = $2").bind(workspace_id).bind(user).fetch_optional(db).await?;
        if member.is_none() {
            return Err(invalid("assignee_id", "the assignee must be a member of the workspace"));
        }
    }
    if let Some(Some(workflow)) = input.workflow_id {
        let exists: Option<i32> =
            sqlx::query_scalar("SELECT 1 FROM workflows WHERE workspace_id = $1 AND id = $2").bind(workspace_id).bind(workflow).fetch_optional(db).await?;
        if exists.is_none() {
            return Err(invalid("workflow_id", "no such workflow in this workspace"));
        }
    }
    Ok(())
}

pub async fn list(db: &PgPool, case: &CaseRow) -> Result<Vec<TaskRow>, AppError> {
    Ok(sqlx::query_as::<_, TaskRow>(concat!("SELECT ", columns!(), " FROM case_tasks WHERE case_id = $1 ORDER BY created_at, id"))
        .bind(case.id)
        .fetch_all(db)
        .await?)
}

/// The task `id` of any case of the workspace, and its case.
pub async fn find(db: &PgPool, workspace_id: Uuid, id: Uuid) -> Result<(CaseRow, TaskRow), AppError> {
    let row = sqlx::query_as::<_, TaskRow>(
        "SELECT t.id, t.case_id, t.title, t.description, t.priority, t.status, t.assignee_id, t.workflow_id, t.default_trigger_values, t.created_at, t.updated_at
         FROM case_tasks t JOIN cases c ON c.id = t.case_id WHERE c.workspace_id = $1 AND t.id = $2",
    )
    .bind(workspace_id)
    .bind(id)
    .fetch_optional(db)
    .await?
    .ok_or_else(|| AppError::NotFound(format!("task {id} not found")))?;
    Ok((super::load(db, workspace_id, row.case_id).await?, row))
}

pub async fn create(db: &PgPool, case: &CaseRow, actor: &Actor, input: TaskInput) -> Result<TaskRow, AppError> {
    let title = input.title.clone().unwrap_or_default();
    let description = input.description.clone().unwrap_or_default();
    check(&title, &description)?;
    check_refs(db, case.workspace_id, &input).await?;
    let mut tx = db.begin().await?;
    super::lock(&mut tx, case.workspace_id, case.id).await?;
    let count: i64 = sqlx::query_scalar("SELECT count(*) FROM case_tasks WHERE case_id = $1").bind(case.id).fetch_one(&mut *tx).await?;
    if count >= MAX_PER_CASE {
        return Err(invalid("title", format!("a case holds at most {MAX_PER_CASE} tasks")));
    }
    let row = sqlx::query_as::<_, TaskRow>(concat!("INSERT INTO case_tasks (id, case_id, title, description, priority, status, assignee_id, workflow_id, default_trigger_values)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING ", columns!()))
    .bind(Uuid::now_v7())
    .bind(case.id)
    .bind(&title)
    .bind(&description)
    .bind(input.priority.unwrap_or(CasePriority::Unknown).as_str())
    .bind(input.status.unwrap_or(TaskStatus::Todo).as_str())
    .bind(input.assignee_id.flatten())
    .bind(input.workflow_id.flatten())
    .bind(input.default_trigger_values.map(Value::Object))
    .fetch_one(&mut *tx)
    .await?;
    events::record(&mut tx, case, actor, EventType::TaskCreated, json!({"task_id": row.id, "title": row.title})).await?;
    tx.commit().await?;
    Ok(row)
}

pub async fn update(db: &PgPool, case: &CaseRow, actor: &Actor, old: &TaskRow, input: TaskInput) -> Result<TaskRow, AppError> {
    let mut new = old.clone();
    if let Some(v) = input.title.clone() {
        new.title = v;
    }
    if let Some(v) = input.description.clone() {
        new.description = v;
    }
    check(&new.title, &new.description)?;
    check_refs(db, case.workspace_id, &input).await?;
    let mut recorded = Vec::new();
    let event = |title: &str, o: Value, n: Value| json!({"task_id": old.id, "title": title, "old": o, "new": n});
    if let Some(v) = input.priority
        && v.as_str() != old.priority
    {
        recorded.push((EventType::TaskPriorityChanged, event(&new.title, json!(old.priority), json!(v))));
        new.priority = v.as_str().to_owned();
    }
    if let Some(v) = input.status
        && v.as_str() != old.status
    {
        recorded.push((EventType::TaskStatusChanged, event(&new.title, json!(old.status), json!(v))));
        new.status = v.as_str().to_owned();
    }
    if let Some(v) = input.assignee_id
        && v != old.assignee_id
    {
        recorded.push((EventType::TaskAssigneeChanged, event(&new.title, json!(old.assignee_id), json!(v))));
        new.assignee_id = v;
    }
    if let Some(v) = input.workflow_id
        && v != old.workflow_id
    {
        recorded.push((EventType::TaskWorkflowChanged, event(&new.title, json!(old.workflow_id), json!(v))));
        new.workflow_id = v;
    }
    if let Some(v) = input.default_trigger_values {
        new.default_trigger_values = Some(Value::Object(v));
    }
    let mut tx = db.begin().await?;
    let row = sqlx::query_as::<_, TaskRow>(concat!("UPDATE case_tasks SET title = $2, description = $3, priority = $4, status = $5, assignee_id = $6, workflow_id = $7,
                default_trigger_values = $8, updated_at = now() WHERE id = $1 RETURNING ", columns!()))
    .bind(old.id)
    .bind(&new.title)
    .bind(&new.description)
    .bind(&new.priority)
    .bind(&new.status)
    .bind(new.assignee_id)
    .bind(new.workflow_id)
    .bind(&new.default_trigger_values)
    .fetch_one(&mut *tx)
    .await?;
    for (kind, data) in recorded {
        events::record(&mut tx, case, actor, kind, data).await?;
    }
    tx.commit().await?;
    Ok(row)
}

pub async fn delete(db: &PgPool, case: &CaseRow, actor: &Actor, task: &TaskRow) -> Result<(), AppError> {
    let mut tx = db.begin().await?;
    sqlx::query("DELETE FROM case_tasks WHERE id = $1").bind(task.id).execute(&mut *tx).await?;
    events::record(&mut tx, case, actor, EventType::TaskDeleted, json!({"task_id": task.id, "title": task.title})).await?;
    tx.commit().await?;
    Ok(())
}
