//! `DSLWorkflow`: a committed workflow definition run as a Temporal workflow, and the local
//! driver behind `ferrocat run`. Workflow code must be deterministic (no clock, no I/O, no
//! randomness, no `FuturesUnordered`): Temporal replays it.

pub mod driver;
mod inputs;
pub mod local;
mod plan;
mod run_state;
pub mod scheduler;
pub(crate) mod subflow;
mod when;

use std::time::Duration;

use futures::FutureExt as _;
use futures::future::LocalBoxFuture;
use serde_json::Value;
use temporalio_common::RetryPolicy;
use temporalio_macros::{workflow, workflow_methods};
use temporalio_sdk::{
    ActivityOptions, ApplicationFailure, ChildWorkflowOptions, LocalActivityOptions, ParentClosePolicy, WorkflowContext,
    WorkflowResult,
};

use ferrocat_dsl::ActionStatement;
use ferrocat_shared::temporal::{DslRunArgs, RunActionInput, RunContext};

use crate::catalog::{Catalog, ResolveWorkflow, ResolvedWorkflow};
use crate::executor::Executor;
use driver::{Driver, Failure};

/// The DSL interpreter as a Temporal workflow.
#[workflow]
#[derive(Default)]
pub struct DslWorkflow;

#[workflow_methods]
impl DslWorkflow {
    /// Runs every action in dependency order and returns the `returns` value.
    #[run(name = "DSLWorkflow")]
    pub async fn run(ctx: &mut WorkflowContext<Self>, args: DslRunArgs) -> WorkflowResult<Value> {
        let ctx: &WorkflowContext<Self> = ctx;
        let run_context = RunContext {
            wf_id: args.wf_id.clone(),
            wf_exec_id: ctx.workflow_id().to_owned(),
            wf_run_id: ctx.run_id().to_owned(),
            workspace_id: args.workspace_id,
            environment: args.dsl.config.environment.clone(),
            registry_lock: args.dsl.registry_lock.clone(),
        };
        let driver = TemporalDriver { ctx, queue: &args.executor_queue };
        let outcome = scheduler::interpret(&driver, &args, run_context.clone()).await;
        // Counted once, when the run really finishes: not again when its history is replayed.
        if !ctx.is_replaying() {
            ferrocat_shared::metrics::get().run_finished(&args.wf_id, outcome.is_ok());
        }
        let failure = match outcome {
            Ok(finished) => return Ok(finished.value),
            Err(failure) => failure,
        };
        // The error handler runs to its end; the run still fails with its own error.
        if let Err(handler) = subflow::run_error_handler(&driver, &args, &run_context, &failure).await {
            tracing::warn!(exec_id = %run_context.wf_exec_id, error = %handler.message, "the error handler failed");
        }
        Err(ApplicationFailure::builder(anyhow::anyhow!(failure.message))
            .type_name(failure.type_name)
            .non_retryable(true)
            .build()
            .into())
    }
}

/// Actions as activities on the executor's queue; delays as durable timers.
struct TemporalDriver<'a> {
    ctx: &'a WorkflowContext<DslWorkflow>,
    queue: &'a str,
}

impl Driver for TemporalDriver<'_> {
    fn execute(&self, input: RunActionInput) -> LocalBoxFuture<'_, Result<Value, Failure>> {
        if ferrocat_registry::is_pure(&input.task) {
            // Pure actions run on this worker as local activities: no round trip through the
            // server's task queue, and the marker still records the input and the result.
            let options = local_activity_options(&input.task, input.stream_id.as_deref());
            let call = self.ctx.execute_local_activity(Executor::execute_action, input, options);
            return async move { call.await.map_err(|e| describe_failure(e.failure(), &e.to_string())) }.boxed_local();
        }
        let options = activity_options(&input.task, input.stream_id.as_deref(), self.queue);
        let call = self.ctx.execute_activity(Executor::execute_action, input, options);
        async move { call.await.map_err(|e| describe_failure(e.failure(), &e.to_string())) }.boxed_local()
    }

    fn sleep(&self, delay: Duration) -> LocalBoxFuture<'_, ()> {
        let timer = self.ctx.timer(delay);
        async move {
            timer.await;
        }
        .boxed_local()
    }

    fn now(&self) -> chrono::DateTime<chrono::Utc> {
        self.ctx.workflow_time().map(chrono::DateTime::<chrono::Utc>::from).unwrap_or_default()
    }

    fn new_uuid(&self) -> uuid::Uuid {
        uuid::Uuid::parse_str(&self.ctx.uuid4()).unwrap_or_default()
    }

    fn resolve(&self, request: ResolveWorkflow) -> LocalBoxFuture<'_, Result<ResolvedWorkflow, Failure>> {
        // On the worker's own queue: it holds the database pool.
        let options = ActivityOptions::with_start_to_close_timeout(Duration::from_secs(30))
            .retry_policy(RetryPolicy::builder().maximum_attempts(3).build())
            .build();
        let call = self.ctx.execute_activity(Catalog::resolve_workflow, request, options);
        async move { call.await.map_err(|e| describe_failure(e.failure(), &e.to_string())) }.boxed_local()
    }

    fn run_child(
        &self,
        args: DslRunArgs,
        exec_id: String,
        wait: bool,
        timeout: Option<Duration>,
    ) -> LocalBoxFuture<'_, Result<Value, Failure>> {
        let policy = if wait { ParentClosePolicy::Terminate } else { ParentClosePolicy::Abandon };
        let options = ChildWorkflowOptions::builder()
            .workflow_id(exec_id.clone())
            .parent_close_policy(policy)
            .maybe_execution_timeout(timeout)
            .build();
        let start = self.ctx.start_child_workflow(DslWorkflow::run, args, options);
        async move {
            let started = start
                .await
                .map_err(|e| Failure::new(format!("could not start subflow {exec_id}: {e}"), "ChildWorkflowStartError"))?;
            if !wait {
                return Ok(Value::String(exec_id));
            }
            started.result().await.map_err(|e| describe_failure(e.failure(), &e.to_string()))
        }
        .boxed_local()
    }
}

