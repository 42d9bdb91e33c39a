//! The platform's settings, from `FERROCAT_*` variables: what the use cases need whichever
//! face (api, MCP) serves them.

use std::sync::Arc;
use std::time::Duration;

use secrecy::SecretString;

use ferrocat_shared::config::{ConfigError, Env};
use ferrocat_shared::secrets::Keyring;
use ferrocat_shared::temporal::TemporalConfig;

/// Everything the use cases need.
#[derive(Debug, Clone)]
pub struct AppConfig {
    /// `FERROCAT_DATABASE_URL`.
    pub database_url: SecretString,
    /// `FERROCAT_PUBLIC_URL`: the edge's public URL, used in webhook URLs and cookie flags.
    pub public_url: String,
    /// `FERROCAT_SIGNING_SECRET`: derives webhook URL secrets.
    pub signing_secret: SecretString,
    /// `FERROCAT_ADMIN_EMAIL` / `FERROCAT_ADMIN_PASSWORD`: the first admin, created at start.
    pub admin: Option<(String, SecretString)>,
    /// `FERROCAT_SESSION_TTL_SECONDS`, default 7 days.
    pub session_ttl_seconds: i64,
    /// `FERROCAT_SESSION_IDLE_SECONDS`, default 8 hours: a session unused for this long ends,
    /// whatever its absolute expiry.
    pub session_idle_seconds: i64,
    /// `FERROCAT_MIN_PASSWORD_LENGTH`, default 12.
    pub min_password_length: usize,
    /// Temporal endpoint and queues.
    pub temporal: TemporalConfig,
    /// `FERROCAT_DB_ENCRYPTION_KEY` (+ `FERROCAT_DB_ENCRYPTION_KEYS_OLD`): seals secret values.
    pub keyring: Arc<Keyring>,
    /// `FERROCAT_REDIS_URL`, default `redis://127.0.0.1:6379` (may hold a password).
    pub redis_url: SecretString,
    /// `FERROCAT_REDIS_PREFIX`, default `ferrocat:`: every Redis key starts with it.
    pub redis_prefix: String,
    /// `FERROCAT_WEBHOOK_RATE_LIMIT`: requests each webhook accepts per window, default 600;
    /// 0 turns the limit off.
    pub webhook_rate_limit: u64,
    /// `FERROCAT_WEBHOOK_RATE_WINDOW_SECONDS`, default 60.
    pub webhook_rate_window: Duration,
    /// `FERROCAT_WEBHOOK_MAX_PAYLOAD_BYTES`, default 1 MiB: the largest trigger (as JSON, with
    /// headers when a webhook includes them) a webhook passes to a run; beyond it 413. Temporal
    /// refuses a start whose input passes its blob limit (2 MiB by default), trigger and
    /// workflow definition together.
    pub webhook_max_payload_bytes: usize,
    /// `FERROCAT_WEBHOOK_MAX_INFLIGHT`, default 256: webhook requests the api takes in at once
    /// (from arrival to the run's start); more get 503 with Retry-After, so a flood sheds load
    /// instead of growing a queue.
    pub webhook_max_inflight: usize,
    /// Sign-in lockout: failures allowed per account and per client address within the lockout
    /// window before further attempts get 429.
    pub login: LoginLimits,
    /// Object storage holding results too large for history (`FERROCAT_S3_*`), read back when
    /// a run is shown.
    pub results: Option<ferrocat_shared::objects::ResultStoreConfig>,
    /// The OAuth providers integrations may use (`FERROCAT_OAUTH_PROVIDERS` adds to the shipped
    /// ones).
    pub oauth: Arc<ferrocat_shared::oauth::Catalog>,
    /// The egress policy (`FERROCAT_EGRESS_*`, strict by default) that token requests to OAuth
    /// providers pass, as actions' requests do.
    pub egress: Arc<ferrocat_shared::egress::EgressPolicy>,
    /// `FERROCAT_CASE_TRIGGERS_ENABLED`, default true: whether this api delivers case events to
    /// the workflows subscribed to them (several apis may; each event is delivered once).
    pub case_triggers: bool,
    /// Where case attachments are kept and their limits (`FERROCAT_ATTACHMENT*`).
    pub attachments: ferrocat_shared::objects::AttachmentSettings,
    /// `FERROCAT_TABLE_IMPORT_MAX_BYTES`, default 50 MiB: the largest CSV file a table imports.
    pub table_import_max_bytes: u64,
    /// Single sign-on through an OpenID Connect provider (`FERROCAT_OIDC_*`), when configured.
    pub oidc: Option<crate::sso::OidcConfig>,
}

