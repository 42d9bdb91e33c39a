//! `core.transform.deduplicate` and `core.transform.is_duplicate`: drop items whose key values
//! were already seen, within one call and (with `persist`) across calls for `expire_seconds`.
//! Seen keys live in Redis as `SET <prefix>dedup:<sha256 of the key values> 1 NX EX <ttl>`, so
//! the check-and-set of each key is atomic across concurrent executors.

use serde::Deserialize;
use serde_json::{Map, Value};
use sha2::{Digest as _, Sha256};

use super::{ActionError, parse_args, transform};
use crate::dedup_store::RedisStore;

#[derive(Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct DeduplicateArgs {
    items: Value,
    keys: Vec<String>,
    #[serde(default = "default_expire")]
    expire_seconds: u64,
    #[serde(default = "default_persist")]
    persist: bool,
}

#[derive(Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct IsDuplicateArgs {
    item: Map<String, Value>,
    keys: Vec<String>,
    #[serde(default = "default_expire")]
    expire_seconds: u64,
}

fn default_expire() -> u64 {
    3600
}
fn default_persist() -> bool {
    true
}

/// The key values of `item`: each key is a dotted path (`user.id`) that must match.
fn key_of(item: &Map<String, Value>, keys: &[String]) -> Result<Vec<Value>, ActionError> {
    let document = Value::Object(item.clone());
    keys.iter()
        .map(|key| {
            let path = format!("$.{key}");
            match transform::eval_jsonpath_in(&path, &document)? {
                Value::Null => Err(ActionError::Value(format!("Couldn't resolve expression '{path}' in the context"))),
                value => Ok(value),
            }
        })
        .collect()
}

async fn deduplicate_items(
    store: Option<&RedisStore>,
    items: Vec<Map<String, Value>>,
    keys: &[String],
    expire_seconds: u64,
    persist: bool,
) -> Result<Vec<Value>, ActionError> {
    if keys.is_empty() {
        return Err(ActionError::Value("keys must name at least one field".into()));
    }
    if expire_seconds == 0 {
        return Err(ActionError::Value("expire_seconds must be positive".into()));
    }
    // First-seen order; a later item with the same key updates the first one's fields.
    let mut seen: Vec<(String, Map<String, Value>)> = Vec::new();
    for item in items {
        let key = serde_json::to_string(&key_of(&item, keys)?).unwrap_or_default();
        match seen.iter_mut().find(|(k, _)| *k == key) {
            Some((_, merged)) => merged.extend(item),
            None => seen.push((key, item)),
        }
    }
    if !persist {
        return Ok(seen.into_iter().map(|(_, item)| Value::Object(item)).collect());
    }
    let Some(store) = store else {
        return Err(ActionError::Invalid(
            "persistent deduplication needs Redis (FERROCAT_REDIS_URL); pass persist: false to deduplicate within the call only".into(),
        ));
    };
    let digests: Vec<String> = seen.iter().map(|(key, _)| hex::encode(Sha256::digest(key.as_bytes()))).collect();
    let fresh = store.check_and_set(&digests, expire_seconds).await?;
    Ok(seen.into_iter().zip(fresh).filter(|(_, new)| *new).map(|((_, item), _)| Value::Object(item)).collect())
}

fn objects(items: Value) -> Result<Vec<Map<String, Value>>, ActionError> {
    match items {
        Value::Null => Ok(Vec::new()),
        Value::Object(item) => Ok(vec![item]),
        Value::Array(items) => items
            .into_iter()
            .map(|v| match v {
                Value::Object(item) => Ok(item),
                other => Err(ActionError::Invalid(format!(
                    "items must be an object or a list of objects, found {}",
                    ferrocat_dsl::expr::typename(&other)
                ))),
            })
            .collect(),
        other => Err(ActionError::Invalid(format!(
            "items must be an object or a list of objects, found {}",
            ferrocat_dsl::expr::typename(&other)
        ))),
    }
}

/// `core.transform.deduplicate(items, keys, expire_seconds=3600, persist=true)`.
pub async fn deduplicate(store: Option<&RedisStore>, args: Map<String, Value>) -> Result<Value, ActionError> {
    let args: DeduplicateArgs = parse_args(args)?;
    let items = objects(args.items)?;
    if items.is_empty() {
        return Ok(Value::Array(Vec::new()));
    }
    Ok(Value::Array(deduplicate_items(store, items, &args.keys, args.expire_seconds, args.persist).await?))
}

/// `core.transform.is_duplicate(item, keys, expire_seconds=3600)`: whether the item's key was
/// seen within `expire_seconds` (and records it when not).
pub async fn is_duplicate(store: Option<&RedisStore>, args: Map<String, Value>) -> Result<Value, ActionError> {
    let args: IsDuplicateArgs = parse_args(args)?;
    let fresh = deduplicate_items(store, vec![args.item], &args.keys, args.expire_seconds, true).await?;
    Ok(Value::Bool(fresh.is_empty()))
}
