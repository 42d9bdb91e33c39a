//! `core.transform.deduplicate` and `core.transform.is_duplicate`: drop items whose key values
//! were already seen, within one call and (with `persist`) across calls for `expire_seconds`.
//! Seen keys live in Redis as `SET <prefix>dedup:<sha256 of the key values> 1 NX EX <ttl>`, so
//! the check-and-set of each key is atomic across concurrent executors.

use serde::Deserialize;
use serde_json::{Map, Value};
use sha2::{Digest as _, Sha256};
use tokio::sync::OnceCell;

use ferrocat_shared::config::{ConfigError, Env};

use super::{ActionError, parse_args, transform};

/// Where persistent deduplication keeps its keys.
pub struct RedisStore {
    client: redis::Client,
    prefix: String,
    connection: OnceCell<redis::aio::ConnectionManager>,
}

impl RedisStore {
    /// A store on `url` whose keys all start with `prefix`; connects on first use.
    pub fn build(url: &str, prefix: &str) -> Result<Self, redis::RedisError> {
        Ok(Self { client: redis::Client::open(url)?, prefix: prefix.to_owned(), connection: OnceCell::new() })
    }

    /// From `FERROCAT_REDIS_URL` (unset: `None`) and `FERROCAT_REDIS_PREFIX` (default `ferrocat:`).
    pub fn from_env(env: &Env) -> Result<Option<Self>, ConfigError> {
        let Some(url) = env.get("FERROCAT_REDIS_URL") else { return Ok(None) };
        let prefix = env.string_or("FERROCAT_REDIS_PREFIX", "ferrocat:");
        Self::build(url, &prefix).map(Some).map_err(|e| ConfigError::Invalid {
            key: "FERROCAT_REDIS_URL".into(),
            value: "<redacted>".into(),
            reason: e.to_string(),
        })
    }

    async fn connection(&self) -> Result<redis::aio::ConnectionManager, ActionError> {
        self.connection
            .get_or_try_init(|| redis::aio::ConnectionManager::new(self.client.clone()))
            .await
            .cloned()
            .map_err(|e| ActionError::Http(format!("redis: {e}")))
    }

    /// For each digest, whether it was newly recorded (`true`) or already present.
    async fn check_and_set(&self, digests: &[String], expire_seconds: u64) -> Result<Vec<bool>, ActionError> {
        let mut connection = self.connection().await?;
        let mut pipe = redis::pipe();
        for digest in digests {
            pipe.cmd("SET").arg(format!("{}dedup:{digest}", self.prefix)).arg(1).arg("NX").arg("EX").arg(expire_seconds);
        }
        let replies: Vec<Option<String>> =
            pipe.query_async(&mut connection).await.map_err(|e| ActionError::Http(format!("redis: {e}")))?;
        Ok(replies.into_iter().map(|r| r.is_some()).collect())
    }
}

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
                    ferrocat_shared::expr::typename(&other)
                ))),
            })
            .collect(),
        other => Err(ActionError::Invalid(format!(
            "items must be an object or a list of objects, found {}",
            ferrocat_shared::expr::typename(&other)
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