/// Attempts Temporal may add to an action's own on the executor's queue, for the attempts an
/// executor died in (no heartbeat, no answer). The executor itself ends an action for good
/// once the author's `max_attempts` are spent (`ferrocat_workers::executor`), so these are
/// never used for the action's own failures.
pub const INFRASTRUCTURE_ATTEMPTS: u32 = 3;
/// How long an executor may go without a heartbeat before its attempt counts as lost.
pub const EXECUTOR_HEARTBEAT_TIMEOUT: Duration = Duration::from_secs(20);
/// Beyond the action's own timeout (which the executor enforces), before Temporal gives an
/// attempt up: the time an attempt may spend waiting out an outage of the platform's own
/// dependencies ([`crate::executor::DEPENDENCY_WAIT`]), and 30 s more that only an executor
/// that stopped answering reaches.
const EXECUTOR_TIMEOUT_GRACE: Duration = Duration::from_secs(30).saturating_add(crate::executor::DEPENDENCY_WAIT);

/// Options of one action's activity on the executor's queue. Its id is the ref, prefixed by
/// the scatter stream it runs in, since one ref runs once per stream at the same time. The
/// executor heartbeats while the action runs, so an attempt whose executor died is retried on
/// another within [`EXECUTOR_HEARTBEAT_TIMEOUT`], whatever the author's `max_attempts`.
fn activity_options(task: &ActionStatement, stream: Option<&str>, queue: &str) -> ActivityOptions {
    let timeout = task.retry_policy.attempt_timeout();
    let attempts = match task.retry_policy.max_attempts {
        0 => 0,
        n => n.saturating_add(INFRASTRUCTURE_ATTEMPTS),
    };
    let policy = RetryPolicy::builder().maximum_attempts(attempts).initial_interval(Duration::from_secs(1)).backoff_coefficient(2.0).build();
    ActivityOptions::with_start_to_close_timeout(timeout + EXECUTOR_TIMEOUT_GRACE)
        .task_queue(queue.to_owned())
        .activity_id(activity_id(task, stream))
        .retry_policy(policy)
        .heartbeat_timeout(EXECUTOR_HEARTBEAT_TIMEOUT)
        .build()
}

fn activity_id(task: &ActionStatement, stream: Option<&str>) -> String {
    match stream {
        Some(stream) => format!("{stream}/{}", task.ref_),
        None => task.ref_.clone(),
    }
}

fn retry_policy(task: &ActionStatement) -> RetryPolicy {
    RetryPolicy::builder()
        .maximum_attempts(task.retry_policy.max_attempts)
        .initial_interval(Duration::from_secs(1))
        .backoff_coefficient(2.0)
        .build()
}

/// Options of a pure action's local activity, with the same id, timeout and attempts as
/// [`activity_options`] would give it.
fn local_activity_options(task: &ActionStatement, stream: Option<&str>) -> LocalActivityOptions {
    let timeout = task.retry_policy.attempt_timeout();
    LocalActivityOptions::builder()
        .activity_id(activity_id(task, stream))
        // The executor enforces the action's own timeout; beyond it, the wait for the
        // platform's dependencies (a local activity has no heartbeat to lose).
        .start_to_close_timeout(timeout.saturating_add(crate::executor::DEPENDENCY_WAIT))
        .retry_policy(retry_policy(task))
        .include_arguments_in_marker(true)
        .build()
}

/// The innermost failure message and its application type (`fallback` when there is no proto).
fn describe_failure(
    failure: Option<&temporalio_common::protos::temporal::api::failure::v1::Failure>,
    fallback: &str,
) -> Failure {
    let Some(mut failure) = failure else {
        return Failure::new(fallback, "ExecutionError");
    };
    while let Some(cause) = failure.cause.as_deref() {
        failure = cause;
    }
    let type_name = match &failure.failure_info {
        Some(temporalio_common::protos::temporal::api::failure::v1::failure::FailureInfo::ApplicationFailureInfo(info))
            if !info.r#type.is_empty() =>
        {
            info.r#type.clone()
        }
        _ => "ExecutionError".into(),
    };
    Failure::new(failure.message.clone(), &type_name)
}
