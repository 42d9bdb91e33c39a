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
