//! The action registry: each built-in action by its name, its argument checks and its effect.

pub mod http;
pub mod transform;

use serde_json::{Map, Value};

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
    #[error("LoopExecutionError: iteration {iteration} failed: {source}")]
    Loop { iteration: usize, source: Box<ActionError> },
}

impl ActionError {
    /// Whether trying again could succeed (a retry policy decides whether it will).
    pub fn is_retryable(&self) -> bool {
        match self {
            ActionError::Http(_) => true,
            ActionError::Loop { source, .. } => source.is_retryable(),
            _ => false,
        }
    }

    /// The failure type recorded in history and shown by the api.
    pub fn type_name(&self) -> &'static str {
        match self {
            ActionError::Unknown(_) => error_types::UNKNOWN_ACTION,
            _ => error_types::ACTION_ERROR,
        }
    }
}

/// One built-in action, as listed by the registry.
pub struct ActionSpec {
    /// Registry key, e.g. `core.http_request`.
    pub name: &'static str,
    /// What it does, in one line.
    pub description: &'static str,
}

/// Every built-in action.
pub const REGISTRY: &[ActionSpec] = &[
    ActionSpec { name: "core.transform.reshape", description: "Reshape data: returns `value` with its expressions evaluated." },
    ActionSpec { name: "core.http_request", description: "Send an HTTP request; returns {status_code, headers, data}." },
];

/// Runs the action `name` with evaluated `args`.
pub async fn dispatch(name: &str, args: Map<String, Value>, http: &reqwest::Client) -> Result<Value, ActionError> {
    match name {
        "core.transform.reshape" => transform::reshape(args),
        "core.http_request" => http::http_request(http, args).await,
        other => Err(ActionError::Unknown(other.to_owned())),
    }
}

/// Deserializes evaluated args into an action's typed arguments, naming the field at fault.
pub(crate) fn parse_args<T: serde::de::DeserializeOwned>(args: Map<String, Value>) -> Result<T, ActionError> {
    serde_json::from_value(Value::Object(args)).map_err(|e| ActionError::Invalid(e.to_string()))
}
