//! The gateway's typed configuration: `FERROCAT_LLM_GATEWAY_*` (and the shared `FERROCAT_REDIS_*`)
//! read from an [`Env`], the model catalog loaded and its `env:` credentials captured, all
//! validated at load so that `--check-config` catches every mistake.

use std::fmt;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use hmac::{Hmac, Mac};
use secrecy::SecretString;
use sha2::Sha256;

use ferrocat_shared::config::{ConfigError, Env};
use ferrocat_shared::secrets::Keyring;

use crate::catalog::Catalog;
use crate::credentials::EnvCredentials;

/// The variable holding the caller-token signing secret.
pub const SIGNING_SECRET_VAR: &str = "FERROCAT_LLM_GATEWAY_SIGNING_SECRET";
const SHARED_SECRET_VAR: &str = "FERROCAT_SIGNING_SECRET";
const MODELS_VAR: &str = "FERROCAT_LLM_GATEWAY_MODELS";

/// Everything the gateway needs to start, validated.
#[derive(Clone)]
pub struct GatewayConfig {
    /// `FERROCAT_LLM_GATEWAY_ADDR`, default `127.0.0.1:4000`.
    pub addr: SocketAddr,
    /// Key of the caller tokens: `FERROCAT_LLM_GATEWAY_SIGNING_SECRET`, or else derived from
    /// `FERROCAT_SIGNING_SECRET` (what `ferrocat up` generates) for this one purpose.
    pub signing_secret: SecretString,
    /// The model catalog (`--models FILE` / `FERROCAT_LLM_GATEWAY_MODELS`; empty when unset).
    pub catalog: Catalog,
    /// Where the catalog came from.
    pub models_file: Option<PathBuf>,
    /// The `env:` credentials the catalog references, captured at load.
    pub credentials: EnvCredentials,
    /// Largest request body (`FERROCAT_LLM_GATEWAY_MAX_BODY_BYTES`, default 10 MiB); larger: 413.
    pub max_body_bytes: usize,
    /// Longest wait for an upstream's response head, and for a whole non-streamed body, and the
    /// longest silence inside a stream (`FERROCAT_LLM_GATEWAY_UPSTREAM_TIMEOUT_SECS`, default 600).
    pub upstream_timeout: Duration,
    /// TCP connect timeout upstream (`FERROCAT_LLM_GATEWAY_CONNECT_TIMEOUT_SECS`, default 10).
    pub connect_timeout: Duration,
    /// Upper bound on upstream attempts per call, retries and fallbacks together
    /// (`FERROCAT_LLM_GATEWAY_MAX_ATTEMPTS`, default 4).
    pub max_attempts: u32,
    /// Retries of the same deployment before its fallbacks (`FERROCAT_LLM_GATEWAY_RETRIES`,
    /// default 1).
    pub retries: u32,
    /// Pause before retrying the same deployment, doubled each time
    /// (`FERROCAT_LLM_GATEWAY_RETRY_BACKOFF_MS`, default 100).
    pub retry_backoff: Duration,
    /// Interval of SSE keep-alive comments until the first upstream event
    /// (`FERROCAT_LLM_GATEWAY_KEEPALIVE_MS`, default 10000).
    pub keepalive: Duration,
    /// Requests per minute per workspace, all models (`FERROCAT_LLM_GATEWAY_WORKSPACE_RPM`; 0: off).
    pub workspace_rpm: u64,
    /// Tokens (in + out) per minute per workspace (`FERROCAT_LLM_GATEWAY_WORKSPACE_TPM`; 0: off).
    pub workspace_tpm: u64,
    /// Redis for rate and token limits (`FERROCAT_REDIS_URL`); limits are off without it.
    pub redis_url: Option<SecretString>,
    /// Prefix of every Redis key (`FERROCAT_REDIS_PREFIX`, default `ferrocat:`).
    pub redis_prefix: String,
    /// Capacity of the usage queue (`FERROCAT_LLM_GATEWAY_USAGE_QUEUE`, default 10000); records
    /// beyond it are dropped and counted, never waited for.
    pub usage_queue: usize,
    /// Postgres (`FERROCAT_DATABASE_URL`): the catalog edited through the api, and usage rows.
    pub database_url: Option<SecretString>,
    /// Opens workspace secrets for `secret:` credentials (`FERROCAT_DB_ENCRYPTION_KEY`).
    pub keyring: Option<Keyring>,
    /// `max_tokens` sent to Anthropic when neither the caller nor the catalog sets one
    /// (`FERROCAT_LLM_GATEWAY_DEFAULT_MAX_TOKENS`, default 4096).
    pub default_max_tokens: u64,
}

