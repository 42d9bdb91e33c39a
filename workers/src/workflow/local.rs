//! The in-process driver behind `ferrocat run FILE`: the same scheduler, with actions called
//! directly and delays as plain sleeps. No Temporal, no database.

use std::time::Duration;

use futures::FutureExt as _;
use futures::future::LocalBoxFuture;
use serde_json::Value;
use uuid::Uuid;

use ferrocat_shared::dsl::Workflow;
use ferrocat_shared::temporal::{DslRunArgs, RunActionInput, RunContext};

use super::scheduler::{self, Driver, Failure};
use crate::executor::Executor;

/// Runs actions through an in-process [`Executor`].
pub struct LocalDriver {
    executor: Executor,
}

impl LocalDriver {
    /// A driver with its own executor.
    pub fn build() -> anyhow::Result<Self> {
        Ok(Self { executor: Executor::build()? })
    }
}

impl Driver for LocalDriver {
    fn execute(&self, input: RunActionInput) -> LocalBoxFuture<'_, Result<Value, Failure>> {
        let action = input.task.action.clone();
        async move {
            self.executor.run(input).await.map_err(|e| Failure {
                message: format!("There was an error in the executor when calling action '{action}'.\n\n{e}"),
                type_name: e.type_name().to_owned(),
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
}

/// Runs `dsl` once with `trigger` and returns its result.
pub async fn run_locally(dsl: Workflow, trigger: Value) -> Result<Value, Failure> {
    let driver = LocalDriver::build().map_err(|e| Failure { message: e.to_string(), type_name: "StartupError".into() })?;
    let exec = Uuid::new_v4();
    let wf_id = "wf_local".to_owned();
    let run_context = RunContext {
        wf_id: wf_id.clone(),
        wf_exec_id: format!("{wf_id}/exec_{}", ferrocat_shared::ids::base62(exec)),
        wf_run_id: exec.to_string(),
        workspace_id: Uuid::nil(),
        environment: dsl.config.environment.clone(),
    };
    let args = DslRunArgs {
        wf_id,
        workspace_id: Uuid::nil(),
        version: 0,
        dsl,
        trigger,
        trigger_type: "manual".into(),
        executor_queue: String::new(),
    };
    scheduler::interpret(&driver, &args, run_context).await
}
