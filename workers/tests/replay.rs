//! Determinism guard: recorded histories of real runs must replay against today's `DSLWorkflow`.
//! A change to the scheduler that would break runs in flight fails here, with no server needed.
//! Histories come from `cargo run -p ferrocat-workers --example record_history`, or from the
//! conformance suite run with `FERROCAT_RECORD_HISTORIES=workers/tests/histories` (the workflow of
//! each is its case in `tests/conformance/`).

use ferrocat_workers::workflow::DslWorkflow;
use temporalio_client::WorkflowHistory;
use temporalio_sdk::workflow_replayer::{WorkflowReplayer, WorkflowReplayerOptions};

const BRANCHES: &str = include_str!("histories/branches_error_edge_and_skip.json");

fn replayer() -> WorkflowReplayer {
    WorkflowReplayer::new(WorkflowReplayerOptions::new().register_workflow::<DslWorkflow>().unwrap().build()).unwrap()
}

#[tokio::test]
async fn every_recorded_run_replays_deterministically() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/histories");
    let mut replayed = Vec::new();
    for file in std::fs::read_dir(&dir).unwrap().map(|e| e.unwrap().path()) {
        if file.extension().is_none_or(|e| e != "json") {
            continue;
        }
        let text = std::fs::read(&file).unwrap();
        let history = WorkflowHistory::from_json(&text).unwrap_or_else(|e| panic!("{}: {e}", file.display()));
        replayer().replay_workflow(history).await.unwrap_or_else(|e| panic!("{} does not replay: {e}", file.display()));
        replayed.push(file);
    }
    assert!(replayed.len() >= 28, "the replay fixtures went missing: {replayed:?}");
}

#[tokio::test]
async fn a_diverging_history_is_detected() {
    // Pretend the recorded run scheduled a different action where the scheduler schedules `fetch`.
    let tampered = BRANCHES.replacen("\"activity_id\":\"fetch\"", "\"activity_id\":\"fetched_elsewhere\"", 1);
    assert_ne!(tampered, BRANCHES);
    let history = WorkflowHistory::from_json(tampered.as_bytes()).expect("fixture parses");
    let error = replayer().replay_workflow(history).await.expect_err("nondeterminism must be reported");
    assert!(error.to_string().to_lowercase().contains("nondetermin"), "{error}");
}
