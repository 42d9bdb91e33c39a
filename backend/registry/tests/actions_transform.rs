//! core.transform.* and core.require through the action registry, with `python_lambda`s
//! evaluated in the real sandbox (bubblewrap + the system python3).

use ferrocat_registry::actions::{self, http};
use serde_json::{Value, json};

async fn run(action: &str, args: Value) -> Result<Value, String> {
    let client = http::client(std::sync::Arc::new(ferrocat_shared::egress::EgressPolicy::permissive())).unwrap();
    ferrocat_registry::dispatch(action, args.as_object().cloned().unwrap(), &client).await.map_err(|e| e.to_string())
}

#[tokio::test]
async fn filter_map_and_apply_use_python_semantics() {
    let out = run("core.transform.filter", json!({"items": [1, 2, 3, 4, "x"], "python_lambda": "lambda x: isinstance(x, int) and x > 2"}))
        .await
        .unwrap();
    assert_eq!(out, json!([3, 4]));

    let users = json!([{"name": "ann", "age": 31}, {"name": "bob"}]);
    let out = run("core.transform.map", json!({"items": users, "python_lambda": "lambda u: f\"{u['name'].upper()}:{u.get('age', -1)}\""}))
        .await
        .unwrap();
    assert_eq!(out, json!(["ANN:31", "BOB:-1"]));

    let out = run("core.transform.apply", json!({"value": {"b": 2, "a": 1}, "python_lambda": "lambda d: sorted(d.keys())"}))
        .await
        .unwrap();
    assert_eq!(out, json!(["a", "b"]));

    // Tuples and sets come back as lists; integer division and float results keep their types.
    let out = run("core.transform.apply", json!({"value": 7, "python_lambda": "lambda x: (x // 2, x / 2, {x})"}))
        .await
        .unwrap();
    assert_eq!(out, json!([3, 3.5, [7]]));

    // Tracecat's `jsonpath(path, value)` helper is available inside lambdas.
    let out = run("core.transform.map", json!({"items": [{"a": {"b": [5, 6]}}, {"a": {}}], "python_lambda": "lambda x: jsonpath('$.a.b[1]', x)"}))
        .await
        .unwrap();
    assert_eq!(out, json!([6, null]));

    let out = run("core.transform.filter", json!({"items": [], "python_lambda": "lambda x: True"})).await.unwrap();
    assert_eq!(out, json!([]));
}

#[tokio::test]
async fn unsafe_or_broken_lambdas_are_rejected_with_clear_errors() {
    let cases = [
        ("lambda x: __import__('os').system('id')", "ValueError: Expression contains dangerous pattern: __"),
        ("x + 1", "ValueError: Expression must be a lambda function"),
        ("lambda x: open('/etc/passwd').read()", "ValueError: Accessing restricted symbol 'open' is not allowed"),
        ("lambda x: x._secret", "ValueError: Access to private attribute '_secret' is not allowed"),
        ("lambda x: (y := 1)", "ValueError: Node type NamedExpr is not allowed in expressions. Only safe, simple expressions are permitted."),
        ("lambda x: x[", "ValueError: Invalid syntax in expression:"),
        ("lambda x: x['missing']", "KeyError: 'missing'"),
        ("lambda x: 1 / 0", "ZeroDivisionError: division by zero"),
    ];
    for (source, expected) in cases {
        let err = run("core.transform.apply", json!({"value": {}, "python_lambda": source})).await.unwrap_err();
        assert!(err.starts_with(expected), "{source}: {err}");
    }
    let err = run("core.transform.map", json!({"items": [1], "python_lambda": "lambda x: x".repeat(200)})).await.unwrap_err();
    assert_eq!(err, "ValueError: Expression too long (max 1000 characters)");
    let err = run("core.transform.map", json!({"items": 5, "python_lambda": "lambda x: x"})).await.unwrap_err();
    assert!(err.starts_with("invalid arguments: invalid type: integer `5`, expected a sequence"), "{err}");
}

