//! Tests of parsing, the dependency graph and validation.

use serde_json::json;

use super::*;

const MINIMAL: &str = r#"
title: Example
description: Two actions
entrypoint:
  ref: a
inputs: {legacy: true}
actions:
  - ref: a
    action: core.transform.reshape
    args:
      value: ${{ TRIGGER.x }}
  - ref: b
    action: core.transform.reshape
    depends_on: [a, a.error]
    run_if: ${{ ACTIONS.a.result > 1 }}
    args:
      value: "${{ ACTIONS.a.result }}"
returns: ${{ ACTIONS.b.result }}
"#;

fn wf(text: &str) -> Workflow {
    Workflow::parse(text).unwrap_or_else(|e| panic!("{e}"))
}

fn issues(text: &str) -> Vec<String> {
    match wf(text).validate() {
        Ok(()) => Vec::new(),
        Err(issues) => issues.iter().map(ToString::to_string).collect(),
    }
}

/// A workflow whose actions are given as a YAML flow list.
fn with_actions(actions: &str) -> String {
    format!("title: t\ndescription: d\nentrypoint: {{}}\nactions: {actions}\n")
}

#[test]
fn parses_yaml_with_defaults_and_ignores_unknown_keys() {
    let w = wf(MINIMAL);
    assert_eq!(w.title, "Example");
    assert_eq!(w.entrypoint.ref_.as_deref(), Some("a"));
    assert_eq!(
        w.config,
        RunConfig {
            environment: "default".into(),
            timeout: 0.0
        }
    );
    assert_eq!(w.actions.len(), 2);
    let a = &w.actions[0];
    assert_eq!(a.args["value"], json!("${{ TRIGGER.x }}"));
    assert_eq!(
        a.retry_policy,
        RetryPolicy {
            max_attempts: 1,
            timeout: 300.0,
            retry_until: None
        }
    );
    assert_eq!(a.join_strategy, JoinStrategy::All);
    assert_eq!(a.start_delay, 0.0);
    assert!(!a.mask_output);
    assert_eq!(w.returns, Some(json!("${{ ACTIONS.b.result }}")));
    assert_eq!(w.validate(), Ok(()));
}

#[test]
fn parses_json_and_the_export_wrapper() {
    let json_text = r#"{"title": "t", "description": "d", "entrypoint": {}, "actions": [
        {"ref": "a", "action": "core.transform.reshape", "join_strategy": "any",
         "retry_policy": {"max_attempts": 3, "timeout": 10}, "start_delay": 2}]}"#;
    let w = wf(json_text);
    assert_eq!(w.actions[0].join_strategy, JoinStrategy::Any);
    assert_eq!(w.actions[0].retry_policy.max_attempts, 3);
    assert_eq!(w.actions[0].retry_policy.timeout, 10.0);
    assert_eq!(w.actions[0].start_delay, 2.0);

    let export = format!(
        "definition:\n{}\nlayout: {{trigger: {{x: 0}}}}\nschedules: [{{cron: '0 * * * *', status: online}}]\nwebhook: {{methods: [POST], status: online}}\n",
        MINIMAL
            .lines()
            .map(|l| format!("  {l}"))
            .collect::<Vec<_>>()
            .join("\n")
    );
    let e = WorkflowExport::parse(&export).unwrap();
    assert_eq!(e.definition, wf(MINIMAL));
    assert_eq!(
        e.schedules,
        vec![json!({"cron": "0 * * * *", "status": "online"})]
    );
    assert_eq!(
        e.webhook,
        Some(json!({"methods": ["POST"], "status": "online"}))
    );
    assert_eq!(wf(&export), wf(MINIMAL));
}

#[test]
fn round_trips_through_json() {
    let w = wf(MINIMAL);
    let back: Workflow = serde_json::from_value(serde_json::to_value(&w).unwrap()).unwrap();
    assert_eq!(back, w);
    let v = serde_json::to_value(&w.actions[1]).unwrap();
    assert_eq!(v["ref"], json!("b"));
    assert_eq!(v["join_strategy"], json!("all"));
}

#[test]
fn parse_errors_say_what_failed() {
    assert!(matches!(
        Workflow::parse("a: [1"),
        Err(DslError::Syntax { .. })
    ));
    assert_eq!(
        Workflow::parse("[1, 2]").unwrap_err().to_string(),
        "workflow document must be a mapping, got list"
    );
    let err = Workflow::parse("title: t\ndescription: d\nentrypoint: {}\n").unwrap_err();
    assert_eq!(
        err.to_string(),
        "invalid workflow definition: missing field `actions`"
    );
    let err =
        Workflow::parse(&with_actions("[{ref: a, action: x, join_strategy: some}]")).unwrap_err();
    assert!(err.to_string().contains("unknown variant `some`"), "{err}");
}

