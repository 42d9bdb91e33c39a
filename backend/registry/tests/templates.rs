//! Template actions in Tracecat's format: loaded into the one table, run step by step with
//! `inputs`, `steps`, `SECRETS`, `VARS` and `FN`, nested, checked before they load (each problem
//! with its file and line) and checked in workflows before they commit.

use serde_json::{Map, Value, json};

use ferrocat_registry::template::check::{Problem, Source};
use ferrocat_registry::template::load;
use ferrocat_registry::{ActionDeps, Call, actions, global};

fn sources(files: &[(&str, &str)]) -> Vec<Source> {
    files.iter().map(|(path, text)| Source { path: (*path).to_owned(), text: (*text).to_owned() }).collect()
}

/// Loads `files` into the process's table (each test uses namespaces of its own).
fn install(files: &[(&str, &str)]) {
    let set = load::prepare(&sources(files), global(), "test").unwrap_or_else(|p| panic!("{p:#?}"));
    load::install(global(), set).unwrap();
}

fn problems(files: &[(&str, &str)]) -> Vec<Problem> {
    match load::prepare(&sources(files), global(), "test") {
        Ok(_) => panic!("expected problems"),
        Err(problems) => problems,
    }
}

async fn run(name: &str, args: Value, secrets: Value, vars: Value) -> Result<Value, String> {
    let client = actions::http::client(std::sync::Arc::new(ferrocat_shared::egress::EgressPolicy::permissive())).unwrap();
    let deps = ActionDeps::with_http(client);
    let (args, secrets, vars): (Map<String, Value>, Map<String, Value>, Map<String, Value>) =
        (serde_json::from_value(args).unwrap(), serde_json::from_value(secrets).unwrap(), serde_json::from_value(vars).unwrap());
    let env = Map::new();
    global().run(name, Call::new(name, args, &deps, &secrets).with_context(&vars, &env)).await.map_err(|e| e.to_string())
}

const INNER: &str = r#"
type: action
definition:
  name: inner
  namespace: tests.nested
  title: Inner
  display_group: Tests
  secrets:
    - name: nested_api
      keys: [TOKEN]
  expects:
    word:
      type: str
      description: A word.
    times:
      type: int
      default: 2
  steps:
    - ref: shout
      action: core.transform.reshape
      args:
        value: ${{ FN.uppercase(inputs.word) }}-${{ SECRETS.nested_api.TOKEN }}-${{ inputs.times }}
  returns: ${{ steps.shout.result }}
"#;

const OUTER: &str = r#"
type: action
definition:
  name: outer
  namespace: tests.nested
  title: Outer
  secrets:
    - type: oauth
      provider_id: nested_idp
      grant_type: client_credentials
      optional: true
  expects:
    word:
      type: str
    note:
      type: str | None
      default: null
  steps:
    - ref: first
      action: tests.nested.inner
      args:
        word: ${{ inputs.word }}
    - ref: second
      action: core.transform.reshape
      args:
        value:
          first: ${{ steps.first.result }}
          region: ${{ VARS.nested.region }}
          note: ${{ inputs.note }}
          token: ${{ SECRETS.nested_idp_oauth.NESTED_IDP_SERVICE_TOKEN }}
  returns: ${{ steps.second.result }}
"#;

#[tokio::test]
async fn a_template_runs_its_steps_in_order_and_a_nested_one_shares_secrets_and_variables() {
    install(&[("outer.yml", OUTER), ("inner.yml", INNER)]);
    let outer = global().get("tests.nested.outer").unwrap();
    assert_eq!(outer.secret_names(), ["nested_api"], "the nested template's secret is the outer one's too");
    assert_eq!(outer.optional_secret_names(), ["nested_idp_oauth"]);
    let schema = outer.args_schema();
    assert_eq!(schema["required"], json!(["word"]), "{schema}");
    assert_eq!(schema["properties"]["note"]["anyOf"], json!([{"type": "string"}, {"type": "null"}]));
    let described = outer.describe();
    assert_eq!(described["type"], "template");
    assert_eq!(described["origin"], "test");

    let result = run("tests.nested.outer", json!({"word": "hello"}), json!({"nested_api": {"TOKEN": "tok"}}), json!({"nested": {"region": "eu"}}))
        .await
        .unwrap();
    assert_eq!(result, json!({"first": "HELLO-tok-2", "region": "eu", "note": null, "token": null}));
}

