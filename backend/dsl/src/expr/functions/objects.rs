//! Dict functions (`flatten_dict` among them) and JSON/YAML (de)serialization.

use serde_json::{Map, Value};

use super::{arity, boolean, dict_at, int_at, str_at, value_error, wrong_type};
use crate::expr::ExprError;
use crate::expr::value::{key_string, repr_str, typename};

pub(super) fn lookup(args: &[Value]) -> Result<Value, ExprError> {
    arity(args, 2, 3)?;
    let map = dict_at(args, 0)?;
    let default = args.get(2).cloned().unwrap_or(Value::Null);
    Ok(match &args[1] {
        Value::String(k) => map.get(k).cloned().unwrap_or(default),
        _ => default,
    })
}

pub(super) fn map_keys(args: &[Value]) -> Result<Value, ExprError> {
    arity(args, 2, 2)?;
    let map = dict_at(args, 0)?;
    let mapping = dict_at(args, 1)?;
    let mut out = Map::new();
    for (k, v) in map {
        let new_key = mapping
            .get(k)
            .ok_or_else(|| ExprError::KeyNotFound { key: k.clone() })?;
        out.insert(key_string(new_key), v.clone());
    }
    Ok(Value::Object(out))
}

pub(super) fn merge(args: &[Value]) -> Result<Value, ExprError> {
    arity(args, 1, usize::MAX)?;
    let dicts: Vec<&Value> = match (&args[0], args.len()) {
        (Value::Array(items), 1) => items.iter().collect(),
        _ => args.iter().collect(),
    };
    let mut out = Map::new();
    for (i, d) in dicts.into_iter().enumerate() {
        match d {
            Value::Object(m) => out.extend(m.iter().map(|(k, v)| (k.clone(), v.clone()))),
            other => return Err(wrong_type(i, "dict", other)),
        }
    }
    Ok(Value::Object(out))
}

pub(super) fn to_keys(args: &[Value]) -> Result<Value, ExprError> {
    arity(args, 1, 1)?;
    Ok(Value::Array(
        dict_at(args, 0)?
            .keys()
            .map(|k| Value::String(k.clone()))
            .collect(),
    ))
}

pub(super) fn to_values(args: &[Value]) -> Result<Value, ExprError> {
    arity(args, 1, 1)?;
    Ok(Value::Array(dict_at(args, 0)?.values().cloned().collect()))
}

/// `flatten_dict(x, max_depth=100)`: one level of jsonpath-style keys (`a.b`, `items[0]`,
/// `a.list[1].c`); a string is decoded as JSON first. Empty dicts and lists vanish, a scalar
/// becomes `{"": x}`, and a later key that repeats an earlier one overwrites it in place.
pub(super) fn flatten_dict(args: &[Value]) -> Result<Value, ExprError> {
    arity(args, 1, 2)?;
    let max_depth = match args.get(1) {
        None | Some(Value::Null) => 100,
        Some(_) => int_at(args, 1)?,
    };
    let decoded;
    let x = match &args[0] {
        Value::String(s) => {
            decoded = parse_json(s)?;
            if !decoded.is_object() && !decoded.is_array() {
                return Err(value_error(format!(
                    "Input string must decode to a JSON object or array, got <class '{}'>.",
                    typename(&decoded)
                )));
            }
            &decoded
        }
        other => other,
    };
    let mut out = Map::new();
    match x {
        Value::Object(_) | Value::Array(_) => flatten_into(x, "", 0, max_depth, &mut out)?,
        scalar => {
            out.insert(String::new(), scalar.clone());
        }
    }
    Ok(Value::Object(out))
}

