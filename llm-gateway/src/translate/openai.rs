//! Reading OpenAI's chat shape, the pivot every translation passes through: the text of a
//! `content`, the arguments of a tool call, and renamed keys copied across.

use serde_json::{Map, Value, json};

/// The text of an OpenAI `content` (a string, null, or an array of parts).
pub(super) fn openai_text(content: Option<&Value>) -> String {
    match content {
        Some(Value::String(s)) => s.clone(),
        Some(Value::Array(parts)) => parts
            .iter()
            .filter_map(|p| p.get("text").and_then(Value::as_str))
            .collect::<Vec<_>>()
            .join(""),
        _ => String::new(),
    }
}

/// `arguments` of an OpenAI tool call (a JSON string) as a JSON object.
pub(super) fn parse_arguments(arguments: Option<&Value>) -> Value {
    match arguments {
        Some(Value::String(s)) if !s.trim().is_empty() => {
            serde_json::from_str(s).unwrap_or_else(|_| json!({ "_raw": s }))
        }
        Some(v @ Value::Object(_)) => v.clone(),
        _ => Value::Object(Map::new()),
    }
}

/// Copies `from` keys of `src` to `to` keys of `dst` when present.
pub(super) fn copy_keys(src: &Map<String, Value>, dst: &mut Map<String, Value>, pairs: &[(&str, &str)]) {
    for (from, to) in pairs {
        if let Some(v) = src.get(*from).filter(|v| !v.is_null()) {
            dst.insert((*to).to_owned(), v.clone());
        }
    }
}
