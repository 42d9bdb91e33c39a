//! Dict functions and JSON/YAML (de)serialization.

use serde_json::{Map, Value};

use super::{arity, boolean, dict_at, str_at, value_error, wrong_type};
use crate::expr::ExprError;
use crate::expr::value::{key_string, repr_str};

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
