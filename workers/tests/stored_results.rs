//! Results above the threshold go to object storage (the embedded S3 store, over real HTTP),
//! history keeps a reference, and the actions that read them see the real values.

use ferrocat_test_support::{objects, workers};

use serde_json::{Value, json};
use uuid::Uuid;

use ferrocat_shared::config::Env;
use ferrocat_dsl::Workflow;
use ferrocat_shared::objects::{DEFAULT_THRESHOLD_BYTES, ResultStore, STORED_KEY, StoreError, StoredRef};

/// A run's return value, and the decoded payloads of its whole history.
struct Ran {
    value: Value,
    history: String,
}

/// Every payload in a history (JSON with base64 `data`), decoded and joined.
fn payloads(history: &[u8]) -> String {
    fn walk(value: &Value, out: &mut String) {
        match value {
            Value::Object(map) => {
                for (key, value) in map {
                    if key == "data"
                        && let Some(text) = value.as_str()
                        && let Ok(bytes) = base64::Engine::decode(&base64::engine::general_purpose::STANDARD, text)
                    {
                        out.push_str(&String::from_utf8_lossy(&bytes));
                        out.push('\n');
                    } else {
                        walk(value, out);
                    }
                }
            }
            Value::Array(items) => items.iter().for_each(|v| walk(v, out)),
            _ => {}
        }
    }
    let mut out = String::new();
    walk(&serde_json::from_slice(history).unwrap(), &mut out);
    out
}

/// Runs each workflow through Temporal with the DSL worker and the executor pointed at the
/// object store (default threshold), in `workspace`, one after the other.
async fn run_all(workspace: Uuid, workflows: Vec<(&str, Value)>) -> Vec<Ran> {
    let env = objects::object_store().env(DEFAULT_THRESHOLD_BYTES);
    let mut ran = Vec::new();
    for (yaml, trigger) in workflows {
        let dsl = Workflow::parse(yaml).unwrap();
        dsl.validate().unwrap();
        let id = format!("wf_stored/exec_{}", Uuid::new_v4().simple());
        let mut done = workers::run_all(&env, vec![workers::Run { id, workspace_id: workspace, dsl, trigger }]).await;
        let done = done.remove(0);
        ran.push(Ran { value: done.outcome.unwrap(), history: payloads(&done.history) });
    }
    ran
}