impl fmt::Debug for GatewayConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("GatewayConfig")
            .field("addr", &self.addr)
            .field("models_file", &self.models_file)
            .field("models", &self.catalog.models().map(|m| m.name.as_str()).collect::<Vec<_>>())
            .field("credentials", &self.credentials)
            .field("max_body_bytes", &self.max_body_bytes)
            .field("upstream_timeout", &self.upstream_timeout)
            .field("max_attempts", &self.max_attempts)
            .field("retries", &self.retries)
            .field("workspace_rpm", &self.workspace_rpm)
            .field("workspace_tpm", &self.workspace_tpm)
            .field("redis", &self.redis_url.is_some())
            .field("database", &self.database_url.is_some())
            .field("keyring", &self.keyring.as_ref().map(Keyring::current_key_id))
            .field("redis_prefix", &self.redis_prefix)
            .finish_non_exhaustive()
    }
}

impl GatewayConfig {
    /// Reads the configuration; the catalog comes from `FERROCAT_LLM_GATEWAY_MODELS`.
    pub fn from_env(env: &Env) -> Result<Self, ConfigError> {
        Self::load(env, None)
    }

    /// Reads the configuration; `models_file` (the `--models` flag) wins over the variable.
    pub fn load(env: &Env, models_file: Option<&Path>) -> Result<Self, ConfigError> {
        let models_file = models_file.map(Path::to_path_buf).or_else(|| env.get(MODELS_VAR).map(PathBuf::from));
        let catalog = match &models_file {
            None => Catalog::default(),
            Some(path) => {
                let invalid = |reason: String| ConfigError::Invalid {
                    key: MODELS_VAR.into(),
                    value: path.display().to_string(),
                    reason,
                };
                let text = std::fs::read_to_string(path).map_err(|e| invalid(e.to_string()))?;
                Catalog::parse(&text).map_err(|e| invalid(e.to_string()))?
            }
        };
        let credentials = EnvCredentials::capture(env, catalog.env_credentials());
        if let Some(missing) = catalog.env_credentials().find(|n| !credentials.contains(n)) {
            return Err(ConfigError::Missing { key: missing.to_owned() });
        }
        let secs = |key: &str, default: u64| env.parse_or(key, default).map(Duration::from_secs);
        let millis = |key: &str, default: u64| env.parse_or(key, default).map(Duration::from_millis);
        let max_attempts = env.parse_or("FERROCAT_LLM_GATEWAY_MAX_ATTEMPTS", 4u32)?;
        if max_attempts == 0 {
            return Err(ConfigError::Invalid {
                key: "FERROCAT_LLM_GATEWAY_MAX_ATTEMPTS".into(),
                value: "0".into(),
                reason: "must be at least 1".into(),
            });
        }
        Ok(Self {
            addr: env.parse_or("FERROCAT_LLM_GATEWAY_ADDR", SocketAddr::from(([127, 0, 0, 1], 4000)))?,
            signing_secret: signing_secret(env)?,
            catalog,
            models_file,
            credentials,
            max_body_bytes: env.parse_or("FERROCAT_LLM_GATEWAY_MAX_BODY_BYTES", 10 << 20)?,
            upstream_timeout: secs("FERROCAT_LLM_GATEWAY_UPSTREAM_TIMEOUT_SECS", 600)?,
            connect_timeout: secs("FERROCAT_LLM_GATEWAY_CONNECT_TIMEOUT_SECS", 10)?,
            max_attempts,
            retries: env.parse_or("FERROCAT_LLM_GATEWAY_RETRIES", 1)?,
            retry_backoff: millis("FERROCAT_LLM_GATEWAY_RETRY_BACKOFF_MS", 100)?,
            keepalive: millis("FERROCAT_LLM_GATEWAY_KEEPALIVE_MS", 10_000)?.max(Duration::from_millis(1)),
            workspace_rpm: env.parse_or("FERROCAT_LLM_GATEWAY_WORKSPACE_RPM", 0)?,
            workspace_tpm: env.parse_or("FERROCAT_LLM_GATEWAY_WORKSPACE_TPM", 0)?,
            redis_url: env.get("FERROCAT_REDIS_URL").map(|u| SecretString::from(u.to_owned())),
            redis_prefix: env.string_or("FERROCAT_REDIS_PREFIX", "ferrocat:"),
            usage_queue: env.parse_or("FERROCAT_LLM_GATEWAY_USAGE_QUEUE", 10_000)?,
            default_max_tokens: env.parse_or("FERROCAT_LLM_GATEWAY_DEFAULT_MAX_TOKENS", 4096)?,
            database_url: env.get("FERROCAT_DATABASE_URL").map(|u| SecretString::from(u.to_owned())),
            keyring: match env.get(ferrocat_shared::secrets::KEY_VAR) {
                Some(_) => Some(Keyring::from_env(env)?),
                None => None,
            },
        })
    }

