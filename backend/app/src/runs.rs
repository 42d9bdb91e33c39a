//! Runs live in Temporal: starting them, waiting for their result, and rebuilding their state
//! and per-action events from Temporal's history.

use std::collections::HashMap;
use std::time::{Duration, SystemTime};

use chrono::{DateTime, Utc};
use futures_util::StreamExt as _;
use serde::Serialize;
use serde_json::Value;
use temporalio_client::errors::WorkflowInteractionError;
use temporalio_client::{
    WorkflowCancelOptions, WorkflowDescribeOptions, WorkflowExecutionStatus, WorkflowFetchHistoryOptions, WorkflowGetResultOptions,
    WorkflowListOptions, WorkflowStartOptions, WorkflowTerminateOptions,
};
use temporalio_common::{MemoValues, UntypedWorkflow};
use temporalio_common::data_converters::RawValue;
use temporalio_common::protos::temporal::api::common::v1::Payload;
use temporalio_common::protos::temporal::api::failure::v1::Failure;
use temporalio_common::protos::temporal::api::history::v1::history_event::Attributes;
use uuid::Uuid;

use ferrocat_dsl::Workflow;
use ferrocat_shared::objects::StoredRef;
use ferrocat_shared::temporal::{DSL_WORKFLOW, DslRunArgs};

use crate::error::AppError;
use crate::App;

/// A run to start.
pub struct NewRun {
    pub workflow_id: Uuid,
    pub workspace_id: Uuid,
    pub version: i32,
    pub dsl: Workflow,
    pub trigger: Value,
    pub trigger_type: &'static str,
}

pub(crate) fn json_payload(value: &impl Serialize) -> Result<Payload, AppError> {
    Ok(Payload {
        metadata: HashMap::from([("encoding".to_owned(), b"json/plain".to_vec())]),
        data: serde_json::to_vec(value).map_err(|e| AppError::Internal(e.into()))?,
        ..Default::default()
    })
}

/// Decodes a payload written by the SDK's default converter.
fn decode_payload(payload: &Payload) -> Value {
    match payload.metadata.get("encoding").map(Vec::as_slice) {
        Some(b"json/plain") => serde_json::from_slice(&payload.data).unwrap_or(Value::Null),
        Some(b"binary/null") | None => Value::Null,
        Some(other) => Value::String(format!("<{} payload>", String::from_utf8_lossy(other))),
    }
}

fn decode_first(payloads: Option<&temporalio_common::protos::temporal::api::common::v1::Payloads>) -> Value {
    payloads.and_then(|p| p.payloads.first()).map(decode_payload).unwrap_or(Value::Null)
}

/// The input of a run: the definition, the trigger, and the workspace's variables of the run's
/// environment (`VARS`), read now so the run sees one consistent set.
pub async fn run_args(state: &App, run: NewRun) -> Result<DslRunArgs, AppError> {
    let vars = crate::db::variables::resolve(&state.db, run.workspace_id, &run.dsl.config.environment).await?;
    Ok(DslRunArgs {
        wf_id: ferrocat_shared::ids::workflow_id(run.workflow_id),
        workspace_id: run.workspace_id,
        version: run.version,
        dsl: run.dsl,
        trigger: run.trigger,
        trigger_type: run.trigger_type.to_owned(),
        executor_queue: state.config.temporal.executor_queue.clone(),
        vars,
    })
}

/// Starts a run and returns its execution id once Temporal has accepted it.
#[tracing::instrument(skip(state, run), fields(workflow_id = %run.workflow_id, workspace_id = %run.workspace_id, version = run.version, trigger = run.trigger_type, exec_id))]
pub async fn start(state: &App, run: NewRun) -> Result<String, AppError> {
    let exec_id = ferrocat_shared::ids::new_execution_id(run.workflow_id);
    tracing::Span::current().record("exec_id", exec_id.as_str());
    start_as(state, run, &exec_id, false).await?;
    tracing::info!("run started");
    Ok(exec_id)
}

