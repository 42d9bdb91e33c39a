//! Where `core.transform.deduplicate` / `is_duplicate` keep the keys they have seen across
//! calls: Redis, as `SET <prefix>dedup:<digest> 1 NX EX <ttl>`, so the check-and-set of each
//! key is atomic across concurrent executors.

use secrecy::{ExposeSecret as _, SecretString};

use ferrocat_shared::config::{ConfigError, Env};

use crate::error::ActionError;

/// `FERROCAT_REDIS_URL` and `FERROCAT_REDIS_PREFIX`, checked (the URL parses) but not dialled.
#[derive(Debug, Clone)]
pub struct RedisSettings {
    url: SecretString,
    prefix: String,
}

impl RedisSettings {
    /// From `FERROCAT_REDIS_URL` (unset: `None`) and `FERROCAT_REDIS_PREFIX` (default `ferrocat:`).
    pub fn from_env(env: &Env) -> Result<Option<Self>, ConfigError> {
        let Some(url) = env.get("FERROCAT_REDIS_URL") else { return Ok(None) };
        let prefix = env.string_or("FERROCAT_REDIS_PREFIX", "ferrocat:");
        redis::Client::open(url).map_err(|e| ConfigError::Invalid {
            key: "FERROCAT_REDIS_URL".into(),
            value: "<redacted>".into(),
            reason: e.to_string(),
        })?;
        Ok(Some(Self { url: SecretString::from(url.to_owned()), prefix }))
    }
}

/// Where persistent deduplication keeps its keys.
pub struct RedisStore {
    redis: ferrocat_shared::redis::Redis,
    prefix: String,
}

impl RedisStore {
    /// A store on `url` whose keys all start with `prefix`; connects on first use.
    pub fn build(url: &str, prefix: &str) -> Result<Self, redis::RedisError> {
        Ok(Self { redis: ferrocat_shared::redis::Redis::new(redis::Client::open(url)?), prefix: prefix.to_owned() })
    }

    /// The store `settings` describe.
    pub fn new(settings: &RedisSettings) -> Result<Self, redis::RedisError> {
        Self::build(settings.url.expose_secret(), &settings.prefix)
    }

    /// For each digest, whether it was newly recorded (`true`) or already present.
    pub(crate) async fn check_and_set(&self, digests: &[String], expire_seconds: u64) -> Result<Vec<bool>, ActionError> {
        let mut pipe = redis::pipe();
        for digest in digests {
            pipe.cmd("SET").arg(format!("{}dedup:{digest}", self.prefix)).arg(1).arg("NX").arg("EX").arg(expire_seconds);
        }
        let replies: Vec<Option<String>> =
            self.redis.call(|mut connection| async move { pipe.query_async(&mut connection).await }).await.map_err(failed)?;
        Ok(replies.into_iter().map(|r| r.is_some()).collect())
    }
}

/// A failed Redis call as the action's error. Redis out of reach is the platform's outage:
/// the attempt is tried again without spending the author's, and deduplication fails closed
/// (it never guesses that an item is new). Anything Redis answered is the action's error.
fn failed(error: redis::RedisError) -> ActionError {
    if error.is_io_error() || error.is_connection_refusal() || error.is_connection_dropped() || error.is_timeout() {
        ActionError::Unavailable(format!("the deduplication store (Redis) is unavailable: {error}"))
    } else {
        ActionError::Http(format!("redis: {error}"))
    }
}
