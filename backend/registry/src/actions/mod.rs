//! The built-in actions' implementations, one module a family; the table in
//! [`crate::builtins`] names them.

pub mod ai;
pub mod cases;
pub mod dedup;
pub mod egress_proxy;
pub mod email;
pub mod http;
pub mod http_poll;
pub mod lambda;
pub mod require;
pub mod sandbox;
pub mod script;
pub mod tables;
pub mod transform;
pub mod vendor_sdk;

use serde_json::{Map, Value};

use crate::error::ActionError;

/// Deserializes evaluated args into an action's typed arguments, naming the field at fault.
pub(crate) fn parse_args<T: serde::de::DeserializeOwned>(args: Map<String, Value>) -> Result<T, ActionError> {
    serde_json::from_value(Value::Object(args)).map_err(|e| ActionError::Invalid(e.to_string()))
}
