//! `core.cases.*`: the actions of the table, each parsing its arguments into a [`CaseCall`]
//! (fetching a URL's file under the egress policy first) and handing it to the [`CaseHost`]
//! of the process (the use-case layer, `ferrocat_app::cases`), so an action changes a case
//! exactly as the api does, and never over HTTP.

pub mod port;

pub use port::*;

use serde_json::{Map, Value};

use super::{ActionError, parse_args};
use crate::table::{Action, BoxFuture, Call, Handler};

/// Reads an action's arguments into its call; attachments from a URL are fetched here, through
/// the actions' HTTP client and so under the egress policy.
type Parse = for<'a> fn(Map<String, Value>, &'a crate::ActionDeps) -> BoxFuture<'a, Result<CaseCall, ActionError>>;

/// The largest file an action fetches or decodes (the store's own limit may be lower).
const MAX_ATTACHMENT_BYTES: usize = 50 * 1024 * 1024;

fn upload(args: Map<String, Value>) -> Result<CaseCall, ActionError> {
    use base64::Engine as _;
    let a: UploadAttachmentArgs = parse_args(args)?;
    if a.content_base64.len() > MAX_ATTACHMENT_BYTES / 3 * 4 + 4 {
        return Err(ActionError::Invalid(format!("content_base64 holds more than {MAX_ATTACHMENT_BYTES} bytes")));
    }
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(a.content_base64.trim())
        .map_err(|e| ActionError::Invalid(format!("content_base64 is not base64: {e}")))?;
    Ok(CaseCall::UploadAttachment(NewAttachment { case_id: a.case_id, file_name: a.file_name, content_type: a.content_type, bytes }))
}

