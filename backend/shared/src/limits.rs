//! How large a workflow may be and how far it may fan out: caps a deployment may set
//! (`FERROCAT_MAX_*`), read once at start by every process that parses or runs workflows, so
//! the api that validates and the workers that run agree. The expression parser's own limits
//! (length, nesting, operators in `expr::parser`) are not settings: they keep a parse within
//! a thread's stack, whatever the deployment.

use std::sync::OnceLock;

use crate::config::{ConfigError, Env};

/// The caps of this process.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// `FERROCAT_MAX_WORKFLOW_BYTES`: the largest workflow document (YAML or JSON).
    pub max_document_bytes: usize,
    /// `FERROCAT_MAX_ACTIONS`: actions in one workflow.
    pub max_actions: usize,
    /// `FERROCAT_MAX_DEPENDS_ON`: `depends_on` entries of one action (its fan-in).
    pub max_depends_on: usize,
    /// `FERROCAT_MAX_FOR_EACH_ITEMS`: iterations of one `for_each`, items of one scatter.
    pub max_for_each_items: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Self { max_document_bytes: 4 * 1024 * 1024, max_actions: 1000, max_depends_on: 200, max_for_each_items: 10_000 }
    }
}

static LIMITS: OnceLock<Limits> = OnceLock::new();

impl Limits {
    /// The defaults with whatever `env` sets; each must be a positive whole number.
    pub fn from_env(env: &Env) -> Result<Self, ConfigError> {
        let defaults = Self::default();
        let positive = |key: &str, default: usize| -> Result<usize, ConfigError> {
            let value = env.parse_or(key, default)?;
            if value == 0 {
                return Err(ConfigError::Invalid { key: key.to_owned(), value: "0".into(), reason: "must be at least 1".into() });
            }
            Ok(value)
        };
        Ok(Self {
            max_document_bytes: positive("FERROCAT_MAX_WORKFLOW_BYTES", defaults.max_document_bytes)?,
            max_actions: positive("FERROCAT_MAX_ACTIONS", defaults.max_actions)?,
            max_depends_on: positive("FERROCAT_MAX_DEPENDS_ON", defaults.max_depends_on)?,
            max_for_each_items: positive("FERROCAT_MAX_FOR_EACH_ITEMS", defaults.max_for_each_items)?,
        })
    }

    /// Makes these the process's caps; false when they were already set (or read).
    pub fn install(self) -> bool {
        LIMITS.set(self).is_ok()
    }
}

/// The process's caps: what [`Limits::install`] set, else the defaults.
pub fn get() -> &'static Limits {
    LIMITS.get_or_init(Limits::default)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn settings_override_defaults_and_zero_or_junk_is_refused() {
        let limits = Limits::from_env(&Env::from_pairs([("FERROCAT_MAX_ACTIONS", "50"), ("FERROCAT_MAX_FOR_EACH_ITEMS", "7")])).unwrap();
        assert_eq!((limits.max_actions, limits.max_for_each_items, limits.max_depends_on), (50, 7, 200));
        for bad in ["0", "-1", "many"] {
            let error = Limits::from_env(&Env::from_pairs([("FERROCAT_MAX_DEPENDS_ON", bad)])).unwrap_err().to_string();
            assert!(error.contains("FERROCAT_MAX_DEPENDS_ON"), "{error}");
        }
    }
}
