//! What an action can fail with: the message is what users see.

use ferrocat_shared::temporal::error_types;

/// Why an action failed. The message is shown to the user as the action's error.
#[derive(Debug, thiserror::Error)]
pub enum ActionError {
    #[error("unknown action '{0}'")]
    Unknown(String),
    #[error("invalid arguments: {0}")]
    Invalid(String),
    #[error("{0}")]
    Expression(String),
    #[error("{0}")]
    Http(String),
    /// A Python `ValueError` in Tracecat (bad values, rejected lambdas).
    #[error("ValueError: {0}")]
    Value(String),
    /// A failed check (`core.require`).
    #[error("AssertionError: {0}")]
    Assertion(String),
    /// A user's Python code failed; the message names the Python exception.
    #[error("{0}")]
    Python(String),
    /// The sandbox itself could not run (host problem, not the user's code).
    #[error("sandbox error: {0}")]
    Sandbox(String),
    /// A stored result could not be written to or read from object storage.
    #[error("{0}")]
    Storage(String),
    /// A service the platform runs on (its database) could not be reached: not the action's
    /// fault, tried again without spending the author's attempts.
    #[error("{0}")]
    Unavailable(String),
    #[error("LoopExecutionError: iteration {iteration} failed: {source}")]
    Loop { iteration: usize, source: Box<ActionError> },
    /// A template's step failed; nothing of the template's result is returned.
    #[error("{action}: step '{step}' failed: {source}")]
    Step { action: String, step: String, source: Box<ActionError> },
    /// Another error whose message had secret values replaced by `***`.
    #[error("{message}")]
    Masked { message: String, type_name: &'static str, retryable: bool, infrastructure: bool },
}

impl ActionError {
    /// Whether trying again could succeed (a retry policy decides whether it will).
    pub fn is_retryable(&self) -> bool {
        match self {
            ActionError::Http(_) | ActionError::Sandbox(_) | ActionError::Storage(_) | ActionError::Unavailable(_) => true,
            ActionError::Loop { source, .. } | ActionError::Step { source, .. } => source.is_retryable(),
            ActionError::Masked { retryable, .. } => *retryable,
            _ => false,
        }
    }

    /// Whether the platform, not the action, failed (its object store or database could not be
    /// reached): such an attempt does not count against the author's `max_attempts`.
    pub fn is_infrastructure(&self) -> bool {
        match self {
            ActionError::Storage(_) | ActionError::Unavailable(_) => true,
            ActionError::Loop { source, .. } | ActionError::Step { source, .. } => source.is_infrastructure(),
            ActionError::Masked { infrastructure, .. } => *infrastructure,
            _ => false,
        }
    }

    /// The failure type recorded in history and shown by the api.
    pub fn type_name(&self) -> &'static str {
        match self {
            ActionError::Unknown(_) => error_types::UNKNOWN_ACTION,
            ActionError::Masked { type_name, .. } => type_name,
            ActionError::Step { source, .. } => source.type_name(),
            ActionError::Storage(_) => "StorageError",
            ActionError::Unavailable(_) => "UnavailableError",
            _ => error_types::ACTION_ERROR,
        }
    }
}