/// Starts a run under `exec_id` unless a run with that id was ever started (Temporal refuses
/// to reuse the id); whether this call started it. Delivering the same thing twice starts
/// one run.
pub async fn start_once(state: &App, run: NewRun, exec_id: &str) -> Result<bool, AppError> {
    start_as(state, run, exec_id, true).await
}

async fn start_as(state: &App, run: NewRun, exec_id: &str, once: bool) -> Result<bool, AppError> {
    let timeout = run.dsl.config.timeout;
    let trigger_type = run.trigger_type;
    // Lists show how each run was started without reading its history.
    let mut memo = MemoValues::new();
    memo.insert(TRIGGER_TYPE_MEMO, run.trigger_type.to_owned());
    let args = run_args(state, run).await?;
    let mut options = WorkflowStartOptions::new(state.config.temporal.task_queue.clone(), exec_id.to_owned())
        .maybe_execution_timeout((timeout > 0.0).then(|| ferrocat_dsl::seconds(timeout)))
        .memo(memo)
        .build();
    options.task_timeout = Some(Duration::from_secs(10));
    if once {
        options.id_reuse_policy = temporalio_client::WorkflowIdReusePolicy::RejectDuplicate;
    }
    match state.temporal.start_workflow(UntypedWorkflow::new(DSL_WORKFLOW), RawValue::new(vec![json_payload(&args)?]), options).await {
        Ok(_) => {
            ferrocat_shared::metrics::get().run_started(trigger_type);
            Ok(true)
        }
        Err(temporalio_client::errors::WorkflowStartError::AlreadyStarted { .. }) if once => Ok(false),
        Err(e) => {
            tracing::error!(error = %e, exec_id = %exec_id, "temporal refused the start");
            Err(AppError::Unavailable("the workflow engine did not accept the run".into()))
        }
    }
}

/// The latest committed definition of workflow `workflow_id` and its version; not found when
/// nothing was committed yet.
pub async fn latest_committed(state: &App, workspace_id: Uuid, workflow_id: Uuid) -> Result<(Workflow, i32), AppError> {
    let definition = crate::db::workflows::definition(&state.db, workspace_id, workflow_id, None)
        .await?
        .ok_or_else(|| AppError::NotFound("the workflow has no committed definition: commit it first".into()))?;
    let dsl: Workflow = serde_json::from_value(definition.content).map_err(|e| AppError::Internal(e.into()))?;
    Ok((dsl, definition.version))
}

/// Refuses `inputs` that `dsl`'s `entrypoint.expects` would reject, before anything starts.
pub fn check_inputs(dsl: &Workflow, inputs: &Value) -> Result<(), AppError> {
    ferrocat_dsl::normalize_trigger_inputs(&dsl.entrypoint.expects, inputs).map(drop).map_err(|e| AppError::BadRequest(e.to_string()))
}

/// Starts a run of `workflow`'s latest committed version with `inputs` as its trigger, after
/// checking them against `entrypoint.expects`; returns the execution id and the version.
#[tracing::instrument(skip(state, workflow, inputs), fields(workflow_id = %workflow.id))]
pub async fn start_committed(
    state: &App,
    workspace_id: Uuid,
    workflow: &crate::db::workflows::WorkflowRow,
    inputs: Value,
    trigger_type: &'static str,
) -> Result<(String, i32), AppError> {
    let (dsl, version) = latest_committed(state, workspace_id, workflow.id).await?;
    check_inputs(&dsl, &inputs)?;
    let run = NewRun { workflow_id: workflow.id, workspace_id, version, dsl, trigger: inputs, trigger_type };
    Ok((start(state, run).await?, version))
}

/// The memo key that carries how a run was started (`manual`, `webhook`, ...).
const TRIGGER_TYPE_MEMO: &str = "trigger_type";

