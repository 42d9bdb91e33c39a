//! Execution semantics, checked on Tracecat's own example cases (reference §6) through the
//! in-process driver that `ferrocat run` uses: the same scheduler code as `DSLWorkflow`.

use ferrocat_dsl::Workflow;
use ferrocat_workers::workflow::local::run_locally;
use serde_json::{Value, json};

async fn run(yaml: &str, trigger: Value) -> Result<Value, String> {
    let dsl = Workflow::parse(yaml).expect("fixture parses");
    dsl.validate().map_err(|e| format!("{e:?}"))?;
    run_locally(dsl, trigger, serde_json::Map::new()).await.map(|f| f.value).map_err(|f| f.message)
}

#[tokio::test]
async fn skips_propagate_down_a_chain() {
    let out = run(
        r#"
title: chain
description: skip propagation
entrypoint: {}
actions:
  - {ref: a, action: core.transform.reshape, args: {value: A}}
  - {ref: b, action: core.transform.reshape, depends_on: [a], run_if: "${{ False }}", args: {value: B}}
  - {ref: c, action: core.transform.reshape, depends_on: [b], args: {value: C}}
  - {ref: d, action: core.transform.reshape, depends_on: [c], args: {value: D}}
returns: {a: "${{ ACTIONS.a.result }}", b: "${{ ACTIONS.b.result }}", c: "${{ ACTIONS.c.result }}", d: "${{ ACTIONS.d.result }}"}
"#,
        Value::Null,
    )
    .await
    .unwrap();
    assert_eq!(out, json!({"a": "A", "b": null, "c": null, "d": null}));
}

#[tokio::test]
async fn join_any_runs_with_a_skipped_branch_which_gets_no_entry() {
    let out = run(
        r#"
title: any
description: join any
entrypoint: {}
actions:
  - {ref: a, action: core.transform.reshape, args: {value: "1"}}
  - {ref: b, action: core.transform.reshape, depends_on: [a], args: {value: "${{ int(ACTIONS.a.result) + 1 }}"}}
  - {ref: c, action: core.transform.reshape, depends_on: [a], run_if: "${{ FN.is_equal(ACTIONS.a.result, str(2)) }}", args: {value: C}}
  - {ref: d, action: core.transform.reshape, depends_on: [b, c], join_strategy: any, args: {value: "${{ int(ACTIONS.b.result) + 4 }}"}}
returns: {a: "${{ ACTIONS.a.result }}", b: "${{ ACTIONS.b.result }}", d: "${{ ACTIONS.d.result }}"}
"#,
        Value::Null,
    )
    .await
    .unwrap();
    assert_eq!(out["a"], json!("1"));
    assert_eq!(out["b"], json!(2));
    assert_eq!(out["d"], json!(6));
}

#[tokio::test]
async fn join_all_with_a_skipped_branch_fails_unless_its_own_run_if_skips_it() {
    let base = r#"
title: all
description: join all
entrypoint: {}
actions:
  - {ref: gate, action: core.transform.reshape, args: {value: false}}
  - {ref: left, action: core.transform.reshape, depends_on: [gate], args: {value: LEFT}}
  - {ref: right, action: core.transform.reshape, depends_on: [gate], run_if: "${{ ACTIONS.gate.result }}", args: {value: RIGHT}}
  - {ref: join, action: core.transform.reshape, depends_on: [left, right], JOIN_RUN_IF args: {value: JOIN}}
returns: {gate: "${{ ACTIONS.gate.result }}", left: "${{ ACTIONS.left.result }}", right: "${{ ACTIONS.right.result }}", join: "${{ ACTIONS.join.result }}"}
"#;
    let error = run(&base.replace("JOIN_RUN_IF ", ""), Value::Null).await.unwrap_err();
    assert!(error.contains("ACTIONS.join") && error.contains("unreachable"), "{error}");
    let out = run(&base.replace("JOIN_RUN_IF ", "run_if: \"${{ ACTIONS.gate.result }}\", "), Value::Null).await.unwrap();
    assert_eq!(out, json!({"gate": false, "left": "LEFT", "right": null, "join": null}));
}

