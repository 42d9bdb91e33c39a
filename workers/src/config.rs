//! Configuration of the worker and executor processes, read and checked whole at start (so
//! `--check-config` refuses any bad setting before a process connects anywhere).

use secrecy::SecretString;

use ferrocat_registry::ActionSettings;
use ferrocat_shared::config::{ConfigError, Env};
use ferrocat_shared::objects::ResultStoreConfig;
use ferrocat_shared::secrets::Keyring;
use ferrocat_shared::temporal::TemporalConfig;

/// What the DSL worker and the executor need to start.
#[derive(Debug, Clone)]
pub struct WorkerConfig {
    /// Temporal endpoint and queues.
    pub temporal: TemporalConfig,
    /// `FERROCAT_DATABASE_URL`: the worker resolves subflow definitions from it, the executor
    /// reads secrets from it. Without it, `core.workflow.execute` and `SECRETS` fail with a
    /// message saying so.
    pub database_url: Option<SecretString>,
    /// What the executor's actions use.
    pub executor: ExecutorConfig,
    /// The DSL worker's place in Temporal's worker versioning (`FERROCAT_WORKER_VERSIONING`,
    /// `FERROCAT_WORKER_DEPLOYMENT`, `FERROCAT_WORKER_BUILD_ID`).
    pub versioning: crate::versioning::Versioning,
}

impl WorkerConfig {
    /// Reads `FERROCAT_TEMPORAL_*`, `FERROCAT_EXECUTOR_QUEUE`, `FERROCAT_DATABASE_URL`,
    /// `FERROCAT_WORKER_*` and every setting of [`ExecutorConfig`].
    pub fn from_env(env: &Env) -> Result<Self, ConfigError> {
        Ok(Self {
            temporal: TemporalConfig::from_env(env)?,
            database_url: env.get("FERROCAT_DATABASE_URL").map(|url| SecretString::from(url.to_owned())),
            executor: ExecutorConfig::from_env(env)?,
            versioning: crate::versioning::Versioning::from_env(env)?,
        })
    }
}

/// What an executor runs actions with.
#[derive(Debug, Clone)]
pub struct ExecutorConfig {
    /// The egress policy (`FERROCAT_EGRESS_*`), Redis (`FERROCAT_REDIS_*`) and the model
    /// gateway (`FERROCAT_LLM_GATEWAY_*`).
    pub actions: ActionSettings,
    /// Object storage for results above the threshold (`FERROCAT_S3_*`, `FERROCAT_RESULT_*`).
    pub results: Option<ResultStoreConfig>,
    /// The secrets store: `FERROCAT_DATABASE_URL` and the keys that open secrets
    /// (`FERROCAT_DB_ENCRYPTION_KEY`, retired ones too), when both are set.
    pub secrets: Option<(SecretString, Keyring)>,
    /// The OAuth providers (`FERROCAT_OAUTH_PROVIDERS` adds to the shipped ones), for refreshing
    /// integrations' tokens.
    pub oauth: std::sync::Arc<ferrocat_shared::oauth::Catalog>,
    /// Where `core.cases.*` keep attachments, and their limits (`FERROCAT_ATTACHMENT*`).
    pub attachments: ferrocat_shared::objects::AttachmentSettings,
}

impl ExecutorConfig {
    /// Reads every setting the executor's actions, result store and secrets store use.
    pub fn from_env(env: &Env) -> Result<Self, ConfigError> {
        let secrets = match (env.get("FERROCAT_DATABASE_URL"), env.get(ferrocat_shared::secrets::KEY_VAR)) {
            (Some(url), Some(_)) => Some((SecretString::from(url.to_owned()), Keyring::from_env(env)?)),
            _ => None,
        };
        Ok(Self {
            actions: ActionSettings::from_env(env)?,
            results: ResultStoreConfig::from_env(env)?,
            secrets,
            oauth: std::sync::Arc::new(ferrocat_shared::oauth::Catalog::from_env(env)?),
            attachments: ferrocat_shared::objects::AttachmentSettings::from_env(env)?,
        })
    }
}
