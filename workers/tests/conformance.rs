//! The conformance suite: every case in `tests/conformance/*.yml` runs through the in-process
//! driver of `ferrocat run` and through Temporal (a real dev server, with the DSL worker and the
//! executor polling from this process), and must give the same expected result on both paths.

use ferrocat_test_support::{objects, workers};

use std::path::PathBuf;

use serde::Deserialize;
use serde_json::{Map, Value, json};
use uuid::Uuid;

use ferrocat_dsl::Workflow;
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
fn record_history(history: &[u8], name: &str) {
    let Some(dir) = std::env::var_os("FERROCAT_RECORD_HISTORIES") else { return };
    std::fs::write(PathBuf::from(dir).join(format!("{name}.json")), history).unwrap();
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
    // Every result above 8 bytes that only activities read goes to the object store and is
    // read back from there: the cases must not tell the difference.
    let store = objects::object_store();
    let workspace_id = Uuid::new_v4();
    let cases = cases().await;
    let runs = cases
        .iter()
        .map(|case| workers::Run {
            id: format!("wf_conformance/exec_{}_{}", case.name, Uuid::new_v4().simple()),
            workspace_id,
            dsl: case.workflow(),
            trigger: case.trigger.clone(),
        })
        .collect();
    let ran = workers::run_all(&store.env(8), runs).await;
    for (case, ran) in cases.iter().zip(&ran) {
        record_history(&ran.history, &case.name);
    }
    // A return value over the threshold comes back as a reference, which the api reads back
    // for callers; compare what they would get.
    let reader = ferrocat_shared::objects::ResultStore::from_env(&ferrocat_shared::config::Env::from_pairs(store.env(8)))
        .unwrap()
        .expect("configured");
    let mut outcomes: Vec<Result<Value, String>> = Vec::new();
    let mut stored_returns = 0;
    for ran in ran {
        outcomes.push(match ran.outcome {
            Ok(value) if ferrocat_shared::objects::StoredRef::from_value(&value).is_some() => {
                stored_returns += 1;
                reader.materialize(value).await.map_err(|e| e.to_string())
            }
            other => other,
        });
    }
    assert!(stored_returns > 0, "some cases should return stored values");
    let failures = cases.iter().zip(&outcomes).filter_map(|(case, outcome)| case.mismatch(outcome)).collect();
    report(failures, cases.len());
    let stored = store.objects(&workspace_id.simple().to_string());
    assert!(!stored.is_empty(), "the cases should have stored results");
}
