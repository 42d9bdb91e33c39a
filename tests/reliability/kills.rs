//! `kill -9` of the executor, the worker, the api, the edge and Temporal under `ferrocat up`,
//! one after another, in the middle of a steady webhook stream and of long runs (one waiting on
//! a durable timer, a scatter whose items are running on the executor, an agent between two
//! turns of its loop): `up` restarts each, the stream goes on, the books add up (every accepted
//! webhook is exactly one run that completed, no post has two runs) and every long run
//! completes with its whole result.

use std::time::Duration;

use serde_json::json;

use ferrocat_test_support::eventually;

use crate::books::{STREAM_RATE_LIMIT, Stream, finished, reconcile, seqs_of, settled_runs, start_run, with_webhook};
use crate::common::{Stack, commit_workflow, json_of, login};
use crate::receiver::{Receiver, TOOL_CALLS};

/// Items in the scatter: each a slow call on the executor.
const ITEMS: u64 = 6;

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
    args: {{url: "{receiver}/post", method: POST, payload: {{seq: "${{{{ TRIGGER.seq }}}}"}}}}
  - ref: back
    action: core.transform.reshape
    depends_on: [post]
    args: {{value: {{seq: "${{{{ TRIGGER.seq }}}}"}}}}
returns: ${{{{ ACTIONS.back.result }}}}
"#
    )
}

/// A scatter of [`ITEMS`] slow calls (on the executor), gathered in order.
fn scatter_workflow(receiver: &str) -> String {
    format!(
        r#"
title: Reliability scatter
description: slow calls in parallel, gathered
entrypoint: {{ref: fan}}
actions:
  - ref: fan
    action: core.transform.scatter
    args: {{collection: "${{{{ FN.range(0, {ITEMS}) }}}}"}}
  - ref: slow
    action: core.http_request
    depends_on: [fan]
    args: {{url: "{receiver}/slow", method: POST, payload: {{item: "${{{{ ACTIONS.fan.result }}}}"}}}}
  - ref: gather
    action: core.transform.gather
    depends_on: [slow]
    args: {{items: "${{{{ ACTIONS.slow.result.data.item }}}}"}}
returns: ${{{{ ACTIONS.gather.result }}}}
"#
    )
}

/// An agent whose provider (the receiver) has it call a tool [`TOOL_CALLS`] times.
const AGENT_WORKFLOW: &str = r#"
title: Reliability agent
description: a tool-calling loop
entrypoint: {ref: agent}
actions:
  - ref: agent
    action: ai.agent
    args:
      model_name: reliability
      user_prompt: "Call the tool until you are done."
      actions: [core.http_request]
returns: ${{ ACTIONS.agent.result.output }}
"#;

