//! What actions share across calls (the HTTP client under the egress policy, Redis, the model
//! gateway), built from [`ActionSettings`], which are read and checked whole at start.

use std::sync::Arc;

use ferrocat_shared::config::{ConfigError, Env};
use ferrocat_shared::egress::{EgressClient, EgressPolicy, Mode};

use crate::actions::cases::port::CaseHost;
use crate::actions::tables::port::TableHost;
use crate::actions::http;
use crate::dedup_store::{RedisSettings, RedisStore};
use crate::gateway::{AiGateway, GatewaySettings};

/// `strict` (the services' default) or `permissive` (`ferrocat run`'s): see
/// [`ferrocat_shared::egress`].
pub const MODE_KEY: &str = "FERROCAT_EGRESS_MODE";

/// The settings of the actions' shared clients, read from the environment without connecting
/// anywhere, so `--check-config` refuses a bad one before anything starts.
#[derive(Debug, Clone)]
pub struct ActionSettings {
    /// `FERROCAT_EGRESS_MODE` / `_ALLOW` / `_DENY`, and the stack's own services.
    pub egress: EgressPolicy,
    /// `FERROCAT_REDIS_URL` and `FERROCAT_REDIS_PREFIX`, for persistent deduplication.
    pub redis: Option<RedisSettings>,
    /// `FERROCAT_LLM_GATEWAY_URL` (or `_ADDR`) and its signing secret, for `ai.*`.
    pub gateway: Option<GatewaySettings>,
}

impl ActionSettings {
    /// Reads and checks every setting the actions use.
    pub fn from_env(env: &Env) -> Result<Self, ConfigError> {
        let mode = env.parse_or(MODE_KEY, Mode::Strict)?;
        Ok(Self {
            egress: EgressPolicy::from_env(env, mode)?,
            redis: RedisSettings::from_env(env)?,
            gateway: GatewaySettings::from_env(env)?,
        })
    }
}

/// What actions share across calls: the HTTP client and, when configured, Redis and the model
/// gateway.
pub struct ActionDeps {
    /// The shared HTTP client ([`http::client`]); its egress policy also governs the sandbox's
    /// network and SMTP.
    pub http: EgressClient,
    /// Redis for `core.transform.deduplicate` / `is_duplicate` with `persist`.
    pub redis: Option<RedisStore>,
    /// The model gateway for `ai.action` and `ai.agent`.
    pub ai: Option<AiGateway>,
    /// The use cases behind `core.cases.*` (the executor binds them to its database).
    pub cases: Option<Arc<dyn CaseHost>>,
    /// The use cases behind `core.table.*` (the executor binds them to its database).
    pub tables: Option<Arc<dyn TableHost>>,
}

impl ActionDeps {
    /// The clients `settings` describe (no connection is opened yet).
    pub fn new(settings: &ActionSettings) -> anyhow::Result<Self> {
        Ok(Self {
            http: http::client(Arc::new(settings.egress.clone()))?,
            redis: settings.redis.as_ref().map(RedisStore::new).transpose()?,
            ai: settings.gateway.as_ref().map(AiGateway::new).transpose()?,
            cases: None,
            tables: None,
        })
    }

    /// Only the HTTP client (no Redis, no gateway): what tests and one-off calls need.
    pub fn with_http(http: EgressClient) -> Self {
        Self { http, redis: None, ai: None, cases: None, tables: None }
    }

    /// [`ActionSettings::from_env`] then [`ActionDeps::new`].
    pub fn from_env(env: &Env) -> anyhow::Result<Self> {
        Self::new(&ActionSettings::from_env(env)?)
    }
}
