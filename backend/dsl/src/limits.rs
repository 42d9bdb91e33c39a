//! How large a workflow may be and how far it may fan out: caps a deployment may set
//! (`FERROCAT_MAX_*`, read by `ferrocat_shared::config::workflow_limits`), installed once at
//! start by every process that parses or runs workflows, so the api that validates and the
//! workers that run agree. The expression parser's own limits
//! (length, nesting, operators in `expr::parser`) are not settings: they keep a parse within
//! a thread's stack, whatever the deployment.

use std::sync::OnceLock;

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
    /// Makes these the process's caps; false when they were already set (or read).
    pub fn install(self) -> bool {
        LIMITS.set(self).is_ok()
    }
}

/// The process's caps: what [`Limits::install`] set, else the defaults.
pub fn get() -> &'static Limits {
    LIMITS.get_or_init(Limits::default)
}
