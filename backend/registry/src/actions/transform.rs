//! `core.transform.*`: data shaping. `reshape`, `drop_nulls`, `flatten_json` and
//! `eval_jsonpaths` are pure; the `python_lambda` ones evaluate their lambda in the sandbox
//! (see [`super::lambda`] for why).

use serde::Deserialize;
use serde_json::{Map, Value};

use ferrocat_dsl::expr::{self, ContextRoot, Expr, ExprContext, py_eq, truthy, typename};

use super::lambda::{self, Mode};
use super::{ActionError, parse_args};

#[derive(Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct ReshapeArgs {
    value: Value,
}

/// `core.transform.reshape(value)`: the value, already evaluated.
pub fn reshape(args: Map<String, Value>) -> Result<Value, ActionError> {
    let args: ReshapeArgs = parse_args(args)?;
    Ok(args.value)
}

#[derive(Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct LambdaItemsArgs {
    items: Vec<Value>,
    python_lambda: String,
}

#[derive(Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct ApplyArgs {
    value: Value,
    python_lambda: String,
}

#[derive(Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct MembershipArgs {
    items: Vec<Value>,
    collection: Vec<Value>,
    #[serde(default)]
    python_lambda: Option<String>,
}

#[derive(Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct ItemsArgs {
    items: Vec<Value>,
}

#[derive(Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct FlattenArgs {
    json: Value,
}

#[derive(Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct JsonPathsArgs {
    json: Value,
    jsonpaths: Vec<String>,
}

/// `core.transform.filter(items, python_lambda)`: the items for which the lambda is truthy.
pub async fn filter(args: Map<String, Value>) -> Result<Value, ActionError> {
    let args: LambdaItemsArgs = parse_args(args)?;
    let keep = lambda::eval(&args.python_lambda, Mode::Filter, &Value::Array(args.items.clone())).await?;
    let keep = keep.as_array().cloned().unwrap_or_default();
    Ok(Value::Array(
        args.items.into_iter().zip(keep).filter(|(_, k)| truthy(k)).map(|(item, _)| item).collect(),
    ))
}

/// `core.transform.map(items, python_lambda)`: the lambda applied to each item.
pub async fn map(args: Map<String, Value>) -> Result<Value, ActionError> {
    let args: LambdaItemsArgs = parse_args(args)?;
    lambda::eval(&args.python_lambda, Mode::Map, &Value::Array(args.items)).await
}

/// `core.transform.apply(value, python_lambda)`: the lambda applied to the value.
pub async fn apply(args: Map<String, Value>) -> Result<Value, ActionError> {
    let args: ApplyArgs = parse_args(args)?;
    lambda::eval(&args.python_lambda, Mode::Apply, &args.value).await
}

/// `core.transform.is_in` (`wanted = true`) and `not_in` (`false`): the items whose value (or
/// lambda key) is (not) in `collection`, compared with Python equality (`1 == 1.0 == True`).
pub async fn is_in(args: Map<String, Value>, wanted: bool) -> Result<Value, ActionError> {
    let args: MembershipArgs = parse_args(args)?;
    // Tracecat builds a Python set from the collection, so unhashable members are an error.
    if let Some(bad) = args.collection.iter().find(|v| v.is_array() || v.is_object()) {
        return Err(ActionError::Python(format!("TypeError: unhashable type: '{}'", typename(bad))));
    }
    let keys = match args.python_lambda.as_deref().filter(|l| !l.is_empty()) {
        Some(source) => match lambda::eval(source, Mode::Map, &Value::Array(args.items.clone())).await? {
            Value::Array(keys) => keys,
            other => return Err(ActionError::Python(format!("lambda keys must be a list, got {}", typename(&other)))),
        },
        None => args.items.clone(),
    };
    let mut kept = Vec::new();
    for (item, key) in args.items.into_iter().zip(keys) {
        if key.is_array() || key.is_object() {
            return Err(ActionError::Python(format!("TypeError: unhashable type: '{}'", typename(&key))));
        }
        if args.collection.iter().any(|c| py_eq(c, &key)) == wanted {
            kept.push(item);
        }
    }
    Ok(Value::Array(kept))
}

/// `core.transform.drop_nulls(items)`: the items that are not null (empty strings stay).
pub fn drop_nulls(args: Map<String, Value>) -> Result<Value, ActionError> {
    let args: ItemsArgs = parse_args(args)?;
    Ok(Value::Array(args.items.into_iter().filter(|v| !v.is_null()).collect()))
}

/// Object input of `flatten_json` / `eval_jsonpaths`: an object, or a string holding one.
fn json_object(value: Value) -> Result<Value, ActionError> {
    let value = match value {
        Value::String(text) => serde_json::from_str(&text)
            .map_err(|e| ActionError::Value(format!("json is not valid JSON: {e}")))?,
        other => other,
    };
    if !value.is_object() {
        return Err(ActionError::Value("json must be a JSON object or a string".into()));
    }
    Ok(value)
}

/// Deepest nesting `flatten_json` follows, as in Tracecat.
const FLATTEN_MAX_DEPTH: usize = 100;

/// `core.transform.flatten_json(json)`: one level of keys such as `a.b[0].c`.
pub fn flatten_json(args: Map<String, Value>) -> Result<Value, ActionError> {
    let args: FlattenArgs = parse_args(args)?;
    let value = json_object(args.json)?;
    let mut out = Map::new();
    flatten_into(&value, "", 0, &mut out)?;
    Ok(Value::Object(out))
}

