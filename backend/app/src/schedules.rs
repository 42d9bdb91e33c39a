//! Schedules live in Temporal (its schedules decide when a run starts); this module turns a
//! schedule row into a Temporal schedule whose action starts the same [`DSL_WORKFLOW`] with the
//! same input shape as [`runs::start`], and creates, replaces, pauses, describes and deletes it.
//!
//! The action carries the definition, inputs and `VARS` as they were when the schedule was last
//! written (Temporal stores the input), as a run started by hand carries them at its start.

use std::time::{Duration, SystemTime};

use temporalio_client::grpc::WorkflowService;
use temporalio_client::schedules::{DeleteScheduleOptions, PauseScheduleOptions, ScheduleError, UnpauseScheduleOptions};
use temporalio_client::tonic::{Code, IntoRequest as _, Status};
use temporalio_client::{NamespacedClient as _, RpcOptions};
use temporalio_common::protos::temporal::api::common::v1::{Payloads, WorkflowType};
use temporalio_common::protos::temporal::api::enums::v1::{ScheduleOverlapPolicy, TaskQueueKind};
use temporalio_common::protos::temporal::api::schedule::v1 as proto;
use temporalio_common::protos::temporal::api::taskqueue::v1::TaskQueue;
use temporalio_common::protos::temporal::api::workflow::v1::NewWorkflowExecutionInfo;
use temporalio_common::protos::temporal::api::workflowservice::v1::{CreateScheduleRequest, UpdateScheduleRequest};
use uuid::Uuid;

use ferrocat_dsl::Workflow;
use ferrocat_shared::ids;
use ferrocat_shared::temporal::DSL_WORKFLOW;

use crate::db::schedules::ScheduleRow;
use crate::error::AppError;
use crate::runs::{self, NewRun};
use crate::App;

/// A schedule's public id, which is also its Temporal schedule id: `sch_<base62>`.
pub fn schedule_id(id: Uuid) -> String {
    format!("sch_{}", ids::base62(id))
}

/// Reads a `sch_…` id (or a plain UUID).
pub fn parse_schedule_id(text: &str) -> Option<Uuid> {
    match text.strip_prefix("sch_") {
        Some(rest) => ids::from_base62(rest),
        None => Uuid::try_parse(text).ok(),
    }
}

/// The workflow id every run of the schedule starts with (`wf_…/exec_<schedule base62>`);
/// Temporal appends `-<scheduled time>` to make each run's id unique.
pub fn run_id_prefix(row: &ScheduleRow) -> String {
    format!("{}/exec_{}", ids::workflow_id(row.workflow_id), ids::base62(row.id))
}

/// How a Temporal schedule call failed, as the api reports it.
fn schedule_error(what: &str, error: ScheduleError) -> AppError {
    match error {
        ScheduleError::Rpc(status) => status_error(what, &status),
        other => AppError::Internal(anyhow::anyhow!("{what}: {other}")),
    }
}

fn status_error(what: &str, status: &Status) -> AppError {
    match status.code() {
        // Temporal validates the spec (cron syntax, ranges): the caller's input.
        Code::InvalidArgument => AppError::Unprocessable {
            detail: format!("the workflow engine refused the schedule: {}", status.message()),
            errors: vec![serde_json::json!({"loc": "spec", "msg": status.message()})],
        },
        Code::NotFound => AppError::NotFound("schedule not found in the workflow engine".into()),
        Code::AlreadyExists => AppError::Conflict("the schedule already exists in the workflow engine".into()),
        _ => {
            tracing::error!(error = %status, "{what}");
            AppError::Unavailable("the workflow engine did not accept the schedule".into())
        }
    }
}

