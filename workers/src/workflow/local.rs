//! The in-process driver behind `ferrocat run FILE`: the same scheduler, with actions called
//! directly and delays as plain sleeps. No Temporal, no database.

use std::time::Duration;

use futures::FutureExt as _;
use futures::future::LocalBoxFuture;
use serde_json::{Map, Value};
use uuid::Uuid;

use ferrocat_shared::config::Env;
use ferrocat_dsl::Workflow;
use ferrocat_shared::egress::Mode;
use ferrocat_shared::temporal::{DslRunArgs, RunActionInput, RunContext};

use super::driver::{Driver, Failure};
use super::scheduler::{self, Finished};
use crate::catalog::{ResolveWorkflow, ResolvedWorkflow};
use crate::executor::Executor;

/// Runs actions through an in-process [`Executor`], with secrets from a file instead of the
/// encrypted store.
pub struct LocalDriver {
    executor: Executor,
    secrets: Map<String, Value>,
}

impl LocalDriver {
    /// A driver with its own executor and `secrets` (`name → {KEY: value}`), whose actions
    /// connect under `egress` (with the process's `FERROCAT_EGRESS_ALLOW`/`_DENY`).
    pub fn build(secrets: Map<String, Value>, egress: Mode) -> anyhow::Result<Self> {
        let mut vars: Vec<(String, String)> = std::env::vars().collect();
        let mode = match egress {
            Mode::Strict => "strict",
            Mode::Permissive => "permissive",
        };
        vars.push((ferrocat_registry::deps::MODE_KEY.to_owned(), mode.to_owned()));
        Ok(Self { executor: Executor::build(&Env::from_pairs(vars))?.without_result_store(), secrets })
    }
}

impl Driver for LocalDriver {
    fn execute(&self, input: RunActionInput) -> LocalBoxFuture<'_, Result<Value, Failure>> {
        let action = input.task.action.clone();
        async move {
            self.executor.run_with_secrets(input, self.secrets.clone()).await.map_err(|e| {
                Failure::new(format!("There was an error in the executor when calling action '{action}'.\n\n{e}"), e.type_name())
            })
        }
        .boxed_local()
    }

    fn sleep(&self, delay: Duration) -> LocalBoxFuture<'_, ()> {
        tokio::time::sleep(delay).boxed_local()
    }

    fn now(&self) -> chrono::DateTime<chrono::Utc> {
        chrono::Utc::now()
    }

    fn new_uuid(&self) -> Uuid {
        Uuid::new_v4()
    }

    fn resolve(&self, _request: ResolveWorkflow) -> LocalBoxFuture<'_, Result<ResolvedWorkflow, Failure>> {
        async {
            Err(Failure::new(
                "core.workflow.execute needs the server: subflows are committed workflows (use `ferrocat up`)",
                "WorkflowResolutionError",
            ))
        }
        .boxed_local()
    }

    fn run_child(
        &self,
        _args: DslRunArgs,
        _exec_id: String,
        _wait: bool,
        _timeout: Option<Duration>,
    ) -> LocalBoxFuture<'_, Result<Value, Failure>> {
        unreachable_child()
    }
}

fn unreachable_child<'a>() -> LocalBoxFuture<'a, Result<Value, Failure>> {
    // `resolve` always fails locally, so no child is ever started.
    async { Err(Failure::new("subflows are not available locally", "WorkflowResolutionError")) }
        .boxed_local()
}

/// Runs `dsl` once with `trigger` (and `secrets`) and returns how it finished.
pub async fn run_locally(dsl: Workflow, trigger: Value, secrets: Map<String, Value>) -> Result<Finished, Failure> {
    run_locally_with(dsl, trigger, secrets, Map::new()).await
}

/// [`run_locally`] with workspace variables (`VARS`: name → `{key: value}`).
pub async fn run_locally_with(
    dsl: Workflow,
    trigger: Value,
    secrets: Map<String, Value>,
    vars: Map<String, Value>,
) -> Result<Finished, Failure> {
    run_locally_in(dsl, trigger, secrets, vars, Mode::Permissive).await
}

/// [`run_locally_with`] under the egress policy of `egress` (`ferrocat run --egress`): a
/// user's own file on their own machine is permissive by default.
pub async fn run_locally_in(
    dsl: Workflow,
    trigger: Value,
    secrets: Map<String, Value>,
    vars: Map<String, Value>,
    egress: Mode,
) -> Result<Finished, Failure> {
    let driver = LocalDriver::build(secrets, egress).map_err(|e| Failure::new(e.to_string(), "StartupError"))?;
    let exec = Uuid::new_v4();
    let wf_id = "wf_local".to_owned();
    let run_context = RunContext {
        wf_id: wf_id.clone(),
        wf_exec_id: format!("{wf_id}/exec_{}", ferrocat_shared::ids::base62(exec)),
        wf_run_id: exec.to_string(),
        workspace_id: Uuid::nil(),
        environment: dsl.config.environment.clone(),
        registry_lock: dsl.registry_lock.clone(),
    };
    let args = DslRunArgs {
        wf_id,
        workspace_id: Uuid::nil(),
        version: 0,
        dsl,
        trigger,
        trigger_type: "manual".into(),
        executor_queue: String::new(),
        vars,
    };
    scheduler::interpret(&driver, &args, run_context).await
}
