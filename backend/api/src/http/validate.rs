//! Field checks shared by the routes: each failure is a 422 that names its field.

use serde_json::{Value, json};

use crate::error::ApiError;

/// A 422 about the field at `loc`.
pub(crate) fn invalid(loc: &str, msg: String) -> ApiError {
    ApiError::Unprocessable { detail: msg.clone(), errors: vec![json!({"loc": loc, "msg": msg})] }
}

/// Names used in expressions (`SECRETS.name.KEY`, `VARS.name.key`): identifiers only.
pub(crate) fn check_identifier(loc: &str, text: &str, max: usize) -> Result<(), ApiError> {
    let mut chars = text.chars();
    let first_ok = chars.next().is_some_and(|c| c.is_ascii_alphabetic() || c == '_');
    if !first_ok || text.len() > max || !chars.all(|c| c.is_ascii_alphanumeric() || c == '_') {
        return Err(invalid(loc, format!("{loc} must be letters, digits and underscores (not first), at most {max} characters")));
    }
    Ok(())
}

/// Environments of secrets and variables: 1-100 of letters, digits, `-` and `_`.
pub(crate) fn check_environment(text: &str) -> Result<(), ApiError> {
    if text.is_empty() || text.len() > 100 || !text.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-') {
        return Err(invalid("environment", "environment must be 1-100 letters, digits, '-' or '_'".into()));
    }
    Ok(())
}

/// Tags: an object of strings.
pub(crate) fn check_tags(tags: &Value) -> Result<(), ApiError> {
    let ok = tags.as_object().is_some_and(|m| m.values().all(Value::is_string));
    if !ok {
        return Err(invalid("tags", "tags must be an object of strings".into()));
    }
    Ok(())
}
