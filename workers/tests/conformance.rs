//! The conformance suite: every case in `tests/conformance/*.yml` runs through the in-process
//! driver of `ferrocat run` and through Temporal (a real dev server, with the DSL worker and the
//! executor polling from this process), and must give the same expected result on both paths.

mod common;
#[path = "common/objects.rs"]
mod objects;

use std::path::PathBuf;

use serde::Deserialize;
use serde_json::{Map, Value, json};
use temporalio_client::{WorkflowGetResultOptions, WorkflowStartOptions};
use temporalio_sdk::{Runtime, Worker, WorkerOptions};
use uuid::Uuid;

use ferrocat_shared::config::Env;
use ferrocat_shared::dsl::Workflow;
use ferrocat_shared::temporal::{DslRunArgs, TemporalConfig};
use ferrocat_workers::executor::Executor;
use ferrocat_workers::workflow::DslWorkflow;
use ferrocat_workers::workflow::local::run_locally;

/// One case: a workflow, its trigger, and the exact `returns` value or a piece of the error.
#[derive(Debug, Deserialize)]
struct Case {
    name: String,
    #[serde(default)]
    trigger: Value,
    expect: Option<Value>,
    error: Option<String>,
    dsl: Map<String, Value>,
}

impl Case {
    fn workflow(&self) -> Workflow {
        let mut dsl = self.dsl.clone();
        dsl.entry("title").or_insert_with(|| json!(self.name));
        dsl.entry("description").or_insert_with(|| json!("conformance case"));
        let dsl = Workflow::parse(&Value::Object(dsl).to_string()).unwrap_or_else(|e| panic!("{}: {e}", self.name));
        dsl.validate().unwrap_or_else(|e| panic!("{}: invalid: {e:?}", self.name));
        dsl
    }

    /// What went wrong with `outcome`, if anything.
    fn mismatch(&self, outcome: &Result<Value, String>) -> Option<String> {
        match (&self.expect, &self.error, outcome) {
            (Some(want), None, Ok(got)) if want == got => None,
            (None, Some(want), Err(got)) if got.contains(want.as_str()) => None,
            (Some(want), None, got) => Some(format!("{}: expected {want}, got {got:?}", self.name)),
            (None, Some(want), got) => Some(format!("{}: expected an error with {want:?}, got {got:?}", self.name)),
            _ => Some(format!("{}: a case needs exactly one of `expect` and `error`", self.name)),
        }
    }
}

/// A local HTTP server for the cases' `core.http_request` actions; its base URL replaces
/// `{{HTTP}}` in the case files.
async fn http_server() -> String {
    let app = axum::Router::new().route("/health", axum::routing::get(|| async { axum::Json(json!({"status": "ok"})) }));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    base
}

async fn cases() -> Vec<Case> {
    let http = http_server().await;
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/conformance");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir).unwrap().map(|e| e.unwrap().path()).collect();
    files.sort();
    let mut cases = Vec::new();
    for file in files.into_iter().filter(|f| f.extension().is_some_and(|e| e == "yml")) {
        let text = std::fs::read_to_string(&file).unwrap().replace("{{HTTP}}", &http);
        let parsed: Vec<Case> = serde_yaml::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", file.display()));
        cases.extend(parsed);
    }
    assert!(cases.len() >= 20, "the suite lost its cases: {}", cases.len());
    cases
}

/// With `FERROCAT_RECORD_HISTORIES=DIR`, writes each run's history to `DIR/<case>.json`: new
/// fixtures for `tests/replay.rs`.
async fn record_history(client: &temporalio_client::Client, exec_id: &str, name: &str) {
    let Some(dir) = std::env::var_os("FERROCAT_RECORD_HISTORIES") else { return };
    let handle = client.get_workflow_handle::<temporalio_common::UntypedWorkflow>(exec_id.to_owned());
    let json = handle.fetch_history(temporalio_client::WorkflowFetchHistoryOptions::default()).to_json().await.unwrap();
    std::fs::write(PathBuf::from(dir).join(format!("{name}.json")), json).unwrap();
}

