//! Any OpenAI-compatible base URL (vLLM, Ollama, OpenRouter, LM Studio...): OpenAI's paths, with
//! the key in `Authorization: Bearer` or in a custom header (`api_key_header`), or no key.

use http::HeaderName;
use http::header::AUTHORIZATION;

use super::openai::OpenAi;

/// An OpenAI-format provider at `base`, its key in `key_header` when given (else
/// `Authorization: Bearer`).
pub fn build(name: &str, base: String, key_header: Option<HeaderName>) -> OpenAi {
    match key_header {
        None => OpenAi::with_key_header(name, base, AUTHORIZATION, "Bearer "),
        Some(header) => OpenAi::with_key_header(name, base, header, ""),
    }
}
