//! The api's own settings, from `FERROCAT_*` variables, beside the platform's
//! ([`ferrocat_app::AppConfig`]).

use std::net::SocketAddr;

use ferrocat_app::AppConfig;
use ferrocat_shared::config::{ConfigError, Env};

/// Everything the api needs to start.
#[derive(Debug, Clone)]
pub struct ApiConfig {
    /// `FERROCAT_API_ADDR`, default `127.0.0.1:8000`.
    pub addr: SocketAddr,
    /// `FERROCAT_MAX_BODY_BYTES`, default 10 MiB.
    pub max_body_bytes: usize,
    /// The platform's settings: database, Temporal, Redis, sessions, keys.
    pub app: AppConfig,
}

impl ApiConfig {
    /// Reads and validates the configuration.
    pub fn from_env(env: &Env) -> Result<Self, ConfigError> {
        Ok(Self {
            addr: env.parse_or("FERROCAT_API_ADDR", SocketAddr::from(([127, 0, 0, 1], 8000)))?,
            max_body_bytes: env.parse_or("FERROCAT_MAX_BODY_BYTES", 10 * 1024 * 1024)?,
            app: AppConfig::from_env(env)?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_apply() {
        let config = ApiConfig::from_env(&Env::from_pairs([
            ("FERROCAT_DATABASE_URL", "postgres://localhost/x"),
            ("FERROCAT_SIGNING_SECRET", "0123456789abcdef0123"),
            ("FERROCAT_DB_ENCRYPTION_KEY", "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f"),
        ]))
        .unwrap();
        assert_eq!((config.addr.port(), config.max_body_bytes), (8000, 10 * 1024 * 1024));
    }
}
