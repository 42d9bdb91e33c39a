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

