//! The model catalog's contract between the api (which edits it) and the model gateway (which
//! serves it): provider entries, model specs and credential references as they are written and
//! stored, the whole-catalog validation both apply, and the channels the api notifies on each
//! change. The rows themselves are read and written by [`crate::db::llm`].

use std::collections::{BTreeMap, HashSet};
use std::fmt;

use http::HeaderName;
use serde::{Deserialize, Serialize};
use url::Url;

/// Channel the api notifies when the stored catalog changes.
pub const CATALOG_CHANNEL: &str = "ferrocat_llm_catalog";
/// Channel the api notifies when a secret changes (payload: the workspace id, empty for an
/// organisation secret).
pub const SECRETS_CHANNEL: &str = "ferrocat_secrets";

/// A catalog that cannot be used, with what is wrong.
#[derive(Debug, thiserror::Error)]
#[error("model catalog: {0}")]
pub struct CatalogError(String);

impl CatalogError {
    pub fn new(message: String) -> Self {
        Self(message)
    }
}

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

impl ProviderEntry {
    /// The base URL of provider `name` without a trailing `/`: the entry's (http or https), else
    /// the vendor's public API.
    pub fn base_url(&self, name: &str) -> Result<String, String> {
        let default = match self.kind {
            ProviderKind::OpenAi => "https://api.openai.com/v1",
            ProviderKind::Anthropic => "https://api.anthropic.com",
            ProviderKind::Gemini => "https://generativelanguage.googleapis.com/v1beta",
            ProviderKind::Azure | ProviderKind::OpenAiCompatible => "",
        };
        match (&self.base_url, default) {
            (Some(url), _) => {
                let parsed = Url::parse(url).map_err(|e| format!("provider {name:?}: base_url {url:?}: {e}"))?;
                if !matches!(parsed.scheme(), "http" | "https") {
                    return Err(format!("provider {name:?}: base_url {url:?} must be http or https"));
                }
                Ok(url.trim_end_matches('/').to_owned())
            }
            (None, "") => Err(format!("provider {name:?} of kind {:?} needs base_url", self.kind)),
            (None, d) => Ok(d.to_owned()),
        }
    }

    /// Azure: the `api-version` of provider `name`, which it must have.
    pub fn api_version(&self, name: &str) -> Result<String, String> {
        self.api_version.clone().ok_or_else(|| format!("azure provider {name:?} needs api_version"))
    }

    /// OpenAI-compatible: the custom header that carries the key of provider `name`; `None` for
    /// `Authorization` (as `Bearer`, the default).
    pub fn key_header(&self, name: &str) -> Result<Option<HeaderName>, String> {
        match self.api_key_header.as_deref() {
            None => Ok(None),
            Some(h) if h.eq_ignore_ascii_case("authorization") => Ok(None),
            Some(h) => HeaderName::try_from(h)
                .map(Some)
                .map_err(|_| format!("provider {name:?}: api_key_header {h:?} is not a header name")),
        }
    }

    /// Checks what the entry's kind needs, in the order the gateway reads it.
    fn check(&self, name: &str) -> Result<(), String> {
        match self.kind {
            ProviderKind::Azure => {
                self.api_version(name)?;
                self.base_url(name)?;
            }
            ProviderKind::OpenAiCompatible => {
                self.base_url(name)?;
                self.key_header(name)?;
            }
            ProviderKind::OpenAi | ProviderKind::Anthropic | ProviderKind::Gemini => {
                self.base_url(name)?;
            }
        }
        Ok(())
    }
}

/// One model as the api stores it (and as a TOML `[[models]]` entry reads, without `name`).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ModelSpec {
    /// The catalog provider that serves it.
    pub provider: String,
    /// The model name sent upstream (the deployment name for Azure); default: the model's name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub upstream_model: Option<String>,
    /// Overrides the provider's credential: `secret:NAME` or `secret:NAME.KEY` (`env:NAME` in a
    /// catalog file only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub credential: Option<String>,
    /// Other catalog models tried, in order, on 429/5xx/timeouts.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub fallbacks: Vec<String>,
    /// Requests per minute per workspace.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rpm: Option<u64>,
    /// Cap on a request's `max_tokens` (and the default for Anthropic).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_tokens: Option<u64>,
}

/// Where a credential comes from, as written in the catalog.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum CredentialRef {
    /// `env:NAME`: a variable of the gateway's environment, read once at start.
    Env(String),
    /// `secret:NAME` or `secret:NAME.KEY`: a key of the calling workspace's secret NAME (its
    /// `default` environment), else of the organisation's, resolved by the gateway.
    /// Without `.KEY` the secret must hold exactly one key.
    Secret(String),
}

impl CredentialRef {
    /// Parses `env:NAME` or `secret:NAME`.
    pub fn parse(raw: &str) -> Result<Self, String> {
        match raw.split_once(':') {
            Some(("env", name)) if !name.is_empty() => Ok(Self::Env(name.to_owned())),
            Some(("secret", name)) if !name.is_empty() => Ok(Self::Secret(name.to_owned())),
            _ => Err(format!("credential {raw:?} must be `env:NAME` or `secret:NAME`")),
        }
    }
}

impl fmt::Display for CredentialRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Env(n) => write!(f, "env:{n}"),
            Self::Secret(n) => write!(f, "secret:{n}"),
        }
    }
}

/// A catalog as written: provider entries by name, and models in order.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct CatalogParts {
    pub providers: BTreeMap<String, ProviderEntry>,
    pub models: Vec<(String, ModelSpec)>,
}

