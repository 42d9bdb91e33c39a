//! core.transform.deduplicate / is_duplicate against the real Redis on 127.0.0.1:6379, each
//! test under its own key prefix.

use ferrocat_shared::config::Env;
use ferrocat_registry::ActionDeps;
use serde_json::{Value, json};

fn deps(prefix: &str) -> ActionDeps {
    let env = Env::from_pairs([("FERROCAT_REDIS_URL", "redis://127.0.0.1:6379"), ("FERROCAT_REDIS_PREFIX", prefix)]);
    ActionDeps::from_env(&env).unwrap()
}

async fn run(deps: &ActionDeps, action: &str, args: Value) -> Result<Value, String> {
    ferrocat_registry::dispatch_with(action, args.as_object().cloned().unwrap(), deps, &serde_json::Map::new()).await.map_err(|e| e.to_string())
}

async fn keys_with_ttl(prefix: &str) -> Vec<(String, i64)> {
    let client = redis::Client::open("redis://127.0.0.1:6379").unwrap();
    let mut conn = client.get_multiplexed_async_connection().await.unwrap();
    let keys: Vec<String> = redis::cmd("KEYS").arg(format!("{prefix}*")).query_async(&mut conn).await.unwrap();
    let mut out = Vec::new();
    for key in keys {
        let ttl: i64 = redis::cmd("TTL").arg(&key).query_async(&mut conn).await.unwrap();
        out.push((key, ttl));
    }
    out
}

#[tokio::test]
async fn deduplicate_within_a_call_and_across_calls() {
    let prefix = format!("ferrocat-test:{}:", uuid::Uuid::new_v4());
    let deps = deps(&prefix);
    let items = json!([
        {"user": {"id": 1}, "alert": "a", "n": 1},
        {"user": {"id": 2}, "alert": "a", "n": 2},
        {"user": {"id": 1}, "alert": "a", "n": 3, "extra": true},
        {"user": {"id": 1}, "alert": "b", "n": 4},
    ]);
    let args = json!({"items": items, "keys": ["user.id", "alert"], "expire_seconds": 120});
    let out = run(&deps, "core.transform.deduplicate", args.clone()).await.unwrap();
    // Same key merges later fields into the first item, which keeps its place.
    assert_eq!(
        out,
        json!([
            {"user": {"id": 1}, "alert": "a", "n": 3, "extra": true},
            {"user": {"id": 2}, "alert": "a", "n": 2},
            {"user": {"id": 1}, "alert": "b", "n": 4},
        ])
    );
    let keys = keys_with_ttl(&prefix).await;
    assert_eq!(keys.len(), 3, "{keys:?}");
    assert!(keys.iter().all(|(k, ttl)| k.starts_with(&format!("{prefix}dedup:")) && (1..=120).contains(ttl)), "{keys:?}");

    // Seen before: nothing comes back; a new key does.
    assert_eq!(run(&deps, "core.transform.deduplicate", args).await.unwrap(), json!([]));
    let more = json!({"items": {"user": {"id": 3}, "alert": "a"}, "keys": ["user.id", "alert"]});
    assert_eq!(run(&deps, "core.transform.deduplicate", more).await.unwrap(), json!([{"user": {"id": 3}, "alert": "a"}]));

    // persist: false only deduplicates within the call and touches no key.
    let other = format!("ferrocat-test:{}:", uuid::Uuid::new_v4());
    let local = json!({"items": [{"k": 1}, {"k": 1}], "keys": ["k"], "persist": false});
    assert_eq!(run(&self::deps(&other), "core.transform.deduplicate", local).await.unwrap(), json!([{"k": 1}]));
    assert!(keys_with_ttl(&other).await.is_empty());
}

#[tokio::test]
async fn is_duplicate_remembers_until_expiry() {
    let prefix = format!("ferrocat-test:{}:", uuid::Uuid::new_v4());
    let deps = deps(&prefix);
    let args = json!({"item": {"ioc": "1.2.3.4", "seen": 1}, "keys": ["ioc"], "expire_seconds": 1});
    assert_eq!(run(&deps, "core.transform.is_duplicate", args.clone()).await.unwrap(), json!(false));
    assert_eq!(run(&deps, "core.transform.is_duplicate", args.clone()).await.unwrap(), json!(true));
    tokio::time::sleep(std::time::Duration::from_millis(2100)).await;
    assert_eq!(run(&deps, "core.transform.is_duplicate", args).await.unwrap(), json!(false));
}

#[tokio::test]
async fn bad_input_and_missing_redis_give_clear_errors() {
    let deps = deps(&format!("ferrocat-test:{}:", uuid::Uuid::new_v4()));
    let err = run(&deps, "core.transform.deduplicate", json!({"items": [{"a": 1}], "keys": ["b"]})).await.unwrap_err();
    assert_eq!(err, "ValueError: Couldn't resolve expression '$.b' in the context");
    let err = run(&deps, "core.transform.deduplicate", json!({"items": [1], "keys": ["a"]})).await.unwrap_err();
    assert_eq!(err, "invalid arguments: items must be an object or a list of objects, found int");
    assert_eq!(run(&deps, "core.transform.deduplicate", json!({"items": [], "keys": ["a"]})).await.unwrap(), json!([]));

    let no_redis = ActionDeps::from_env(&Env::default()).unwrap();
    let err = run(&no_redis, "core.transform.is_duplicate", json!({"item": {"a": 1}, "keys": ["a"]})).await.unwrap_err();
    assert!(err.contains("persistent deduplication needs Redis (FERROCAT_REDIS_URL)"), "{err}");
}