#[tokio::test]
async fn is_in_and_not_in_with_and_without_a_key_lambda() {
    let out = run("core.transform.is_in", json!({"items": [1, 2, 3, "a"], "collection": [2.0, "a", true]})).await.unwrap();
    assert_eq!(out, json!([1, 2, "a"]), "Python equality: 1 == True, 2 == 2.0");
    let out = run("core.transform.not_in", json!({"items": [1, 2, 3, "a"], "collection": [2.0, "a", true]})).await.unwrap();
    assert_eq!(out, json!([3]));

    let alerts = json!([{"ip": "10.0.0.1", "n": 1}, {"ip": "8.8.8.8", "n": 2}, {"n": 3}]);
    let out = run(
        "core.transform.is_in",
        json!({"items": alerts, "collection": ["8.8.8.8"], "python_lambda": "lambda a: a.get('ip')"}),
    )
    .await
    .unwrap();
    assert_eq!(out, json!([{"ip": "8.8.8.8", "n": 2}]));
    let out = run(
        "core.transform.not_in",
        json!({"items": alerts, "collection": ["8.8.8.8"], "python_lambda": "lambda a: a.get('ip')"}),
    )
    .await
    .unwrap();
    assert_eq!(out, json!([{"ip": "10.0.0.1", "n": 1}, {"n": 3}]));

    let err = run("core.transform.is_in", json!({"items": [1], "collection": [[1]]})).await.unwrap_err();
    assert_eq!(err, "TypeError: unhashable type: 'list'");
}

#[tokio::test]
async fn pure_transforms_and_require_through_the_registry() {
    assert_eq!(run("core.transform.drop_nulls", json!({"items": [null, 0, "", null]})).await.unwrap(), json!([0, ""]));
    assert_eq!(
        run("core.transform.flatten_json", json!({"json": {"a": [{"b": 1}]}})).await.unwrap(),
        json!({"a[0].b": 1})
    );
    assert_eq!(
        run("core.transform.eval_jsonpaths", json!({"json": "{\"a\": {\"b\": 2}}", "jsonpaths": ["$.a.b"]})).await.unwrap(),
        json!({"$.a.b": 2})
    );
    assert_eq!(run("core.require", json!({"conditions": [true, true]})).await.unwrap(), json!(true));
    assert_eq!(
        run("core.require", json!({"conditions": [true, false], "require_all": true})).await.unwrap_err(),
        "AssertionError: All condition must evaluate to true. Got values: True, False"
    );
    let names: Vec<String> = ferrocat_registry::global().list().iter().map(|a| a.name().to_owned()).collect();
    for name in ["core.transform.filter", "core.transform.eval_jsonpaths", "core.require", "core.script.run_python"] {
        assert!(names.iter().any(|n| n == name), "{name} missing from the table");
    }
}

#[tokio::test]
async fn every_executor_action_in_the_table_runs() {
    let http = actions::http::client(std::sync::Arc::new(ferrocat_shared::egress::EgressPolicy::permissive())).unwrap();
    for action in ferrocat_registry::global().list() {
        // Subflows, scatter/gather and loops are orchestrated by the workflow itself, never sent
        // to the executor; ai.* run in the executor with the run's identity (tests/ai_agent.rs).
        let outcome = ferrocat_registry::dispatch(action.name(), serde_json::Map::new(), &http).await;
        if !action.runs_on_executor() {
            let error = outcome.unwrap_err().to_string();
            assert!(error.contains("run by the workflow itself"), "{}: {error}", action.name());
            continue;
        }
        if action.namespace() == "ai" {
            continue;
        }
        assert!(
            !matches!(outcome, Err(ferrocat_registry::ActionError::Unknown(_))),
            "{} is listed but nothing runs it",
            action.name()
        );
    }
    let unknown = ferrocat_registry::dispatch("core.nope", serde_json::Map::new(), &http).await.unwrap_err();
    assert!(matches!(unknown, ferrocat_registry::ActionError::Unknown(_)), "{unknown}");
}
