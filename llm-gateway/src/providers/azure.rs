//! Azure OpenAI: OpenAI's format at `{base}/openai/deployments/{deployment}/...?api-version=V`,
//! the key in `api-key`. The catalog's upstream model is the deployment name.

use http::HeaderName;
use http::header::AUTHORIZATION;
use reqwest::{Client, RequestBuilder};

use super::provider::{Auth, Provider, ProviderError, forward_first, secret_header};
use crate::wire::Format;

const API_KEY: HeaderName = HeaderName::from_static("api-key");

/// An Azure OpenAI resource.
#[derive(Debug)]
pub struct Azure {
    name: String,
    base: String,
    api_version: String,
}

impl Azure {
    /// The resource at `base` (`https://NAME.openai.azure.com`).
    pub fn new(name: &str, base: String, api_version: String) -> Self {
        Self { name: name.to_owned(), base, api_version }
    }

    fn post(&self, http: &Client, deployment: &str, op: &str, auth: Auth<'_>) -> RequestBuilder {
        let rb = http
            .post(format!("{}/openai/deployments/{deployment}/{op}", self.base))
            .query(&[("api-version", self.api_version.as_str())]);
        match auth {
            Auth::Key(key) => rb.header(API_KEY, secret_header("", key)),
            Auth::Passthrough(headers) => forward_first(rb, headers, &[API_KEY, AUTHORIZATION]),
            Auth::None => rb,
        }
    }
}

impl Provider for Azure {
    fn name(&self) -> &str {
        &self.name
    }

    fn format(&self) -> Format {
        Format::OpenAi
    }

    fn chat(&self, http: &Client, model: &str, _stream: bool, auth: Auth<'_>) -> RequestBuilder {
        self.post(http, model, "chat/completions", auth)
    }

    fn embeddings(&self, http: &Client, model: &str, auth: Auth<'_>) -> Result<RequestBuilder, ProviderError> {
        Ok(self.post(http, model, "embeddings", auth))
    }
}
