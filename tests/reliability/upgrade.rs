//! A rolling upgrade: a second build's worker joins the stack's while runs are in flight, with
//! Temporal's worker versioning (`workers/src/versioning.rs`):
//! - the new build becomes current as soon as it polls, and new runs start on it;
//! - a run in flight on the old build finishes there while the new build is current (pinned),
//!   or moves to the new build at its next task (auto-upgrade, the default);
//! - the old build's worker, killed and restarted mid-rollout, does not take the new runs back;
//! - but `up` started again with the older release (a rollback on one host) does;
//! - from a release without versioning, new runs go to the first versioned build at once, and
//!   the old (unversioned) worker's runs in flight once it is replaced.
//!
//! The builds differ by `FERROCAT_WORKER_BUILD_ID`, as two releases' executables do by default.
//! That the new build replays the old one's histories is the replay corpus's to prove
//! (`workers/tests/replay.rs`); this proves which build each task goes to.

use std::process::{Child, Command, Stdio};
use std::time::Duration;

use serde_json::json;
use temporalio_client::grpc::WorkflowService;
use temporalio_client::tonic::IntoRequest as _;
use temporalio_client::{Client, NamespacedClient as _};
use temporalio_common::protos::temporal::api::common::v1::WorkflowExecution;
use temporalio_common::protos::temporal::api::enums::v1::VersioningBehavior;
use temporalio_common::protos::temporal::api::workflowservice::v1::DescribeWorkflowExecutionRequest;

use ferrocat_shared::config::Env;
use ferrocat_shared::temporal::TemporalConfig;
use ferrocat_test_support::eventually;

use crate::books::{finished, start_run};
use crate::common::{Stack, commit_workflow, login};
use crate::receiver::Receiver;

const OLD: &str = "release-1";
const NEW: &str = "release-2";

/// Waits at the receiver's gate (an activity on the executor), then reshapes on the worker:
/// the task after the gate opens is the one a new build may take.
fn gated_workflow(receiver: &str, seq: u64) -> String {
    format!(
        r#"
title: Across an upgrade
description: waits at a gate the test opens, then finishes
entrypoint: {{ref: wait}}
actions:
  - ref: wait
    action: core.http_request
    args: {{url: "{receiver}/gate", method: POST, payload: {{seq: {seq}}}, timeout: 120}}
  - ref: done
    action: core.transform.reshape
    depends_on: [wait]
    args: {{value: {{seq: "${{{{ ACTIONS.wait.result.data.seq }}}}"}}}}
returns: ${{{{ ACTIONS.done.result }}}}
"#
    )
}

/// A worker of another build beside the stack's, stopped when dropped.
struct Joined(Child);

