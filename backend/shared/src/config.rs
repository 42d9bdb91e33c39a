//! Configuration sources. Every service builds its typed `Config` from an [`Env`], which is the
//! process environment in production and a plain map in tests (so tests never call `set_var`).

use std::collections::BTreeMap;
use std::fmt::Display;
use std::str::FromStr;

/// A snapshot of `KEY=value` configuration, usually `FERROCAT_*` environment variables.
#[derive(Debug, Clone, Default)]
pub struct Env {
    vars: BTreeMap<String, String>,
}

/// A configuration value that is missing or does not parse.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("{key} is required but not set")]
    Missing { key: String },
    #[error("{key}={value:?} is invalid: {reason}")]
    Invalid { key: String, value: String, reason: String },
}

impl Env {
    /// The process environment.
    pub fn from_process() -> Self {
        Self { vars: std::env::vars().collect() }
    }

    /// A fixed set of variables, for tests and for child processes.
    pub fn from_pairs<K: Into<String>, V: Into<String>>(pairs: impl IntoIterator<Item = (K, V)>) -> Self {
        Self { vars: pairs.into_iter().map(|(k, v)| (k.into(), v.into())).collect() }
    }

    /// The raw value of `key`; empty strings count as unset.
    pub fn get(&self, key: &str) -> Option<&str> {
        self.vars.get(key).map(String::as_str).filter(|v| !v.is_empty())
    }

    /// `key` parsed, or `default` when unset.
    pub fn parse_or<T>(&self, key: &str, default: T) -> Result<T, ConfigError>
    where
        T: FromStr,
        T::Err: Display,
    {
        Ok(self.parse_opt(key)?.unwrap_or(default))
    }

    /// `key` parsed; `None` when unset.
    pub fn parse_opt<T>(&self, key: &str) -> Result<Option<T>, ConfigError>
    where
        T: FromStr,
        T::Err: Display,
    {
        let Some(raw) = self.get(key) else { return Ok(None) };
        raw.parse().map(Some).map_err(|e: T::Err| ConfigError::Invalid {
            key: key.to_owned(),
            value: raw.to_owned(),
            reason: e.to_string(),
        })
    }

    /// `key` as a string, or `default` when unset.
    pub fn string_or(&self, key: &str, default: &str) -> String {
        self.get(key).unwrap_or(default).to_owned()
    }

    /// `key` as a string, which must be set.
    pub fn required(&self, key: &str) -> Result<String, ConfigError> {
        self.get(key).map(str::to_owned).ok_or_else(|| ConfigError::Missing { key: key.to_owned() })
    }
}

/// `FERROCAT_SHUTDOWN_GRACE`: how many seconds a service, once asked to stop, lets work in
/// flight finish (requests, `/wait` calls, activities) before it exits anyway; default 30.
pub fn shutdown_grace(env: &Env) -> Result<std::time::Duration, ConfigError> {
    Ok(std::time::Duration::from_secs(env.parse_or("FERROCAT_SHUTDOWN_GRACE", 30u64)?))
}

/// The workflow caps (`ferrocat_dsl::limits`): the defaults with whatever `env` sets
/// (`FERROCAT_MAX_WORKFLOW_BYTES`, `_ACTIONS`, `_DEPENDS_ON`, `_FOR_EACH_ITEMS`); each must be a
/// positive whole number.
pub fn workflow_limits(env: &Env) -> Result<ferrocat_dsl::limits::Limits, ConfigError> {
    let defaults = ferrocat_dsl::limits::Limits::default();
    let positive = |key: &str, default: usize| -> Result<usize, ConfigError> {
        let value = env.parse_or(key, default)?;
        if value == 0 {
            return Err(ConfigError::Invalid { key: key.to_owned(), value: "0".into(), reason: "must be at least 1".into() });
        }
        Ok(value)
    };
    Ok(ferrocat_dsl::limits::Limits {
        max_document_bytes: positive("FERROCAT_MAX_WORKFLOW_BYTES", defaults.max_document_bytes)?,
        max_actions: positive("FERROCAT_MAX_ACTIONS", defaults.max_actions)?,
        max_depends_on: positive("FERROCAT_MAX_DEPENDS_ON", defaults.max_depends_on)?,
        max_for_each_items: positive("FERROCAT_MAX_FOR_EACH_ITEMS", defaults.max_for_each_items)?,
    })
}

#[cfg(test)]
mod limits_tests {
    use super::*;

    #[test]
    fn limit_settings_override_defaults_and_zero_or_junk_is_refused() {
        let limits = workflow_limits(&Env::from_pairs([("FERROCAT_MAX_ACTIONS", "50"), ("FERROCAT_MAX_FOR_EACH_ITEMS", "7")])).unwrap();
        assert_eq!((limits.max_actions, limits.max_for_each_items, limits.max_depends_on), (50, 7, 200));
        for bad in ["0", "-1", "many"] {
            let error = workflow_limits(&Env::from_pairs([("FERROCAT_MAX_DEPENDS_ON", bad)])).unwrap_err().to_string();
            assert!(error.contains("FERROCAT_MAX_DEPENDS_ON"), "{error}");
        }
    }
}