#[test]
fn dependencies_and_edges() {
    let w = wf(MINIMAL);
    assert_eq!(
        dependencies(&w.actions[1]),
        vec![
            ("a".to_owned(), EdgeKind::Success),
            ("a".to_owned(), EdgeKind::Error)
        ]
    );
    assert_eq!(
        w.edges(),
        vec![
            Edge {
                source: "a".into(),
                target: "b".into(),
                kind: EdgeKind::Success
            },
            Edge {
                source: "a".into(),
                target: "b".into(),
                kind: EdgeKind::Error
            },
        ]
    );
    assert_eq!(
        parse_dependency("x.success").unwrap(),
        ("x".to_owned(), EdgeKind::Success)
    );
    assert_eq!(
        parse_dependency("x.done").unwrap_err().to_string(),
        "invalid dependency 'x.done': the suffix must be .success or .error"
    );
}

#[test]
fn expects_fields() {
    let w = wf(
        "title: t\ndescription: d\nentrypoint:\n  expects:\n    f: {type: str, default: d}\n    n: {type: int}\n    z: {type: 'str | None', default: null}\nactions: [{ref: a, action: x}]\n",
    );
    let fields = w.entrypoint.expected_fields().unwrap();
    assert_eq!(fields[0].1.default, Some(json!("d")));
    assert!(!fields[0].1.is_required());
    assert!(fields[1].1.is_required());
    assert_eq!(fields[2].1.default, Some(json!(null)));
    assert!(!fields[2].1.is_required());
    let bad = wf(
        "title: t\ndescription: d\nentrypoint:\n  expects:\n    f: {type: str, extra: 1}\nactions: [{ref: a, action: x}]\n",
    );
    assert!(
        bad.entrypoint
            .expected_fields()
            .unwrap_err()
            .to_string()
            .starts_with("invalid entrypoint.expects.f: unknown field `extra`")
    );
}

#[test]
fn validation_reports_every_structural_problem() {
    let text = with_actions(
        "[{ref: a, action: core.x}, {ref: a, action: core.y}, {ref: Bad-Ref, action: 'Core X'},
          {ref: c, action: core.z, depends_on: [x, a.done, a, a]}]",
    );
    assert_eq!(
        issues(&text),
        vec![
            "actions: All action references (the action title in snake case) must be unique. Duplicate refs: 'a'",
            "actions.Bad-Ref.ref: invalid ref 'Bad-Ref': must match ^[a-z0-9_]+$",
            "actions.Bad-Ref.action: invalid action 'Core X': must match ^[a-z0-9_.]+$",
            "actions.c.depends_on: unknown action 'x'",
            "actions.c.depends_on: invalid dependency 'a.done': the suffix must be .success or .error",
            "actions.c.depends_on: duplicate dependency 'a'",
        ]
    );
}

#[test]
fn validation_requires_actions_and_an_entrypoint() {
    assert_eq!(
        issues(&with_actions("[]")),
        vec!["actions: at least one action is required"]
    );
    let text = with_actions(
        "[{ref: a, action: x, depends_on: [b]}, {ref: b, action: x, depends_on: [a]}]",
    );
    assert_eq!(
        issues(&text),
        vec![
            "actions: No entrypoints found",
            "actions: Cycle detected in control-flow workflow: a, b"
        ]
    );
}

#[test]
fn validation_rejects_cycles_in_plain_dags() {
    let text = with_actions(
        "[{ref: root, action: x}, {ref: a, action: x, depends_on: [root, c]},
          {ref: b, action: x, depends_on: [a]}, {ref: c, action: x, depends_on: [b]},
          {ref: d, action: x, depends_on: [root]}, {ref: self_loop, action: x, depends_on: [self_loop.error]}]",
    );
    assert_eq!(
        issues(&text),
        vec!["actions: Cycle detected in control-flow workflow: a, b, c, self_loop"]
    );
}

#[test]
fn validation_checks_expressions_and_action_references() {
    let text = with_actions(
        r#"[{ref: a, action: x, args: {url: "${{ ACTIONS.nope.result }}", "${{ 1 + }}": 1, list: ["ok ${{ FN.nope(1) }}"]},
            run_if: "x ${{ True }}", retry_policy: {retry_until: "${{ ACTIONS.ghost.result }}"}},
           {ref: b, action: x, depends_on: [a], run_if: "${{ for var.x in [1] }}",
            for_each: ["${{ for var.x in var.y }}", "${{ [1] }}", "plain", 3], environment: "${{ ACTIONS.a.result }}"}]"#,
    );
    assert_eq!(
        issues(&text),
        vec![
            "actions.a.args.url: unknown action 'nope' in `ACTIONS.nope.result`",
            "actions.a.args: invalid expression `1 +`: expected an expression at position 3, found end of expression",
            "actions.a.args.list[0]: invalid expression `FN.nope(1)`: Unknown function 'nope'",
            "actions.a.run_if: must be exactly one ${{ ... }} expression, got 'x ${{ True }}'",
            "actions.a.retry_policy.retry_until: unknown action 'ghost' in `ACTIONS.ghost.result`",
            "actions.b.run_if: `for var.x in [1]`: iterator expressions are only valid in for_each",
            "actions.b.for_each: the for_each collection in `for var.x in var.y` cannot use var",
            "actions.b.for_each: `[1]` must be an iterator like `for var.x in ...`",
            "actions.b.for_each: must be exactly one ${{ for var.x in ... }} expression, got 'plain'",
            "actions.b.for_each: must be a string or a list of strings",
        ]
    );
}