async fn upload_from_url(args: Map<String, Value>, deps: &crate::ActionDeps) -> Result<CaseCall, ActionError> {
    let a: UploadFromUrlArgs = parse_args(args)?;
    let url = url::Url::parse(&a.url).map_err(|e| ActionError::Invalid(format!("url: {e}")))?;
    let file_name = match a.file_name {
        Some(name) => name,
        None => url.path_segments().and_then(|mut s| s.next_back()).filter(|s| !s.is_empty()).map(str::to_owned).ok_or_else(|| {
            ActionError::Invalid("the url's path names no file: give file_name".into())
        })?,
    };
    let mut request = deps.http.request(reqwest::Method::GET, url).map_err(|e| ActionError::Http(e.to_string()))?;
    for (name, value) in a.headers.unwrap_or_default() {
        request = request.header(name, value);
    }
    let mut response = request.send().await.map_err(|e| ActionError::Http(format!("fetching the attachment: {e}")))?;
    if !response.status().is_success() {
        return Err(ActionError::Http(format!("fetching the attachment: the server answered {}", response.status())));
    }
    let content_type = response
        .headers()
        .get(reqwest::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    let mut bytes = Vec::new();
    while let Some(chunk) = response.chunk().await.map_err(|e| ActionError::Http(format!("fetching the attachment: {e}")))? {
        if bytes.len() + chunk.len() > MAX_ATTACHMENT_BYTES {
            return Err(ActionError::Invalid(format!("the file at the url is larger than {MAX_ATTACHMENT_BYTES} bytes")));
        }
        bytes.extend_from_slice(&chunk);
    }
    Ok(CaseCall::UploadAttachment(NewAttachment { case_id: a.case_id, file_name, content_type, bytes }))
}

/// A parser that reads only the arguments (no fetch).
macro_rules! sync {
    ($body:expr) => {
        |args, _deps| Box::pin(async move { $body(args) })
    };
}

/// Each action: name, title, description, how its arguments parse, and their schema.
/// One row of [`table`]: name (after `core.cases.`), title, description, parser, schema.
type Row = (&'static str, &'static str, &'static str, Parse, fn() -> Value);

fn table() -> Vec<Row> {
    fn schema<T: schemars::JsonSchema>() -> Value {
        serde_json::to_value(schemars::schema_for!(T)).unwrap_or_default()
    }
    vec![
        ("create_case", "Create case", "Create a case; returns it with its short id (CASE-0042).", sync!(|a| -> Result<CaseCall, ActionError> { Ok(CaseCall::CreateCase(parse_args(a)?)) }), schema::<CreateCaseArgs>),
        ("update_case", "Update case", "Update a case; tags replace the case's tags, append adds description to the existing one.", sync!(|a| -> Result<CaseCall, ActionError> { Ok(CaseCall::UpdateCase(parse_args(a)?)) }), schema::<UpdateCaseArgs>),
        ("get_case", "Get case", "Get a case with its custom fields and payload.", sync!(|a| -> Result<CaseCall, ActionError> { Ok(CaseCall::GetCase(parse_args(a)?)) }), schema::<CaseIdArgs>),
        ("delete_case", "Delete case", "Delete a case with its comments, tasks, attachments and activity.", sync!(|a| -> Result<CaseCall, ActionError> { Ok(CaseCall::DeleteCase(parse_args(a)?)) }), schema::<CaseIdArgs>),
        ("list_cases", "List cases", "List the workspace's cases, newest first by default.", sync!(|a| -> Result<CaseCall, ActionError> { Ok(CaseCall::ListCases(parse_args(a)?)) }), schema::<ListCasesArgs>),
        ("search_cases", "Search cases", "Search cases by text, short id, status, priority, severity, tags, assignee and time ranges.", sync!(|a| -> Result<CaseCall, ActionError> { Ok(CaseCall::SearchCases(Box::new(parse_args(a)?))) }), schema::<SearchCasesArgs>),
        ("list_case_events", "List case events", "The case's activity log, oldest first, with the users who acted.", sync!(|a| -> Result<CaseCall, ActionError> { Ok(CaseCall::ListCaseEvents(parse_args(a)?)) }), schema::<CaseIdArgs>),
        ("create_comment", "Create case comment", "Add a comment (or a reply, with parent_id) to a case.", sync!(|a| -> Result<CaseCall, ActionError> { Ok(CaseCall::CreateComment(parse_args(a)?)) }), schema::<CreateCommentArgs>),
        ("reply_to_comment", "Reply to comment", "Reply to a top-level comment of a case.", sync!(|a| -> Result<CaseCall, ActionError> { Ok(CaseCall::ReplyToComment(parse_args(a)?)) }), schema::<ReplyArgs>),
        ("update_comment", "Update case comment", "Change a comment's text.", sync!(|a| -> Result<CaseCall, ActionError> { Ok(CaseCall::UpdateComment(parse_args(a)?)) }), schema::<UpdateCommentArgs>),
        ("list_comments", "List case comments", "Every comment of a case, oldest first.", sync!(|a| -> Result<CaseCall, ActionError> { Ok(CaseCall::ListComments(parse_args(a)?)) }), schema::<CaseIdArgs>),
        ("list_comment_threads", "List comment threads", "A case's comments as threads: each top-level comment with its replies.", sync!(|a| -> Result<CaseCall, ActionError> { Ok(CaseCall::ListCommentThreads(parse_args(a)?)) }), schema::<CaseIdArgs>),
        ("get_comment_thread", "Get comment thread", "The thread a comment belongs to.", sync!(|a| -> Result<CaseCall, ActionError> { Ok(CaseCall::GetCommentThread(parse_args(a)?)) }), schema::<CommentIdArgs>),
        ("assign_user", "Assign user", "Assign a case to a member of the workspace by user id.", sync!(|a| -> Result<CaseCall, ActionError> { Ok(CaseCall::AssignUser(parse_args(a)?)) }), schema::<AssignArgs>),
        ("assign_user_by_email", "Assign user by email", "Assign a case to a member of the workspace by email.", sync!(|a| -> Result<CaseCall, ActionError> { Ok(CaseCall::AssignUserByEmail(parse_args(a)?)) }), schema::<AssignByEmailArgs>),
        ("add_case_tag", "Add case tag", "Add a tag (id or ref) to a case, creating it when asked.", sync!(|a| -> Result<CaseCall, ActionError> { Ok(CaseCall::AddCaseTag(parse_args(a)?)) }), schema::<AddTagArgs>),
        ("remove_case_tag", "Remove case tag", "Remove a tag (id or ref) from a case.", sync!(|a| -> Result<CaseCall, ActionError> { Ok(CaseCall::RemoveCaseTag(parse_args(a)?)) }), schema::<RemoveTagArgs>),
        ("create_task", "Create case task", "Add a task to a case.", sync!(|a| -> Result<CaseCall, ActionError> { Ok(CaseCall::CreateTask(parse_args(a)?)) }), schema::<CreateTaskArgs>),
        ("get_task", "Get case task", "Get a task by id.", sync!(|a| -> Result<CaseCall, ActionError> { Ok(CaseCall::GetTask(parse_args(a)?)) }), schema::<TaskIdArgs>),
        ("list_tasks", "List case tasks", "The tasks of a case.", sync!(|a| -> Result<CaseCall, ActionError> { Ok(CaseCall::ListTasks(parse_args(a)?)) }), schema::<CaseIdArgs>),
        ("update_task", "Update case task", "Change a task.", sync!(|a| -> Result<CaseCall, ActionError> { Ok(CaseCall::UpdateTask(parse_args(a)?)) }), schema::<UpdateTaskArgs>),
        ("delete_task", "Delete case task", "Delete a task.", sync!(|a| -> Result<CaseCall, ActionError> { Ok(CaseCall::DeleteTask(parse_args(a)?)) }), schema::<TaskIdArgs>),
        ("upload_attachment", "Upload attachment", "Attach a file (base64 content) to a case; its type must be allowed and match its content.", sync!(upload), schema::<UploadAttachmentArgs>),
        ("upload_attachment_from_url", "Upload attachment from URL", "Fetch a file (under the egress policy) and attach it to a case.", |args, deps| Box::pin(upload_from_url(args, deps)), schema::<UploadFromUrlArgs>),
        ("list_attachments", "List attachments", "The attachments of a case.", sync!(|a| -> Result<CaseCall, ActionError> { Ok(CaseCall::ListAttachments(parse_args(a)?)) }), schema::<CaseIdArgs>),
        ("get_attachment", "Get attachment", "An attachment's metadata.", sync!(|a| -> Result<CaseCall, ActionError> { Ok(CaseCall::GetAttachment(parse_args(a)?)) }), schema::<AttachmentArgs>),
        ("download_attachment", "Download attachment", "An attachment's content (base64), checked against its SHA-256.", sync!(|a| -> Result<CaseCall, ActionError> { Ok(CaseCall::DownloadAttachment(parse_args(a)?)) }), schema::<AttachmentArgs>),
        ("delete_attachment", "Delete attachment", "Delete an attachment of a case.", sync!(|a| -> Result<CaseCall, ActionError> { Ok(CaseCall::DeleteAttachment(parse_args(a)?)) }), schema::<AttachmentArgs>),
        ("get_attachment_download_url", "Get attachment download URL", "A presigned link that downloads an attachment (expiry in seconds).", sync!(|a| -> Result<CaseCall, ActionError> { Ok(CaseCall::GetAttachmentDownloadUrl(parse_args(a)?)) }), schema::<DownloadUrlArgs>),
        ("link_row", "Link table row", "Link a row of a lookup table to a case.", sync!(|a| -> Result<CaseCall, ActionError> { Ok(CaseCall::LinkRow(parse_args(a)?)) }), schema::<CaseRowArgs>),
        ("unlink_row", "Unlink table row", "Unlink a lookup table's row from a case (the row stays in its table).", sync!(|a| -> Result<CaseCall, ActionError> { Ok(CaseCall::UnlinkRow(parse_args(a)?)) }), schema::<CaseRowArgs>),
        ("insert_row", "Insert table row", "Insert a row into a lookup table and link it to a case.", sync!(|a| -> Result<CaseCall, ActionError> { Ok(CaseCall::InsertRow(parse_args(a)?)) }), schema::<InsertCaseRowArgs>),
    ]
}

/// The `core.cases.*` actions of the table.
pub(crate) fn actions() -> Vec<Action> {
    table()
        .into_iter()
        .map(|(name, title, description, parse, schema)| {
            Action::effect_with(&format!("core.cases.{name}"), title, description, std::sync::Arc::new(CaseAction(parse))).schema(schema())
        })
        .collect()
}

/// Runs one case action: parses its arguments, then hands it to the host.
struct CaseAction(Parse);

impl Handler for CaseAction {
    fn run<'a>(&'a self, call: Call<'a>) -> BoxFuture<'a, Result<Value, ActionError>> {
        Box::pin(run(call, self.0))
    }
}

async fn run(call: Call<'_>, parse: Parse) -> Result<Value, ActionError> {
    let deps = call.deps;
    let (host, run, args) = super::platform_call(call, deps.cases.as_deref(), "case")?;
    host.run(parse(args, deps).await?, run).await
}

#[cfg(test)]
mod tests {
    use std::sync::{Arc, Mutex};

    use serde_json::json;

    use ferrocat_shared::temporal::RunContext;

    use super::*;
    use crate::ActionDeps;

    /// Keeps what it is asked to do.
    #[derive(Default)]
    struct Recorder(Mutex<Vec<String>>);

    impl CaseHost for Recorder {
        fn run<'a>(&'a self, call: CaseCall, run: &'a RunContext) -> HostFuture<'a> {
            self.0.lock().unwrap().push(format!("{}: {call:?}", run.wf_exec_id));
            Box::pin(async { Ok(json!({"ok": true})) })
        }
    }

    fn run_context() -> RunContext {
        RunContext {
            wf_id: "wf_x".into(),
            wf_exec_id: "wf_x/exec_y".into(),
            wf_run_id: "r".into(),
            workspace_id: uuid::Uuid::nil(),
            environment: "default".into(),
            registry_lock: vec![],
        }
    }

    fn deps(host: Option<Arc<Recorder>>) -> ActionDeps {
        let http = crate::actions::http::client(Arc::new(ferrocat_shared::egress::EgressPolicy::permissive())).unwrap();
        ActionDeps { cases: host.map(|h| h as Arc<dyn CaseHost>), ..ActionDeps::with_http(http) }
    }

    #[tokio::test]
    async fn secrets_never_reach_a_case_and_every_action_parses_its_arguments() {
        let host = Arc::new(Recorder::default());
        let deps = deps(Some(host.clone()));
        let secrets = json!({"siem": {"TOKEN": "tok-8f3a9c2e71"}});
        let run = run_context();
        let args = json!({"summary": "leak tok-8f3a9c2e71?", "description": "token tok-8f3a9c2e71", "payload": {"t": "tok-8f3a9c2e71"}});
        let call = Call::new("core.cases.create_case", args.as_object().cloned().unwrap(), &deps, secrets.as_object().unwrap()).in_run(&run);
        crate::global().run("core.cases.create_case", call).await.unwrap();
        let seen = host.0.lock().unwrap().join("\n");
        assert!(!seen.contains("tok-8f3a9c2e71"), "{seen}");
        assert!(seen.starts_with("wf_x/exec_y: CreateCase") && seen.contains("***"), "{seen}");

        let none = Map::new();
        let refused = Call::new("core.cases.update_case", json!({"case_id": "CASE-1", "status": "done"}).as_object().cloned().unwrap(), &deps, &none).in_run(&run);
        let error = crate::global().run("core.cases.update_case", refused).await.unwrap_err().to_string();
        assert!(error.contains("invalid arguments") && error.contains("unknown variant `done`") && error.contains("in_progress"), "{error}");
        let bad_base64 = json!({"case_id": "CASE-1", "file_name": "a.txt", "content_base64": "%%%", "content_type": "text/plain"});
        let call = Call::new("core.cases.upload_attachment", bad_base64.as_object().cloned().unwrap(), &deps, &none).in_run(&run);
        assert!(crate::global().run("core.cases.upload_attachment", call).await.unwrap_err().to_string().contains("not base64"));
        assert_eq!(actions().len(), 32, "Tracecat's core.cases set, less the EE metrics");
    }

    #[tokio::test]
    async fn without_the_platform_a_case_action_says_where_it_runs() {
        let deps = deps(None);
        let none = Map::new();
        let call = Call::new("core.cases.get_case", json!({"case_id": "CASE-1"}).as_object().cloned().unwrap(), &deps, &none);
        let error = crate::global().run("core.cases.get_case", call).await.unwrap_err().to_string();
        assert!(error.contains("run them on the executor"), "{error}");
    }
}