/// One run in a list.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct RunSummary {
    pub id: String,
    pub run_id: String,
    /// The workflow it runs (`wf_…`).
    pub workflow_id: String,
    pub status: &'static str,
    /// How it was started: `manual`, `webhook`, `schedule`, `subflow`, ...; `None` for runs
    /// from before this was recorded.
    pub trigger_type: Option<String>,
    pub start_time: Option<DateTime<Utc>>,
    pub close_time: Option<DateTime<Utc>>,
}

/// Which runs to list: at most `limit`, newest first, only in `status` if given, only started
/// by `trigger_type` if given, only started after `after` and before `before` if given (the
/// next page is `before` the last item's start).
#[derive(Debug, Clone, Default)]
pub struct RunFilter {
    pub limit: usize,
    pub status: Option<String>,
    pub trigger_type: Option<String>,
    pub after: Option<DateTime<Utc>>,
    pub before: Option<DateTime<Utc>>,
}

/// Tracecat's run states, as [`status_name`] spells them.
pub const STATUSES: [&str; 7] = ["RUNNING", "COMPLETED", "FAILED", "CANCELED", "TERMINATED", "TIMED_OUT", "CONTINUED_AS_NEW"];

/// The runs of the given workflows (`wf_…` ids), newest first, as `filter` asks: one workflow's
/// runs, or a workspace's across all its workflows.
#[tracing::instrument(skip(state, workflow_ids), fields(workflows = workflow_ids.len()))]
pub async fn list(state: &App, workflow_ids: &[String], filter: &RunFilter) -> Result<Vec<RunSummary>, AppError> {
    if let Some(status) = &filter.status
        && !STATUSES.contains(&status.as_str())
    {
        return Err(AppError::Unprocessable {
            detail: format!("status must be one of {}", STATUSES.join(", ")),
            errors: vec![serde_json::json!({"loc": "query.status", "msg": format!("unknown status {status:?}")})],
        });
    }
    let wanted: std::collections::HashSet<&str> = workflow_ids.iter().map(String::as_str).collect();
    // Visibility queries cannot match an id prefix on every backend; filter here instead.
    let visibility = format!("WorkflowType = '{DSL_WORKFLOW}'");
    let mut stream = state.temporal.list_workflows(visibility, WorkflowListOptions::builder().limit(5000).build());
    let mut items = Vec::new();
    while let Some(next) = stream.next().await {
        let execution = next.map_err(|e| AppError::Internal(anyhow::anyhow!("listing executions: {e}")))?;
        let Some((workflow_id, _)) = execution.id().split_once('/') else { continue };
        if !wanted.contains(workflow_id) {
            continue;
        }
        let started = execution.start_time().map(DateTime::<Utc>::from);
        let status = status_name(execution.status());
        let trigger_type = execution.memo().get::<String>(TRIGGER_TYPE_MEMO).ok().flatten().or_else(|| {
            // A schedule's runs carry `-<scheduled time>` after the execution id.
            execution.id().rsplit_once("exec_").is_some_and(|(_, rest)| rest.contains('-')).then(|| "schedule".to_owned())
        });
        if filter.status.as_deref().is_some_and(|wanted| wanted != status)
            || filter.trigger_type.as_deref().is_some_and(|wanted| trigger_type.as_deref() != Some(wanted))
            || filter.before.is_some_and(|before| started.is_none_or(|t| t >= before))
            || filter.after.is_some_and(|after| started.is_none_or(|t| t < after))
        {
            continue;
        }
        items.push(RunSummary {
            id: execution.id().to_owned(),
            run_id: execution.run_id().to_owned(),
            workflow_id: workflow_id.to_owned(),
            status,
            trigger_type,
            start_time: started,
            close_time: execution.close_time().map(DateTime::<Utc>::from),
        });
        if items.len() >= filter.limit {
            break;
        }
    }
    Ok(items)
}

