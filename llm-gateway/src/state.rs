//! What every handler shares: the configuration, the catalog in force, the token key, the
//! credentials, the upstream HTTP client, the limiter, the usage queue and the metrics.

use std::ops::Deref;
use std::sync::Arc;

use crate::auth::TokenKey;
use crate::config::GatewayConfig;
use crate::credentials::CredentialSource;
use crate::metrics::Metrics;
use crate::ratelimit::RateLimiter;
use crate::store::LiveCatalog;
use crate::usage::UsageRecorder;

/// What every handler shares.
pub struct Shared {
    pub config: GatewayConfig,
    /// The catalog in force (the file's, over the api's when a database is configured).
    pub catalog: Arc<LiveCatalog>,
    pub key: TokenKey,
    pub credentials: Arc<dyn CredentialSource>,
    pub http: reqwest::Client,
    pub limiter: Option<RateLimiter>,
    pub usage: UsageRecorder,
    pub metrics: Arc<Metrics>,
}

/// The handlers' state (cheap to clone).
#[derive(Clone)]
pub struct AppState(pub(crate) Arc<Shared>);

impl Deref for AppState {
    type Target = Shared;
    fn deref(&self) -> &Shared {
        &self.0
    }
}