#[test]
fn validation_checks_returns() {
    let text = format!(
        "{}returns: {{out: '${{{{ ACTIONS.zz.result }}}}'}}\n",
        with_actions("[{ref: a, action: x}]")
    );
    assert_eq!(
        issues(&text),
        vec!["returns.out: unknown action 'zz' in `ACTIONS.zz.result`"]
    );
}

#[test]
fn validation_checks_action_result_fields() {
    let text = with_actions(
        r#"[{ref: a, action: x}, {ref: b, action: x, depends_on: [a],
            args: {ok: "${{ ACTIONS.a.result.x }} ${{ ACTIONS.a.error }} ${{ ACTIONS.a }}", bad: "${{ ACTIONS.a.value }}"}}]"#,
    );
    assert_eq!(
        issues(&text),
        vec![
            "actions.b.args.bad: 'value' in `ACTIONS.a.value` is not an action result field (expected one of result, result_typename, error, error_typename, interaction, interaction_id, interaction_type, collection_index)"
        ]
    );
}

#[test]
fn template_action_contexts_are_rejected_in_workflows() {
    let text = with_actions(r#"[{ref: a, action: x, args: {v: "${{ inputs.x }}"}}]"#);
    assert_eq!(
        issues(&text),
        vec![
            "actions.a.args.v: `inputs.x`: the inputs context is only valid inside template actions"
        ]
    );
}

#[test]
fn validation_checks_expects_types() {
    let text = "title: t\ndescription: d\nentrypoint:\n  expects:\n    a: {type: 'list[int]'}\n    b: {type: integer}\nactions: [{ref: a, action: x}]\n";
    assert_eq!(
        issues(text),
        vec![
            "entrypoint.expects.b.type: invalid type 'integer': unknown type 'integer' at position 0"
        ]
    );
    let text = "title: t\ndescription: d\nentrypoint:\n  expects:\n    a: {type: int, bogus: 1}\nactions: [{ref: a, action: x}]\n";
    assert!(
        issues(text)[0]
            .starts_with("entrypoint.expects: invalid entrypoint.expects.a: unknown field `bogus`")
    );
}

#[test]
fn issue_display_matches_the_brief() {
    let issue = ValidationIssue {
        loc: "actions.notify.depends_on".into(),
        msg: "unknown action 'x'".into(),
    };
    assert_eq!(
        issue.to_string(),
        "actions.notify.depends_on: unknown action 'x'"
    );
}

const NESTED_SCATTER: &str = r#"[
  {ref: scatter, action: core.transform.scatter, args: {collection: "${{ [[1,2],[3,4]] }}"}},
  {ref: scatter2, action: core.transform.scatter, depends_on: [scatter], args: {collection: "${{ ACTIONS.scatter.result }}"}},
  {ref: r1, action: core.transform.reshape, depends_on: [scatter2], args: {value: "${{ FN.add(ACTIONS.scatter2.result, 1) }}"}},
  {ref: r2, action: core.transform.reshape, depends_on: [scatter2], args: {value: "${{ FN.add(ACTIONS.scatter2.result, 2) }}"}},
  {ref: gather, action: core.transform.gather, depends_on: [r1, r2], args: {items: "${{ ACTIONS.r1.result }}"}},
  {ref: gather2, action: core.transform.gather, depends_on: [gather], args: {items: "${{ ACTIONS.gather.result }}"}},
  {ref: after, action: core.transform.reshape, depends_on: [gather2], args: {value: "${{ ACTIONS.gather2.result }}"}}
]"#;

const DO_WHILE: &str = r#"[
  {ref: start, action: core.loop.start},
  {ref: body, action: core.transform.reshape, depends_on: [start], args: {value: "${{ ACTIONS.start.result.iteration }}"}},
  {ref: end, action: core.loop.end, depends_on: [body], args: {condition: "${{ ACTIONS.start.result.iteration < 2 }}", max_iterations: 10}},
  {ref: after, action: core.transform.reshape, depends_on: [end], args: {value: "${{ [ACTIONS.end.result.continue, ACTIONS.body.result] }}"}}
]"#;

