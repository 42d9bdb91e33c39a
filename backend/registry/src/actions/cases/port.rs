//! The port of the case actions: the words and arguments of `core.cases.*` (Tracecat's
//! names) and the [`CaseHost`] that runs a parsed call. The use-case layer implements the
//! host; this module knows nothing of how actions are run, so the action table's plumbing
//! can depend on it without depending back.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use ferrocat_shared::temporal::RunContext;

use crate::error::ActionError;

/// Declares a closed set of snake_case words as an enum with `as_str` and `ALL`.
macro_rules! words {
    ($(#[$meta:meta])* $name:ident { $($variant:ident = $text:literal),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, schemars::JsonSchema, utoipa::ToSchema)]
        #[serde(rename_all = "snake_case")]
        pub enum $name { $($variant),+ }

        impl $name {
            /// Every value, in order.
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            /// The stored and wire spelling.
            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => $text),+ }
            }

            /// The value spelled `text`, if any.
            pub fn parse(text: &str) -> Option<Self> {
                match text { $($text => Some($name::$variant),)+ _ => None }
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}

words!(
    /// A case's status (OCSF incident status).
    CaseStatus { Unknown = "unknown", New = "new", InProgress = "in_progress", OnHold = "on_hold", Resolved = "resolved", Closed = "closed", Other = "other" }
);
words!(
    /// A case's or a task's priority.
    CasePriority { Unknown = "unknown", Low = "low", Medium = "medium", High = "high", Critical = "critical", Other = "other" }
);
words!(
    /// A case's severity (OCSF).
    CaseSeverity { Unknown = "unknown", Informational = "informational", Low = "low", Medium = "medium", High = "high", Critical = "critical", Fatal = "fatal", Other = "other" }
);
words!(
    /// A task's status.
    TaskStatus { Todo = "todo", InProgress = "in_progress", Completed = "completed", Blocked = "blocked" }
);

impl CaseStatus {
    /// Whether the status ends the case (custom fields required on closure must be set).
    pub fn is_closing(self) -> bool {
        matches!(self, CaseStatus::Resolved | CaseStatus::Closed)
    }
}

/// One value or a list of values (Tracecat's search filters take both).
#[derive(Debug, Clone, Deserialize, schemars::JsonSchema)]
#[serde(untagged)]
pub enum OneOrMany<T> {
    One(T),
    Many(Vec<T>),
}

impl<T> OneOrMany<T> {
    pub fn into_vec(self) -> Vec<T> {
        match self {
            OneOrMany::One(one) => vec![one],
            OneOrMany::Many(many) => many,
        }
    }
}

fn default_limit() -> i64 {
    100
}

#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateCaseArgs {
    pub summary: String,
    pub description: String,
    #[serde(default = "unknown_priority")]
    pub priority: CasePriority,
    #[serde(default = "unknown_severity")]
    pub severity: CaseSeverity,
    #[serde(default = "unknown_status")]
    pub status: CaseStatus,
    pub fields: Option<Map<String, Value>>,
    pub payload: Option<Value>,
    /// Tag ids or refs to add.
    pub tags: Option<Vec<String>>,
    #[serde(default)]
    pub create_missing_tags: bool,
}

fn unknown_priority() -> CasePriority {
    CasePriority::Unknown
}
fn unknown_severity() -> CaseSeverity {
    CaseSeverity::Unknown
}
fn unknown_status() -> CaseStatus {
    CaseStatus::Unknown
}

#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateCaseArgs {
    pub case_id: String,
    pub summary: Option<String>,
    pub description: Option<String>,
    pub priority: Option<CasePriority>,
    pub severity: Option<CaseSeverity>,
    pub status: Option<CaseStatus>,
    pub fields: Option<Map<String, Value>>,
    pub payload: Option<Value>,
    /// Tag ids or refs: replaces every tag of the case.
    pub tags: Option<Vec<String>>,
    #[serde(default)]
    pub create_missing_tags: bool,
    /// Append `description` to the existing one instead of replacing it.
    #[serde(default)]
    pub append: bool,
}

#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CaseIdArgs {
    pub case_id: String,
}

#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ListCasesArgs {
    #[serde(default = "default_limit")]
    pub limit: i64,
    pub cursor: Option<String>,
    #[serde(default)]
    pub reverse: bool,
    pub order_by: Option<String>,
    pub sort: Option<String>,
    /// Return `{items, next_cursor, prev_cursor, has_more, has_previous}` instead of a list.
    #[serde(default)]
    pub paginate: bool,
}

#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SearchCasesArgs {
    pub search_term: Option<String>,
    pub short_id: Option<String>,
    pub status: Option<OneOrMany<CaseStatus>>,
    pub priority: Option<OneOrMany<CasePriority>>,
    pub severity: Option<OneOrMany<CaseSeverity>>,
    pub tags: Option<Vec<String>>,
    pub assignee_id: Option<OneOrMany<String>>,
    #[schemars(with = "Option<String>")]
    pub start_time: Option<chrono::DateTime<chrono::Utc>>,
    #[schemars(with = "Option<String>")]
    pub end_time: Option<chrono::DateTime<chrono::Utc>>,
    #[schemars(with = "Option<String>")]
    pub updated_before: Option<chrono::DateTime<chrono::Utc>>,
    #[schemars(with = "Option<String>")]
    pub updated_after: Option<chrono::DateTime<chrono::Utc>>,
    #[serde(default = "default_limit")]
    pub limit: i64,
    pub cursor: Option<String>,
    #[serde(default)]
    pub reverse: bool,
    pub order_by: Option<String>,
    pub sort: Option<String>,
    #[serde(default)]
    pub paginate: bool,
}