#[tokio::test]
async fn arguments_are_checked_against_expects_and_a_failing_step_fails_the_template() {
    install(&[(
        "fails.yml",
        r#"
type: action
definition:
  name: fails
  namespace: tests.failing
  title: Fails
  expects:
    count: {type: int}
  steps:
    - ref: check
      action: core.require
      args:
        conditions: ["${{ inputs.count > 3 }}"]
    - ref: after
      action: core.transform.reshape
      args: {value: reached}
  returns: ${{ steps.after.result }}
"#,
    )]);
    let missing = run("tests.failing.fails", json!({}), json!({}), json!({})).await.unwrap_err();
    assert!(missing.contains("count: Field required"), "{missing}");
    let mistyped = run("tests.failing.fails", json!({"count": "many"}), json!({}), json!({})).await.unwrap_err();
    assert!(mistyped.contains("count: Input should be a valid integer"), "{mistyped}");
    let extra = run("tests.failing.fails", json!({"count": 5, "size": 1}), json!({}), json!({})).await.unwrap_err();
    assert!(extra.contains("size: Extra inputs are not permitted"), "{extra}");
    let failed = run("tests.failing.fails", json!({"count": "2"}), json!({}), json!({})).await.unwrap_err();
    assert!(failed.starts_with("tests.failing.fails: step 'check' failed: AssertionError"), "{failed}");
    assert_eq!(run("tests.failing.fails", json!({"count": "5"}), json!({}), json!({})).await.unwrap(), json!("reached"), "a numeric string is coerced");

    // With a trace, each step that ran is recorded (what the run's events show), the failing
    // one with its error; nothing of arguments or results.
    let client = actions::http::client(std::sync::Arc::new(ferrocat_shared::egress::EgressPolicy::permissive())).unwrap();
    let deps = ActionDeps::with_http(client);
    let (secrets, args) = (Map::new(), json!({"count": 2}).as_object().cloned().unwrap());
    let trace = ferrocat_registry::StepTrace::default();
    let call = Call::new("tests.failing.fails", args, &deps, &secrets).with_trace(Some(&trace));
    assert!(global().run("tests.failing.fails", call).await.is_err());
    let records = trace.records();
    assert_eq!(records.len(), 1, "the step after the failure never ran: {records:?}");
    assert_eq!((records[0]["ref"].as_str(), records[0]["status"].as_str(), records[0]["depth"].as_i64()), (Some("check"), Some("failed"), Some(1)));
    assert!(records[0]["error"].as_str().unwrap().starts_with("AssertionError"), "{records:?}");
    assert!(records[0].get("args").is_none() && records[0].get("result").is_none());
}

#[test]
fn problems_name_the_file_and_line() {
    let broken_yaml = "type: action\ndefinition:\n  name: x\n  title: [unclosed\n";
    let found = problems(&[("broken.yml", broken_yaml)]);
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].path, "broken.yml");
    assert!(found[0].line.is_some(), "{:?}", found[0]);

    let bad = r#"type: action
definition:
  name: bad
  namespace: tests.bad
  title: Bad
  expects:
    ip: {type: str}
    size: {type: integr}
  steps:
    - ref: first
      action: core.http_request
      args:
        url: https://example.com/${{ inputs.address }}
        param: {q: 1}
    - ref: second
      action: tools.nowhere.nothing
      args:
        value: ${{ steps.third.result }}
  returns: ${{ SECRETS.undeclared.KEY }}