#[test]
fn scope_validation_accepts_reference_examples() {
    assert_eq!(issues(&with_actions(NESTED_SCATTER)), Vec::<String>::new());
    assert_eq!(issues(&with_actions(DO_WHILE)), Vec::<String>::new());
}

#[test]
fn scope_validation_rejects_reaching_into_a_scatter() {
    let text = with_actions(&NESTED_SCATTER.replace(
        "value: \"${{ ACTIONS.gather2.result }}\"",
        "value: \"${{ ACTIONS.r2.result }} ${{ ACTIONS.scatter.result }}\"",
    ));
    assert_eq!(
        issues(&text),
        vec![
            "actions.after.args.value: 'r2' is inside scatter scope 'scatter' and cannot be referenced from here",
            "actions.after.args.value: 'scatter' is inside scatter scope 'scatter' and cannot be referenced from here",
        ]
    );
}

#[test]
fn loop_members_need_a_success_path_to_the_loop_end() {
    let text = with_actions(
        r#"[{ref: start, action: core.loop.start},
            {ref: body, action: core.transform.reshape, depends_on: [start]},
            {ref: side, action: core.transform.reshape, depends_on: [start]},
            {ref: on_error, action: core.transform.reshape, depends_on: [body.error]},
            {ref: end, action: core.loop.end, depends_on: [body, on_error], join_strategy: any}]"#,
    );
    assert_eq!(
        issues(&text),
        vec![
            "actions.side: 'side' is in loop 'start' but has no success path to its core.loop.end 'end'"
        ]
    );
}

#[test]
fn scope_validation_checks_closers_and_crossing_edges() {
    let text = with_actions(
        r#"[{ref: a, action: core.transform.reshape},
            {ref: g, action: core.transform.gather, depends_on: [a]},
            {ref: s, action: core.transform.scatter, depends_on: [a]},
            {ref: inner, action: core.transform.reshape, depends_on: [s]},
            {ref: mixed, action: core.transform.reshape, depends_on: [inner, a]},
            {ref: l, action: core.loop.start, depends_on: [a]}]"#,
    );
    assert_eq!(
        issues(&text),
        vec![
            "actions.g.action: core.transform.gather must close a core.transform.scatter scope, but it is in scope '<root>'",
            "actions.mixed.depends_on: 'inner' is in scope 's' but 'a' is in scope '<root>'; edges may not cross scopes",
            "actions.l: loop 'l' must be closed by exactly one core.loop.end, found 0",
        ]
    );
}

#[test]
fn validation_refuses_times_no_duration_can_hold() {
    let text = with_actions(
        "[{ref: a, action: x, retry_policy: {timeout: 1e300}, start_delay: -1},
          {ref: b, action: x, depends_on: [a], retry_policy: {timeout: 31622401}, start_delay: 1e300},
          {ref: c, action: x, depends_on: [b], retry_policy: {timeout: 31622400}, start_delay: 0.5}]",
    )
    .replace("actions:", "config: {timeout: 1e20}\nactions:");
    assert_eq!(
        issues(&text),
        vec![
            "config.timeout: must be a number of seconds from 0 to 31622400 (366 days), got 1e20",
            "actions.a.retry_policy.timeout: must be a number of seconds from 0 to 31622400 (366 days), got 1e300",
            "actions.a.start_delay: must be a number of seconds from 0 to 31622400 (366 days), got -1",
            "actions.b.retry_policy.timeout: must be a number of seconds from 0 to 31622400 (366 days), got 31622401",
            "actions.b.start_delay: must be a number of seconds from 0 to 31622400 (366 days), got 1e300",
        ]
    );
    // YAML's infinities and NaN are no numbers a definition can hold: refused when parsed.
    for not_a_number in [".inf", "-.inf", ".nan"] {
        let text = with_actions(&format!("[{{ref: a, action: x, retry_policy: {{timeout: {not_a_number}}}}}]"));
        assert!(Workflow::parse(&text).is_err(), "{not_a_number}");
    }
}

#[test]
fn seconds_never_panics() {
    use std::time::Duration;
    assert_eq!(seconds(1.5), Duration::from_millis(1500));
    for none in [0.0, -1.0, f64::NAN, f64::NEG_INFINITY] {
        assert_eq!(seconds(none), Duration::ZERO, "{none}");
    }
    for huge in [f64::INFINITY, 1e300, MAX_SECONDS * 2.0] {
        assert_eq!(seconds(huge), Duration::from_secs_f64(MAX_SECONDS), "{huge}");
    }
    let policy = RetryPolicy { timeout: f64::INFINITY, ..RetryPolicy::default() };
    assert_eq!(policy.attempt_timeout(), Duration::from_secs_f64(MAX_SECONDS));
}
