//! `kill -9` of the worker, the executor, the api, the edge and Temporal under `ferrocat up`,
//! one after another, in the middle of a steady webhook stream and of a run waiting on a
//! durable timer: `up` restarts each, the stream goes on, and the books add up (every accepted
//! webhook is exactly one run that completed, no post has two runs).

use std::time::Duration;

use serde_json::json;

use ferrocat_test_support::eventually;

use crate::books::{STREAM_RATE_LIMIT, Stream, reconcile, seqs_of, settled_runs, with_webhook};
use crate::common::{Stack, commit_workflow, json_of, login};
use crate::receiver;

/// Posts the seq to a receiver (an action on the executor), then returns it (on the worker).
fn stream_workflow(receiver: &str) -> String {
    format!(
        r#"
title: Reliability stream
description: one post per webhook, then its seq back
entrypoint: {{ref: post}}
actions:
  - ref: post
    action: core.http_request
    args: {{url: "{receiver}", method: POST, payload: {{seq: "${{{{ TRIGGER.seq }}}}"}}}}
  - ref: back
    action: core.transform.reshape
    depends_on: [post]
    args: {{value: {{seq: "${{{{ TRIGGER.seq }}}}"}}}}
returns: ${{{{ ACTIONS.back.result }}}}
"#
    )
}

/// A run that spends the kills waiting on a durable timer, then posts.
fn timer_workflow(receiver: &str) -> String {
    format!(
        r#"
title: Reliability timer
description: waits, then posts
entrypoint: {{ref: later}}
actions:
  - ref: later
    action: core.http_request
    start_delay: 8
    args: {{url: "{receiver}", method: POST, payload: {{seq: 0, timer: true}}}}
returns: {{status: "${{{{ ACTIONS.later.result.status_code }}}}"}}
"#
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_webhook_stream_survives_kill_9_of_every_service() {
    let _alone = crate::ONE_AT_A_TIME.lock().await;
    let (receiver_url, received) = receiver::start().await;
    let allow = receiver_url.trim_start_matches("http://").split('/').next().unwrap().to_owned();
    let stack = tokio::task::spawn_blocking(move || Stack::up_with(&[("FERROCAT_EGRESS_ALLOW", allow), ("FERROCAT_WEBHOOK_RATE_LIMIT", STREAM_RATE_LIMIT.into())])).await.unwrap();
    let api = format!("{}/api", stack.url);
    let (http, workspace) = login(&stack.url).await;
    let (wf_id, hook) = with_webhook(&http, &stack, &workspace, &stream_workflow(&receiver_url)).await;
    let timer_wf = commit_workflow(&http, &stack.url, &workspace, timer_workflow(&receiver_url)).await;
    let (status, timer_run) =
        json_of(http.post(format!("{api}/workflow-executions?workspace_id={workspace}")).json(&json!({"workflow_id": timer_wf, "inputs": {}})).send().await.unwrap()).await;
    assert!(status == 200 || status == 201, "{timer_run}");
    let timer_exec = timer_run["wf_exec_id"].as_str().unwrap_or_else(|| panic!("{timer_run}")).to_owned();

    let stream = Stream::start(hook, 20);
    let progressed = |stream: &Stream, from: usize| stream.accepted() >= from + 10;
    for service in ["worker", "executor", "api", "edge", "temporal"] {
        // Steady traffic before the fault...
        let before = stream.accepted();
        eventually(Duration::from_secs(60), &format!("10 accepted posts before killing {service}"), || async {
            progressed(&stream, before).then_some(())
        })
        .await;
        let old = stack.pid(service).unwrap_or_else(|| panic!("no pid file for {service}"));
        nix::sys::signal::kill(nix::unistd::Pid::from_raw(old), nix::sys::signal::Signal::SIGKILL).unwrap();
        eventually(Duration::from_secs(30), &format!("{service} to be restarted"), || async { stack.pid(service).filter(|pid| *pid != old) }).await;
        // ... and after it: the stream goes on through the restarted service.
        let after = stream.accepted();
        eventually(Duration::from_secs(60), &format!("10 accepted posts after killing {service}"), || async {
            progressed(&stream, after).then_some(())
        })
        .await;
    }
    let books = stream.stop().await;
    eprintln!("books: {} posted, {} accepted, refused {:?}, {} unanswered", books.posted, books.accepted.len(), books.refused, books.unanswered.len());

    let runs = settled_runs(&http, &stack, &workspace, &wf_id, Duration::from_secs(180)).await;
    let seqs = seqs_of(&http, &stack, &workspace, &runs).await;
    reconcile(&books, &runs, &seqs);
    // Every accepted post's action reached the receiver (at least once: an attempt whose
    // executor died is run again).
    for seq in books.accepted.keys() {
        assert!(received.lock().unwrap().contains_key(seq), "post {seq}'s action never reached the receiver");
    }

    // The run that waited on its timer through every kill finished too.
    let timer = eventually(Duration::from_secs(60), "the timer run to finish", || async {
        let (status, execution) =
            json_of(http.get(format!("{api}/workflow-executions/{timer_exec}?workspace_id={workspace}")).send().await.unwrap()).await;
        (status == 200 && execution["status"] != "RUNNING").then_some(execution)
    })
    .await;
    assert_eq!(timer["status"], "COMPLETED", "{timer}");
    assert_eq!(timer["result"], json!({"status": 200}), "{timer}");
    assert!(received.lock().unwrap().contains_key(&0), "the timer run's post never arrived");
}