fn flatten_into(value: &Value, prefix: &str, depth: usize, out: &mut Map<String, Value>) -> Result<(), ActionError> {
    if depth > FLATTEN_MAX_DEPTH {
        return Err(ActionError::Value(format!(
            "Maximum recursion depth ({FLATTEN_MAX_DEPTH}) exceeded while flattening object"
        )));
    }
    let children: Vec<(String, &Value)> = match value {
        Value::Array(items) => items.iter().enumerate().map(|(i, v)| (format!("{prefix}[{i}]"), v)).collect(),
        Value::Object(map) => map
            .iter()
            .map(|(k, v)| (if prefix.is_empty() { k.clone() } else { format!("{prefix}.{k}") }, v))
            .collect(),
        scalar => {
            out.insert(prefix.to_owned(), scalar.clone());
            return Ok(());
        }
    };
    for (path, child) in children {
        if child.is_array() || child.is_object() {
            flatten_into(child, &path, depth + 1, out)?;
        } else {
            out.insert(path, child.clone());
        }
    }
    Ok(())
}

/// `core.transform.eval_jsonpaths(json, jsonpaths)`: `{path: result}`, with the expression
/// language's jsonpath rules (one match → the value, `[*]`/filters/several → a list, none → null).
pub fn eval_jsonpaths(args: Map<String, Value>) -> Result<Value, ActionError> {
    let args: JsonPathsArgs = parse_args(args)?;
    let document = json_object(args.json)?;
    let context = ExprContext { trigger: document, ..ExprContext::default() };
    let mut out = Map::new();
    for path in args.jsonpaths {
        let value = eval_jsonpath(&path, &context)?;
        out.insert(path, value);
    }
    Ok(Value::Object(out))
}

/// Evaluates one jsonpath on `document` with [`eval_jsonpaths`]' rules.
pub(crate) fn eval_jsonpath_in(path: &str, document: &Value) -> Result<Value, ActionError> {
    let context = ExprContext { trigger: document.clone(), ..ExprContext::default() };
    eval_jsonpath(path, &context)
}

/// Evaluates `$…` (or a bare `a.b`) by reading it as the path of the `TRIGGER` context.
fn eval_jsonpath(path: &str, context: &ExprContext) -> Result<Value, ActionError> {
    let trimmed = path.trim();
    let as_context = match trimmed.strip_prefix('$') {
        Some(rest) => format!("TRIGGER{rest}"),
        None if trimmed.starts_with('[') => format!("TRIGGER{trimmed}"),
        None => format!("TRIGGER.{trimmed}"),
    };
    let invalid = || ActionError::Value(format!("Invalid jsonpath {}", expr::python_repr(&Value::String(path.to_owned()))));
    let parsed = expr::parse_expression(&as_context).map_err(|_| invalid())?;
    if !matches!(parsed, Expr::Context { root: ContextRoot::Trigger, .. }) {
        return Err(invalid());
    }
    expr::eval_parsed(&parsed, context).map_err(|e| ActionError::Value(e.to_string()))
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

    fn obj(v: Value) -> Map<String, Value> {
        v.as_object().cloned().unwrap()
    }

    #[test]
    fn drop_nulls_keeps_falsy_non_nulls() {
        let out = drop_nulls(obj(json!({"items": [1, null, "", 0, false, null, []]}))).unwrap();
        assert_eq!(out, json!([1, "", 0, false, []]));
        assert!(drop_nulls(obj(json!({"items": 3}))).unwrap_err().to_string().contains("invalid type"));
    }

    #[test]
    fn flatten_json_uses_jsonpath_keys() {
        let out = flatten_json(obj(json!({"json": {"a": {"b": [1, {"c": null}], "d": "x"}, "e": []}}))).unwrap();
        assert_eq!(out, json!({"a.b[0]": 1, "a.b[1].c": null, "a.d": "x"}));
        let out = flatten_json(obj(json!({"json": "{\"k\": {\"v\": true}}"}))).unwrap();
        assert_eq!(out, json!({"k.v": true}));
        let err = flatten_json(obj(json!({"json": [1]}))).unwrap_err().to_string();
        assert_eq!(err, "ValueError: json must be a JSON object or a string");
        let err = flatten_json(obj(json!({"json": "[1, 2]"}))).unwrap_err().to_string();
        assert_eq!(err, "ValueError: json must be a JSON object or a string");
    }

    #[test]
    fn flatten_json_stops_at_depth_limit() {
        let mut deep = json!(1);
        for _ in 0..102 {
            deep = json!({ "k": deep });
        }
        let err = flatten_json(obj(json!({ "json": deep }))).unwrap_err().to_string();
        assert_eq!(err, "ValueError: Maximum recursion depth (100) exceeded while flattening object");
    }

    #[test]
    fn eval_jsonpaths_follows_return_shape_rules() {
        let doc = json!({"user": {"name": "ann", "tags": ["a", "b"]}, "items": [{"id": 1}, {"id": 2}]});
        let out = eval_jsonpaths(obj(json!({
            "json": doc,
            "jsonpaths": ["$.user.name", "$.items[*].id", "$.user.tags[0]", "$.missing", "user.tags", "$.items[?(@.id == 2)]"]
        })))
        .unwrap();
        assert_eq!(
            out,
            json!({
                "$.user.name": "ann",
                "$.items[*].id": [1, 2],
                "$.user.tags[0]": "a",
                "$.missing": null,
                "user.tags": ["a", "b"],
                "$.items[?(@.id == 2)]": [{"id": 2}]
            })
        );
        let err = eval_jsonpaths(obj(json!({"json": {}, "jsonpaths": ["$.a + 1"]}))).unwrap_err().to_string();
        assert_eq!(err, "ValueError: Invalid jsonpath '$.a + 1'");
        let err = eval_jsonpaths(obj(json!({"json": 5, "jsonpaths": []}))).unwrap_err().to_string();
        assert_eq!(err, "ValueError: json must be a JSON object or a string");
    }
}
