//! The model catalog: which model names the gateway serves and, for each, the provider, the
//! upstream model, the credential, the fallbacks and the limits. Loaded from TOML
//! (`--models FILE` / `FERROCAT_LLM_GATEWAY_MODELS`) and validated whole at start.
//!
//! ```toml
//! [providers.openai]
//! kind = "openai"                      # openai | anthropic | azure | gemini | openai_compatible
//! credential = "env:OPENAI_API_KEY"    # or "secret:NAME" (workspace secret), or passthrough = true
//!
//! [[models]]
//! name = "gpt-4o-mini"                 # what callers ask for
//! provider = "openai"
//! upstream_model = "gpt-4o-mini"       # default: name
//! fallbacks = ["claude-haiku"]         # other catalog models tried on 429/5xx/timeouts
//! rpm = 600                            # requests per minute per workspace
//! max_tokens = 4096                    # cap on max_tokens (and the default for Anthropic)
//! ```

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use serde::Deserialize;

use ferrocat_app::llm_catalog::{CatalogError, CatalogParts, CredentialRef, ModelSpec, ProviderEntry};

use crate::providers::{self, Provider};

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct CatalogFile {
    #[serde(default)]
    providers: BTreeMap<String, ProviderEntry>,
    #[serde(default)]
    models: Vec<toml::Table>,
}

/// Reads a TOML catalog file (not yet validated: see [`Catalog::build`]).
pub fn parse_parts(text: &str) -> Result<CatalogParts, CatalogError> {
    let file: CatalogFile = toml::from_str(text).map_err(|e| CatalogError::new(e.to_string()))?;
    let mut models = Vec::with_capacity(file.models.len());
    for (i, mut table) in file.models.into_iter().enumerate() {
        let name = match table.remove("name") {
            Some(toml::Value::String(name)) => name,
            _ => return Err(CatalogError::new(format!("models[{i}] needs a name (a string)"))),
        };
        let spec = ModelSpec::deserialize(toml::Value::Table(table))
            .map_err(|e| CatalogError::new(format!("model {name:?}: {}", e.message())))?;
        models.push((name, spec));
    }
    Ok(CatalogParts { providers: file.providers, models })
}

/// Where and how one model is served.
#[derive(Debug, Clone)]
pub struct Deployment {
    /// The provider's catalog name.
    pub provider_name: String,
    /// The provider.
    pub provider: Arc<dyn Provider>,
    /// The model name sent upstream (the deployment name for Azure).
    pub upstream_model: String,
    /// The injected credential; `None` with passthrough or for a keyless local server.
    pub credential: Option<CredentialRef>,
    /// Forward the caller's credential headers instead.
    pub passthrough: bool,
}

/// One model name callers can ask for.
#[derive(Debug, Clone)]
pub struct Model {
    /// The name callers use.
    pub name: String,
    /// Where it is served.
    pub deployment: Deployment,
    /// Other catalog models to try, in order, when this one fails with a retryable error.
    pub fallbacks: Vec<String>,
    /// Requests per minute per workspace.
    pub rpm: Option<u64>,
    /// Cap on a request's `max_tokens`.
    pub max_tokens: Option<u64>,
}

/// The validated catalog.
#[derive(Debug, Clone, Default)]
pub struct Catalog {
    models: HashMap<String, Arc<Model>>,
    order: Vec<String>,
}

impl Catalog {
    /// Parses and validates a catalog from TOML.
    pub fn parse(text: &str) -> Result<Self, CatalogError> {
        Self::build(&parse_parts(text)?)
    }