    /// Whether any limit needs Redis.
    pub fn limits_enabled(&self) -> bool {
        self.workspace_rpm > 0 || self.workspace_tpm > 0 || self.catalog.models().any(|m| m.rpm.is_some())
    }
}

/// The token signing secret: our own variable, or one derived from the shared secret with a
/// label, so a token for the gateway is never valid elsewhere.
pub fn signing_secret(env: &Env) -> Result<SecretString, ConfigError> {
    if let Some(own) = env.get(SIGNING_SECRET_VAR) {
        if own.len() < 16 {
            return Err(ConfigError::Invalid {
                key: SIGNING_SECRET_VAR.into(),
                value: "[REDACTED]".into(),
                reason: "must be at least 16 characters".into(),
            });
        }
        return Ok(SecretString::from(own.to_owned()));
    }
    match env.get(SHARED_SECRET_VAR) {
        Some(shared) => {
            let mut mac = Hmac::<Sha256>::new_from_slice(shared.as_bytes()).expect("any key length");
            mac.update(b"ferrocat llm-gateway caller tokens v1");
            Ok(SecretString::from(hex::encode(mac.finalize().into_bytes())))
        }
        None => Err(ConfigError::Missing { key: SIGNING_SECRET_VAR.into() }),
    }
}

/// Exposes nothing; here so that tests can compare derived secrets without printing them.
#[cfg(test)]
fn same(a: &SecretString, b: &SecretString) -> bool {
    use secrecy::ExposeSecret as _;
    a.expose_secret() == b.expose_secret()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_and_required_secret() {
        let err = GatewayConfig::from_env(&Env::default()).unwrap_err();
        assert_eq!(err.to_string(), "FERROCAT_LLM_GATEWAY_SIGNING_SECRET is required but not set");
        let c = GatewayConfig::from_env(&Env::from_pairs([(SIGNING_SECRET_VAR, "0123456789abcdef")])).unwrap();
        assert_eq!(c.addr.port(), 4000);
        assert_eq!(c.max_attempts, 4);
        assert!(!c.limits_enabled());
        let short = GatewayConfig::from_env(&Env::from_pairs([(SIGNING_SECRET_VAR, "short")])).unwrap_err();
        assert!(!short.to_string().contains("short"), "{short}");
    }

    #[test]
    fn derives_a_distinct_secret_from_the_shared_one() {
        let env = Env::from_pairs([(SHARED_SECRET_VAR, "shared-secret-0123456789")]);
        let derived = signing_secret(&env).unwrap();
        assert!(!same(&derived, &SecretString::from("shared-secret-0123456789".to_owned())));
        assert!(same(&derived, &signing_secret(&env).unwrap()));
    }

    #[test]
    fn catalog_credentials_must_be_set() {
        let dir = std::env::temp_dir().join(format!("ferrocat-llm-{}", uuid::Uuid::new_v4()));
        std::fs::create_dir_all(&dir).unwrap();
        let file = dir.join("models.toml");
        std::fs::write(&file, "[providers.p]\nkind='openai'\ncredential='env:P_KEY'\n[[models]]\nname='m'\nprovider='p'\n").unwrap();
        let base = [(SIGNING_SECRET_VAR, "0123456789abcdef")];
        let err = GatewayConfig::load(&Env::from_pairs(base), Some(&file)).unwrap_err();
        assert_eq!(err.to_string(), "P_KEY is required but not set");
        let ok = GatewayConfig::load(&Env::from_pairs([base[0], ("P_KEY", "sk-p")]), Some(&file)).unwrap();
        assert!(ok.catalog.get("m").is_some());
        assert!(!ok.limits_enabled() && !format!("{ok:?}").contains("sk-p"));
        let bad = GatewayConfig::load(&Env::from_pairs(base), Some(&dir.join("absent.toml"))).unwrap_err();
        assert!(bad.to_string().contains("FERROCAT_LLM_GATEWAY_MODELS"), "{bad}");
        std::fs::remove_dir_all(dir).unwrap();
    }
}
