//! What a provider is: the [`Provider`] trait, the [`Auth`] it puts on a request, the
//! [`ProviderError`] of a failed upstream call, and the header helpers every vendor uses.

use std::fmt;

use http::{HeaderMap, HeaderName, HeaderValue};
use reqwest::{Client, RequestBuilder};
use secrecy::{ExposeSecret as _, SecretString};

use crate::wire::Format;

/// The credential to put on one upstream request.
pub enum Auth<'a> {
    /// A key the gateway resolved; the caller never sees it.
    Key(&'a SecretString),
    /// Passthrough: the caller's own provider credential headers are forwarded.
    Passthrough(&'a HeaderMap),
    /// No credential (a local OpenAI-compatible server).
    None,
}

/// A failed upstream call. Messages are redacted before they are built.
#[derive(Debug, thiserror::Error)]
pub enum ProviderError {
    #[error("provider {provider} answered {status}: {message}")]
    Status { provider: String, status: u16, message: String, retry_after: Option<u64>, passthrough: bool },
    #[error("provider {provider} did not answer within {seconds} s")]
    Timeout { provider: String, seconds: f64 },
    #[error("could not reach provider {provider}: {message}")]
    Transport { provider: String, message: String },
    #[error("provider {provider} sent a response that could not be read: {message}")]
    Decode { provider: String, message: String },
    #[error("{0}")]
    Unsupported(String),
}

impl ProviderError {
    /// Whether another attempt (the same deployment again, or a fallback) may succeed:
    /// rate limits, server errors, overload, timeouts and connection failures.
    pub fn retryable(&self) -> bool {
        match self {
            Self::Status { status, .. } => *status == 408 || *status == 409 || *status == 429 || *status >= 500,
            Self::Timeout { .. } | Self::Transport { .. } => true,
            Self::Decode { .. } | Self::Unsupported(_) => false,
        }
    }
}

/// One upstream provider.
pub trait Provider: Send + Sync + fmt::Debug {
    /// The catalog name of this provider entry.
    fn name(&self) -> &str;
    /// The wire format of its chat endpoint.
    fn format(&self) -> Format;
    /// A POST to its chat endpoint for `model`, with the credential set; the caller adds the body.
    fn chat(&self, http: &Client, model: &str, stream: bool, auth: Auth<'_>) -> RequestBuilder;
    /// A POST to its embeddings endpoint (body in [`Provider::format`]'s embeddings shape).
    fn embeddings(&self, _http: &Client, _model: &str, _auth: Auth<'_>) -> Result<RequestBuilder, ProviderError> {
        Err(ProviderError::Unsupported(format!("provider {} has no embeddings endpoint", self.name())))
    }
}

/// A header value holding a secret, marked sensitive so that it is never printed.
pub(super) fn secret_header(prefix: &str, key: &SecretString) -> HeaderValue {
    let mut value = HeaderValue::from_str(&format!("{prefix}{}", key.expose_secret()))
        .unwrap_or_else(|_| HeaderValue::from_static("invalid-credential"));
    value.set_sensitive(true);
    value
}

/// Copies the first of `names` present in the caller's headers onto the request.
pub(super) fn forward_first(mut rb: RequestBuilder, headers: &HeaderMap, names: &[HeaderName]) -> RequestBuilder {
    for name in names {
        if let Some(v) = headers.get(name) {
            let mut v = v.clone();
            v.set_sensitive(true);
            rb = rb.header(name, v);
            break;
        }
    }
    rb
}
