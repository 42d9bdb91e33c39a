//! Configuration of the worker and executor processes.

use secrecy::SecretString;

use ferrocat_shared::config::{ConfigError, Env};
use ferrocat_shared::egress::{EgressPolicy, Mode};
use ferrocat_shared::temporal::TemporalConfig;

/// What the DSL worker and the executor need to start.
#[derive(Debug, Clone)]
pub struct WorkerConfig {
    /// Temporal endpoint and queues.
    pub temporal: TemporalConfig,
    /// `FERROCAT_DATABASE_URL`: the worker resolves subflow definitions from it. Without it,
    /// `core.workflow.execute` fails with a message saying so.
    pub database_url: Option<SecretString>,
    /// The egress policy of the executor's actions (`FERROCAT_EGRESS_*`), checked at start.
    pub egress: EgressPolicy,
}

impl WorkerConfig {
    /// Reads `FERROCAT_TEMPORAL_*`, `FERROCAT_EXECUTOR_QUEUE`, `FERROCAT_DATABASE_URL` and
    /// `FERROCAT_EGRESS_*`.
    pub fn from_env(env: &Env) -> Result<Self, ConfigError> {
        Ok(Self {
            temporal: TemporalConfig::from_env(env)?,
            database_url: env.get("FERROCAT_DATABASE_URL").map(|url| SecretString::from(url.to_owned())),
            egress: EgressPolicy::from_env(env, env.parse_or(crate::actions::MODE_KEY, Mode::Strict)?)?,
        })
    }
}
