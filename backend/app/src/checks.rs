//! Field checks the use cases share: each failure is an [`AppError::Unprocessable`] naming its
//! field; and unique-constraint violations as conflicts.

use serde_json::{Value, json};

use crate::AppError;

/// An invalid field at `loc`.
pub fn invalid(loc: &str, msg: impl Into<String>) -> AppError {
    let msg = msg.into();
    AppError::Unprocessable { detail: msg.clone(), errors: vec![json!({"loc": loc, "msg": msg})] }
}

/// The id a route names (`kind`'s id as text); not found when it is not one.
pub fn parse_id(kind: &str, text: &str) -> Result<uuid::Uuid, AppError> {
    uuid::Uuid::try_parse(text).map_err(|_| AppError::NotFound(format!("{kind} {text:?} not found")))
}

/// Names used in expressions (`SECRETS.name.KEY`, `VARS.name.key`): identifiers only.
pub fn check_identifier(loc: &str, text: &str, max: usize) -> Result<(), AppError> {
    let mut chars = text.chars();
    let first_ok = chars.next().is_some_and(|c| c.is_ascii_alphabetic() || c == '_');
    if !first_ok || text.len() > max || !chars.all(|c| c.is_ascii_alphanumeric() || c == '_') {
        return Err(invalid(loc, format!("{loc} must be letters, digits and underscores (not first), at most {max} characters")));
    }
    Ok(())
}

/// Environments of secrets and variables: 1-100 of letters, digits, `-` and `_`.
pub fn check_environment(text: &str) -> Result<(), AppError> {
    if text.is_empty() || text.len() > 100 || !text.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-') {
        return Err(invalid("environment", "environment must be 1-100 letters, digits, '-' or '_'"));
    }
    Ok(())
}

/// Tags: an object of strings.
pub fn check_tags(tags: &Value) -> Result<(), AppError> {
    let ok = tags.as_object().is_some_and(|m| m.values().all(Value::is_string));
    if !ok {
        return Err(invalid("tags", "tags must be an object of strings"));
    }
    Ok(())
}

/// Unique-constraint violations as conflicts the caller can act on.
pub trait ResultExt<T> {
    /// Turns a violation of `constraint` into `AppError::Conflict(message)`.
    fn on_constraint(self, constraint: &str, message: &str) -> Result<T, AppError>;
}

impl<T> ResultExt<T> for Result<T, sqlx::Error> {
    fn on_constraint(self, constraint: &str, message: &str) -> Result<T, AppError> {
        self.map_err(|error| match &error {
            sqlx::Error::Database(db) if db.constraint() == Some(constraint) => AppError::Conflict(message.to_owned()),
            _ => error.into(),
        })
    }
}
