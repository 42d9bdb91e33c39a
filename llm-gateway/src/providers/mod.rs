//! Upstream providers behind one trait. A [`Provider`] knows its wire format, where its chat and
//! embeddings endpoints are, and how to put a credential on a request; everything else
//! (translation, retries, streaming) is the same for all of them.

mod anthropic;
mod azure;
mod gemini;
mod openai;
mod openai_compatible;
mod provider;

use std::sync::Arc;

use ferrocat_app::llm_catalog::{ProviderEntry, ProviderKind};

pub use anthropic::Anthropic;
pub use azure::Azure;
pub use gemini::Gemini;
pub use openai::OpenAi;
pub use provider::{Auth, Provider, ProviderError};

/// Builds the provider of a catalog entry.
pub fn build(name: &str, entry: &ProviderEntry) -> Result<Arc<dyn Provider>, String> {
    Ok(match entry.kind {
        ProviderKind::OpenAi => Arc::new(OpenAi::new(name, entry.base_url(name)?)),
        ProviderKind::OpenAiCompatible => {
            Arc::new(openai_compatible::build(name, entry.base_url(name)?, entry.key_header(name)?))
        }
        ProviderKind::Anthropic => Arc::new(Anthropic::new(name, entry.base_url(name)?)),
        ProviderKind::Gemini => Arc::new(Gemini::new(name, entry.base_url(name)?)),
        ProviderKind::Azure => {
            let version = entry.api_version(name)?;
            Arc::new(Azure::new(name, entry.base_url(name)?, version))
        }
    })
}
