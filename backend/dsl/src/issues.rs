//! The validation report's one item, [`ValidationIssue`], shared by the structural checks
//! (`validate`) and the scope checks (`scope`) so neither depends on the other for it.

use std::fmt;

use serde::Serialize;

/// One validation problem: where (`actions.<ref>.<field>`, `returns`, …) and what.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ValidationIssue {
    /// Location, e.g. `actions.notify.depends_on`.
    pub loc: String,
    /// What is wrong, e.g. `unknown action 'x'`.
    pub msg: String,
}

impl ValidationIssue {
    pub(crate) fn new(loc: impl Into<String>, msg: impl Into<String>) -> Self {
        ValidationIssue {
            loc: loc.into(),
            msg: msg.into(),
        }
    }
}

impl fmt::Display for ValidationIssue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.loc, self.msg)
    }
}
