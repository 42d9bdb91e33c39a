//! Runs workflows through the real Temporal dev server with a DSL worker and an executor polling
//! from this process, as `ferrocat worker` and `ferrocat executor` do.

use serde_json::{Map, Value};
use temporalio_client::{Client, WorkflowGetResultOptions, WorkflowStartOptions};
use temporalio_sdk::{Runtime, Worker, WorkerOptions};
use uuid::Uuid;

use ferrocat_shared::config::Env;
use ferrocat_dsl::Workflow;
use ferrocat_shared::temporal::{DslRunArgs, TemporalConfig};
use ferrocat_workers::executor::Executor;
use ferrocat_workers::workflow::DslWorkflow;

/// One run to start.
pub struct Run {
    /// The execution id (`wf_…/exec_…`).
    pub id: String,
    pub workspace_id: Uuid,
    pub dsl: Workflow,
    pub trigger: Value,
}

/// What a run became: its return value or failure, and its history as JSON.
pub struct Ran {
    pub outcome: Result<Value, String>,
    pub history: Vec<u8>,
}

/// Starts every run at once with workers configured from `env` (plus the dev server's
/// address), waits for them all, and stops the workers.
pub async fn run_all(env: &[(&str, String)], runs: Vec<Run>) -> Vec<Ran> {
    let temporal = crate::temporal::temporal().await;
    let mut pairs: Vec<(String, String)> = env.iter().map(|(k, v)| ((*k).to_owned(), v.clone())).collect();
    pairs.push(("FERROCAT_TEMPORAL_ADDRESS".into(), temporal.address.clone()));
    // The tests' fake providers and services listen on loopback, which the services' strict
    // egress policy refuses: it is tested on its own (actions_egress.rs, tests/e2e_egress.rs).
    if !pairs.iter().any(|(k, _)| k == "FERROCAT_EGRESS_MODE") {
        pairs.push(("FERROCAT_EGRESS_MODE".into(), "permissive".into()));
    }
    let env = Env::from_pairs(pairs);
    let config = TemporalConfig::from_env(&env).unwrap();
    let suffix = Uuid::new_v4().simple().to_string();
    let (dsl_queue, exec_queue) = (format!("test-dsl-{suffix}"), format!("test-exec-{suffix}"));
    let runtime = Runtime::from_current_tokio(Default::default()).unwrap();
    let client = config.connect().await.unwrap();
    // The DSL workflow, and the executor for pure actions' local activities.
    let dsl_options =
        WorkerOptions::new(dsl_queue.clone()).register_workflow::<DslWorkflow>().unwrap().register_activities(Executor::build(&env).unwrap()).build();
    let mut dsl_worker = Worker::new(&runtime, client.clone(), dsl_options).unwrap();
    let exec_options = WorkerOptions::new(exec_queue.clone()).register_activities(Executor::build(&env).unwrap()).build();
    let mut exec_worker = Worker::new(&runtime, client.clone(), exec_options).unwrap();
    let stops = [dsl_worker.shutdown_handle(), exec_worker.shutdown_handle()];
    let workers = async {
        let (a, b) = tokio::join!(dsl_worker.run(), exec_worker.run());
        a.and(b)
    };
    let all = async {
        let ran = futures::future::join_all(runs.into_iter().map(|run| one(&client, &dsl_queue, &exec_queue, run))).await;
        for stop in &stops {
            stop();
        }
        ran
    };
    let (worked, ran) = tokio::join!(workers, all);
    worked.unwrap();
    ran
}

async fn one(client: &Client, dsl_queue: &str, exec_queue: &str, run: Run) -> Ran {
    let args = DslRunArgs {
        wf_id: run.id.split('/').next().unwrap_or_default().to_owned(),
        workspace_id: run.workspace_id,
        version: 1,
        dsl: run.dsl,
        trigger: run.trigger,
        trigger_type: "manual".into(),
        executor_queue: exec_queue.to_owned(),
        vars: Map::new(),
    };
    let options = WorkflowStartOptions::new(dsl_queue.to_owned(), run.id.clone()).execution_timeout(std::time::Duration::from_secs(120)).build();
    let outcome = match client.start_workflow(DslWorkflow::run, args, options).await {
        Ok(handle) => handle.get_result(WorkflowGetResultOptions::default()).await.map_err(|e| format!("{e:?}")),
        Err(e) => Err(e.to_string()),
    };
    let history = client
        .get_workflow_handle::<temporalio_common::UntypedWorkflow>(run.id)
        .fetch_history(temporalio_client::WorkflowFetchHistoryOptions::default())
        .to_json()
        .await
        .unwrap_or_default();
    Ran { outcome, history }
}
