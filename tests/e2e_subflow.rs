//! Subflows through the whole stack: `core.workflow.execute` starts committed workflows as
//! Temporal child workflows, in a loop (waiting, results in order) and detached.

mod common;

use serde_json::json;

use common::{Stack, commit_workflow, json_of, login};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn subflows_run_as_child_workflows() {
    let stack = tokio::task::spawn_blocking(Stack::up).await.unwrap();
    let api = format!("{}/api", stack.url);
    let (http, workspace) = login(&stack.url).await;
    // One variable, two environments: a subflow sent to `staging` must see staging's.
    for (environment, level) in [("default", "prod-level"), ("staging", "staging-level")] {
        let body = json!({"name": "cfg", "environment": environment, "values": {"level": level}});
        let (status, created) =
            json_of(http.post(format!("{api}/variables?workspace_id={workspace}")).json(&body).send().await.unwrap()).await;
        assert_eq!(status, 201, "{created}");
    }
    let reader = commit_workflow(
        &http,
        &stack.url,
        &workspace,
        r#"
title: Reader
description: returns its environment's variable
entrypoint: {}
actions:
  - {ref: a, action: core.transform.reshape, args: {value: "${{ VARS.cfg.level }}"}}
returns: "${{ ACTIONS.a.result }}"
"#
        .to_owned(),
    )
    .await;

    let child = commit_workflow(
        &http,
        &stack.url,
        &workspace,
        r#"
title: Child
description: adds a thousand
entrypoint:
  expects:
    number: {type: int}
actions:
  - {ref: a, action: core.transform.reshape, args: {value: "${{ TRIGGER.number + 1000 }}"}}
returns: "${{ ACTIONS.a.result }}"
"#
        .to_owned(),
    )
    .await;
    let parent = commit_workflow(
        &http,
        &stack.url,
        &workspace,
        format!(
            r#"
title: Parent
description: calls the child
entrypoint: {{}}
actions:
  - ref: each
    action: core.workflow.execute
    for_each: "${{{{ for var.x in [1, 2, 3] }}}}"
    args: {{workflow_id: {child}, trigger_inputs: {{number: "${{{{ var.x }}}}"}}, batch_size: 2}}
  - ref: one
    action: core.workflow.execute
    args: {{workflow_id: {child}, trigger_inputs: {{number: 5}}, wait_strategy: wait}}
  - ref: detached
    action: core.workflow.execute
    args: {{workflow_id: {child}, trigger_inputs: {{number: 6}}}}
  - ref: here
    action: core.workflow.execute
    args: {{workflow_id: {reader}, wait_strategy: wait}}
  - ref: staging
    action: core.workflow.execute
    args: {{workflow_id: {reader}, wait_strategy: wait, environment: staging}}
  - ref: broken
    action: core.workflow.execute
    for_each: "${{{{ for var.x in [1, 'x'] }}}}"
    args: {{workflow_id: {child}, trigger_inputs: {{number: "${{{{ var.x }}}}"}}}}
returns:
  each: "${{{{ ACTIONS.each.result }}}}"
  one: "${{{{ ACTIONS.one.result }}}}"
  detached: "${{{{ ACTIONS.detached.result }}}}"
  broken: "${{{{ ACTIONS.broken.result }}}}"
  here: "${{{{ ACTIONS.here.result }}}}"
  staging: "${{{{ ACTIONS.staging.result }}}}"
"#
        ),
    )
    .await;
    let (status, hook) =
        json_of(http.post(format!("{api}/workflows/{parent}/webhook?workspace_id={workspace}")).send().await.unwrap()).await;
    assert_eq!(status, 200, "{hook}");
    let (status, waited) = json_of(
        reqwest::Client::new()
            .post(format!("{}/wait", hook["url"].as_str().unwrap()))
            .json(&json!({}))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, 200, "{waited}");
    let value = &waited["value"];
    assert_eq!(value["each"], json!([1001, 1002, 1003]), "{value}");
    assert_eq!(value["one"], json!(1005));
    assert_eq!((value["here"].clone(), value["staging"].clone()), (json!("prod-level"), json!("staging-level")), "{value}");
    let detached = value["detached"].as_str().expect("a detached subflow returns its execution id");
    assert!(detached.starts_with(&format!("{child}/exec_")), "{detached}");
    // Isolated failures: the bad iteration leaves an error in its slot, the good one its value.
    assert_eq!(value["broken"][0], json!(1001));
    assert_eq!(value["broken"][1]["is_error"], json!(true), "{value}");
    assert!(value["broken"][1]["message"].as_str().unwrap().contains("Failed to validate trigger inputs"), "{value}");

    // The detached child is a run of its own, readable through the api.
    let (status, run) = json_of(
        http.get(format!("{api}/workflow-executions/{detached}?workspace_id={workspace}")).send().await.unwrap(),
    )
    .await;
    assert_eq!(status, 200, "{run}");
    assert_eq!(run["trigger"], json!({"number": 6}));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_run_calls_its_error_handler_and_still_fails() {
    let stack = tokio::task::spawn_blocking(Stack::up).await.unwrap();
    let api = format!("{}/api", stack.url);
    let (http, workspace) = login(&stack.url).await;

    let handler = commit_workflow(
        &http,
        &stack.url,
        &workspace,
        r#"
title: On failure
description: receives the failure of another run
entrypoint: {}
actions:
  - {ref: note, action: core.transform.reshape, args: {value: {run: "${{ TRIGGER.orig_wf_exec_id }}", failed: "${{ TRIGGER.errors[0].ref }}", title: "${{ TRIGGER.orig_wf_title }}"}}}
returns: "${{ ACTIONS.note.result }}"
"#
        .to_owned(),
    )
    .await;
    let (status, body) = json_of(
        http.patch(format!("{api}/workflows/{handler}?workspace_id={workspace}")).json(&json!({"alias": "on-failure"})).send().await.unwrap(),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let failing = commit_workflow(
        &http,
        &stack.url,
        &workspace,
        r#"
title: Fails
description: a gate that does not hold
error_handler: on-failure
entrypoint: {}
actions:
  - {ref: gate, action: core.require, args: {conditions: ["${{ 1 > 2 }}"]}}
"#
        .to_owned(),
    )
    .await;
    let (status, started) = json_of(
        http.post(format!("{api}/workflow-executions?workspace_id={workspace}"))
            .json(&json!({"workflow_id": failing, "inputs": {}}))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert!(status == 200 || status == 201, "{started}");
    let exec = started["wf_exec_id"].as_str().expect("an execution id").to_owned();

    // The run fails with its own error once the handler has run; the handler's run got it.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    let (run, handled) = loop {
        let (_, run) =
            json_of(http.get(format!("{api}/workflow-executions/{exec}?workspace_id={workspace}")).send().await.unwrap()).await;
        let (_, runs) = json_of(
            http.get(format!("{api}/workflow-executions?workflow_id={handler}&workspace_id={workspace}")).send().await.unwrap(),
        )
        .await;
        let done = runs.as_array().and_then(|r| r.iter().find(|r| r["status"] == "COMPLETED")).cloned();
        if let (true, Some(done)) = (run["status"] == "FAILED", done) {
            break (run, done);
        }
        assert!(std::time::Instant::now() < deadline, "no failed run with a handled error: {run} / {runs}");
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    };
    assert!(run["error"].as_str().unwrap().contains("ACTIONS.gate"), "{run}");
    let id = handled["id"].as_str().unwrap();
    let (status, handler_run) =
        json_of(http.get(format!("{api}/workflow-executions/{id}?workspace_id={workspace}")).send().await.unwrap()).await;
    assert_eq!(status, 200, "{handler_run}");
    assert_eq!(handler_run["result"], json!({"run": exec, "failed": "gate", "title": "Fails"}), "{handler_run}");
}