#[tokio::test]
async fn error_edges_route_failures_and_their_absence_fails_the_run() {
    let with_edge = r#"
title: err
description: error edge
entrypoint: {}
actions:
  - {ref: start, action: core.transform.reshape, args: {value: "${{ 1/0 }}"}}
  - {ref: ok, action: core.transform.reshape, depends_on: [start], args: {value: OK}}
  - {ref: err, action: core.transform.reshape, depends_on: [start.error], args: {value: ERROR}}
returns: {s: "${{ ACTIONS.start.result }}", e: "${{ ACTIONS.start.error }}", ok: "${{ ACTIONS.ok.result }}", err: "${{ ACTIONS.err.result }}"}
"#;
    let out = run(with_edge, Value::Null).await.unwrap();
    assert_eq!(out["s"], Value::Null);
    assert_eq!(out["ok"], Value::Null);
    assert_eq!(out["err"], json!("ERROR"));
    assert_eq!(out["e"]["ref"], json!("start"));
    assert!(out["e"]["message"].as_str().unwrap().contains("Cannot divide by zero"), "{out}");

    let without = with_edge.replace("depends_on: [start.error]", "depends_on: [ok]");
    let error = run(&without, Value::Null).await.unwrap_err();
    assert!(error.starts_with("Workflow failed with 1 error(s)"), "{error}");
    assert!(error.contains("ACTIONS.start") && error.contains("Cannot divide by zero"), "{error}");
}

#[tokio::test]
async fn a_diamond_join_any_absorbs_an_error() {
    let out = run(
        r#"
title: diamond
description: absorbing an error
entrypoint: {}
actions:
  - {ref: left, action: core.transform.reshape, args: {value: SUCCESS}}
  - {ref: right, action: core.transform.reshape, args: {value: "${{ 1/0 }}"}}
  - {ref: join, action: core.transform.reshape, depends_on: [left, right, right.error], join_strategy: any, args: {value: JOIN}}
returns: {left: "${{ ACTIONS.left.result }}", right: "${{ ACTIONS.right.result }}", join: "${{ ACTIONS.join.result }}"}
"#,
        Value::Null,
    )
    .await
    .unwrap();
    assert_eq!(out, json!({"left": "SUCCESS", "right": null, "join": "JOIN"}));
}

#[tokio::test]
async fn for_each_zips_iterators_and_broadcasts_map() {
    let out = run(
        r#"
title: loops
description: for_each
entrypoint: {}
actions:
  - ref: zip
    action: core.transform.reshape
    for_each: ["${{ for var.x in [1,2,3] }}", "${{ for var.y in ['one','two','three','four'] }}"]
    args: {value: "I received ${{ FN.concat(str(var.x), var.y) }} from you"}
  - ref: mapped
    action: core.transform.reshape
    for_each: "${{ for var.list in [['u1','u2'],['u3']] }}"
    args: {value: "${{ FN.format.map('Got {}!', var.list) }}"}
returns: {zip: "${{ ACTIONS.zip.result }}", zip_type: "${{ ACTIONS.zip.result_typename }}", mapped: "${{ ACTIONS.mapped.result }}"}
"#,
        Value::Null,
    )
    .await
    .unwrap();
    assert_eq!(
        out,
        json!({
            "zip": ["I received 1one from you", "I received 2two from you", "I received 3three from you"],
            "zip_type": "list",
            "mapped": [["Got u1!", "Got u2!"], ["Got u3!"]],
        })
    );
}

#[tokio::test]
async fn a_failing_iteration_fails_the_whole_loop() {
    let error = run(
        r#"
title: loop error
description: for_each failure
entrypoint: {}
actions:
  - ref: div
    action: core.transform.reshape
    for_each: "${{ for var.n in [1, 0, 2] }}"
    args: {value: "${{ 10 / var.n }}"}
"#,
        Value::Null,
    )
    .await
    .unwrap_err();
    assert!(error.contains("LoopExecutionError: iteration 1"), "{error}");
}

