//! Upstream providers behind one trait. A [`Provider`] knows its wire format, where its chat and
//! embeddings endpoints are, and how to put a credential on a request; everything else
//! (translation, retries, streaming) is the same for all of them.

mod anthropic;
mod azure;
mod gemini;
mod openai;
mod openai_compatible;

use std::fmt;
use std::sync::Arc;

use http::{HeaderMap, HeaderName, HeaderValue};
use reqwest::{Client, RequestBuilder};
use secrecy::{ExposeSecret as _, SecretString};
use serde::{Deserialize, Serialize};
use url::Url;

use crate::translate::Format;

pub use anthropic::Anthropic;
pub use azure::Azure;
pub use gemini::Gemini;
pub use openai::OpenAi;

/// The provider families the catalog can name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ProviderKind {
    #[serde(rename = "openai")]
    OpenAi,
    Anthropic,
    Azure,
    Gemini,
    #[serde(rename = "openai_compatible")]
    OpenAiCompatible,
}

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

/// A provider entry of the catalog, as written in TOML (and stored by the api).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ProviderEntry {
    /// Which API family it speaks.
    pub kind: ProviderKind,
    /// Base URL; defaults to the vendor's public API for `openai`, `anthropic` and `gemini`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub base_url: Option<String>,
    /// `secret:NAME` or `secret:NAME.KEY` (a secret of the calling workspace), or `env:NAME` in
    /// a catalog file; the key injected into every call.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub credential: Option<String>,
    /// Forward the caller's own credential headers instead of injecting one.
    #[serde(default)]
    pub passthrough: bool,
    /// Azure: the `api-version` query parameter.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub api_version: Option<String>,
    /// OpenAI-compatible: the header that carries the key (default `Authorization`, as `Bearer`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub api_key_header: Option<String>,
}

/// Builds the provider of a catalog entry.
pub fn build(name: &str, entry: &ProviderEntry) -> Result<Arc<dyn Provider>, String> {
    let base = |default: &str| -> Result<String, String> {
        match (&entry.base_url, default) {
            (Some(url), _) => {
                let parsed = Url::parse(url).map_err(|e| format!("provider {name:?}: base_url {url:?}: {e}"))?;
                if !matches!(parsed.scheme(), "http" | "https") {
                    return Err(format!("provider {name:?}: base_url {url:?} must be http or https"));
                }
                Ok(url.trim_end_matches('/').to_owned())
            }
            (None, "") => Err(format!("provider {name:?} of kind {:?} needs base_url", entry.kind)),
            (None, d) => Ok(d.to_owned()),
        }
    };
    Ok(match entry.kind {
        ProviderKind::OpenAi => Arc::new(OpenAi::new(name, base("https://api.openai.com/v1")?)),
        ProviderKind::OpenAiCompatible => {
            Arc::new(openai_compatible::build(name, base("")?, entry.api_key_header.as_deref())?)
        }
        ProviderKind::Anthropic => Arc::new(Anthropic::new(name, base("https://api.anthropic.com")?)),
        ProviderKind::Gemini => Arc::new(Gemini::new(name, base("https://generativelanguage.googleapis.com/v1beta")?)),
        ProviderKind::Azure => {
            let version = entry.api_version.clone().ok_or_else(|| format!("azure provider {name:?} needs api_version"))?;
            Arc::new(Azure::new(name, base("")?, version))
        }
    })
}

/// A header value holding a secret, marked sensitive so that it is never printed.
pub(crate) fn secret_header(prefix: &str, key: &SecretString) -> HeaderValue {
    let mut value = HeaderValue::from_str(&format!("{prefix}{}", key.expose_secret()))
        .unwrap_or_else(|_| HeaderValue::from_static("invalid-credential"));
    value.set_sensitive(true);
    value
}

/// Copies the first of `names` present in the caller's headers onto the request.
pub(crate) fn forward_first(mut rb: RequestBuilder, headers: &HeaderMap, names: &[HeaderName]) -> RequestBuilder {
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