fn flatten_into(
    value: &Value,
    prefix: &str,
    depth: i64,
    max_depth: i64,
    out: &mut Map<String, Value>,
) -> Result<(), ExprError> {
    if depth > max_depth {
        return Err(value_error(format!(
            "Maximum recursion depth ({max_depth}) exceeded while flattening object"
        )));
    }
    let children: Vec<(String, &Value)> = match value {
        Value::Array(items) => items
            .iter()
            .enumerate()
            .map(|(i, item)| (format!("{prefix}[{i}]"), item))
            .collect(),
        Value::Object(map) => map
            .iter()
            .map(|(k, v)| {
                // Tracecat joins with `.` only under a non-empty prefix.
                let path = if prefix.is_empty() {
                    k.clone()
                } else {
                    format!("{prefix}.{k}")
                };
                (path, v)
            })
            .collect(),
        _ => return Ok(()),
    };
    for (path, child) in children {
        if child.is_object() || child.is_array() {
            flatten_into(child, &path, depth + 1, max_depth, out)?;
        } else {
            out.insert(path, child.clone());
        }
    }
    Ok(())
}

pub(super) fn is_json(args: &[Value]) -> Result<Value, ExprError> {
    arity(args, 1, 1)?;
    boolean(
        args[0]
            .as_str()
            .is_some_and(|s| serde_json::from_str::<Value>(s).is_ok()),
    )
}

fn parse_json(s: &str) -> Result<Value, ExprError> {
    serde_json::from_str(s).map_err(|e| value_error(format!("invalid JSON {}: {e}", repr_str(s))))
}

pub(super) fn deserialize_json(args: &[Value]) -> Result<Value, ExprError> {
    arity(args, 1, 1)?;
    parse_json(str_at(args, 0)?)
}

pub(super) fn deserialize_ndjson(args: &[Value]) -> Result<Value, ExprError> {
    arity(args, 1, 1)?;
    let lines = str_at(args, 0)?.lines().filter(|l| !l.trim().is_empty());
    Ok(Value::Array(
        lines.map(parse_json).collect::<Result<_, _>>()?,
    ))
}

pub(super) fn deserialize_yaml(args: &[Value]) -> Result<Value, ExprError> {
    arity(args, 1, 1)?;
    let s = str_at(args, 0)?;
    serde_yaml::from_str(s).map_err(|e| value_error(format!("invalid YAML: {e}")))
}

pub(super) fn serialize_json(args: &[Value]) -> Result<Value, ExprError> {
    arity(args, 1, 1)?;
    serde_json::to_string(&args[0])
        .map(Value::String)
        .map_err(|e| value_error(e.to_string()))
}

pub(super) fn prettify_json(args: &[Value]) -> Result<Value, ExprError> {
    arity(args, 1, 1)?;
    serde_json::to_string_pretty(&args[0])
        .map(Value::String)
        .map_err(|e| value_error(e.to_string()))
}

/// `value` with every dict's keys sorted, as PyYAML's `dump` writes them.
fn sorted_keys(value: &Value) -> Value {
    match value {
        Value::Object(map) => {
            let mut entries: Vec<(&String, &Value)> = map.iter().collect();
            entries.sort_by(|a, b| a.0.cmp(b.0));
            Value::Object(
                entries
                    .into_iter()
                    .map(|(k, v)| (k.clone(), sorted_keys(v)))
                    .collect(),
            )
        }
        Value::Array(items) => Value::Array(items.iter().map(sorted_keys).collect()),
        other => other.clone(),
    }
}

/// `serialize_yaml(x)`: PyYAML's `yaml.dump` layout (block style, sorted keys, `- ` items at the
/// parent's indentation, `...` after a bare top-level scalar). Scalars are written by
/// `serde_yaml`, which keeps non-ASCII text as is, never folds long lines and writes multi-line
/// strings as `|` blocks where PyYAML escapes or quotes; both read back as the same value.
pub(super) fn serialize_yaml(args: &[Value]) -> Result<Value, ExprError> {
    arity(args, 1, 1)?;
    let value = sorted_keys(&args[0]);
    let mut out = serde_yaml::to_string(&value).map_err(|e| value_error(e.to_string()))?;
    let bare_scalar = !value.is_object()
        && !value.is_array()
        && !out.starts_with(['\'', '"', '|', '>']);
    if bare_scalar {
        out.push_str("...\n");
    }
    Ok(Value::String(out))
}
