//! Counters in Redis for everything the api limits: requests per webhook, failed sign-ins per
//! account and per client address. Fixed windows, counted atomically by one Lua script (INCR,
//! and the window's expiry set by the request that opened it), under `FERROCAT_REDIS_PREFIX`.

use std::time::Duration;

/// `INCRBY` the key and open its window on the first hit; returns the count and the window's
/// remaining milliseconds. A key left without expiry (written by something else) gets one.
/// A hit of zero only reads (and creates nothing). The hit that brings the count to `ARGV[3]`
/// restarts the window, so a lockout lasts a whole window from the hit that caused it.
const HIT: &str = r"
if tonumber(ARGV[2]) == 0 then
  local count = tonumber(redis.call('GET', KEYS[1]) or '0')
  local ttl = redis.call('PTTL', KEYS[1])
  if ttl < 0 then ttl = 0 end
  return {count, ttl}
end
local count = redis.call('INCRBY', KEYS[1], ARGV[2])
local ttl = redis.call('PTTL', KEYS[1])
if ttl < 0 or count == tonumber(ARGV[3]) then
  redis.call('PEXPIRE', KEYS[1], ARGV[1])
  ttl = tonumber(ARGV[1])
end
return {count, ttl}
";

/// Whether a hit fits in its window.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Decision {
    /// Hits in the current window, this one included.
    pub count: u64,
    /// Whether `count` is within the limit.
    pub allowed: bool,
    /// When the window closes (what `Retry-After` says).
    pub retry_after: Duration,
}

impl Decision {
    /// `Retry-After` in whole seconds, rounded up and at least 1.
    pub fn retry_after_seconds(&self) -> u64 {
        self.retry_after.as_millis().div_ceil(1000).max(1) as u64
    }
}

/// Redis-backed fixed-window counters; cheap to clone, connects on first use.
#[derive(Clone)]
pub struct RateLimiter {
    redis: ferrocat_shared::redis::Redis,
    prefix: String,
}

impl std::fmt::Debug for RateLimiter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RateLimiter").field("prefix", &self.prefix).finish_non_exhaustive()
    }
}

impl RateLimiter {
    /// Counters on `client` whose keys all start with `prefix`.
    pub fn new(client: redis::Client, prefix: &str) -> Self {
        Self { redis: ferrocat_shared::redis::Redis::new(client), prefix: prefix.to_owned() }
    }

    /// The full Redis key of `bucket`.
    pub fn key(&self, bucket: &str) -> String {
        format!("{}rl:{bucket}", self.prefix)
    }

    /// Counts one hit on `bucket` in a window of `window`; allowed while at most `limit` hits.
    pub async fn hit(&self, bucket: &str, limit: u64, window: Duration) -> redis::RedisResult<Decision> {
        self.add(bucket, 1, limit, window, 0).await
    }

    /// Like [`RateLimiter::hit`], and the hit that reaches `limit` restarts the window: what
    /// locks a bucket holds it for a whole window.
    pub async fn hit_and_hold(&self, bucket: &str, limit: u64, window: Duration) -> redis::RedisResult<Decision> {
        self.add(bucket, 1, limit, window, limit).await
    }

    /// Reads `bucket` without counting (a hit of zero).
    pub async fn peek(&self, bucket: &str, limit: u64, window: Duration) -> redis::RedisResult<Decision> {
        self.add(bucket, 0, limit, window, 0).await
    }

    async fn add(&self, bucket: &str, by: u64, limit: u64, window: Duration, hold_at: u64) -> redis::RedisResult<Decision> {
        let window_ms = window.as_millis().max(1) as u64;
        // EVAL runs the script atomically (no other command interleaves with it).
        let mut command = redis::cmd("EVAL");
        command.arg(HIT).arg(1).arg(self.key(bucket)).arg(window_ms).arg(by).arg(hold_at);
        let (count, ttl_ms): (u64, i64) = self.redis.call(|mut connection| async move { command.query_async(&mut connection).await }).await?;
        Ok(Decision { count, allowed: count <= limit, retry_after: Duration::from_millis(ttl_ms.max(0) as u64) })
    }

    /// Forgets `bucket` (a successful sign-in clears its account's failures).
    pub async fn reset(&self, bucket: &str) -> redis::RedisResult<()> {
        let key = self.key(bucket);
        self.redis.call(|mut connection| async move { redis::cmd("DEL").arg(key).query_async::<()>(&mut connection).await }).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_after_rounds_up_to_whole_seconds() {
        let at = |ms| Decision { count: 2, allowed: false, retry_after: Duration::from_millis(ms) };
        assert_eq!(at(0).retry_after_seconds(), 1);
        assert_eq!(at(1).retry_after_seconds(), 1);
        assert_eq!(at(1000).retry_after_seconds(), 1);
        assert_eq!(at(1001).retry_after_seconds(), 2);
        assert_eq!(at(59_999).retry_after_seconds(), 60);
    }
}