    /// Validates `parts` whole ([`CatalogParts::validate`]) and builds its providers.
    pub fn build(parts: &CatalogParts) -> Result<Self, CatalogError> {
        parts.validate()?;
        let credential = |owner: &str, raw: Option<&str>| {
            raw.map(CredentialRef::parse).transpose().map_err(|e| CatalogError::new(format!("{owner}: {e}")))
        };
        let mut providers = BTreeMap::new();
        for (name, entry) in &parts.providers {
            let provider = providers::build(name, entry).map_err(CatalogError::new)?;
            let credential = credential(&format!("provider {name:?}"), entry.credential.as_deref())?;
            providers.insert(name.clone(), (provider, credential, entry.passthrough));
        }
        let mut catalog = Catalog::default();
        for (name, m) in &parts.models {
            let (provider, provider_credential, passthrough) = providers
                .get(&m.provider)
                .ok_or_else(|| CatalogError::new(format!("model {name:?}: unknown provider {:?}", m.provider)))?;
            let credential = match m.credential.as_deref() {
                Some(raw) => credential(&format!("model {name:?}"), Some(raw))?,
                None => provider_credential.clone(),
            };
            let model = Model {
                deployment: Deployment {
                    provider_name: m.provider.clone(),
                    provider: provider.clone(),
                    upstream_model: m.upstream_model.clone().unwrap_or_else(|| name.clone()),
                    credential,
                    passthrough: *passthrough,
                },
                name: name.clone(),
                fallbacks: m.fallbacks.clone(),
                rpm: m.rpm,
                max_tokens: m.max_tokens,
            };
            catalog.models.insert(name.clone(), Arc::new(model));
            catalog.order.push(name.clone());
        }
        Ok(catalog)
    }

    /// `self` (a catalog file) over `stored` (the api's catalog): a name in both is served as
    /// the file says. Returns the merged catalog and the stored names it shadows.
    pub fn layered(&self, stored: &Catalog) -> (Catalog, Vec<String>) {
        let mut out = self.clone();
        let mut shadowed = Vec::new();
        for model in stored.models() {
            if out.models.contains_key(&model.name) {
                shadowed.push(model.name.clone());
            } else {
                out.models.insert(model.name.clone(), model.clone());
                out.order.push(model.name.clone());
            }
        }
        (out, shadowed)
    }

    /// How many models it serves.
    pub fn len(&self) -> usize {
        self.order.len()
    }

    /// Whether it serves none.
    pub fn is_empty(&self) -> bool {
        self.order.is_empty()
    }

    /// The model called `name`.
    pub fn get(&self, name: &str) -> Option<&Arc<Model>> {
        self.models.get(name)
    }

    /// Models in catalog order.
    pub fn models(&self) -> impl Iterator<Item = &Arc<Model>> {
        self.order.iter().filter_map(|n| self.models.get(n))
    }

    /// The deployments to try for `model`: its own, then each fallback's (not theirs in turn).
    pub fn candidates(&self, model: &Arc<Model>) -> Vec<Arc<Model>> {
        let mut out = vec![model.clone()];
        out.extend(model.fallbacks.iter().filter_map(|f| self.models.get(f).cloned()));
        out
    }

