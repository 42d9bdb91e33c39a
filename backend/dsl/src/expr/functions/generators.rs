//! Generated values: `uuid4`.
//!
//! `uuid4` is the one function that is not deterministic, as in Tracecat. An expression that
//! uses it in workflow code (`run_if`, a loop condition, subflow arguments, the return value) may
//! see a different id when Temporal replays the workflow; that changes no command Temporal
//! checks unless the id steers a branch, so use it for values (an idempotency key, a ticket
//! reference), never as a condition.

use serde_json::Value;

use super::{arity, string};
use crate::expr::ExprError;

/// `uuid4()`: a random version-4 UUID, lowercase and hyphenated.
pub(super) fn uuid4(args: &[Value]) -> Result<Value, ExprError> {
    arity(args, 0, 0)?;
    string(uuid::Uuid::new_v4().to_string())
}

/// `get_interaction()`: the interaction (a Slack button's answer, say) the current action is
/// waiting on. ferrocat has no interactions yet, so it is always `None`; Tracecat templates that
/// attach it to a message (`metadata.event_payload.interaction`) send `null` there.
pub(super) fn get_interaction(args: &[Value]) -> Result<Value, ExprError> {
    arity(args, 0, 0)?;
    Ok(Value::Null)
}