/// Waits for a run to close and returns its result, or its failure message.
#[tracing::instrument(skip(state))]
pub async fn wait_result(state: &App, exec_id: &str) -> Result<Value, AppError> {
    let handle = state.temporal.get_workflow_handle::<UntypedWorkflow>(exec_id.to_owned());
    match handle.get_result(WorkflowGetResultOptions::default()).await {
        Ok(raw) => Ok(raw.payloads.first().map(decode_payload).unwrap_or(Value::Null)),
        Err(error) => {
            // The failure text is the user's own workflow error: safe to show.
            let detail = describe(state, exec_id).await.ok().and_then(|d| d.error).unwrap_or_else(|| error.to_string());
            Err(AppError::ExecutionFailed(detail))
        }
    }
}

/// Fails with 409 unless the run is still running (Temporal accepts a cancel request for a
/// closed run and ignores it; the caller should know).
async fn ensure_running(state: &App, exec_id: &str) -> Result<(), AppError> {
    let handle = state.temporal.get_workflow_handle::<UntypedWorkflow>(exec_id.to_owned());
    let description = handle.describe(WorkflowDescribeOptions::default()).await.map_err(|e| interaction_error(exec_id, e))?;
    if description.status() != WorkflowExecutionStatus::Running {
        return Err(AppError::Conflict(format!("execution {exec_id} is no longer running")));
    }
    Ok(())
}

/// Asks a run to cancel (its workflow code sees the request and winds down).
#[tracing::instrument(skip(state))]
pub async fn cancel(state: &App, exec_id: &str, reason: &str) -> Result<(), AppError> {
    ensure_running(state, exec_id).await?;
    let handle = state.temporal.get_workflow_handle::<UntypedWorkflow>(exec_id.to_owned());
    let options = WorkflowCancelOptions::builder().reason(reason).build();
    handle.cancel(options).await.map_err(|e| interaction_error(exec_id, e))
}

/// Ends a run at once, without running any more of its code.
#[tracing::instrument(skip(state))]
pub async fn terminate(state: &App, exec_id: &str, reason: &str) -> Result<(), AppError> {
    ensure_running(state, exec_id).await?;
    let handle = state.temporal.get_workflow_handle::<UntypedWorkflow>(exec_id.to_owned());
    let options = WorkflowTerminateOptions::builder().reason(reason).build();
    handle.terminate(options).await.map_err(|e| interaction_error(exec_id, e))
}

fn interaction_error(exec_id: &str, error: WorkflowInteractionError) -> AppError {
    match &error {
        // Temporal answers NotFound for runs that exist but already closed.
        WorkflowInteractionError::NotFound(status) if status.message().contains("already completed") => {
            AppError::Conflict(format!("execution {exec_id} is no longer running"))
        }
        WorkflowInteractionError::NotFound(_) => AppError::NotFound(format!("execution {exec_id} not found")),
        _ => AppError::Internal(anyhow::anyhow!("controlling {exec_id}: {error}")),
    }
}

/// Marker name of a local activity's result in history (Temporal's core SDK).
const LOCAL_ACTIVITY_MARKER: &str = "core_local_activity";

/// One action's progress in a run.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ActionEvent {
    pub event_id: i64,
    pub event_type: &'static str,
    pub status: &'static str,
    pub action_ref: String,
    pub action_name: String,
    pub action_input: Value,
    pub action_result: Option<Value>,
    pub action_error: Option<Value>,
    /// Which attempt ran last (1 unless the action was retried).
    pub attempt: i32,
    pub start_time: Option<DateTime<Utc>>,
    pub close_time: Option<DateTime<Utc>>,
    /// The steps a template action ran in that attempt, nested templates' too (empty for
    /// other actions).
    pub steps: Vec<TemplateStep>,
}

/// One step a template ran: which, how it ended and when; never its arguments or result.
#[derive(Debug, Clone, Serialize, serde::Deserialize, utoipa::ToSchema)]
pub struct TemplateStep {
    /// The template whose step it is (the action itself, or one it called).
    pub template: String,
    #[serde(rename = "ref")]
    pub ref_: String,
    pub action: String,
    /// 1 for the action's own steps, 2 for those of a template it called, and so on.
    pub depth: i32,
    /// `completed` or `failed`.
    pub status: String,
    /// Why it failed (secrets masked).
    pub error: Option<String>,
    pub start_time: Option<DateTime<Utc>>,
    pub close_time: Option<DateTime<Utc>>,
}