    /// Every `env:NAME` the catalog references, to snapshot at start.
    pub fn env_credentials(&self) -> impl Iterator<Item = &str> {
        self.models.values().filter_map(|m| match &m.deployment.credential {
            Some(CredentialRef::Env(name)) => Some(name.as_str()),
            _ => None,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const EXAMPLE: &str = r#"
        [providers.oa]
        kind = "openai"
        credential = "env:OA_KEY"
        [providers.local]
        kind = "openai_compatible"
        base_url = "http://127.0.0.1:11434/v1"
        [providers.az]
        kind = "azure"
        base_url = "https://x.openai.azure.com"
        api_version = "2024-10-21"
        passthrough = true

        [[models]]
        name = "gpt"
        provider = "oa"
        upstream_model = "gpt-4o-mini"
        fallbacks = ["llama"]
        rpm = 5
        [[models]]
        name = "llama"
        provider = "local"
        [[models]]
        name = "az"
        provider = "az"
    "#;

    #[test]
    fn parses_models_and_fallbacks() {
        let c = Catalog::parse(EXAMPLE).unwrap();
        let gpt = c.get("gpt").unwrap();
        assert_eq!(gpt.deployment.upstream_model, "gpt-4o-mini");
        assert_eq!(gpt.deployment.credential, Some(CredentialRef::Env("OA_KEY".into())));
        assert_eq!(gpt.rpm, Some(5));
        let names: Vec<_> = c.candidates(gpt).iter().map(|m| m.name.clone()).collect();
        assert_eq!(names, ["gpt", "llama"]);
        assert_eq!(c.get("llama").unwrap().deployment.upstream_model, "llama");
        assert!(c.get("az").unwrap().deployment.passthrough);
        assert_eq!(c.models().map(|m| m.name.as_str()).collect::<Vec<_>>(), ["gpt", "llama", "az"]);
        assert_eq!(c.env_credentials().collect::<Vec<_>>(), ["OA_KEY"]);
    }

    #[test]
    fn rejects_bad_catalogs() {
        let cases = [
            ("[[models]]\nname='a'\nprovider='nope'", "unknown provider"),
            ("[providers.p]\nkind='openai'", "needs a credential"),
            ("[providers.p]\nkind='azure'\ncredential='env:K'\nbase_url='http://x'", "api_version"),
            ("[providers.p]\nkind='openai'\ncredential='sk-raw'", "env:NAME"),
            ("[providers.p]\nkind='openai'\ncredential='env:K'\n[[models]]\nname='a'\nprovider='p'\nfallbacks=['b']", "fallback"),
            ("[providers.p]\nkind='openai'\ncredential='env:K'\n[[models]]\nname='a'\nprovider='p'\n[[models]]\nname='a'\nprovider='p'", "twice"),
            ("[providers.p]\nkind='bogus'", "unknown variant"),
        ];
        for (toml, expected) in cases {
            let err = Catalog::parse(toml).unwrap_err().to_string();
            assert!(err.contains(expected), "{toml}: {err}");
        }
    }

    #[test]
    fn a_file_catalog_wins_over_stored_models_of_the_same_name() {
        let file = Catalog::parse(EXAMPLE).unwrap();
        let stored = Catalog::parse(
            "[providers.p]\nkind='openai_compatible'\nbase_url='http://127.0.0.1:1/v1'\n\
             [[models]]\nname='gpt'\nprovider='p'\n[[models]]\nname='extra'\nprovider='p'",
        )
        .unwrap();
        let (merged, shadowed) = file.layered(&stored);
        assert_eq!(shadowed, ["gpt"]);
        assert_eq!(merged.models().map(|m| m.name.as_str()).collect::<Vec<_>>(), ["gpt", "llama", "az", "extra"]);
        assert_eq!(merged.get("gpt").unwrap().deployment.provider_name, "oa");
        assert_eq!(merged.get("extra").unwrap().deployment.provider_name, "p");
    }

    #[test]
    fn stored_catalogs_take_secrets_not_the_gateways_environment() {
        let mut parts = parse_parts("[providers.p]\nkind='openai'\ncredential='secret:openai.KEY'\n[[models]]\nname='m'\nprovider='p'").unwrap();
        assert!(ferrocat_app::llm_catalog::validate_stored(&parts).is_ok());
        parts.models[0].1.credential = Some("env:FERROCAT_SIGNING_SECRET".into());
        let err = ferrocat_app::llm_catalog::validate_stored(&parts).unwrap_err().to_string();
        assert!(err.contains("model \"m\"") && err.contains("env:"), "{err}");
        let err = parse_parts("[[models]]\nprovider='p'").unwrap_err().to_string();
        assert!(err.contains("needs a name"), "{err}");
        let err = parse_parts("[[models]]\nname='m'\nprovider='p'\nbogus=1").unwrap_err().to_string();
        assert!(err.contains("model \"m\"") && err.contains("bogus"), "{err}");
    }
}
