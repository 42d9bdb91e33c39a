//! OpenAI (and the base of every OpenAI-compatible server): `{base}/chat/completions` and
//! `{base}/embeddings`, key as `Authorization: Bearer` unless configured otherwise.

use http::HeaderName;
use http::header::AUTHORIZATION;
use reqwest::{Client, RequestBuilder};

use super::provider::{Auth, Provider, ProviderError, forward_first, secret_header};
use crate::wire::Format;

/// An OpenAI-format provider.
#[derive(Debug)]
pub struct OpenAi {
    name: String,
    base: String,
    key_header: HeaderName,
    key_prefix: &'static str,
}

impl OpenAi {
    /// OpenAI itself at `base` (ends in `/v1`).
    pub fn new(name: &str, base: String) -> Self {
        Self::with_key_header(name, base, AUTHORIZATION, "Bearer ")
    }

    /// An OpenAI-format server whose key goes in `header` as `{prefix}{key}`.
    pub fn with_key_header(name: &str, base: String, key_header: HeaderName, key_prefix: &'static str) -> Self {
        Self { name: name.to_owned(), base, key_header, key_prefix }
    }

    fn authorize(&self, rb: RequestBuilder, auth: Auth<'_>) -> RequestBuilder {
        match auth {
            Auth::Key(key) => rb.header(&self.key_header, secret_header(self.key_prefix, key)),
            Auth::Passthrough(headers) => forward_first(rb, headers, &[self.key_header.clone(), AUTHORIZATION]),
            Auth::None => rb,
        }
    }
}

impl Provider for OpenAi {
    fn name(&self) -> &str {
        &self.name
    }

    fn format(&self) -> Format {
        Format::OpenAi
    }

    fn chat(&self, http: &Client, _model: &str, _stream: bool, auth: Auth<'_>) -> RequestBuilder {
        self.authorize(http.post(format!("{}/chat/completions", self.base)), auth)
    }

    fn embeddings(&self, http: &Client, _model: &str, auth: Auth<'_>) -> Result<RequestBuilder, ProviderError> {
        Ok(self.authorize(http.post(format!("{}/embeddings", self.base)), auth))
    }
}
