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
  - ref: broken
    action: core.workflow.execute
    for_each: "${{{{ for var.x in [1, 'x'] }}}}"
    args: {{workflow_id: {child}, trigger_inputs: {{number: "${{{{ var.x }}}}"}}}}
returns:
  each: "${{{{ ACTIONS.each.result }}}}"
  one: "${{{{ ACTIONS.one.result }}}}"
  detached: "${{{{ ACTIONS.detached.result }}}}"
  broken: "${{{{ ACTIONS.broken.result }}}}"
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
