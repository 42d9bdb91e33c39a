//! Per-workspace limits in Redis: requests per minute (all models, and per catalog model) and
//! tokens per minute, as fixed one-minute windows. One pipelined round trip per request; the
//! usage task adds tokens after the call. If Redis cannot be reached the request is let through
//! and counted (limits protect budgets; they must not take the gateway down).

use std::sync::Arc;

use redis::aio::ConnectionManager;
use secrecy::{ExposeSecret as _, SecretString};

use async_trait::async_trait;

use crate::auth::unix_now;
use crate::error::GatewayError;
use crate::metrics::Metrics;
use crate::usage::{UsageRecord, UsageSink};

/// The limiter: a Redis connection and the configured limits.
#[derive(Clone)]
pub struct RateLimiter {
    conn: ConnectionManager,
    prefix: String,
    workspace_rpm: u64,
    workspace_tpm: u64,
    metrics: Arc<Metrics>,
}

/// Why the limiter could not start.
#[derive(Debug, thiserror::Error)]
#[error("could not connect to Redis for rate limits: {0}")]
pub struct LimiterError(String);

impl RateLimiter {
    /// Connects to `url`.
    pub async fn connect(url: &SecretString, prefix: &str, workspace_rpm: u64, workspace_tpm: u64, metrics: Arc<Metrics>) -> Result<Self, LimiterError> {
        let redact = |e: redis::RedisError| LimiterError(crate::redact::redact(&e.to_string(), &[url.expose_secret()]));
        let client = redis::Client::open(url.expose_secret()).map_err(redact)?;
        let conn = client.get_connection_manager().await.map_err(redact)?;
        Ok(Self { conn, prefix: prefix.to_owned(), workspace_rpm, workspace_tpm, metrics })
    }

    fn key(&self, parts: &[&str]) -> String {
        format!("{}llm:{}", self.prefix, parts.join(":"))
    }

    /// Counts one request of `workspace` for `model` and refuses it when a limit is reached.
    pub async fn check(&self, workspace: &str, model: &str, model_rpm: Option<u64>) -> Result<(), GatewayError> {
        let model_rpm = model_rpm.unwrap_or(0);
        if self.workspace_rpm == 0 && self.workspace_tpm == 0 && model_rpm == 0 {
            return Ok(());
        }
        let now = unix_now();
        let window = (now / 60).to_string();
        let retry_after = 60 - now % 60;
        let ws_key = self.key(&["rpm", workspace, &window]);
        let model_key = self.key(&["rpm", workspace, model, &window]);
        let tpm_key = self.key(&["tpm", workspace, &window]);
        let mut pipe = redis::pipe();
        pipe.cmd("INCR").arg(&ws_key).cmd("EXPIRE").arg(&ws_key).arg(120).ignore();
        pipe.cmd("INCR").arg(&model_key).cmd("EXPIRE").arg(&model_key).arg(120).ignore();
        pipe.cmd("GET").arg(&tpm_key);
        let mut conn = self.conn.clone();
        let (ws_count, model_count, tokens): (u64, u64, Option<u64>) = match pipe.query_async(&mut conn).await {
            Ok(v) => v,
            Err(e) => {
                self.metrics.limiter_errors.inc();
                tracing::warn!(error = %e, "rate limit check failed; letting the request through");
                return Ok(());
            }
        };
        let refuse = |scope: &str| {
            self.metrics.rate_limited.with_label_values(&[scope]).inc();
            Err(GatewayError::RateLimited { scope: scope.to_owned(), retry_after })
        };
        if self.workspace_rpm > 0 && ws_count > self.workspace_rpm {
            return refuse("workspace requests-per-minute");
        }
        if model_rpm > 0 && model_count > model_rpm {
            return refuse("model requests-per-minute");
        }
        if self.workspace_tpm > 0 && tokens.unwrap_or(0) >= self.workspace_tpm {
            return refuse("workspace tokens-per-minute");
        }
        Ok(())
    }
}

/// Adds each call's tokens to its workspace's token window.
#[async_trait]
impl UsageSink for RateLimiter {
    async fn record(&self, r: &UsageRecord) {
        let tokens = r.usage.input + r.usage.output;
        if self.workspace_tpm == 0 || tokens == 0 {
            return;
        }
        let key = self.key(&["tpm", &r.workspace_id, &(unix_now() / 60).to_string()]);
        let mut conn = self.conn.clone();
        let result: redis::RedisResult<()> =
            redis::pipe().cmd("INCRBY").arg(&key).arg(tokens).ignore().cmd("EXPIRE").arg(&key).arg(120).ignore().query_async(&mut conn).await;
        if let Err(e) = result {
            self.metrics.limiter_errors.inc();
            tracing::warn!(error = %e, "could not add tokens to the workspace's window");
        }
    }
}
