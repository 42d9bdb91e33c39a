//! `core.require(conditions, require_all=true, raise_error=true)`: a gate on boolean conditions.
//! Only real booleans count (a truthy string is an error, as in Tracecat); a failed gate raises
//! "All/At least one condition must evaluate to true. Got values: …" or returns `false`.

use serde::Deserialize;
use serde_json::{Map, Value};

use ferrocat_dsl::expr::{python_str, typename};

use super::{ActionError, parse_args};

#[derive(Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct RequireArgs {
    conditions: Value,
    #[serde(default = "yes")]
    require_all: bool,
    #[serde(default = "yes")]
    raise_error: bool,
}

fn yes() -> bool {
    true
}

/// Returns `true` when the conditions hold.
pub fn require(args: Map<String, Value>) -> Result<Value, ActionError> {
    let args: RequireArgs = parse_args(args)?;
    let conditions = match args.conditions {
        Value::Array(items) => items,
        single => vec![single],
    };
    if !conditions.iter().all(Value::is_boolean) {
        let types: Vec<&str> = conditions.iter().map(typename).collect();
        return Err(ActionError::Value(format!(
            "All conditions must evaluate to a boolean. Got types: {}",
            types.join(", ")
        )));
    }
    let holds = if args.require_all {
        conditions.iter().all(|c| c == &Value::Bool(true))
    } else {
        conditions.iter().any(|c| c == &Value::Bool(true))
    };
    if holds {
        return Ok(Value::Bool(true));
    }
    if !args.raise_error {
        return Ok(Value::Bool(false));
    }
    let quantifier = if args.require_all { "All" } else { "At least one" };
    let values: Vec<String> = conditions.iter().map(python_str).collect();
    Err(ActionError::Assertion(format!(
        "{quantifier} condition must evaluate to true. Got values: {}",
        values.join(", ")
    )))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn run(args: Value) -> Result<Value, String> {
        require(args.as_object().cloned().unwrap()).map_err(|e| e.to_string())
    }

    #[test]
    fn all_true_passes_and_any_needs_one() {
        assert_eq!(run(json!({"conditions": [true, true]})).unwrap(), json!(true));
        assert_eq!(run(json!({"conditions": true})).unwrap(), json!(true));
        assert_eq!(run(json!({"conditions": [false, true], "require_all": false})).unwrap(), json!(true));
    }

    #[test]
    fn failures_name_the_values() {
        assert_eq!(
            run(json!({"conditions": [true, false]})).unwrap_err(),
            "AssertionError: All condition must evaluate to true. Got values: True, False"
        );
        assert_eq!(
            run(json!({"conditions": [false, false], "require_all": false})).unwrap_err(),
            "AssertionError: At least one condition must evaluate to true. Got values: False, False"
        );
        assert_eq!(run(json!({"conditions": false, "raise_error": false})).unwrap(), json!(false));
    }

    #[test]
    fn non_booleans_are_rejected() {
        assert_eq!(
            run(json!({"conditions": [true, "yes", 1, null]})).unwrap_err(),
            "ValueError: All conditions must evaluate to a boolean. Got types: bool, str, int, NoneType"
        );
        assert!(run(json!({})).unwrap_err().contains("missing field `conditions`"));
    }
}
