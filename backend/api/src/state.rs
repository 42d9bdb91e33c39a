//! The state every handler shares.

use std::sync::Arc;

use sqlx::PgPool;

use crate::config::ApiConfig;
use crate::rate_limit::RateLimiter;

/// Cheap to clone: pools and clients are shared.
#[derive(Clone)]
pub struct AppState {
    pub db: PgPool,
    pub temporal: temporalio_client::Client,
    pub config: Arc<ApiConfig>,
    /// Counters in Redis (webhook rate limits, sign-in failures).
    pub limiter: RateLimiter,
    /// Reads back results kept in object storage.
    pub results: Option<ferrocat_shared::objects::ResultStore>,
}
