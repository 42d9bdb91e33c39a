//! The `core.cases.*` actions' side of the use cases: [`Host`] runs each parsed call against
//! the database in the run's workspace, as the run (so its changes start no workflows).

use serde_json::{Value, json};
use sqlx::PgPool;
use uuid::Uuid;

use ferrocat_registry::actions::cases::{CaseCall, CaseHost, HostFuture, OneOrMany};
use ferrocat_shared::temporal::RunContext;

use super::search::{CaseFilter, PageRequest};
use ferrocat_shared::objects::{AttachmentSettings, BlobStore};

use super::{Actor, CaseChanges, NewCase, attachments, comments, tags, tasks};
use crate::AppError;

/// The case actions bound to a database and, for attachments, the object store.
pub struct Host {
    db: PgPool,
    blobs: Option<BlobStore>,
    settings: AttachmentSettings,
}

impl Host {
    pub fn new(db: PgPool, blobs: Option<BlobStore>, settings: AttachmentSettings) -> Self {
        Self { db, blobs, settings }
    }
}

impl CaseHost for Host {
    fn run<'a>(&'a self, call: CaseCall, run: &'a RunContext) -> HostFuture<'a> {
        Box::pin(async move {
            let actor = Actor::Run(run.wf_exec_id.clone());
            execute(self, run.workspace_id, &actor, call).await.map_err(|e| e.into_action_error("case"))
        })
    }
}

fn id(kind: &str, text: &str) -> Result<Uuid, AppError> {
    Uuid::try_parse(text).map_err(|_| AppError::NotFound(format!("{kind} {text:?} not found")))
}

fn optional_id(kind: &str, text: Option<&str>) -> Result<Option<Uuid>, AppError> {
    text.filter(|t| !t.is_empty()).map(|t| id(kind, t)).transpose()
}

fn workflow(text: Option<&str>) -> Result<Option<Uuid>, AppError> {
    text.filter(|t| !t.is_empty())
        .map(|t| ferrocat_shared::ids::parse_workflow_id(t).map_err(|_| crate::checks::invalid("workflow_id", format!("{t:?} is not a workflow id"))))
        .transpose()
}

fn many<T>(value: Option<OneOrMany<T>>) -> Vec<T> {
    value.map(OneOrMany::into_vec).unwrap_or_default()
}

async fn listing(db: &PgPool, workspace_id: Uuid, filter: &CaseFilter, page: &PageRequest, paginate: bool) -> Result<Value, AppError> {
    let found = super::search::search(db, workspace_id, filter, page).await?;
    if paginate {
        found.read(db, true).await
    } else {
        Ok(Value::Array(super::read_minimal(db, &found.items, true).await?))
    }
}

/// The longest a download link lasts.
const MAX_LINK_SECONDS: u64 = 86_400;