impl Drop for Joined {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Starts `ferrocat worker` as `up` started the stack's, but as build `build_id` with versioning
/// `mode` (and without the metrics listener, whose port the stack's worker holds).
fn join_worker(stack: &Stack, build_id: &str, mode: &str) -> Joined {
    let ours = ["FERROCAT_WORKER_METRICS_ADDR", "FERROCAT_WORKER_BUILD_ID", "FERROCAT_WORKER_VERSIONING"];
    let env = stack.service_environ("worker").expect("the stack's worker").into_iter().filter(|(k, _)| !ours.contains(&k.as_str()));
    let child = Command::new(env!("CARGO_BIN_EXE_ferrocat"))
        .arg("worker")
        .env_clear()
        .envs(env)
        .env("FERROCAT_WORKER_BUILD_ID", build_id)
        .env("FERROCAT_WORKER_VERSIONING", mode)
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap();
    Joined(child)
}

/// A client of the stack's Temporal.
async fn temporal_of(stack: &Stack) -> Client {
    let env = stack.service_environ("worker").expect("the stack's worker").into_iter().filter(|(k, _)| k.starts_with("FERROCAT_TEMPORAL_"));
    TemporalConfig::from_env(&Env::from_pairs(env)).unwrap().connect().await.unwrap()
}

/// The build new runs start on.
async fn current_build(temporal: &Client) -> Option<String> {
    ferrocat_workers::versioning::current_build(temporal, "ferrocat").await.unwrap()
}

/// Waits (a minute at most) until `build` is the one new runs start on.
async fn until_current(temporal: &Client, build: &str) {
    eventually(Duration::from_secs(60), &format!("build {build} to be current"), || async { (current_build(temporal).await.as_deref() == Some(build)).then_some(()) }).await;
}

/// The build that completed a run's last workflow task, and the run's versioning behaviour.
async fn build_of(temporal: &Client, exec_id: &str) -> (String, VersioningBehavior) {
    let mut client = temporal.clone();
    let request = DescribeWorkflowExecutionRequest {
        namespace: client.namespace(),
        execution: Some(WorkflowExecution { workflow_id: exec_id.to_owned(), run_id: String::new() }),
    };
    let described = WorkflowService::describe_workflow_execution(&mut client, request.into_request()).await.unwrap().into_inner();
    let versioning = described.workflow_execution_info.and_then(|info| info.versioning_info).unwrap_or_default();
    let behavior = versioning.behavior();
    (versioning.deployment_version.map(|v| v.build_id).unwrap_or_default(), behavior)
}

async fn roll(mode: &str, behavior: VersioningBehavior) {
    let _alone = crate::ONE_AT_A_TIME.lock().await;
    let receiver = Receiver::start().await;
    let env = [("FERROCAT_EGRESS_ALLOW", receiver.host()), ("FERROCAT_WORKER_VERSIONING", mode.to_owned()), ("FERROCAT_WORKER_BUILD_ID", OLD.to_owned())];
    let stack = tokio::task::spawn_blocking(move || Stack::up_with(&env)).await.unwrap();
    let (http, workspace) = login(&stack.url).await;
    let temporal = temporal_of(&stack).await;
    assert_eq!(current_build(&temporal).await.as_deref(), Some(OLD), "up says the stack is up once its build is current");

    // A run in flight on the old build: its first task done there, its action at the gate.
    let before = commit_workflow(&http, &stack.url, &workspace, gated_workflow(&receiver.base, 1)).await;
    let in_flight = start_run(&http, &stack, &workspace, &before).await;
    eventually(Duration::from_secs(60), "the run's action at the gate", || async { receiver.gated.lock().unwrap().contains_key(&1).then_some(()) }).await;
    assert_eq!(build_of(&temporal, &in_flight).await, (OLD.to_owned(), behavior), "the run began on the old build");

    // The new build joins and takes the new runs; the old worker polls on beside it.
    let _new = join_worker(&stack, NEW, mode);
    until_current(&temporal, NEW).await;
    let after = commit_workflow(&http, &stack.url, &workspace, gated_workflow(&receiver.base, 2)).await;
    let new_run = start_run(&http, &stack, &workspace, &after).await;
    receiver.open_gate();
    let run = finished(&http, &stack, &workspace, &new_run, Duration::from_secs(60)).await;
    assert_eq!((run["status"].as_str(), &run["result"]), (Some("COMPLETED"), &json!({"seq": 2})), "{run}");
    assert_eq!(build_of(&temporal, &new_run).await, (NEW.to_owned(), behavior), "a run started after the upgrade runs on the new build");

    // The run from before finishes: on its own build if pinned, on the new one if not.
    let run = finished(&http, &stack, &workspace, &in_flight, Duration::from_secs(60)).await;
    assert_eq!((run["status"].as_str(), &run["result"]), (Some("COMPLETED"), &json!({"seq": 1})), "{run}");
    let finished_on = if behavior == VersioningBehavior::Pinned { OLD } else { NEW };
    assert_eq!(build_of(&temporal, &in_flight).await, (finished_on.to_owned(), behavior), "the run in flight during the upgrade");

    // The old build's worker dies and `up` restarts it mid-rollout: it knows it was replaced and
    // leaves the new runs to the new build.
    let replaced = |logs: String| logs.matches("this build was replaced by a newer one").count();
    let said_before = replaced(stack.logs());
    let old = stack.pid("worker").unwrap();
    nix::sys::signal::kill(nix::unistd::Pid::from_raw(old), nix::sys::signal::Signal::SIGKILL).unwrap();
    eventually(Duration::from_secs(60), "the old build's restarted worker to see it was replaced", || async {
        (stack.pid("worker").is_some_and(|pid| pid != old) && replaced(stack.logs()) > said_before).then_some(())
    })
    .await;
    assert_eq!(current_build(&temporal).await.as_deref(), Some(NEW), "the restarted old worker took the deployment back");
    let later = start_run(&http, &stack, &workspace, &after).await;
    let run = finished(&http, &stack, &workspace, &later, Duration::from_secs(60)).await;
    assert_eq!(run["status"], "COMPLETED", "{run}");
    assert_eq!(build_of(&temporal, &later).await.0, NEW, "a run started after the old worker's restart");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_run_in_flight_moves_to_the_new_build_and_never_back_by_default() {
    roll("auto-upgrade", VersioningBehavior::AutoUpgrade).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_pinned_run_in_flight_finishes_on_its_build_beside_the_new_one() {
    roll("pinned", VersioningBehavior::Pinned).await;
}

/// A rollback on one host: `up` again with the older release after a newer build was current.
/// `up` runs the only build there is, so its build takes the deployment back (a worker that
/// `up` restarts does not, see `roll`): runs start at once instead of waiting for a build that
/// no worker runs any more.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn up_with_an_older_release_takes_the_runs_back() {
    let _alone = crate::ONE_AT_A_TIME.lock().await;
    let receiver = Receiver::start().await;
    receiver.open_gate();
    let env = [("FERROCAT_EGRESS_ALLOW", receiver.host()), ("FERROCAT_WORKER_BUILD_ID", OLD.to_owned())];
    let stack = tokio::task::spawn_blocking({
        let env = env.clone();
        move || Stack::up_with(&env)
    })
    .await
    .unwrap();
    let temporal = temporal_of(&stack).await;
    let new = join_worker(&stack, NEW, "auto-upgrade");
    until_current(&temporal, NEW).await;
    drop(new);
    let (clean, data_dir) = tokio::task::spawn_blocking(move || stack.stop_keeping_data()).await.unwrap();
    assert!(clean, "the first stack stopped cleanly");

    let stack = tokio::task::spawn_blocking(move || Stack::up_in(data_dir, &env)).await.unwrap();
    let temporal = temporal_of(&stack).await;
    assert_eq!(current_build(&temporal).await.as_deref(), Some(OLD), "up with the older release took the deployment back");
    let (http, workspace) = login(&stack.url).await;
    let workflow = commit_workflow(&http, &stack.url, &workspace, gated_workflow(&receiver.base, 7)).await;
    let exec = start_run(&http, &stack, &workspace, &workflow).await;
    let run = finished(&http, &stack, &workspace, &exec, Duration::from_secs(60)).await;
    assert_eq!((run["status"].as_str(), &run["result"]), (Some("COMPLETED"), &json!({"seq": 7})), "{run}");
    assert_eq!(build_of(&temporal, &exec).await.0, OLD, "the run ran on the build up runs");
}

/// The first versioned release after an unversioned one (as every release before worker
/// versioning was): while the old release's worker still polls, the new build becomes current
/// and takes the next run. A run in flight stays with the old worker that has it cached for as
/// long as that worker lives (the same code that wrote its history); once the worker is
/// replaced, the run moves to the new build, even though the replaced worker is restarted.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn runs_of_an_unversioned_release_move_to_the_first_versioned_build() {
    let _alone = crate::ONE_AT_A_TIME.lock().await;
    let receiver = Receiver::start().await;
    let env = [("FERROCAT_EGRESS_ALLOW", receiver.host()), ("FERROCAT_WORKER_VERSIONING", "off".to_owned())];
    let stack = tokio::task::spawn_blocking(move || Stack::up_with(&env)).await.unwrap();
    let (http, workspace) = login(&stack.url).await;
    let temporal = temporal_of(&stack).await;
    let gated = commit_workflow(&http, &stack.url, &workspace, gated_workflow(&receiver.base, 1)).await;
    let in_flight = start_run(&http, &stack, &workspace, &gated).await;
    eventually(Duration::from_secs(60), "the run's action at the gate", || async { receiver.gated.lock().unwrap().contains_key(&1).then_some(()) }).await;
    assert_eq!(build_of(&temporal, &in_flight).await, (String::new(), VersioningBehavior::Unspecified), "the old release's run is unversioned");
    assert_eq!(current_build(&temporal).await, None, "no build is current under the unversioned release");

    let _new = join_worker(&stack, NEW, "auto-upgrade");
    until_current(&temporal, NEW).await;
    let next = start_run(&http, &stack, &workspace, &gated).await;
    // The old release's worker goes (a rolling upgrade replaces it; `up` starts it again, as
    // an old replica that restarts would be): the run it had in its cache moves to the new build.
    let old = stack.pid("worker").unwrap();
    nix::sys::signal::kill(nix::unistd::Pid::from_raw(old), nix::sys::signal::Signal::SIGKILL).unwrap();
    eventually(Duration::from_secs(30), "the old worker to be restarted", || async { stack.pid("worker").filter(|pid| *pid != old) }).await;
    receiver.open_gate();
    for exec in [&in_flight, &next] {
        let run = finished(&http, &stack, &workspace, exec, Duration::from_secs(60)).await;
        assert_eq!((run["status"].as_str(), &run["result"]), (Some("COMPLETED"), &json!({"seq": 1})), "{run}");
        assert_eq!(build_of(&temporal, exec).await, (NEW.to_owned(), VersioningBehavior::AutoUpgrade), "run {exec}");
    }
}
