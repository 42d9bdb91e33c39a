//! Google Gemini (Generative Language API): `{base}/models/{model}:generateContent`, streaming
//! at `:streamGenerateContent?alt=sse`, the key in `x-goog-api-key` (never in the URL, so that
//! transport errors, which name the URL, cannot carry it).

use http::HeaderName;
use reqwest::{Client, RequestBuilder};

use super::provider::{Auth, Provider, ProviderError, forward_first, secret_header};
use crate::wire::Format;

const X_GOOG_API_KEY: HeaderName = HeaderName::from_static("x-goog-api-key");

/// The Gemini API.
#[derive(Debug)]
pub struct Gemini {
    name: String,
    base: String,
}

impl Gemini {
    /// The API at `base` (ends in `/v1beta`).
    pub fn new(name: &str, base: String) -> Self {
        Self { name: name.to_owned(), base }
    }

    fn authorize(rb: RequestBuilder, auth: Auth<'_>) -> RequestBuilder {
        match auth {
            Auth::Key(key) => rb.header(X_GOOG_API_KEY, secret_header("", key)),
            Auth::Passthrough(headers) => forward_first(rb, headers, &[X_GOOG_API_KEY]),
            Auth::None => rb,
        }
    }
}

impl Provider for Gemini {
    fn name(&self) -> &str {
        &self.name
    }

    fn format(&self) -> Format {
        Format::Gemini
    }

    fn chat(&self, http: &Client, model: &str, stream: bool, auth: Auth<'_>) -> RequestBuilder {
        let url = if stream {
            format!("{}/models/{model}:streamGenerateContent?alt=sse", self.base)
        } else {
            format!("{}/models/{model}:generateContent", self.base)
        };
        Self::authorize(http.post(url), auth)
    }

    fn embeddings(&self, http: &Client, model: &str, auth: Auth<'_>) -> Result<RequestBuilder, ProviderError> {
        Ok(Self::authorize(http.post(format!("{}/models/{model}:batchEmbedContents", self.base)), auth))
    }
}