/// A server whose `/big` answers with `items` numbers (about 7 bytes each in JSON).
async fn big_server(items: usize) -> String {
    let app = axum::Router::new().route(
        "/big",
        axum::routing::get(move || async move { axum::Json(json!({"items": (0..items as u64).map(|i| i + 1_000_000).collect::<Vec<_>>()})) }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    base
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn large_results_live_in_object_storage_and_read_back_transparently() {
    let base = big_server(50_000).await;
    let stored_chain = format!(
        r#"
title: stored
description: large results, read by later actions
entrypoint: {{ref: numbers}}
actions:
  - {{ref: numbers, action: core.transform.reshape, args: {{value: "${{{{ FN.range(0, 40000) }}}}"}}}}
  - {{ref: total, action: core.transform.reshape, depends_on: [numbers], args: {{value: "${{{{ FN.sum(ACTIONS.numbers.result) }}}}"}}}}
  - {{ref: fetch, action: core.http_request, args: {{url: "{base}/big", method: GET}}}}
  - {{ref: count, action: core.transform.reshape, depends_on: [fetch], args: {{value: "${{{{ FN.length(ACTIONS.fetch.result.data.items) }}}}"}}}}
  - {{ref: last, action: core.transform.reshape, depends_on: [fetch], args: {{value: "${{{{ ACTIONS.fetch.result.data.items[-1] }}}}"}}}}
returns: {{total: "${{{{ ACTIONS.total.result }}}}", count: "${{{{ ACTIONS.count.result }}}}", last: "${{{{ ACTIONS.last.result }}}}"}}
"#
    );
    let read_by_workflow = r#"
title: inline
description: a large result the workflow itself reads stays inline
entrypoint: {ref: numbers}
actions:
  - {ref: numbers, action: core.transform.reshape, args: {value: "${{ FN.range(0, 40000) }}"}}
  - {ref: gated, action: core.transform.reshape, depends_on: [numbers], run_if: "${{ FN.length(ACTIONS.numbers.result) > 10 }}", args: {value: ran}}
returns: "${{ ACTIONS.gated.result }}"
"#;
    let workspace = Uuid::new_v4();
    let ran = run_all(workspace, vec![(&stored_chain, Value::Null), (read_by_workflow, Value::Null)]).await;

    let expected_total: u64 = (0..40_000).sum();
    assert_eq!(ran[0].value, json!({"total": expected_total, "count": 50_000, "last": 1_049_999}));
    // Two results of ~240 KiB and ~400 KiB went out; history holds their references only.
    assert!(ran[0].history.contains(STORED_KEY), "history holds references");
    assert!(ran[0].history.len() < 64 * 1024, "history holds {} bytes of payloads", ran[0].history.len());
    let stored = objects::object_store().objects(&workspace.simple().to_string());
    assert_eq!(stored.len(), 2, "{stored:?}");

    assert_eq!(ran[1].value, json!("ran"));
    assert!(!ran[1].history.contains(STORED_KEY), "a result run_if reads must come back inline");
}

fn value_of(bytes: usize) -> Value {
    json!({"alert": "x".repeat(bytes)})
}

#[tokio::test]
async fn a_stored_result_that_changed_is_refused_not_misread() {
    let env = Env::from_pairs(objects::object_store().env(16));
    let store = ResultStore::from_env(&env).unwrap().expect("configured");
    let value = json!({"alert": "x".repeat(100)});
    let workspace = Uuid::new_v4().to_string();
    // A long execution id still makes a key the store can keep; a real one is kept as it is.
    let execution = format!("wf_x/exec_{}", "y".repeat(300));
    let real = format!("wf_{}/exec_{}", "a".repeat(22), "b".repeat(22));
    let kept = store.externalize(&workspace, &real, value_of(200)).await.unwrap();
    let kept = StoredRef::from_value(&kept).expect("stored");
    assert!(kept.key.contains(&real) && kept.key.len() < 140, "{}", kept.key);
    let reference = store.externalize(&workspace, &execution, value.clone()).await.unwrap();
    let stored = StoredRef::from_value(&reference).expect("above the threshold");
    assert_eq!(stored.typename, "dict");
    assert_eq!(store.load(&stored).await.unwrap(), value);
    // Nested references read back too, and small values are left alone.
    let nested = json!({"a": [reference.clone(), 1]});
    assert_eq!(store.materialize(nested).await.unwrap(), json!({"a": [value, 1]}));
    assert_eq!(store.externalize(&workspace, "exec", json!("tiny")).await.unwrap(), json!("tiny"));

    let path = objects::object_store().dir.join(&stored.bucket).join(&stored.key);
    std::fs::write(&path, br#"{"alert": "tampered"}"#).unwrap();
    match store.load(&stored).await {
        Err(StoreError::Corrupt { key, .. }) => assert_eq!(key, stored.key),
        other => panic!("expected a sha256 mismatch, got {other:?}"),
    }
    let missing = StoredRef { key: format!("{workspace}/nothing.json"), ..stored.clone() };
    let error = store.load(&missing).await.unwrap_err().to_string();
    assert!(error.contains("reading") && error.contains("nothing.json"), "{error}");

    // A run reads its own workspace's objects only, and results only from their bucket: a
    // forged reference reads nothing.
    let theirs = store.externalize(&workspace, "exec", value_of(300)).await.unwrap();
    let other_workspace = Uuid::new_v4().to_string();
    assert_eq!(store.materialize_in(&workspace, theirs.clone()).await.unwrap(), value_of(300));
    let error = store.materialize_in(&other_workspace, json!([theirs])).await.unwrap_err().to_string();
    assert!(error.contains("another workspace"), "{error}");
    let elsewhere = StoredRef { bucket: "ferrocat-attachments".into(), ..stored };
    assert!(store.load(&elsewhere).await.unwrap_err().to_string().contains("not where results are kept"));
}
