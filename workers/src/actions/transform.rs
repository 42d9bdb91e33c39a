//! `core.transform.*`: pure data shaping.

use serde::Deserialize;
use serde_json::{Map, Value};

use super::{ActionError, parse_args};

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ReshapeArgs {
    value: Value,
}

/// `core.transform.reshape(value)`: the value, already evaluated.
pub fn reshape(args: Map<String, Value>) -> Result<Value, ActionError> {
    let args: ReshapeArgs = parse_args(args)?;
    Ok(args.value)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn reshape_returns_value() {
        let args = json!({"value": {"a": [1, 2]}}).as_object().cloned().unwrap();
        assert_eq!(reshape(args).unwrap(), json!({"a": [1, 2]}));
    }

    #[test]
    fn reshape_rejects_missing_and_unknown_args() {
        let err = reshape(Map::new()).unwrap_err().to_string();
        assert!(err.contains("missing field `value`"), "{err}");
        let args = json!({"value": 1, "valu": 2}).as_object().cloned().unwrap();
        assert!(reshape(args).unwrap_err().to_string().contains("unknown field `valu`"));
    }
}