#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateCommentArgs {
    pub case_id: String,
    pub content: String,
    pub parent_id: Option<String>,
    /// A workflow to run for this comment (by id).
    pub workflow_id: Option<String>,
}

#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ReplyArgs {
    pub case_id: String,
    pub parent_comment_id: String,
    pub content: String,
}

#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateCommentArgs {
    pub comment_id: String,
    pub content: String,
}

#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CommentIdArgs {
    pub comment_id: String,
}

#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AssignArgs {
    pub case_id: String,
    pub assignee_id: String,
}

#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AssignByEmailArgs {
    pub case_id: String,
    pub assignee_email: String,
}

#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AddTagArgs {
    pub case_id: String,
    /// A tag id or ref.
    pub tag: String,
    #[serde(default)]
    pub create_if_missing: bool,
}

#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RemoveTagArgs {
    pub case_id: String,
    pub tag: String,
}

#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateTaskArgs {
    pub case_id: String,
    pub title: String,
    pub description: Option<String>,
    #[serde(default = "unknown_priority")]
    pub priority: CasePriority,
    #[serde(default = "todo")]
    pub status: TaskStatus,
    pub assignee_id: Option<String>,
    pub workflow_id: Option<String>,
    pub default_trigger_values: Option<Map<String, Value>>,
}

fn todo() -> TaskStatus {
    TaskStatus::Todo
}

#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateTaskArgs {
    pub task_id: String,
    pub title: Option<String>,
    pub description: Option<String>,
    pub priority: Option<CasePriority>,
    pub status: Option<TaskStatus>,
    pub assignee_id: Option<String>,
    pub workflow_id: Option<String>,
    pub default_trigger_values: Option<Map<String, Value>>,
}

#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct TaskIdArgs {
    pub task_id: String,
}

#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct UploadAttachmentArgs {
    pub case_id: String,
    pub file_name: String,
    /// The file's bytes, base64-encoded.
    pub content_base64: String,
    pub content_type: String,
}

#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct UploadFromUrlArgs {
    pub case_id: String,
    pub url: String,
    pub headers: Option<std::collections::BTreeMap<String, String>>,
    /// The name to keep; else the last segment of the URL's path.
    pub file_name: Option<String>,
}

#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AttachmentArgs {
    pub case_id: String,
    pub attachment_id: String,
}

#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct DownloadUrlArgs {
    pub case_id: String,
    pub attachment_id: String,
    /// Seconds the link stays valid (default 3600, at most 86400).
    pub expiry: Option<u64>,
}

#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CaseRowArgs {
    pub case_id: String,
    /// The lookup table's id (or name).
    pub table_id: String,
    pub row_id: String,
}

#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct InsertCaseRowArgs {
    pub case_id: String,
    /// The lookup table's id (or name).
    pub table_id: String,
    /// The row's values, `{column: value}`.
    pub row: Map<String, Value>,
}

/// A file to attach, read by the registry (decoded, or fetched under the egress policy).
#[derive(Debug)]
pub struct NewAttachment {
    pub case_id: String,
    pub file_name: String,
    pub content_type: String,
    pub bytes: Vec<u8>,
}

/// One case action with its parsed arguments.
#[derive(Debug)]
pub enum CaseCall {
    CreateCase(CreateCaseArgs),
    UpdateCase(UpdateCaseArgs),
    GetCase(CaseIdArgs),
    DeleteCase(CaseIdArgs),
    ListCases(ListCasesArgs),
    SearchCases(Box<SearchCasesArgs>),
    ListCaseEvents(CaseIdArgs),
    CreateComment(CreateCommentArgs),
    ReplyToComment(ReplyArgs),
    UpdateComment(UpdateCommentArgs),
    ListComments(CaseIdArgs),
    ListCommentThreads(CaseIdArgs),
    GetCommentThread(CommentIdArgs),
    AssignUser(AssignArgs),
    AssignUserByEmail(AssignByEmailArgs),
    AddCaseTag(AddTagArgs),
    RemoveCaseTag(RemoveTagArgs),
    CreateTask(CreateTaskArgs),
    GetTask(TaskIdArgs),
    ListTasks(CaseIdArgs),
    UpdateTask(UpdateTaskArgs),
    DeleteTask(TaskIdArgs),
    UploadAttachment(NewAttachment),
    ListAttachments(CaseIdArgs),
    GetAttachment(AttachmentArgs),
    DownloadAttachment(AttachmentArgs),
    DeleteAttachment(AttachmentArgs),
    GetAttachmentDownloadUrl(DownloadUrlArgs),
    LinkRow(CaseRowArgs),
    UnlinkRow(CaseRowArgs),
    InsertRow(InsertCaseRowArgs),
}

/// A boxed future (the action table's `BoxFuture`, spelled out so this port needs nothing of it).
pub type HostFuture<'a> = std::pin::Pin<Box<dyn std::future::Future<Output = Result<Value, ActionError>> + Send + 'a>>;

/// What runs the case actions: the use-case layer, bound to the database (and object store).
pub trait CaseHost: Send + Sync {
    /// Runs `call` in `run`'s workspace; changes are recorded as made by that run.
    fn run<'a>(&'a self, call: CaseCall, run: &'a RunContext) -> HostFuture<'a>;
}