/// Sign-in lockout settings.
#[derive(Debug, Clone, Copy)]
pub struct LoginLimits {
    /// `FERROCAT_LOGIN_MAX_FAILURES`, default 5 per account (known or not).
    pub max_failures: u64,
    /// `FERROCAT_LOGIN_MAX_FAILURES_PER_ADDRESS`, default 20 per client address.
    pub max_failures_per_address: u64,
    /// `FERROCAT_LOGIN_LOCKOUT_SECONDS`, default 900: how long failures are counted, and so how
    /// long a lockout lasts.
    pub lockout: Duration,
}

impl AppConfig {
    /// Reads and validates the configuration.
    pub fn from_env(env: &Env) -> Result<Self, ConfigError> {
        let public_url = env.string_or("FERROCAT_PUBLIC_URL", "http://localhost:8080");
        if !(public_url.starts_with("http://") || public_url.starts_with("https://")) {
            return Err(ConfigError::Invalid {
                key: "FERROCAT_PUBLIC_URL".into(),
                value: public_url,
                reason: "must start with http:// or https://".into(),
            });
        }
        let signing_secret = env.required("FERROCAT_SIGNING_SECRET")?;
        if signing_secret.len() < 16 {
            return Err(ConfigError::Invalid {
                key: "FERROCAT_SIGNING_SECRET".into(),
                value: "<redacted>".into(),
                reason: "must be at least 16 characters".into(),
            });
        }
        let keyring = Arc::new(Keyring::from_env(env)?);
        let min_password_length = env.parse_or("FERROCAT_MIN_PASSWORD_LENGTH", 12usize)?;
        let admin = match (env.get("FERROCAT_ADMIN_EMAIL"), env.get("FERROCAT_ADMIN_PASSWORD")) {
            (Some(email), Some(password)) => {
                if !email.contains('@') {
                    return Err(ConfigError::Invalid {
                        key: "FERROCAT_ADMIN_EMAIL".into(),
                        value: email.into(),
                        reason: "not an email address".into(),
                    });
                }
                if password.chars().count() < min_password_length {
                    return Err(ConfigError::Invalid {
                        key: "FERROCAT_ADMIN_PASSWORD".into(),
                        value: "<redacted>".into(),
                        reason: format!("must be at least {min_password_length} characters"),
                    });
                }
                Some((email.to_owned(), SecretString::from(password.to_owned())))
            }
            (None, None) => None,
            (Some(_), None) => return Err(ConfigError::Missing { key: "FERROCAT_ADMIN_PASSWORD".into() }),
            (None, Some(_)) => return Err(ConfigError::Missing { key: "FERROCAT_ADMIN_EMAIL".into() }),
        };
        let redis_url = env.string_or("FERROCAT_REDIS_URL", "redis://127.0.0.1:6379");
        if let Err(e) = redis::Client::open(redis_url.as_str()) {
            return Err(ConfigError::Invalid { key: "FERROCAT_REDIS_URL".into(), value: "<redacted>".into(), reason: e.to_string() });
        }
        let webhook_max_inflight = env.parse_or("FERROCAT_WEBHOOK_MAX_INFLIGHT", 256usize)?;
        if !(1..=tokio::sync::Semaphore::MAX_PERMITS).contains(&webhook_max_inflight) {
            return Err(ConfigError::Invalid {
                key: "FERROCAT_WEBHOOK_MAX_INFLIGHT".into(),
                value: webhook_max_inflight.to_string(),
                reason: "must be at least 1".into(),
            });
        }
        let webhook_rate_window = env.parse_or("FERROCAT_WEBHOOK_RATE_WINDOW_SECONDS", 60u64)?;
        if webhook_rate_window == 0 {
            return Err(ConfigError::Invalid {
                key: "FERROCAT_WEBHOOK_RATE_WINDOW_SECONDS".into(),
                value: "0".into(),
                reason: "must be at least 1".into(),
            });
        }
        let session_idle_seconds = env.parse_or("FERROCAT_SESSION_IDLE_SECONDS", 8 * 3600i64)?;
        if session_idle_seconds < 60 {
            return Err(ConfigError::Invalid {
                key: "FERROCAT_SESSION_IDLE_SECONDS".into(),
                value: session_idle_seconds.to_string(),
                reason: "must be at least 60".into(),
            });
        }
        let lockout = env.parse_or("FERROCAT_LOGIN_LOCKOUT_SECONDS", 900u64)?;
        let login = LoginLimits {
            max_failures: env.parse_or("FERROCAT_LOGIN_MAX_FAILURES", 5u64)?,
            max_failures_per_address: env.parse_or("FERROCAT_LOGIN_MAX_FAILURES_PER_ADDRESS", 20u64)?,
            lockout: Duration::from_secs(lockout),
        };
        for (key, value) in [
            ("FERROCAT_LOGIN_LOCKOUT_SECONDS", lockout),
            ("FERROCAT_LOGIN_MAX_FAILURES", login.max_failures),
            ("FERROCAT_LOGIN_MAX_FAILURES_PER_ADDRESS", login.max_failures_per_address),
        ] {
            if value == 0 {
                return Err(ConfigError::Invalid { key: key.into(), value: "0".into(), reason: "must be at least 1".into() });
            }
        }
        Ok(Self {
            login,
            redis_url: SecretString::from(redis_url),
            redis_prefix: env.string_or("FERROCAT_REDIS_PREFIX", "ferrocat:"),
            webhook_rate_limit: env.parse_or("FERROCAT_WEBHOOK_RATE_LIMIT", 600u64)?,
            webhook_rate_window: Duration::from_secs(webhook_rate_window),
            webhook_max_payload_bytes: env.parse_or("FERROCAT_WEBHOOK_MAX_PAYLOAD_BYTES", 1024 * 1024)?,
            webhook_max_inflight,
            database_url: SecretString::from(env.required("FERROCAT_DATABASE_URL")?),
            public_url: public_url.trim_end_matches('/').to_owned(),
            signing_secret: SecretString::from(signing_secret),
            admin,
            session_ttl_seconds: env.parse_or("FERROCAT_SESSION_TTL_SECONDS", 7 * 24 * 3600)?,
            session_idle_seconds,
            min_password_length,
            temporal: TemporalConfig::from_env(env)?,
            keyring,
            // Download links go through the edge's /s3 unless configured otherwise.
            results: ferrocat_shared::objects::ResultStoreConfig::from_env(env)?.map(|mut results| {
                results.presign_base.get_or_insert_with(|| format!("{}/s3", public_url.trim_end_matches('/')));
                results
            }),
            oauth: Arc::new(ferrocat_shared::oauth::Catalog::from_env(env)?),
            egress: Arc::new(ferrocat_registry::ActionSettings::from_env(env)?.egress),
            case_triggers: env.parse_or("FERROCAT_CASE_TRIGGERS_ENABLED", true)?,
            attachments: ferrocat_shared::objects::AttachmentSettings::from_env(env)?,
            table_import_max_bytes: env.parse_or("FERROCAT_TABLE_IMPORT_MAX_BYTES", 50 * 1024 * 1024u64)?,
            oidc: crate::sso::OidcConfig::from_env(env)?,
        })
    }

