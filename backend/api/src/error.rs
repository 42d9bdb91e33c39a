//! The api's one error type and its JSON shape, `{"detail": "..."}` (plus `errors` for
//! validation), as FastAPI and so Tracecat answer. Internals are logged, never returned.

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

/// Anything a handler can fail with.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("{0}")]
    BadRequest(String),
    #[error("{0}")]
    Unauthorized(String),
    #[error("{0}")]
    Forbidden(String),
    #[error("{0}")]
    NotFound(String),
    #[error("{0}")]
    MethodNotAllowed(String),
    #[error("{0}")]
    Conflict(String),
    #[error("{detail}")]
    Unprocessable { detail: String, errors: Vec<Value> },
    #[error("{0}")]
    Unavailable(String),
    #[error("workflow execution failed: {0}")]
    ExecutionFailed(String),
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

impl ApiError {
    /// The HTTP status for this error.
    pub fn status_code(&self) -> StatusCode {
        match self {
            ApiError::BadRequest(_) => StatusCode::BAD_REQUEST,
            ApiError::Unauthorized(_) => StatusCode::UNAUTHORIZED,
            ApiError::Forbidden(_) => StatusCode::FORBIDDEN,
            ApiError::NotFound(_) => StatusCode::NOT_FOUND,
            ApiError::MethodNotAllowed(_) => StatusCode::METHOD_NOT_ALLOWED,
            ApiError::Conflict(_) => StatusCode::CONFLICT,
            ApiError::Unprocessable { .. } => StatusCode::UNPROCESSABLE_ENTITY,
            ApiError::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            ApiError::ExecutionFailed(_) | ApiError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }
}

impl From<sqlx::Error> for ApiError {
    fn from(error: sqlx::Error) -> Self {
        ApiError::Internal(error.into())
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = match &self {
            ApiError::Internal(error) => {
                tracing::error!(error = format!("{error:#}"), "internal error");
                json!({"detail": "internal server error"})
            }
            ApiError::Unprocessable { detail, errors } => json!({"detail": detail, "errors": errors}),
            other => json!({"detail": other.to_string()}),
        };
        (self.status_code(), Json(body)).into_response()
    }
}

/// Maps unique-constraint violations to 409 with a message, by constraint name.
pub trait ResultExt<T> {
    /// Turns a violation of `constraint` into `ApiError::Conflict(message)`.
    fn on_constraint(self, constraint: &str, message: &str) -> Result<T, ApiError>;
}

impl<T> ResultExt<T> for Result<T, sqlx::Error> {
    fn on_constraint(self, constraint: &str, message: &str) -> Result<T, ApiError> {
        self.map_err(|error| match &error {
            sqlx::Error::Database(db) if db.constraint() == Some(constraint) => ApiError::Conflict(message.to_owned()),
            _ => error.into(),
        })
    }
}
