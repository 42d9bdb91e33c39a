//! The workflow language, with no I/O: the YAML/JSON document model (`Workflow`,
//! `ActionStatement`, …), parsing of the bare definition or Tracecat's export wrapper, the
//! dependency graph, structural validation, deriving action refs from titles, the expression
//! language and its FN library (`expr`), and the caps a deployment sets on all of them (`limits`).

pub mod expr;
pub mod limits;

mod expects;
mod issues;
mod model;
mod scope;
mod slug;
mod validate;

pub use expects::{TypeExpr, coerce, expected_field, expects_schema, normalize_fields, normalize_trigger_inputs};
pub use issues::ValidationIssue;
pub use model::{
    ActionStatement, Edge, EdgeKind, Entrypoint, ExpectedField, JoinStrategy, RetryPolicy,
    MAX_SECONDS, RunConfig, Trigger, TriggerKind, Workflow, WorkflowExport, dependencies, parse_dependency, seconds,
};
pub use scope::{EXECUTE, GATHER, LOOP_END, LOOP_START, SCATTER, Scope, ScopeKind, ScopePlan, plan_scopes};
pub use slug::{slugify, slugify_ref};

/// What parsing a workflow document can fail with.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum DslError {
    /// The text is neither valid YAML nor valid JSON.
    #[error("invalid workflow yaml/json: {msg}")]
    Syntax {
        /// Parser message with line and column.
        msg: String,
    },
    /// The document is not a mapping.
    #[error("workflow document must be a mapping, got {found}")]
    Shape {
        /// Python type name of what was found.
        found: &'static str,
    },
    /// The mapping does not match the DSL (missing or mistyped field).
    #[error("invalid workflow definition: {msg}")]
    Invalid {
        /// Which field and why.
        msg: String,
    },
    /// A `depends_on` entry with a suffix other than `.success` / `.error`.
    #[error("invalid dependency '{dep}': the suffix must be .success or .error")]
    Dependency {
        /// The entry as written.
        dep: String,
    },
    /// An `expects` type expression that does not parse.
    #[error("invalid type '{ty}': {msg}")]
    Type {
        /// The type expression.
        ty: String,
        /// What is wrong and where.
        msg: String,
    },
    /// Trigger inputs that do not match `entrypoint.expects` (Tracecat's message).
    #[error("Failed to validate trigger inputs:\n{}", numbered(errors))]
    TriggerInputs {
        /// One `field: problem` line per error.
        errors: Vec<String>,
    },
    /// An `entrypoint.expects` entry that does not match the field schema.
    #[error("invalid entrypoint.expects.{field}: {msg}")]
    Expects {
        /// Field name.
        field: String,
        /// What is wrong.
        msg: String,
    },
}

/// `1. first\n2. second`, as Tracecat lists validation errors.
fn numbered(errors: &[String]) -> String {
    errors
        .iter()
        .enumerate()
        .map(|(i, e)| format!("{}. {e}", i + 1))
        .collect::<Vec<_>>()
        .join("\n")
}

#[cfg(test)]
mod tests;