    /// Whether cookies must be `Secure` (the public URL is https).
    pub fn secure_cookies(&self) -> bool {
        self.public_url.starts_with("https://")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn base() -> Vec<(&'static str, &'static str)> {
        vec![
            ("FERROCAT_DATABASE_URL", "postgres://localhost/x"),
            ("FERROCAT_SIGNING_SECRET", "0123456789abcdef0123"),
            ("FERROCAT_DB_ENCRYPTION_KEY", "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f"),
        ]
    }

    #[test]
    fn defaults_apply() {
        let config = AppConfig::from_env(&Env::from_pairs(base())).unwrap();
        assert!(config.admin.is_none());
        assert!(!config.secure_cookies());
    }

    #[test]
    fn rejects_short_admin_password_without_echoing_it() {
        let mut vars = base();
        vars.push(("FERROCAT_ADMIN_EMAIL", "a@b.c"));
        vars.push(("FERROCAT_ADMIN_PASSWORD", "short-pw"));
        let err = AppConfig::from_env(&Env::from_pairs(vars)).unwrap_err().to_string();
        assert!(err.contains("FERROCAT_ADMIN_PASSWORD"), "{err}");
        assert!(!err.contains("short-pw"), "{err}");
    }

    #[test]
    fn requires_a_valid_encryption_key_without_echoing_it() {
        let mut vars: Vec<_> = base().into_iter().filter(|(k, _)| *k != "FERROCAT_DB_ENCRYPTION_KEY").collect();
        let err = AppConfig::from_env(&Env::from_pairs(vars.clone())).unwrap_err().to_string();
        assert_eq!(err, "FERROCAT_DB_ENCRYPTION_KEY is required but not set");
        vars.push(("FERROCAT_DB_ENCRYPTION_KEY", "too-short-key-material"));
        let err = AppConfig::from_env(&Env::from_pairs(vars)).unwrap_err().to_string();
        assert!(err.contains("FERROCAT_DB_ENCRYPTION_KEY") && !err.contains("too-short"), "{err}");
    }

    #[test]
    fn requires_signing_secret() {
        let err = AppConfig::from_env(&Env::from_pairs([("FERROCAT_DATABASE_URL", "postgres://x/y")])).unwrap_err();
        assert_eq!(err.to_string(), "FERROCAT_SIGNING_SECRET is required but not set");
    }
}
