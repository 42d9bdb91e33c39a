//! The api's one error type and its JSON shape, `{"detail": "..."}` (plus `errors` for
//! validation), as FastAPI and so Tracecat answer. Internals are logged, never returned.

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use ferrocat_app::AppError;

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
    #[error("{0}")]
    PayloadTooLarge(String),
    /// 429 with `Retry-After: retry_after` seconds.
    #[error("{detail}")]
    TooManyRequests { detail: String, retry_after: u64 },
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
            ApiError::PayloadTooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            ApiError::Unprocessable { .. } => StatusCode::UNPROCESSABLE_ENTITY,
            ApiError::TooManyRequests { .. } => StatusCode::TOO_MANY_REQUESTS,
            ApiError::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            ApiError::ExecutionFailed(_) | ApiError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }
}

impl From<sqlx::Error> for ApiError {
    fn from(error: sqlx::Error) -> Self {
        AppError::from(error).into()
    }
}

impl From<AppError> for ApiError {
    fn from(error: AppError) -> Self {
        match error {
            AppError::BadRequest(m) => ApiError::BadRequest(m),
            AppError::Unauthorized(m) => ApiError::Unauthorized(m),
            AppError::Forbidden(m) => ApiError::Forbidden(m),
            AppError::NotFound(m) => ApiError::NotFound(m),
            AppError::Conflict(m) => ApiError::Conflict(m),
            AppError::PayloadTooLarge(m) => ApiError::PayloadTooLarge(m),
            AppError::TooManyRequests { detail, retry_after } => ApiError::TooManyRequests { detail, retry_after },
            AppError::Unprocessable { detail, errors } => ApiError::Unprocessable { detail, errors },
            AppError::Unavailable(m) => ApiError::Unavailable(m),
            AppError::ExecutionFailed(m) => ApiError::ExecutionFailed(m),
            AppError::Internal(e) => ApiError::Internal(e),
        }
    }
}

/// The `Retry-After` of a 503: a dependency that restarts is back within a few seconds.
pub const UNAVAILABLE_RETRY_AFTER_SECS: u64 = 5;

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        if let ApiError::TooManyRequests { detail, retry_after } = &self {
            let headers = [(axum::http::header::RETRY_AFTER, retry_after.to_string())];
            return (StatusCode::TOO_MANY_REQUESTS, headers, Json(json!({"detail": detail}))).into_response();
        }
        if let ApiError::Unavailable(detail) = &self {
            // A dependency is down: worth trying again shortly, not a fault of the request.
            let headers = [(axum::http::header::RETRY_AFTER, UNAVAILABLE_RETRY_AFTER_SECS.to_string())];
            return (StatusCode::SERVICE_UNAVAILABLE, headers, Json(json!({"detail": detail}))).into_response();
        }
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

impl From<axum::extract::rejection::JsonRejection> for ApiError {
    /// Syntax errors are 400, shape errors (which name the field) 422, oversized bodies 413.
    fn from(rejection: axum::extract::rejection::JsonRejection) -> Self {
        use axum::extract::rejection::JsonRejection;
        match rejection.status() {
            StatusCode::PAYLOAD_TOO_LARGE => ApiError::PayloadTooLarge("request body is too large".into()),
            _ => match &rejection {
                JsonRejection::JsonDataError(e) => {
                    let msg = std::error::Error::source(e).map(ToString::to_string).unwrap_or_else(|| e.body_text());
                    ApiError::Unprocessable {
                        detail: format!("invalid request body: {msg}"),
                        errors: vec![json!({"loc": field_of(&msg), "msg": msg})],
                    }
                }
                _ => ApiError::BadRequest(rejection.body_text()),
            },
        }
    }
}

impl From<axum::extract::rejection::QueryRejection> for ApiError {
    /// A query string that does not fit is a 422 naming the parameter.
    fn from(rejection: axum::extract::rejection::QueryRejection) -> Self {
        let text = rejection.body_text();
        let msg = text.strip_prefix("Failed to deserialize query string: ").unwrap_or(&text).to_owned();
        let loc = match field_of(&msg).as_str() {
            "body" => "query".to_owned(),
            field => format!("query.{field}"),
        };
        ApiError::Unprocessable { detail: format!("invalid query string: {msg}"), errors: vec![json!({"loc": loc, "msg": msg})] }
    }
}

impl From<axum::extract::rejection::PathRejection> for ApiError {
    /// A path segment that does not parse names nothing that exists: 404.
    fn from(rejection: axum::extract::rejection::PathRejection) -> Self {
        ApiError::NotFound(format!("no such resource: {}", rejection.body_text()))
    }
}

/// The field a serde error is about (`keys[0].value`, `name`), else `body`. Messages read
/// `path: message`, where the path is `.` for the root.
fn field_of(message: &str) -> String {
    let (path, text) = match message.split_once(": ") {
        Some((path, text)) if path != "." && !path.contains(' ') => (Some(path), text),
        _ => (None, message),
    };
    let named = ["missing field `", "unknown field `"]
        .iter()
        .find_map(|marker| text.split_once(marker).and_then(|(_, rest)| rest.split_once('`')).map(|(field, _)| field));
    match (path, named) {
        // Unknown fields are reported at their own path, missing ones at their parent's.
        (Some(path), Some(field)) if path == field || path.ends_with(&format!(".{field}")) => path.to_owned(),
        (Some(path), Some(field)) => format!("{path}.{field}"),
        (None, Some(field)) => field.to_owned(),
        (Some(path), None) => path.to_owned(),
        (None, None) => "body".to_owned(),
    }
}

/// Unique-constraint violations as conflicts (the use cases' rule, for the api's own writes).
pub use ferrocat_app::checks::ResultExt;

#[cfg(test)]
mod tests {
    use super::field_of;

    #[test]
    fn serde_messages_name_their_field() {
        assert_eq!(field_of("missing field `name` at line 1 column 2"), "name");
        assert_eq!(field_of(".: unknown field `surprise`, expected one of `a`"), "surprise");
        assert_eq!(field_of("surprise: unknown field `surprise`, expected one of `a`"), "surprise");
        assert_eq!(field_of("keys[0].extra: unknown field `extra`, expected `key`"), "keys[0].extra");
        assert_eq!(field_of("keys[0]: missing field `value` at line 1"), "keys[0].value");
        assert_eq!(field_of("keys: invalid type: integer `1`, expected a sequence"), "keys");
        assert_eq!(field_of("invalid type: null, expected a string"), "body");
    }
}

/// The one JSON error shape every route answers with (OpenAPI schema).
#[derive(serde::Serialize, utoipa::ToSchema)]
#[allow(dead_code)]
pub struct ErrorBody {
    /// What went wrong, for people.
    pub detail: String,
    /// Validation errors: `{loc, msg}` naming the field.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub errors: Option<Vec<serde_json::Value>>,
}
