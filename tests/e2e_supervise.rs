//! `ferrocat up` supervises its children: the worker, the executor and the api killed with
//! SIGKILL are restarted (one log line each), the stack stays up and the next webhook run
//! completes with the right result; a service that crash-loops stops the whole stack with one
//! clear line and a non-zero exit.

mod common;

use std::io::Read as _;
use std::process::Stdio;
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use ferrocat_test_support::eventually;

use common::{Stack, commit_workflow, free_port, fresh_data_dir, json_of, login, up_command};

/// No HTTP action: the egress policy has no say, and the executor still runs both actions.
const WORKFLOW: &str = r#"
title: Survives restarts
description: reshapes its trigger twice
entrypoint:
  ref: first
actions:
  - ref: first
    action: core.transform.reshape
    args:
      value:
        alert: ${{ TRIGGER.alert }}
  - ref: second
    action: core.transform.reshape
    depends_on: [first]
    args:
      value: "alert ${{ ACTIONS.first.result.alert }} handled"
returns: ${{ ACTIONS.second.result }}
"#;


/// Posts to the webhook and polls the run to its end; returns the execution.
async fn run_once(http: &reqwest::Client, api: &str, workspace: &str, hook: &str, alert: &str) -> Value {
    let (status, started) = json_of(reqwest::Client::new().post(hook).json(&json!({"alert": alert})).send().await.unwrap()).await;
    assert_eq!(status, 200, "{started}");
    let exec_id = started["wf_exec_id"].as_str().unwrap().to_owned();
    eventually(Duration::from_secs(90), "the run to finish", || async {
        let (status, execution) =
            json_of(http.get(format!("{api}/workflow-executions/{exec_id}?workspace_id={workspace}")).send().await.unwrap()).await;
        (status == 200 && execution["status"] != "RUNNING").then_some(execution)
    })
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn killed_services_are_restarted_and_the_next_run_completes() {
    let stack = tokio::task::spawn_blocking(Stack::up_in_own_group).await.unwrap();
    let api = format!("{}/api", stack.url);
    let (http, workspace) = login(&stack.url).await;
    let wf_id = commit_workflow(&http, &stack.url, &workspace, WORKFLOW.to_owned()).await;
    let (status, webhook) =
        json_of(http.post(format!("{api}/workflows/{wf_id}/webhook?workspace_id={workspace}")).json(&json!({"methods": ["POST"]})).send().await.unwrap()).await;
    assert_eq!(status, 200, "{webhook}");
    let hook = webhook["url"].as_str().unwrap().to_owned();
    let before = run_once(&http, &api, &workspace, &hook, "A-1").await;
    assert_eq!(before["status"], "COMPLETED", "{before}");

    // kill -9 the worker, the executor and the api.
    let mut killed = Vec::new();
    for service in ["worker", "executor", "api"] {
        let pid = stack.pid(service).unwrap_or_else(|| panic!("no pid file for {service}"));
        nix::sys::signal::kill(nix::unistd::Pid::from_raw(pid), nix::sys::signal::Signal::SIGKILL).unwrap();
        killed.push((service, pid));
    }
    for (service, old) in &killed {
        let new = eventually(Duration::from_secs(30), &format!("{service} to be restarted"), || async {
            stack.pid(service).filter(|pid| pid != old)
        })
        .await;
        assert!(std::path::Path::new(&format!("/proc/{new}")).exists(), "{service}'s new pid {new} is not running");
        let line = format!("{service} exited (signal: 9 (SIGKILL)); restarting it in ");
        eventually(Duration::from_secs(5), &format!("{service}'s restart line"), || async { stack.logs().contains(&line).then_some(()) }).await;
        assert_eq!(stack.logs().matches(&line).count(), 1, "one restart line for {service}");
    }
    // The others kept running: same pids as before the kills.
    for service in ["object-store", "llm-gateway", "mcp", "ui", "edge", "temporal"] {
        let pid = stack.pid(service).unwrap_or_else(|| panic!("no pid file for {service}"));
        assert!(std::path::Path::new(&format!("/proc/{pid}")).exists(), "{service} ({pid}) is gone");
    }
    assert!(!stack.logs().contains("object-store exited"), "{}", stack.logs());

    // The api answers through the edge again (a new session: the signing secret is the same, so
    // the old one would do too, but a new login proves the restarted api reads the database).
    eventually(Duration::from_secs(30), "the api behind the edge", || async {
        let response = reqwest::get(format!("{api}/health")).await.ok()?;
        response.status().is_success().then_some(())
    })
    .await;
    let (http, _) = login(&stack.url).await;
    let after = run_once(&http, &api, &workspace, &hook, "B-2").await;
    assert_eq!(after["status"], "COMPLETED", "{after}");
    assert_eq!(after["result"], json!("alert B-2 handled"), "{after}");

    // Ctrl-C in the terminal stops everything cleanly: `up` exits 0, restarts nothing, and
    // leaves no child behind.
    let mut stack = stack;
    assert!(stack.is_running(), "ferrocat up kept running");
    let pids: Vec<i32> = ["temporal", "object-store", "api", "worker", "executor", "llm-gateway", "mcp", "ui", "edge"]
        .iter()
        .map(|s| stack.pid(s).unwrap_or_else(|| panic!("no pid file for {s}")))
        .collect();
    let (clean, stack) = tokio::task::spawn_blocking(move || (stack.interrupt(), stack)).await.unwrap();
    let logs = stack.logs();
    assert!(clean, "ferrocat up exits 0 on Ctrl-C:\n{logs}");
    assert!(logs.contains("stopping ...") && logs.contains("stopped"), "{logs}");
    assert!(!logs.contains("crash-looping"), "{logs}");
    for pid in pids {
        assert!(!std::path::Path::new(&format!("/proc/{pid}")).exists(), "child {pid} outlived up");
    }
}

#[test]
fn a_crash_looping_service_stops_the_stack_with_one_line() {
    let data_dir = fresh_data_dir();
    // A setting only the gateway reads: it exits 64 at every start.
    let mut child = up_command(&data_dir, free_port(), &[("FERROCAT_LLM_GATEWAY_MAX_ATTEMPTS", "0")])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn ferrocat up");
    let mut stderr = child.stderr.take().unwrap();
    let reader = std::thread::spawn(move || {
        let mut text = String::new();
        let _ = stderr.read_to_string(&mut text);
        text
    });
    let deadline = Instant::now() + Duration::from_secs(240);
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("ferrocat up did not stop on a crash loop");
        }
        std::thread::sleep(Duration::from_millis(200));
    };
    let logs = reader.join().unwrap();
    let run_dir = data_dir.join("run");
    let leftovers: Vec<_> = std::fs::read_dir(&run_dir).map(|d| d.flatten().map(|e| e.file_name()).collect()).unwrap_or_default();
    common::drop_stack_credentials(&data_dir);
    let _ = std::fs::remove_dir_all(&data_dir);
    eprintln!("{logs}");
    assert!(!status.success(), "a crash loop is a failure: {status}");
    let lines: Vec<&str> = logs.lines().filter(|l| l.contains("crash-looping")).collect();
    assert_eq!(
        lines,
        ["ferrocat: llm-gateway is crash-looping (5 exits within 60s, the last with exit status: 64); stopping the stack"],
        "exactly one clear line"
    );
    assert_eq!(logs.matches("llm-gateway exited (exit status: 64); restarting it in").count(), 4, "four restarts first");
    assert!(logs.contains("FERROCAT_LLM_GATEWAY_MAX_ATTEMPTS"), "the gateway's own error names the setting");
    // Every other child was stopped with it (their pid files go as they stop).
    assert!(leftovers.is_empty(), "children left running: {leftovers:?}");
}
