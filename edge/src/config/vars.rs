//! Reading single `FERROCAT_EDGE_*` variables: the typed helpers every area of the settings
//! shares, and the [`ConfigError`]s they fail with.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use ferrocat_shared::config::{ConfigError, Env};

/// Whole seconds from `key` (`default` when unset), at least `min`.
pub(super) fn secs(env: &Env, key: &str, default: u64, min: u64) -> Result<Duration, ConfigError> {
    let value = env.parse_or(key, default)?;
    if value < min {
        return Err(invalid(
            key,
            &value.to_string(),
            format!("must be at least {min}"),
        ));
    }
    Ok(Duration::from_secs(value))
}

pub(super) fn path_opt(env: &Env, key: &str) -> Option<PathBuf> {
    env.get(key).filter(|v| !v.is_empty()).map(PathBuf::from)
}

pub(super) fn parse_addr(raw: &str) -> SocketAddr {
    raw.parse().expect("built-in default address parses")
}

pub(super) fn invalid(key: &str, value: &str, reason: impl Into<String>) -> ConfigError {
    ConfigError::Invalid {
        key: key.to_owned(),
        value: value.to_owned(),
        reason: reason.into(),
    }
}

pub(super) fn missing(key: &str) -> ConfigError {
    ConfigError::Missing {
        key: key.to_owned(),
    }
}