fn report(failures: Vec<String>, total: usize) {
    assert!(failures.is_empty(), "{} of {total} cases failed:\n{}", failures.len(), failures.join("\n"));
}

#[tokio::test]
async fn every_case_runs_as_expected_in_process() {
    let cases = cases().await;
    let mut failures = Vec::new();
    for case in &cases {
        let outcome = run_locally(case.workflow(), case.trigger.clone(), Map::new()).await.map(|f| f.value).map_err(|f| f.message);
        failures.extend(case.mismatch(&outcome));
    }
    report(failures, cases.len());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_case_runs_alike_through_temporal() {
    let temporal = common::temporal().await;
    // Every result above 8 bytes that only activities read goes to the object store and is
    // read back from there: the cases must not tell the difference.
    let store = objects::object_store();
    let mut settings = store.env(8);
    settings.push(("FERROCAT_TEMPORAL_ADDRESS", temporal.address.clone()));
    let env = Env::from_pairs(settings);
    let workspace_id = Uuid::new_v4();
    let config = TemporalConfig::from_env(&env).unwrap();
    let suffix = Uuid::new_v4().simple().to_string();
    let (dsl_queue, exec_queue) = (format!("conformance-dsl-{suffix}"), format!("conformance-exec-{suffix}"));
    let runtime = Runtime::from_current_tokio(Default::default()).unwrap();
    let client = config.connect().await.unwrap();
    // As `ferrocat worker` does: the DSL workflow, and the executor for pure actions' local activities.
    let dsl_options = WorkerOptions::new(dsl_queue.clone())
        .register_workflow::<DslWorkflow>()
        .unwrap()
        .register_activities(Executor::build(&env).unwrap())
        .build();
    let mut dsl_worker = Worker::new(&runtime, client.clone(), dsl_options).unwrap();
    let mut exec_worker = Worker::new(
        &runtime,
        client.clone(),
        WorkerOptions::new(exec_queue.clone()).register_activities(Executor::build(&env).unwrap()).build(),
    )
    .unwrap();
    let stops = [dsl_worker.shutdown_handle(), exec_worker.shutdown_handle()];
    let workers = async {
        let (a, b) = tokio::join!(dsl_worker.run(), exec_worker.run());
        a.and(b)
    };
    let cases = cases().await;
    let runs = async {
        let runs = cases.iter().map(|case| {
            let (client, dsl_queue, exec_queue) = (client.clone(), dsl_queue.clone(), exec_queue.clone());
            async move {
                let args = DslRunArgs {
                    wf_id: "wf_conformance".into(),
                    workspace_id,
                    version: 1,
                    dsl: case.workflow(),
                    trigger: case.trigger.clone(),
                    trigger_type: "manual".into(),
                    executor_queue: exec_queue,
                    vars: Map::new(),
                };
                let id = format!("wf_conformance/exec_{}_{}", case.name, Uuid::new_v4().simple());
                let options = WorkflowStartOptions::new(dsl_queue, id.clone()).execution_timeout(std::time::Duration::from_secs(120)).build();
                let handle = client.start_workflow(DslWorkflow::run, args, options).await.map_err(|e| e.to_string())?;
                let outcome = handle.get_result(WorkflowGetResultOptions::default()).await.map_err(|e| format!("{e:?}"));
                record_history(&client, &id, &case.name).await;
                outcome
            }
        });
        let outcomes = futures::future::join_all(runs).await;
        for stop in &stops {
            stop();
        }
        outcomes
    };
    let (worked, outcomes) = tokio::join!(workers, runs);
    worked.unwrap();
    let failures = cases.iter().zip(&outcomes).filter_map(|(case, outcome)| case.mismatch(outcome)).collect();
    report(failures, cases.len());
    let stored = store.objects(&workspace_id.simple().to_string());
    assert!(!stored.is_empty(), "the cases should have stored results");
}
