//! What a client may send and how long it may take (`FERROCAT_EDGE_MAX_*`,
//! `FERROCAT_EDGE_CLIENT_*`).

use std::time::Duration;

use ferrocat_shared::config::{ConfigError, Env};

use super::vars::secs;

/// Limits against oversized requests and slow or idle clients.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientLimits {
    /// Largest request body on every route but /s3 (`FERROCAT_EDGE_MAX_BODY_BYTES`, default
    /// 32 MiB); larger bodies get 413. The default of routes that set no `max_body_bytes`. It
    /// is above the api's own limits (10 MiB for most routes, 20 MiB for a case attachment) so
    /// the api, which knows the route, answers first.
    pub max_body_bytes: u64,
    /// Largest request body on /s3 (`FERROCAT_EDGE_S3_MAX_BODY_BYTES`, default 5 GiB, S3's
    /// single-PUT maximum).
    pub s3_max_body_bytes: u64,
    /// Largest request head: target plus header lines (`FERROCAT_EDGE_MAX_HEADER_BYTES`,
    /// default 64 KiB); larger heads get 431.
    pub max_header_bytes: usize,
    /// How long an idle keep-alive HTTP/1 connection waits for its next request
    /// (`FERROCAT_EDGE_CLIENT_IDLE_TIMEOUT_SECS`, default 60).
    pub client_idle_timeout: Duration,
    /// Longest time a new connection may take to deliver its first request head, and longest
    /// silence while reading a request body (`FERROCAT_EDGE_CLIENT_READ_TIMEOUT_SECS`, default 60).
    pub client_read_timeout: Duration,
}

impl ClientLimits {
    /// Reads the limits, each with its default.
    pub(super) fn from_env(env: &Env) -> Result<Self, ConfigError> {
        Ok(Self {
            max_body_bytes: env.parse_or("FERROCAT_EDGE_MAX_BODY_BYTES", 32 << 20)?,
            s3_max_body_bytes: env.parse_or("FERROCAT_EDGE_S3_MAX_BODY_BYTES", 5 << 30)?,
            max_header_bytes: env.parse_or("FERROCAT_EDGE_MAX_HEADER_BYTES", 64 << 10)?,
            client_idle_timeout: secs(env, "FERROCAT_EDGE_CLIENT_IDLE_TIMEOUT_SECS", 60, 1)?,
            client_read_timeout: secs(env, "FERROCAT_EDGE_CLIENT_READ_TIMEOUT_SECS", 60, 1)?,
        })
    }
}
