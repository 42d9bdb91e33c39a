//! Anthropic: `{base}/v1/messages`, the key in `x-api-key`, `anthropic-version` set.

use http::HeaderName;
use http::header::AUTHORIZATION;
use reqwest::{Client, RequestBuilder};

use super::provider::{Auth, Provider, forward_first, secret_header};
use crate::wire::Format;

const X_API_KEY: HeaderName = HeaderName::from_static("x-api-key");
/// The API version sent to Anthropic.
pub const ANTHROPIC_VERSION: &str = "2023-06-01";

/// The Anthropic messages API.
#[derive(Debug)]
pub struct Anthropic {
    name: String,
    base: String,
}

impl Anthropic {
    /// The API at `base` (without `/v1`).
    pub fn new(name: &str, base: String) -> Self {
        Self { name: name.to_owned(), base }
    }
}

impl Provider for Anthropic {
    fn name(&self) -> &str {
        &self.name
    }

    fn format(&self) -> Format {
        Format::Anthropic
    }

    fn chat(&self, http: &Client, _model: &str, _stream: bool, auth: Auth<'_>) -> RequestBuilder {
        let rb = http.post(format!("{}/v1/messages", self.base)).header("anthropic-version", ANTHROPIC_VERSION);
        match auth {
            Auth::Key(key) => rb.header(X_API_KEY, secret_header("", key)),
            Auth::Passthrough(headers) => forward_first(rb, headers, &[X_API_KEY, AUTHORIZATION]),
            Auth::None => rb,
        }
    }
}