/// A run as the api shows it.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ExecutionDetail {
    pub id: String,
    pub run_id: String,
    pub workflow_type: String,
    pub task_queue: String,
    pub status: String,
    pub start_time: Option<DateTime<Utc>>,
    pub close_time: Option<DateTime<Utc>>,
    pub history_length: usize,
    /// The workflow (`wf_…`) and its committed version the run runs.
    pub workflow_id: Option<String>,
    pub version: Option<i64>,
    pub trigger_type: Option<String>,
    pub trigger: Value,
    pub result: Option<Value>,
    pub error: Option<String>,
    pub events: Vec<ActionEvent>,
}

fn to_utc(time: Option<SystemTime>) -> Option<DateTime<Utc>> {
    time.map(DateTime::<Utc>::from)
}

fn innermost(failure: &Failure) -> &Failure {
    let mut current = failure;
    while let Some(cause) = current.cause.as_deref() {
        current = cause;
    }
    current
}

/// Tracecat's status names (`RUNNING`, `COMPLETED`, ...).
pub fn status_name(status: WorkflowExecutionStatus) -> &'static str {
    match status {
        WorkflowExecutionStatus::Running => "RUNNING",
        WorkflowExecutionStatus::Completed => "COMPLETED",
        WorkflowExecutionStatus::Failed => "FAILED",
        WorkflowExecutionStatus::Canceled => "CANCELED",
        WorkflowExecutionStatus::Terminated => "TERMINATED",
        WorkflowExecutionStatus::ContinuedAsNew => "CONTINUED_AS_NEW",
        WorkflowExecutionStatus::TimedOut => "TIMED_OUT",
        _ => "UNSPECIFIED",
    }
}

/// Reads a run's status, result and per-action events from Temporal, with stored results read
/// back; 404 when unknown.
pub async fn describe(state: &App, exec_id: &str) -> Result<ExecutionDetail, AppError> {
    let mut detail = describe_raw(state, exec_id).await?;
    present_stored(state, &mut detail, StoredView::Inline).await;
    Ok(detail)
}