#[tokio::test]
async fn typing_follows_the_standalone_rule() {
    let out = run(
        r#"
title: types
description: casts and interpolation
entrypoint: {}
actions:
  - ref: a
    action: core.transform.reshape
    args:
      value:
        cast: "${{ TRIGGER.data.arg2 -> str }}"
        inline: "INLINE: ${{ TRIGGER.data.arg1 }}"
        spaced: " ${{ TRIGGER.data.arg1 }} ${{ TRIGGER.data.arg2 }}  "
        cmp: "${{ (1 + 10) > 3 -> str }}"
        lazy: "${{ 1 if True else 1/0 }}"
        concat: "${{ [1,2] + [3] }}"
        sum: "${{ FN.sum([1, FN.sub(2,3), 1 - 1]) }}"
returns: "${{ ACTIONS.a.result }}"
"#,
        json!({"data": {"arg1": 1, "arg2": 2}}),
    )
    .await
    .unwrap();
    assert_eq!(
        out,
        json!({"cast": "2", "inline": "INLINE: 1", "spaced": " 1 2  ", "cmp": "True", "lazy": 1, "concat": [1, 2, 3], "sum": 0})
    );
}

#[tokio::test]
async fn expects_fill_defaults_and_reject_bad_trigger_inputs() {
    let yaml = r#"
title: expects
description: trigger inputs
entrypoint:
  expects:
    f: {type: str, default: d}
    n: {type: int, default: 42}
actions:
  - {ref: a, action: core.transform.reshape, args: {value: "${{ TRIGGER }}"}}
returns: "${{ ACTIONS.a.result }}"
"#;
    assert_eq!(run(yaml, json!({})).await.unwrap(), json!({"f": "d", "n": 42}));
    assert_eq!(run(yaml, json!({"n": "7"})).await.unwrap(), json!({"f": "d", "n": 7}));
    let error = run(yaml, json!({"n": "not-an-int"})).await.unwrap_err();
    assert!(error.starts_with("Failed to validate trigger inputs"), "{error}");
    let error = run(yaml, json!({"extra": 1})).await.unwrap_err();
    assert!(error.contains("extra"), "{error}");
}

#[tokio::test]
async fn retry_until_reruns_the_action_until_the_condition_holds() {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};
    let calls = Arc::new(AtomicUsize::new(0));
    let counter = calls.clone();
    let app = axum::Router::new().route(
        "/n",
        axum::routing::get(move || {
            let counter = counter.clone();
            async move { axum::Json(json!({"n": counter.fetch_add(1, Ordering::SeqCst) + 1})) }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    let yaml = format!(
        r#"
title: poll
description: retry_until
entrypoint: {{}}
actions:
  - ref: poll
    action: core.http_request
    args: {{url: "http://{addr}/n"}}
    retry_policy: {{retry_until: "${{{{ ACTIONS.poll.result.data.n >= 3 }}}}"}}
returns: "${{{{ ACTIONS.poll.result.data.n }}}}"
"#
    );
    assert_eq!(run(&yaml, Value::Null).await.unwrap(), json!(3));
    assert_eq!(calls.load(Ordering::SeqCst), 3);
}

#[tokio::test]
async fn wait_until_in_the_past_runs_at_once_and_bad_dates_fail_clearly() {
    let yaml = r#"
title: wait
description: wait_until
entrypoint: {}
actions:
  - {ref: a, action: core.transform.reshape, wait_until: "WHEN", args: {value: done}}
returns: "${{ ACTIONS.a.result }}"
"#;
    assert_eq!(run(&yaml.replace("WHEN", "2020-01-01T00:00:00Z"), Value::Null).await.unwrap(), json!("done"));
    assert_eq!(run(&yaml.replace("WHEN", "3 days ago"), Value::Null).await.unwrap(), json!("done"));
    let error = run(&yaml.replace("WHEN", "when pigs fly"), Value::Null).await.unwrap_err();
    assert!(error.contains("wait_until \"when pigs fly\" is not a date"), "{error}");
}
