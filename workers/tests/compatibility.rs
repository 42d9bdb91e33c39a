//! Mixed fleets during a rolling upgrade: the api, workers and executors of two releases run
//! side by side, and hand each other a run's input (api -> worker) and each action's input
//! (worker -> executor) through Temporal. Both directions are checked against the recorded
//! histories (`tests/histories/`, made by this release, kept for every later one):
//! - today's types read every input a release recorded, and keep every field of it (a field
//!   renamed or dropped would be silently lost by the other side);
//! - today's types read those inputs with fields they do not know added at every level, as a
//!   later release's api or worker would send them while this one still runs beside it.
//!
//! What a run's workflow code does with the input is the replay test's concern
//! (`replay.rs`); a change to it that must differ between releases goes behind
//! `WorkflowContext::patched`.

use base64::Engine as _;
use serde_json::{Map, Value};

use ferrocat_shared::temporal::{DslRunArgs, RunActionInput};

/// The activity the executor runs each action in.
const EXECUTE_ACTION: &str = "execute_action_activity";

/// Every input the recorded histories hold: (where, run or action, its JSON).
fn recorded_inputs() -> Vec<(String, &'static str, Value)> {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/histories");
    let mut inputs = Vec::new();
    for file in std::fs::read_dir(&dir).unwrap().map(|e| e.unwrap().path()) {
        if file.extension().is_none_or(|e| e != "json") {
            continue;
        }
        let history: Value = serde_json::from_slice(&std::fs::read(&file).unwrap()).unwrap();
        let name = file.file_name().unwrap().to_string_lossy().into_owned();
        for event in history["events"].as_array().unwrap() {
            let Some((kind, attributes)) = event["attributes"].as_object().and_then(|a| a.iter().next()) else { continue };
            let what = match kind.as_str() {
                "WorkflowExecutionStartedEventAttributes" => "run",
                "ActivityTaskScheduledEventAttributes" if attributes["activity_type"]["name"] == EXECUTE_ACTION => "action",
                _ => continue,
            };
            let data = attributes["input"]["payloads"][0]["data"].as_str().unwrap_or_else(|| panic!("{name}: an input without data"));
            let bytes = base64::engine::general_purpose::STANDARD.decode(data).unwrap();
            inputs.push((format!("{name} event {}", event["event_id"]), what, serde_json::from_slice(&bytes).unwrap()));
        }
    }
    inputs
}

/// `value` read as today's type for `what`, and written back.
fn through_todays_type(what: &str, value: Value) -> Result<Value, serde_json::Error> {
    Ok(match what {
        "run" => serde_json::to_value(serde_json::from_value::<DslRunArgs>(value)?).unwrap(),
        _ => serde_json::to_value(serde_json::from_value::<RunActionInput>(value)?).unwrap(),
    })
}

/// Where `kept` lost or changed something of `original` (a null may be left out; numbers
/// compare by value).
fn lost(original: &Value, kept: &Value, at: &str) -> Option<String> {
    match (original, kept) {
        (Value::Object(original), Value::Object(kept)) => original.iter().find_map(|(key, value)| match kept.get(key) {
            Some(kept) => lost(value, kept, &format!("{at}.{key}")),
            None if value.is_null() => None,
            None => Some(format!("{at}.{key} is gone")),
        }),
        (Value::Array(original), Value::Array(kept)) if original.len() == kept.len() => {
            original.iter().zip(kept).enumerate().find_map(|(i, (o, k))| lost(o, k, &format!("{at}[{i}]")))
        }
        (Value::Number(a), Value::Number(b)) if a.as_f64() == b.as_f64() => None,
        (a, b) if a == b => None,
        (a, b) => Some(format!("{at} was {a}, is now {b}")),
    }
}

/// `value` with a field no release knows yet in every object, at every depth.
fn with_later_fields(value: Value) -> Value {
    match value {
        Value::Object(map) => {
            let mut map: Map<String, Value> = map.into_iter().map(|(k, v)| (k, with_later_fields(v))).collect();
            map.insert("field_of_a_later_release".into(), serde_json::json!({"since": "a later release"}));
            Value::Object(map)
        }
        Value::Array(items) => Value::Array(items.into_iter().map(with_later_fields).collect()),
        other => other,
    }
}

#[test]
fn every_recorded_input_reads_as_todays_types_and_keeps_every_field() {
    let inputs = recorded_inputs();
    let runs = inputs.iter().filter(|(_, what, _)| *what == "run").count();
    let actions = inputs.len() - runs;
    assert!(runs >= 28 && actions >= 7, "the recorded inputs went missing: {runs} runs, {actions} actions");
    for (place, what, input) in inputs {
        let kept = through_todays_type(what, input.clone()).unwrap_or_else(|e| panic!("{place}: today's {what} input type cannot read it: {e}"));
        if let Some(loss) = lost(&input, &kept, what) {
            panic!("{place}: {loss}");
        }
    }
}

#[test]
fn inputs_from_a_later_release_with_fields_unknown_today_are_read() {
    for (place, what, input) in recorded_inputs() {
        let later = with_later_fields(input.clone());
        let kept = through_todays_type(what, later).unwrap_or_else(|e| panic!("{place}: a later release's {what} input is refused: {e}"));
        if let Some(loss) = lost(&input, &kept, what) {
            panic!("{place}: {loss}");
        }
    }
}

#[test]
fn a_field_lost_on_the_way_is_seen() {
    let (_, what, input) = recorded_inputs().into_iter().find(|(_, what, _)| *what == "action").unwrap();
    let mut kept = through_todays_type(what, input.clone()).unwrap();
    kept["task"].as_object_mut().unwrap().remove("ref");
    assert_eq!(lost(&input, &kept, what).as_deref(), Some("action.task.ref is gone"));
}

/// Old and new workers are kept apart during a rolling upgrade by Temporal's worker deployments
/// (`ferrocat_workers::versioning`; the whole upgrade is `tests/reliability/upgrade.rs`). A
/// server without them is recognised, so the worker polls unversioned there instead of waiting
/// for a deployment that never comes.
#[tokio::test]
async fn a_server_with_worker_deployments_and_one_without_are_told_apart() {
    use ferrocat_shared::config::Env;
    use ferrocat_shared::temporal::TemporalConfig;
    let with = ferrocat_test_support::temporal().await;
    let without = ferrocat_test_support::temporal::start_with(&["--dynamic-config-value", "system.enableDeploymentVersions=false"]).await;
    for (temporal, expected) in [(with, true), (&without, false)] {
        let config = TemporalConfig::from_env(&Env::from_pairs([("FERROCAT_TEMPORAL_ADDRESS", temporal.address.clone())])).unwrap();
        let client = config.connect().await.unwrap();
        let supported = ferrocat_workers::versioning::supported(&client, "ferrocat", std::time::Duration::from_secs(10)).await.unwrap();
        assert_eq!(supported, expected, "worker deployments at {}", temporal.address);
    }
}