/// [`describe`] with stored results left as references.
pub async fn describe_raw(state: &App, exec_id: &str) -> Result<ExecutionDetail, AppError> {
    let handle = state.temporal.get_workflow_handle::<UntypedWorkflow>(exec_id.to_owned());
    let description = handle.describe(WorkflowDescribeOptions::default()).await.map_err(|e| {
        let text = e.to_string();
        if text.contains("not found") || text.contains("NotFound") {
            AppError::NotFound(format!("execution {exec_id} not found"))
        } else {
            AppError::Internal(anyhow::anyhow!("describing {exec_id}: {text}"))
        }
    })?;
    let events = handle
        .fetch_history(WorkflowFetchHistoryOptions::default())
        .into_events()
        .await
        .map_err(|e| AppError::Internal(anyhow::anyhow!("history of {exec_id}: {e}")))?;

    let mut detail = ExecutionDetail {
        id: exec_id.to_owned(),
        run_id: description.run_id().to_owned(),
        workflow_type: description.workflow_type().to_owned(),
        task_queue: description.task_queue().to_owned(),
        status: status_name(description.status()).to_owned(),
        start_time: to_utc(description.start_time()),
        close_time: to_utc(description.close_time()),
        history_length: events.len(),
        workflow_id: None,
        version: None,
        trigger_type: None,
        trigger: Value::Null,
        result: None,
        error: None,
        events: Vec::new(),
    };
    let mut by_schedule: HashMap<i64, usize> = HashMap::new();
    // The scatter stream of each scheduled action, to find its template steps.
    let mut streams: HashMap<i64, String> = HashMap::new();
    for event in &events {
        let time = event.event_time.as_ref().and_then(|t| DateTime::from_timestamp(t.seconds, t.nanos.max(0) as u32));
        match &event.attributes {
            Some(Attributes::WorkflowExecutionStartedEventAttributes(a)) => {
                let args = decode_first(a.input.as_ref());
                detail.trigger = args.get("trigger").cloned().unwrap_or(Value::Null);
                detail.trigger_type = args.get("trigger_type").and_then(Value::as_str).map(str::to_owned);
                detail.workflow_id = args.get("wf_id").and_then(Value::as_str).map(str::to_owned);
                detail.version = args.get("version").and_then(Value::as_i64);
            }
            Some(Attributes::ActivityTaskScheduledEventAttributes(a)) => {
                let input = decode_first(a.input.as_ref());
                let task = input.get("task").cloned().unwrap_or(Value::Null);
                by_schedule.insert(event.event_id, detail.events.len());
                detail.events.push(ActionEvent {
                    event_id: event.event_id,
                    event_type: "ACTIVITY_TASK_SCHEDULED",
                    status: "SCHEDULED",
                    // The ref itself: activity ids carry the scatter stream too.
                    action_ref: task.get("ref").and_then(Value::as_str).map_or_else(|| a.activity_id.clone(), str::to_owned),
                    action_name: task.get("action").and_then(Value::as_str).unwrap_or_default().to_owned(),
                    action_input: task.get("args").cloned().unwrap_or(Value::Null),
                    action_result: None,
                    action_error: None,
                    attempt: 1,
                    start_time: time,
                    close_time: None,
                    steps: Vec::new(),
                });
                streams.insert(event.event_id, input.get("stream_id").and_then(Value::as_str).unwrap_or_default().to_owned());
            }
            Some(Attributes::ActivityTaskStartedEventAttributes(a)) => {
                if let Some(&i) = by_schedule.get(&a.scheduled_event_id) {
                    detail.events[i].status = "STARTED";
                    detail.events[i].attempt = a.attempt.max(1);
                }
            }
            Some(Attributes::ActivityTaskCompletedEventAttributes(a)) => {
                if let Some(&i) = by_schedule.get(&a.scheduled_event_id) {
                    let e = &mut detail.events[i];
                    e.status = "COMPLETED";
                    e.action_result = Some(decode_first(a.result.as_ref()));
                    e.close_time = time;
                }
            }
            Some(Attributes::ActivityTaskFailedEventAttributes(a)) => {
                if let Some(&i) = by_schedule.get(&a.scheduled_event_id) {
                    let e = &mut detail.events[i];
                    e.status = "FAILED";
                    e.close_time = time;
                    if let Some(failure) = &a.failure {
                        let inner = innermost(failure);
                        e.action_error = Some(serde_json::json!({"message": inner.message}));
                    }
                }
            }
            Some(Attributes::ActivityTaskTimedOutEventAttributes(a)) => {
                if let Some(&i) = by_schedule.get(&a.scheduled_event_id) {
                    let e = &mut detail.events[i];
                    e.status = "TIMED_OUT";
                    e.close_time = time;
                    e.action_error = Some(serde_json::json!({"message": "action timed out"}));
                }
            }
            // Pure actions run as local activities on the DSL worker: one marker each, holding
            // the input and the result (or the failure).
            Some(Attributes::MarkerRecordedEventAttributes(a)) if a.marker_name == LOCAL_ACTIVITY_MARKER => {
                let input = decode_first(a.details.get("input"));
                let task = input.get("task").cloned().unwrap_or(Value::Null);
                let failed = a.failure.as_ref().map(|f| serde_json::json!({"message": innermost(f).message}));
                detail.events.push(ActionEvent {
                    event_id: event.event_id,
                    event_type: "MARKER_RECORDED",
                    status: if failed.is_some() { "FAILED" } else { "COMPLETED" },
                    action_ref: task.get("ref").and_then(Value::as_str).unwrap_or_default().to_owned(),
                    action_name: task.get("action").and_then(Value::as_str).unwrap_or_default().to_owned(),
                    action_input: task.get("args").cloned().unwrap_or(Value::Null),
                    action_result: if failed.is_some() { None } else { Some(decode_first(a.details.get("result"))) },
                    action_error: failed,
                    attempt: 1,
                    start_time: time,
                    close_time: time,
                    steps: Vec::new(),
                });
            }
            Some(Attributes::WorkflowExecutionCompletedEventAttributes(a)) => {
                detail.result = Some(decode_first(a.result.as_ref()));
            }
            Some(Attributes::WorkflowExecutionFailedEventAttributes(a)) => {
                detail.error = a.failure.as_ref().map(|f| innermost(f).message.clone());
            }
            _ => {}
        }
    }
    attach_steps(state, &mut detail, &streams).await?;
    Ok(detail)
}

