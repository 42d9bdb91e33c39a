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

/// What a platform action (`core.cases.*`, `core.table.*`) hands its host: the host the executor
/// bound, the run the call belongs to, and the arguments with every secret value masked, so
/// nothing of a secret reaches the platform's stores. `kind` names the actions in refusals.
pub(crate) fn platform_call<'a, H: ?Sized>(
    call: crate::table::Call<'a>,
    host: Option<&'a H>,
    kind: &str,
) -> Result<(&'a H, &'a ferrocat_shared::temporal::RunContext, Map<String, Value>), ActionError> {
    let host = host.ok_or_else(|| ActionError::Invalid(format!("{kind} actions need the platform's database: run them on the executor, not with ferrocat run")))?;
    let run = call.run.ok_or_else(|| ActionError::Invalid(format!("{kind} actions run inside a workflow run")))?;
    Ok((host, run, crate::masking::mask_args(call.args, call.secrets)))
}
