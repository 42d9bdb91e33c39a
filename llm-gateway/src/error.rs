//! Errors of the gateway: [`GatewayError`] for what went wrong while routing one call, and
//! [`ApiError`], the one error every endpoint answers with, rendered as the caller's API would
//! (OpenAI's `{"error": {...}}` or Anthropic's `{"type": "error", "error": {...}}`).

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::json;

use crate::auth::AuthError;
use crate::credentials::CredentialError;
use crate::providers::ProviderError;
use crate::wire::Dialect;

/// What went wrong while serving one call.
#[derive(Debug, thiserror::Error)]
pub enum GatewayError {
    #[error("model {0:?} is not served by this gateway")]
    UnknownModel(String),
    #[error("the caller's token does not allow model {0:?}")]
    ModelNotAllowed(String),
    #[error("the caller's token is for provider {token:?}, but model {model:?} is served by {actual:?}")]
    ProviderMismatch { token: String, model: String, actual: String },
    #[error("{0}")]
    BadRequest(String),
    #[error("request body is larger than the limit of {limit} bytes")]
    TooLarge { limit: usize },
    #[error("{scope} rate limit reached; retry after {retry_after} s")]
    RateLimited { scope: String, retry_after: u64 },
    #[error(transparent)]
    Credential(#[from] CredentialError),
    #[error(transparent)]
    Provider(#[from] ProviderError),
}

/// The error answer of every endpoint: a status, a machine-readable kind and a message that is
/// safe to show (no credentials, no internals).
#[derive(Debug)]
pub struct ApiError {
    status: StatusCode,
    kind: &'static str,
    message: String,
    retry_after: Option<u64>,
    dialect: Dialect,
}

impl ApiError {
    /// An error with a status, an Anthropic-style kind and a message.
    pub fn new(status: StatusCode, kind: &'static str, message: impl Into<String>) -> Self {
        Self { status, kind, message: message.into(), retry_after: None, dialect: Dialect::OpenAi }
    }

    /// The same error, rendered for `dialect`.
    pub fn in_dialect(mut self, dialect: Dialect) -> Self {
        self.dialect = dialect;
        self
    }

    /// The HTTP status this error answers with.
    pub fn status_code(&self) -> StatusCode {
        self.status
    }

    /// The message shown to the caller.
    pub fn message(&self) -> &str {
        &self.message
    }

    /// The body as the caller's API would send it.
    pub fn body(&self) -> serde_json::Value {
        match self.dialect {
            Dialect::OpenAi => json!({
                "error": {"message": self.message, "type": openai_type(self.kind), "param": null, "code": self.kind}
            }),
            Dialect::Anthropic => json!({"type": "error", "error": {"type": self.kind, "message": self.message}}),
        }
    }

    /// The error as one SSE event, for failures after a stream has started.
    pub fn sse_event(&self) -> String {
        match self.dialect {
            Dialect::OpenAi => format!("data: {}\n\n", self.body()),
            Dialect::Anthropic => format!("event: error\ndata: {}\n\n", self.body()),
        }
    }
}

fn openai_type(kind: &str) -> &str {
    match kind {
        "api_error" | "overloaded_error" => "server_error",
        "rate_limit_error" => "rate_limit_exceeded",
        "authentication_error" => "invalid_request_error",
        other => other,
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        if self.status.is_server_error() {
            tracing::warn!(status = self.status.as_u16(), message = %self.message, "request failed");
        }
        let mut response = (self.status, axum::Json(self.body())).into_response();
        if let Some(seconds) = self.retry_after {
            response.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from(seconds));
        }
        if self.status == StatusCode::UNAUTHORIZED {
            response.headers_mut().insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        }
        response
    }
}

impl From<AuthError> for ApiError {
    fn from(e: AuthError) -> Self {
        ApiError::new(StatusCode::UNAUTHORIZED, "authentication_error", e.to_string())
    }
}

impl From<GatewayError> for ApiError {
    fn from(e: GatewayError) -> Self {
        use GatewayError as G;
        let message = e.to_string();
        match e {
            G::UnknownModel(_) => ApiError::new(StatusCode::NOT_FOUND, "not_found_error", message),
            G::ModelNotAllowed(_) | G::ProviderMismatch { .. } => {
                ApiError::new(StatusCode::FORBIDDEN, "permission_error", message)
            }
            G::BadRequest(_) => ApiError::new(StatusCode::BAD_REQUEST, "invalid_request_error", message),
            G::TooLarge { .. } => ApiError::new(StatusCode::PAYLOAD_TOO_LARGE, "request_too_large", message),
            G::RateLimited { retry_after, .. } => ApiError {
                retry_after: Some(retry_after),
                ..ApiError::new(StatusCode::TOO_MANY_REQUESTS, "rate_limit_error", message)
            },
            G::Credential(_) => ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "api_error", message),
            G::Provider(p) => provider_error(p),
        }
    }
}

fn provider_error(e: ProviderError) -> ApiError {
    use ProviderError as P;
    let message = e.to_string();
    match e {
        P::Status { status, retry_after, passthrough, .. } => {
            let (code, kind) = match status {
                429 => (StatusCode::TOO_MANY_REQUESTS, "rate_limit_error"),
                401 | 403 if passthrough => (StatusCode::from_u16(status).unwrap_or(StatusCode::UNAUTHORIZED), "authentication_error"),
                // The gateway's own key was refused: a configuration problem, not the caller's.
                401 | 403 => (StatusCode::BAD_GATEWAY, "api_error"),
                529 | 503 => (StatusCode::SERVICE_UNAVAILABLE, "overloaded_error"),
                400..=499 => (StatusCode::from_u16(status).unwrap_or(StatusCode::BAD_REQUEST), "invalid_request_error"),
                _ => (StatusCode::BAD_GATEWAY, "api_error"),
            };
            ApiError { retry_after, ..ApiError::new(code, kind, message) }
        }
        P::Timeout { .. } => ApiError::new(StatusCode::GATEWAY_TIMEOUT, "api_error", message),
        P::Transport { .. } | P::Decode { .. } => ApiError::new(StatusCode::BAD_GATEWAY, "api_error", message),
        P::Unsupported(_) => ApiError::new(StatusCode::BAD_REQUEST, "invalid_request_error", message),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_both_dialects() {
        let e = ApiError::from(GatewayError::UnknownModel("x".into()));
        assert_eq!(e.status_code(), StatusCode::NOT_FOUND);
        assert_eq!(e.body()["error"]["code"], "not_found_error");
        let e = e.in_dialect(Dialect::Anthropic);
        assert_eq!(e.body()["type"], "error");
        assert_eq!(e.body()["error"]["type"], "not_found_error");
        assert!(e.sse_event().starts_with("event: error\ndata: {"));
    }

    #[test]
    fn refused_gateway_key_is_a_bad_gateway_but_refused_caller_key_is_401() {
        let status = |passthrough| {
            ApiError::from(GatewayError::Provider(ProviderError::Status {
                provider: "p".into(),
                status: 401,
                message: "no".into(),
                retry_after: None,
                passthrough,
            }))
            .status_code()
        };
        assert_eq!(status(false), StatusCode::BAD_GATEWAY);
        assert_eq!(status(true), StatusCode::UNAUTHORIZED);
    }
}