/// The receiver as the model provider of model `reliability`, with an organisation key.
async fn provider_and_model(http: &reqwest::Client, api: &str, receiver: &Receiver) {
    let provider = json!({"kind": "openai", "base_url": format!("{}/v1", receiver.base), "credential": "secret:openai.OPENAI_API_KEY"});
    let (status, saved) = json_of(http.put(format!("{api}/llm/providers/receiver")).json(&provider).send().await.unwrap()).await;
    assert_eq!(status, 201, "{saved}");
    let model = json!({"provider": "receiver", "upstream_model": "reliability-1"});
    let (status, saved) = json_of(http.put(format!("{api}/llm/models/reliability")).json(&model).send().await.unwrap()).await;
    assert_eq!(status, 201, "{saved}");
    let key = json!({"name": "openai", "keys": [{"key": "OPENAI_API_KEY", "value": "sk-reliability-key-5b1e"}]});
    let (status, saved) = json_of(http.post(format!("{api}/organization/secrets")).json(&key).send().await.unwrap()).await;
    assert_eq!(status, 201, "{saved}");
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
    args: {{url: "{receiver}/post", method: POST, payload: {{seq: 0, timer: true}}}}
returns: {{status: "${{{{ ACTIONS.later.result.status_code }}}}"}}
"#
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_webhook_stream_and_long_runs_survive_kill_9_of_every_service() {
    let _alone = crate::ONE_AT_A_TIME.lock().await;
    let receiver = Receiver::start().await;
    let allow = receiver.host();
    let stack = tokio::task::spawn_blocking(move || Stack::up_with(&[("FERROCAT_EGRESS_ALLOW", allow), ("FERROCAT_WEBHOOK_RATE_LIMIT", STREAM_RATE_LIMIT.into())])).await.unwrap();
    let api = format!("{}/api", stack.url);
    let (http, workspace) = login(&stack.url).await;
    let (wf_id, hook) = with_webhook(&http, &stack, &workspace, &stream_workflow(&receiver.base)).await;
    let timer_wf = commit_workflow(&http, &stack.url, &workspace, timer_workflow(&receiver.base)).await;
    let scatter_wf = commit_workflow(&http, &stack.url, &workspace, scatter_workflow(&receiver.base)).await;
    provider_and_model(&http, &api, &receiver).await;
    let agent_wf = commit_workflow(&http, &stack.url, &workspace, AGENT_WORKFLOW.to_owned()).await;
    let timer_exec = start_run(&http, &stack, &workspace, &timer_wf).await;

    let stream = Stream::start(hook, 20);
    let progressed = |stream: &Stream, from: usize| stream.accepted() >= from + 10;
    let (mut scatter_exec, mut agent_exec, mut in_flight) = (None, None, Vec::new());
    for service in ["executor", "worker", "api", "edge", "temporal"] {
        // Steady traffic before the fault...
        let before = stream.accepted();
        eventually(Duration::from_secs(60), &format!("10 accepted posts before killing {service}"), || async {
            progressed(&stream, before).then_some(())
        })
        .await;
        if service == "executor" {
            // ... and, for the executor, the scatter's items running on it and the agent in the
            // middle of its loop (it has asked the provider twice, so one tool call is done).
            scatter_exec = Some(start_run(&http, &stack, &workspace, &scatter_wf).await);
            agent_exec = Some(start_run(&http, &stack, &workspace, &agent_wf).await);
            eventually(Duration::from_secs(60), "the scatter's items and the agent's loop under way", || async {
                let items = receiver.slow_items.lock().unwrap().len() as u64;
                let turns = *receiver.turns.lock().unwrap();
                (items == ITEMS && turns >= 2).then_some(())
            })
            .await;
            in_flight = (0..ITEMS).filter(|item| !receiver.slow_done.lock().unwrap().contains_key(item)).collect();
            assert!(!in_flight.is_empty(), "every scatter item finished before the executor could be killed");
        }
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
    eprintln!("books: {}", books.summary());

    let runs = settled_runs(&http, &stack, &workspace, &wf_id, &books, Duration::from_secs(180)).await;
    let seqs = seqs_of(&http, &stack, &workspace, &runs).await;
    reconcile(&books, &runs, &seqs);
    // Every accepted post's action reached the receiver (at least once: an attempt whose
    // executor died is run again).
    for seq in books.accepted.keys() {
        assert!(receiver.posts.lock().unwrap().contains_key(seq), "post {seq}'s action never reached the receiver");
    }

    // The run that waited on its timer through every kill finished too.
    let timer = finished(&http, &stack, &workspace, &timer_exec, Duration::from_secs(60)).await;
    assert_eq!(timer["status"], "COMPLETED", "{timer}");
    assert_eq!(timer["result"], json!({"status": 200}), "{timer}");
    assert!(receiver.posts.lock().unwrap().contains_key(&0), "the timer run's post never arrived");

    // The scatter whose items died with the executor ran them again and gathered them all in
    // order (an attempt lost with its executor is retried once its heartbeat is missed).
    let scatter = finished(&http, &stack, &workspace, scatter_exec.as_deref().unwrap(), Duration::from_secs(120)).await;
    eprintln!("scatter items began: {:?}", receiver.slow_items.lock().unwrap());
    assert_eq!(scatter["status"], "COMPLETED", "{scatter}");
    assert_eq!(scatter["result"], json!((0..ITEMS).collect::<Vec<_>>()), "{scatter}");
    for item in &in_flight {
        assert!(receiver.slow_items.lock().unwrap()[item] >= 2, "item {item}, in flight when its executor died, was not run again");
    }

    // The agent resumed on the restarted executor and finished its loop: every tool call made,
    // and the answer that follows the last.
    let agent = finished(&http, &stack, &workspace, agent_exec.as_deref().unwrap(), Duration::from_secs(120)).await;
    let tool_calls = receiver.tool_calls.lock().unwrap().clone();
    eprintln!("agent: {} turns, tool calls {tool_calls:?}", receiver.turns.lock().unwrap());
    assert_eq!(agent["status"], "COMPLETED", "{agent}");
    assert_eq!(agent["result"], json!(format!("done after {TOOL_CALLS} tool calls")), "{agent}");
    assert_eq!(tool_calls.keys().copied().collect::<Vec<_>>(), (1..=TOOL_CALLS).collect::<Vec<_>>(), "{tool_calls:?}");
}
