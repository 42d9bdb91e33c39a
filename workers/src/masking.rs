//! Keeping secrets out of outputs: every secret value (longer than one character) is replaced by
//! `***` wherever it appears in a result or an error message, as Tracecat does.

use serde_json::{Map, Value};

/// What gets masked: every string value of every secret, longest first (so a value that
/// contains another is masked whole).
pub fn secret_values(secrets: &Map<String, Value>) -> Vec<String> {
    let mut values: Vec<String> = secrets
        .values()
        .filter_map(Value::as_object)
        .flat_map(|keys| keys.values())
        .filter_map(Value::as_str)
        .filter(|v| v.chars().count() > 1)
        .map(str::to_owned)
        .collect();
    values.sort_by_key(|v| std::cmp::Reverse(v.len()));
    values.dedup();
    values
}

/// `text` with every mask replaced by `***`.
pub fn mask_text(text: &str, masks: &[String]) -> String {
    masks.iter().fold(text.to_owned(), |text, secret| text.replace(secret.as_str(), "***"))
}

/// `value` with every string (and object key) masked.
pub fn mask(value: Value, masks: &[String]) -> Value {
    if masks.is_empty() {
        return value;
    }
    match value {
        Value::String(s) => Value::String(mask_text(&s, masks)),
        Value::Array(items) => Value::Array(items.into_iter().map(|v| mask(v, masks)).collect()),
        Value::Object(map) => Value::Object(map.into_iter().map(|(k, v)| (mask_text(&k, masks), mask(v, masks))).collect()),
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn masks_nested_values_keys_and_substrings() {
        let secrets = json!({"api": {"TOKEN": "s3cr3t-token", "SHORT": "x"}, "db": {"PASS": "hunter22"}});
        let masks = secret_values(secrets.as_object().unwrap());
        assert_eq!(masks, vec!["s3cr3t-token".to_owned(), "hunter22".to_owned()]);
        let result = json!({"auth": "Bearer s3cr3t-token", "list": ["hunter22", 5], "hunter22": true, "x": "x"});
        assert_eq!(mask(result, &masks), json!({"auth": "Bearer ***", "list": ["***", 5], "***": true, "x": "x"}));
        assert_eq!(mask_text("failed with hunter22", &masks), "failed with ***");
    }
}
