//! Any OpenAI-compatible base URL (vLLM, Ollama, OpenRouter, LM Studio...): OpenAI's paths, with
//! the key in `Authorization: Bearer` or in a custom header (`api_key_header`), or no key.

use http::HeaderName;
use http::header::AUTHORIZATION;

use super::OpenAi;

/// An OpenAI-format provider at `base`, its key in `api_key_header` when given.
pub fn build(name: &str, base: String, api_key_header: Option<&str>) -> Result<OpenAi, String> {
    match api_key_header {
        None => Ok(OpenAi::with_key_header(name, base, AUTHORIZATION, "Bearer ")),
        Some(h) if h.eq_ignore_ascii_case("authorization") => Ok(OpenAi::with_key_header(name, base, AUTHORIZATION, "Bearer ")),
        Some(h) => {
            let header = HeaderName::try_from(h).map_err(|_| format!("provider {name:?}: api_key_header {h:?} is not a header name"))?;
            Ok(OpenAi::with_key_header(name, base, header, ""))
        }
    }
}