/// The Temporal schedule for `row`, running `dsl` (the workflow's committed definition).
async fn build(state: &App, row: &ScheduleRow, dsl: Workflow, version: i32) -> Result<proto::Schedule, AppError> {
    let timeout = row.timeout_s.unwrap_or(dsl.config.timeout);
    let mut args = runs::run_args(state, NewRun {
        workflow_id: row.workflow_id,
        workspace_id: row.workspace_id,
        version,
        dsl,
        trigger: row.inputs.clone(),
        trigger_type: "scheduled",
    })
    .await?;
    if let Some(timeout) = row.timeout_s {
        args.dsl.config.timeout = timeout;
    }
    let interval = row.every_ms.map(|every| proto::IntervalSpec {
        interval: Duration::from_millis(every as u64).try_into().ok(),
        phase: row.offset_ms.and_then(|offset| Duration::from_millis(offset as u64).try_into().ok()),
    });
    #[allow(deprecated)]
    let spec = proto::ScheduleSpec {
        interval: interval.into_iter().collect(),
        cron_string: row.cron.iter().cloned().collect(),
        start_time: row.start_at.map(|t| SystemTime::from(t).into()),
        end_time: row.end_at.map(|t| SystemTime::from(t).into()),
        ..Default::default()
    };
    let start = NewWorkflowExecutionInfo {
        workflow_id: run_id_prefix(row),
        workflow_type: Some(WorkflowType { name: DSL_WORKFLOW.to_owned() }),
        task_queue: Some(TaskQueue {
            name: state.config.temporal.task_queue.clone(),
            kind: TaskQueueKind::Normal as i32,
            ..Default::default()
        }),
        input: Some(Payloads { payloads: vec![runs::json_payload(&args)?] }),
        workflow_execution_timeout: (timeout > 0.0).then(|| ferrocat_dsl::seconds(timeout).try_into().ok()).flatten(),
        workflow_task_timeout: Duration::from_secs(10).try_into().ok(),
        ..Default::default()
    };
    Ok(proto::Schedule {
        spec: Some(spec),
        action: Some(proto::ScheduleAction { action: Some(proto::schedule_action::Action::StartWorkflow(start)) }),
        policies: Some(proto::SchedulePolicies {
            // Each firing is its own run, as each webhook call is; a slow run delays no other.
            overlap_policy: ScheduleOverlapPolicy::AllowAll as i32,
            // After an outage, fire what was missed in the last minute only.
            catchup_window: Duration::from_secs(60).try_into().ok(),
            ..Default::default()
        }),
        state: Some(proto::ScheduleState {
            paused: row.status == "offline",
            notes: "ferrocat".into(),
            ..Default::default()
        }),
    })
}

/// Creates the Temporal schedule of a new row.
pub async fn create(state: &App, row: &ScheduleRow, dsl: Workflow, version: i32) -> Result<(), AppError> {
    let schedule = build(state, row, dsl, version).await?;
    let mut client = state.temporal.clone();
    let request = CreateScheduleRequest {
        namespace: client.namespace(),
        schedule_id: schedule_id(row.id),
        schedule: Some(schedule),
        identity: "ferrocat-api".into(),
        request_id: Uuid::new_v4().to_string(),
        ..Default::default()
    };
    WorkflowService::create_schedule(&mut client, request.into_request())
        .await
        .map_err(|status| status_error("creating a schedule", &status))?;
    Ok(())
}

/// Replaces the Temporal schedule of `row` with its current configuration, paused or not.
pub async fn replace(state: &App, row: &ScheduleRow, dsl: Workflow, version: i32) -> Result<(), AppError> {
    let schedule = build(state, row, dsl, version).await?;
    let mut client = state.temporal.clone();
    let request = UpdateScheduleRequest {
        namespace: client.namespace(),
        schedule_id: schedule_id(row.id),
        schedule: Some(schedule),
        identity: "ferrocat-api".into(),
        request_id: Uuid::new_v4().to_string(),
        ..Default::default()
    };
    WorkflowService::update_schedule(&mut client, request.into_request())
        .await
        .map_err(|status| status_error("updating a schedule", &status))?;
    // An update does not always carry the paused state over: set it explicitly.
    set_paused(state, row.id, row.status == "offline").await
}

/// Pauses (offline) or unpauses (online) the Temporal schedule.
pub async fn set_paused(state: &App, id: Uuid, paused: bool) -> Result<(), AppError> {
    let handle = state.temporal.get_schedule_handle(schedule_id(id));
    let result = if paused {
        handle.pause(Some("offline"), PauseScheduleOptions::default()).await
    } else {
        handle.unpause(Some("online"), UnpauseScheduleOptions::default()).await
    };
    result.map_err(|e| schedule_error("pausing or unpausing a schedule", e))
}

/// Deletes the Temporal schedule; one already gone counts as deleted.
pub async fn delete(state: &App, id: Uuid) -> Result<(), AppError> {
    let handle = state.temporal.get_schedule_handle(schedule_id(id));
    match handle.delete(DeleteScheduleOptions::default()).await {
        Ok(()) => Ok(()),
        Err(ScheduleError::Rpc(status)) if status.code() == Code::NotFound => Ok(()),
        Err(error) => Err(schedule_error("deleting a schedule", error)),
    }
}

/// What Temporal says about a schedule: paused, actions so far, the next times, recent runs.
pub async fn describe(state: &App, id: Uuid) -> Result<serde_json::Value, AppError> {
    let handle = state.temporal.get_schedule_handle(schedule_id(id));
    let description = handle.describe(RpcOptions::default()).await.map_err(|e| schedule_error("describing a schedule", e))?;
    let time = |t: SystemTime| chrono::DateTime::<chrono::Utc>::from(t);
    let recent: Vec<serde_json::Value> = description
        .recent_actions()
        .iter()
        .map(|a| serde_json::json!({"wf_exec_id": a.workflow_id, "scheduled_at": a.schedule_time.map(time)}))
        .collect();
    Ok(serde_json::json!({
        "paused": description.paused(),
        "action_count": description.action_count(),
        "next_run_at": description.future_action_times().into_iter().map(time).next(),
        "recent_runs": recent,
    }))
}