/// How long the steps of template actions are kept for runs' detail.
pub const STEP_TRACE_DAYS: i32 = 30;

/// Forgets template steps older than [`STEP_TRACE_DAYS`] (the api does at start); how many.
pub async fn forget_old_steps(state: &App) -> Result<u64, AppError> {
    let done = sqlx::query!("DELETE FROM action_step_traces WHERE recorded_at < now() - make_interval(days => $1)", STEP_TRACE_DAYS)
        .execute(&state.db)
        .await?;
    Ok(done.rows_affected())
}

/// Puts each template action's steps (as the executor kept them for the attempt shown) on its
/// event.
async fn attach_steps(state: &App, detail: &mut ExecutionDetail, streams: &HashMap<i64, String>) -> Result<(), AppError> {
    if streams.is_empty() {
        return Ok(());
    }
    let rows = sqlx::query!("SELECT action_ref, stream_id, attempt, steps FROM action_step_traces WHERE wf_exec_id = $1", detail.id)
        .fetch_all(&state.db)
        .await?;
    if rows.is_empty() {
        return Ok(());
    }
    for event in &mut detail.events {
        let Some(stream) = streams.get(&event.event_id) else { continue };
        let kept = rows.iter().find(|r| r.action_ref == event.action_ref && &r.stream_id == stream && r.attempt == event.attempt);
        if let Some(row) = kept {
            event.steps = serde_json::from_value(row.steps.clone()).unwrap_or_default();
        }
    }
    Ok(())
}

/// How a run's detail shows results kept in object storage.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum StoredView {
    /// Read back: the values themselves.
    Inline,
    /// `{"kind": "download", "url", ...}`: a short-lived presigned link through /s3.
    Links,
}

/// How long a download link to a stored result works.
pub const DOWNLOAD_LINK_TTL: std::time::Duration = std::time::Duration::from_secs(300);

/// The download envelope of a stored value: a presigned link and what it holds.
pub async fn download_envelope(store: &ferrocat_shared::objects::ResultStore, stored: &StoredRef) -> Result<Value, AppError> {
    let url = store.presigned_url(stored, DOWNLOAD_LINK_TTL).await?;
    Ok(serde_json::json!({
        "kind": "download",
        "url": url,
        "expires_in": DOWNLOAD_LINK_TTL.as_secs(),
        "size_bytes": stored.size_bytes,
        "content_type": stored.content_type,
        "sha256": stored.sha256,
        "typename": stored.typename,
    }))
}

/// Replaces each stored reference in the run's result and events by its value or its link;
/// one that cannot be read stays a reference (and is logged).
pub async fn present_stored(state: &App, detail: &mut ExecutionDetail, view: StoredView) {
    let Some(store) = &state.results else { return };
    let slots = detail.result.iter_mut().chain(detail.events.iter_mut().filter_map(|e| e.action_result.as_mut()));
    for slot in slots {
        let shown = match (view, StoredRef::from_value(slot)) {
            (StoredView::Links, Some(stored)) => download_envelope(store, &stored).await,
            (StoredView::Links, None) => continue,
            (StoredView::Inline, _) => store.materialize(slot.clone()).await.map_err(AppError::from),
        };
        match shown {
            Ok(value) => *slot = value,
            Err(e) => tracing::warn!(exec_id = %detail.id, error = %e, "could not present a stored result"),
        }
    }
}