"#;
    let found: Vec<String> = problems(&[("tools/bad.yml", bad)]).iter().map(ToString::to_string).collect();
    let expected = [
        "tools/bad.yml:8: expects.size: invalid type 'integr'",
        "tools/bad.yml:10: step 'first': inputs.address is not among the expected arguments",
        "tools/bad.yml:10: step 'first': argument 'param' is not one the action takes",
        "tools/bad.yml:15: step 'second': steps.third is not an earlier step",
        "tools/bad.yml:15: step 'second': unknown action 'tools.nowhere.nothing'",
        "tools/bad.yml:19: returns: SECRETS.undeclared is not a declared secret",
    ];
    for want in expected {
        assert!(found.iter().any(|p| p.starts_with(want)), "missing {want:?} in {found:#?}");
    }
    assert_eq!(found.len(), expected.len(), "{found:#?}");

    let a = "type: action\ndefinition:\n  name: a\n  namespace: tests.cycle\n  title: A\n  steps:\n    - ref: call\n      action: tests.cycle.b\n  returns: 1\n";
    let b = "type: action\ndefinition:\n  name: b\n  namespace: tests.cycle\n  title: B\n  steps:\n    - ref: call\n      action: tests.cycle.a\n  returns: 1\n";
    let found = problems(&[("a.yml", a), ("b.yml", b)]);
    assert!(found.iter().any(|p| p.message.contains("in a circle: tests.cycle.a → tests.cycle.b → tests.cycle.a")), "{found:#?}");

    let builtin = "type: action\ndefinition:\n  name: http_request\n  namespace: core\n  title: Mine\n  steps:\n    - ref: s\n      action: core.transform.reshape\n      args: {value: 1}\n  returns: 1\n";
    let found = problems(&[("core.yml", builtin)]);
    assert!(found.iter().any(|p| p.message == "core.http_request is a built-in action and cannot be replaced"), "{found:#?}");
}

#[test]
fn a_workflow_is_checked_against_the_table_before_it_commits() {
    install(&[("inner.yml", &INNER.replace("tests.nested", "tests.commit"))]);
    let dsl = ferrocat_dsl::Workflow::parse(
        r#"
title: t
description: d
entrypoint: {ref: a}
actions:
  - ref: a
    action: tests.commit.inner
    args: {word: hi, times: lots}
  - ref: b
    action: tests.commit.inner
    args: {word: "${{ TRIGGER.word }}", times: "${{ TRIGGER.n }}"}
    depends_on: [a]
  - ref: c
    action: core.http_request
    args: {uri: "https://example.com"}
    depends_on: [b]
  - ref: d
    action: tools.nowhere.nothing
    depends_on: [c]
"#,
    )
    .unwrap();
    let issues: Vec<String> = ferrocat_registry::check_workflow(&dsl).iter().map(ToString::to_string).collect();
    assert_eq!(
        issues,
        [
            "actions.a.args.times: Input should be a valid integer, unable to parse string as an integer",
            "actions.c.args: argument 'uri' is not one the action takes",
            "actions.c.args: required argument 'url' is missing",
            "actions.d.action: unknown action 'tools.nowhere.nothing'",
        ]
    );
}

#[test]
fn a_folder_is_read_without_following_links_and_within_its_limits() {
    let dir = std::env::temp_dir().join(format!("ferrocat-templates-{}", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir_all(dir.join("acme/schemas")).unwrap();
    std::fs::write(dir.join("acme/inner.yml"), INNER).unwrap();
    std::fs::write(dir.join("acme/schemas/skipped.yml"), "not: a template").unwrap();
    std::fs::write(dir.join("acme/notes.txt"), "not yaml").unwrap();
    std::os::unix::fs::symlink("/etc/hostname", dir.join("acme/outside.yml")).unwrap();
    let read = load::read_dir(&dir).unwrap();
    let names: Vec<String> = read.iter().map(|s| s.path.strip_prefix(&format!("{}/", dir.display())).unwrap().to_owned()).collect();
    assert_eq!(names, ["acme/inner.yml"], "links, schemas folders and other files are left out");
    std::fs::write(dir.join("acme/huge.yml"), "x".repeat(load::MAX_FILE_BYTES as usize + 1)).unwrap();
    let refused = load::read_dir(&dir).unwrap_err();
    assert!(refused.path.ends_with("acme/huge.yml") && refused.message.contains("at most"), "{refused}");
    std::fs::remove_dir_all(&dir).unwrap();
}