impl CatalogParts {
    /// Every credential reference the entries name, with where each is written.
    pub fn credentials(&self) -> impl Iterator<Item = (String, &str)> {
        let providers = self.providers.iter().filter_map(|(n, p)| Some((format!("provider {n:?}"), p.credential.as_deref()?)));
        let models = self.models.iter().filter_map(|(n, m)| Some((format!("model {n:?}"), m.credential.as_deref()?)));
        providers.chain(models)
    }

    /// Validates the catalog whole: every provider usable, every model's provider and fallbacks
    /// known, credentials well formed, names unique.
    pub fn validate(&self) -> Result<(), CatalogError> {
        for (name, entry) in &self.providers {
            if name.is_empty() || name.len() > 128 {
                return Err(CatalogError(format!("provider name {name:?} must be 1 to 128 characters")));
            }
            entry.check(name).map_err(CatalogError)?;
            let credential = entry
                .credential
                .as_deref()
                .map(CredentialRef::parse)
                .transpose()
                .map_err(|e| CatalogError(format!("provider {name:?}: {e}")))?;
            if credential.is_some() && entry.passthrough {
                return Err(CatalogError(format!("provider {name:?}: credential and passthrough exclude each other")));
            }
            if credential.is_none() && !entry.passthrough && entry.kind != ProviderKind::OpenAiCompatible {
                return Err(CatalogError(format!("provider {name:?} needs a credential (or passthrough = true)")));
            }
        }
        let mut names = HashSet::new();
        for (name, m) in &self.models {
            if name.is_empty() || name.len() > 256 {
                return Err(CatalogError(format!("model name {name:?} must be 1 to 256 characters")));
            }
            if !self.providers.contains_key(&m.provider) {
                return Err(CatalogError(format!("model {name:?}: unknown provider {:?}", m.provider)));
            }
            if let Some(raw) = m.credential.as_deref() {
                CredentialRef::parse(raw).map_err(|e| CatalogError(format!("model {name:?}: {e}")))?;
            }
            if !names.insert(name.as_str()) {
                return Err(CatalogError(format!("model {name:?} is listed twice")));
            }
        }
        for (name, m) in &self.models {
            for f in &m.fallbacks {
                if !names.contains(f.as_str()) || f == name {
                    return Err(CatalogError(format!("model {name:?}: fallback {f:?} is not another catalog model")));
                }
            }
        }
        Ok(())
    }
}

/// Checks a stored catalog whole, as the api must before committing a change. Stored entries
/// may not name `env:` credentials: whoever edits the catalog through the api would otherwise
/// be able to send any variable of the gateway's environment to a base URL of their choosing.
pub fn validate_stored(parts: &CatalogParts) -> Result<(), CatalogError> {
    for (owner, raw) in parts.credentials() {
        if matches!(CredentialRef::parse(raw), Ok(CredentialRef::Env(_))) {
            return Err(CatalogError::new(format!(
                "{owner}: env: credentials can only be set in a catalog file; store the key as a workspace secret and write secret:NAME"
            )));
        }
    }
    parts.validate()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn provider(kind: ProviderKind) -> ProviderEntry {
        ProviderEntry { kind, base_url: None, credential: None, passthrough: false, api_version: None, api_key_header: None }
    }

    fn model(provider: &str) -> ModelSpec {
        ModelSpec { provider: provider.into(), upstream_model: None, credential: None, fallbacks: vec![], rpm: None, max_tokens: None }
    }

    #[test]
    fn stored_catalogs_take_secrets_not_the_gateways_environment() {
        let mut parts = CatalogParts::default();
        parts.providers.insert("p".into(), ProviderEntry { credential: Some("secret:openai.KEY".into()), ..provider(ProviderKind::OpenAi) });
        parts.models.push(("m".into(), model("p")));
        assert!(validate_stored(&parts).is_ok());
        parts.models[0].1.credential = Some("env:FERROCAT_SIGNING_SECRET".into());
        let err = validate_stored(&parts).unwrap_err().to_string();
        assert!(err.contains("model \"m\"") && err.contains("env:"), "{err}");
        assert!(parts.validate().is_ok(), "a catalog file may name env: credentials");
    }

    #[test]
    fn entries_resolve_their_base_url_and_key_header() {
        let oa = provider(ProviderKind::OpenAi);
        assert_eq!(oa.base_url("oa").unwrap(), "https://api.openai.com/v1");
        let local = ProviderEntry { base_url: Some("http://127.0.0.1:1/v1/".into()), ..provider(ProviderKind::OpenAiCompatible) };
        assert_eq!(local.base_url("l").unwrap(), "http://127.0.0.1:1/v1");
        assert_eq!(local.key_header("l").unwrap(), None);
        let custom = ProviderEntry { api_key_header: Some("x-api-key".into()), ..local.clone() };
        assert_eq!(custom.key_header("l").unwrap(), Some(HeaderName::from_static("x-api-key")));
        let bad = ProviderEntry { api_key_header: Some("bad header".into()), ..local };
        assert!(bad.key_header("l").unwrap_err().contains("not a header name"));
        let ftp = ProviderEntry { base_url: Some("ftp://x".into()), ..provider(ProviderKind::Azure) };
        assert!(ftp.check("az").unwrap_err().contains("api_version"));
        assert!(ProviderEntry { api_version: Some("v".into()), ..ftp }.check("az").unwrap_err().contains("http or https"));
    }
}