async fn execute(host: &Host, ws: Uuid, actor: &Actor, call: CaseCall) -> Result<Value, AppError> {
    let db = &host.db;
    let blobs = host.blobs.as_ref();
    let case = |text: String| async move { super::resolve(db, ws, &text).await };
    let attachment = |case_id: String, attachment_id: String| async move {
        let row = super::resolve(db, ws, &case_id).await?;
        let found = attachments::get(db, &row, id("attachment", &attachment_id)?).await?;
        Ok::<_, AppError>((row, found))
    };
    Ok(match call {
        CaseCall::CreateCase(a) => {
            let input = NewCase {
                summary: a.summary,
                description: a.description,
                status: Some(a.status),
                priority: Some(a.priority),
                severity: Some(a.severity),
                payload: a.payload,
                fields: a.fields,
                assignee_id: None,
                tags: a.tags.unwrap_or_default(),
                create_missing_tags: a.create_missing_tags,
            };
            let row = super::create(db, ws, actor, input).await?;
            super::read(db, &row).await?
        }
        CaseCall::UpdateCase(a) => {
            let row = case(a.case_id).await?;
            let changes = CaseChanges {
                summary: a.summary,
                append_description: a.append,
                description: a.description,
                status: a.status,
                priority: a.priority,
                severity: a.severity,
                payload: a.payload,
                fields: a.fields,
                assignee_id: None,
                tags: a.tags,
                create_missing_tags: a.create_missing_tags,
            };
            let row = super::update(db, ws, row.id, actor, changes).await?;
            super::read(db, &row).await?
        }
        CaseCall::GetCase(a) => super::read(db, &case(a.case_id).await?).await?,
        CaseCall::DeleteCase(a) => {
            super::delete(db, blobs, ws, case(a.case_id).await?.id).await?;
            Value::Null
        }
        CaseCall::ListCases(a) => {
            let page = PageRequest::parse(a.limit, a.cursor, a.reverse, a.order_by.as_deref(), a.sort.as_deref())?;
            listing(db, ws, &CaseFilter::default(), &page, a.paginate).await?
        }
        CaseCall::SearchCases(a) => {
            let a = *a;
            let page = PageRequest::parse(a.limit, a.cursor, a.reverse, a.order_by.as_deref(), a.sort.as_deref())?;
            let filter = CaseFilter {
                search_term: a.search_term,
                short_id: a.short_id,
                status: many(a.status),
                priority: many(a.priority),
                severity: many(a.severity),
                tags: a.tags.unwrap_or_default(),
                assignee: many(a.assignee_id),
                start_time: a.start_time,
                end_time: a.end_time,
                updated_after: a.updated_after,
                updated_before: a.updated_before,
                fields: vec![],
            };
            listing(db, ws, &filter, &page, a.paginate).await?
        }
        CaseCall::ListCaseEvents(a) => super::activity(db, &case(a.case_id).await?).await?,
        CaseCall::CreateComment(a) => {
            let row = case(a.case_id).await?;
            let parent = optional_id("comment", a.parent_id.as_deref())?;
            comments::create_asking(db, &row, actor, &a.content, parent, workflow(a.workflow_id.as_deref())?).await?.read_model()
        }
        CaseCall::ReplyToComment(a) => {
            let row = case(a.case_id).await?;
            comments::create(db, &row, actor, &a.content, Some(id("comment", &a.parent_comment_id)?)).await?.read_model()
        }
        CaseCall::UpdateComment(a) => {
            let (row, comment) = comments::find_in_workspace(db, ws, id("comment", &a.comment_id)?).await?;
            comments::update(db, &row, actor, comment.id, &a.content, true).await?.read_model()
        }
        CaseCall::ListComments(a) => {
            let rows = comments::list(db, &case(a.case_id).await?).await?;
            json!(rows.iter().map(comments::CommentRow::read_model).collect::<Vec<_>>())
        }
        CaseCall::ListCommentThreads(a) => json!(comments::threads(&comments::list(db, &case(a.case_id).await?).await?)),
        CaseCall::GetCommentThread(a) => {
            let (row, comment) = comments::find_in_workspace(db, ws, id("comment", &a.comment_id)?).await?;
            comments::thread_of(db, &row, &comment).await?
        }
        CaseCall::AssignUser(a) => {
            let row = case(a.case_id).await?;
            let changes = CaseChanges { assignee_id: Some(Some(id("user", &a.assignee_id)?)), ..Default::default() };
            super::read(db, &super::update(db, ws, row.id, actor, changes).await?).await?
        }
        CaseCall::AssignUserByEmail(a) => {
            let row = case(a.case_id).await?;
            let user = super::member_by_email(db, ws, &a.assignee_email).await?;
            let changes = CaseChanges { assignee_id: Some(Some(user)), ..Default::default() };
            super::read(db, &super::update(db, ws, row.id, actor, changes).await?).await?
        }
        CaseCall::AddCaseTag(a) => tags::add(db, &case(a.case_id).await?, actor, &a.tag, a.create_if_missing).await?.read_model(),
        CaseCall::RemoveCaseTag(a) => {
            tags::remove(db, &case(a.case_id).await?, actor, &a.tag).await?;
            Value::Null
        }
        CaseCall::CreateTask(a) => {
            let row = case(a.case_id).await?;
            let input = tasks::TaskInput {
                title: Some(a.title),
                description: a.description,
                priority: Some(a.priority),
                status: Some(a.status),
                assignee_id: Some(optional_id("user", a.assignee_id.as_deref())?),
                workflow_id: Some(workflow(a.workflow_id.as_deref())?),
                default_trigger_values: a.default_trigger_values,
            };
            tasks::create(db, &row, actor, input).await?.read_model()
        }
        CaseCall::GetTask(a) => tasks::find(db, ws, id("task", &a.task_id)?).await?.1.read_model(),
        CaseCall::ListTasks(a) => json!(tasks::list(db, &case(a.case_id).await?).await?.iter().map(tasks::TaskRow::read_model).collect::<Vec<_>>()),
        CaseCall::UpdateTask(a) => {
            let (row, task) = tasks::find(db, ws, id("task", &a.task_id)?).await?;
            let input = tasks::TaskInput {
                title: a.title,
                description: a.description,
                priority: a.priority,
                status: a.status,
                assignee_id: a.assignee_id.as_deref().map(|t| optional_id("user", Some(t))).transpose()?,
                workflow_id: a.workflow_id.as_deref().map(|t| workflow(Some(t))).transpose()?,
                default_trigger_values: a.default_trigger_values,
            };
            tasks::update(db, &row, actor, &task, input).await?.read_model()
        }
        CaseCall::DeleteTask(a) => {
            let (row, task) = tasks::find(db, ws, id("task", &a.task_id)?).await?;
            tasks::delete(db, &row, actor, &task).await?;
            Value::Null
        }
        CaseCall::UploadAttachment(a) => {
            let row = case(a.case_id).await?;
            let file = attachments::NewFile { file_name: a.file_name, content_type: a.content_type, bytes: a.bytes };
            attachments::upload(db, blobs, &host.settings, &row, actor, file).await?.read_model()
        }
        CaseCall::ListAttachments(a) => {
            json!(attachments::list(db, &case(a.case_id).await?).await?.iter().map(attachments::AttachmentRow::read_model).collect::<Vec<_>>())
        }
        CaseCall::GetAttachment(a) => attachment(a.case_id, a.attachment_id).await?.1.read_model(),
        CaseCall::DownloadAttachment(a) => {
            use base64::Engine as _;
            let (_, found) = attachment(a.case_id, a.attachment_id).await?;
            let bytes = attachments::content(blobs, &found).await?;
            json!({
                "file_name": found.file_name,
                "content_type": found.content_type,
                "size": found.size,
                "sha256": found.sha256,
                "content_base64": base64::engine::general_purpose::STANDARD.encode(bytes),
            })
        }
        CaseCall::DeleteAttachment(a) => {
            let (row, found) = attachment(a.case_id, a.attachment_id).await?;
            attachments::delete(db, blobs, &row, actor, found.id, true).await?;
            Value::Null
        }
        CaseCall::GetAttachmentDownloadUrl(a) => {
            let expiry = a.expiry.unwrap_or(3600);
            if !(1..=MAX_LINK_SECONDS).contains(&expiry) {
                return Err(crate::checks::invalid("expiry", format!("expiry is 1-{MAX_LINK_SECONDS} seconds")));
            }
            let (_, found) = attachment(a.case_id, a.attachment_id).await?;
            attachments::download(blobs, &found, false, std::time::Duration::from_secs(expiry)).await?["download_url"].take()
        }
        CaseCall::LinkRow(a) => {
            let row = case(a.case_id).await?;
            super::rows::link(db, &row, actor, &a.table_id, id("row", &a.row_id)?).await?
        }
        CaseCall::UnlinkRow(a) => {
            let row = case(a.case_id).await?;
            super::rows::unlink(db, &row, actor, &a.table_id, id("row", &a.row_id)?).await?;
            Value::Null
        }
        CaseCall::InsertRow(a) => {
            let row = case(a.case_id).await?;
            super::rows::insert_and_link(db, &row, actor, &a.table_id, a.row, false).await?
        }
    })
}
