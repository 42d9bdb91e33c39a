//! Determinism guard: recorded histories of real runs must replay against today's `DSLWorkflow`.
//! A change to the scheduler that would break runs in flight fails here, with no server needed.
//! Histories come from `cargo run -p ferrocat-workers --example record_history`; the workflow that produced
//! each one sits next to it as YAML.

use ferrocat_workers::workflow::DslWorkflow;
use temporalio_client::WorkflowHistory;
use temporalio_sdk::workflow_replayer::{WorkflowReplayer, WorkflowReplayerOptions};

const BRANCHES: &str = include_str!("histories/branches_error_edge_skip.json");

fn replayer() -> WorkflowReplayer {
    WorkflowReplayer::new(WorkflowReplayerOptions::new().register_workflow::<DslWorkflow>().unwrap().build()).unwrap()
}

#[tokio::test]
async fn recorded_run_replays_deterministically() {
    let history = WorkflowHistory::from_json(BRANCHES.as_bytes()).expect("fixture parses");
    replayer().replay_workflow(history).await.expect("the recorded run replays");
}

#[tokio::test]
async fn a_diverging_history_is_detected() {
    // Pretend the recorded run scheduled a different action where the scheduler schedules `fetch`.
    let tampered = BRANCHES.replacen("\"activity_id\": \"fetch\"", "\"activity_id\": \"fetched_elsewhere\"", 1);
    assert_ne!(tampered, BRANCHES);
    let history = WorkflowHistory::from_json(tampered.as_bytes()).expect("fixture parses");
    let error = replayer().replay_workflow(history).await.expect_err("nondeterminism must be reported");
    assert!(error.to_string().to_lowercase().contains("nondetermin"), "{error}");
}
