//! The use cases' one error: what went wrong in the caller's terms. Each face renders it its
//! own way (the api as `{"detail": ...}` with a status, MCP as a tool error). Internals are
//! logged by the face, never shown.

use serde_json::{Value, json};

/// Anything a use case can fail with.
#[derive(Debug, thiserror::Error)]
pub enum AppError {
    /// The request cannot be understood as it is.
    #[error("{0}")]
    BadRequest(String),
    #[error("{0}")]
    Unauthorized(String),
    #[error("{0}")]
    Forbidden(String),
    #[error("{0}")]
    NotFound(String),
    #[error("{0}")]
    Conflict(String),
    #[error("{0}")]
    PayloadTooLarge(String),
    /// Too many attempts; try again after `retry_after` seconds.
    #[error("{detail}")]
    TooManyRequests { detail: String, retry_after: u64 },
    /// Well formed but invalid: `errors` says where (`{loc, msg}` each).
    #[error("{detail}")]
    Unprocessable { detail: String, errors: Vec<Value> },
    /// A dependency (the workflow engine) is not answering.
    #[error("{0}")]
    Unavailable(String),
    /// The run failed; the message is the workflow's own.
    #[error("workflow execution failed: {0}")]
    ExecutionFailed(String),
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

impl AppError {
    /// What a run sees when a use case refuses its action (`core.cases.*`, `core.table.*`):
    /// the message the api would give, never internals (those are logged, `what` naming the
    /// store). The platform's dependency out of reach stays the platform's failure, tried again
    /// without spending the author's attempts.
    pub(crate) fn into_action_error(self, what: &str) -> ferrocat_registry::ActionError {
        use ferrocat_registry::ActionError;
        match self {
            AppError::Unprocessable { detail, errors } => {
                let locs: Vec<&str> = errors.iter().filter_map(|e| e.get("loc").and_then(Value::as_str)).collect();
                if locs.is_empty() { ActionError::Value(detail) } else { ActionError::Value(format!("{detail} ({})", locs.join(", "))) }
            }
            AppError::Unavailable(detail) => ActionError::Unavailable(detail),
            AppError::Internal(e) => {
                tracing::error!(error = %e, "a {what} action failed");
                ActionError::Storage(format!("the {what} store failed; see the executor's log"))
            }
            other => ActionError::Value(other.to_string()),
        }
    }
}

impl From<ferrocat_shared::objects::StoreError> for AppError {
    /// The object store out of reach is an outage to wait out (503); anything else it says
    /// (a missing or corrupt object) is ours to look into.
    fn from(error: ferrocat_shared::objects::StoreError) -> Self {
        if error.is_unreachable() {
            tracing::warn!(%error, "the object store is unreachable");
            return AppError::Unavailable("the object store is unavailable; try again shortly".into());
        }
        AppError::Internal(error.into())
    }
}

impl From<ferrocat_shared::db::ReadError> for AppError {
    /// A read the database could not answer because it is out of reach is an outage (503),
    /// like any other statement's; anything else the read says is ours to look into.
    fn from(error: ferrocat_shared::db::ReadError) -> Self {
        match error {
            ferrocat_shared::db::ReadError::Unreachable(message) => {
                tracing::warn!(error = %message, "the database is unreachable");
                AppError::Unavailable("the database is unavailable; try again shortly".into())
            }
            ferrocat_shared::db::ReadError::Failed(message) => AppError::Internal(anyhow::anyhow!(message)),
        }
    }
}

impl From<sqlx::Error> for AppError {
    /// Postgres refuses a NUL character (or bytes its encoding has no place for) in any text:
    /// that is the caller's input, not a fault of ours (schemathesis found it at sign-in).
    fn from(error: sqlx::Error) -> Self {
        if let sqlx::Error::Database(db) = &error
            && matches!(db.code().as_deref(), Some("22021" | "22P05"))
        {
            return AppError::Unprocessable {
                detail: "a value holds a character that cannot be stored (NUL characters are not supported)".into(),
                errors: vec![json!({"loc": "body", "msg": "NUL characters are not supported"})],
            };
        }
        if ferrocat_shared::db::unreachable(&error) {
            tracing::warn!(%error, "the database is unreachable");
            return AppError::Unavailable("the database is unavailable; try again shortly".into());
        }
        AppError::Internal(error.into())
    }
}


#[cfg(test)]
mod tests {
    use super::AppError;
    use ferrocat_shared::db::ReadError;

    #[test]
    fn a_read_the_database_could_not_answer_is_an_outage_and_any_other_failure_is_ours() {
        let outage = AppError::from(ReadError::Unreachable("reading the pinned registry versions: connection refused".into()));
        assert!(matches!(&outage, AppError::Unavailable(detail) if detail.contains("database is unavailable")), "{outage:?}");
        assert!(!outage.to_string().contains("connection refused"), "internals stay in the log: {outage}");
        let failure = AppError::from(ReadError::Failed("a registry version this workflow is pinned to no longer exists".into()));
        assert!(matches!(failure, AppError::Internal(_)), "{failure:?}");
    }
}
