//! Configuration of the worker and executor processes.

use ferrocat_shared::config::{ConfigError, Env};
use ferrocat_shared::temporal::TemporalConfig;

/// What the DSL worker and the executor need to start.
#[derive(Debug, Clone)]
pub struct WorkerConfig {
    /// Temporal endpoint and queues.
    pub temporal: TemporalConfig,
}

impl WorkerConfig {
    /// Reads `FERROCAT_TEMPORAL_*` and `FERROCAT_EXECUTOR_QUEUE`.
    pub fn from_env(env: &Env) -> Result<Self, ConfigError> {
        Ok(Self { temporal: TemporalConfig::from_env(env)? })
    }
}
