//! Provider credentials: where the gateway gets the API key it injects into an upstream call.
//! A catalog entry names a [`CredentialRef`]; a [`CredentialSource`] turns it into a secret for
//! the calling workspace. Keys never leave the gateway: they go into upstream headers only, and
//! every error text is redacted of them (`crate::redact`).

use std::collections::BTreeMap;
use std::fmt;

use async_trait::async_trait;
use secrecy::SecretString;

use ferrocat_shared::config::Env;

/// Where a credential comes from, as written in the catalog.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum CredentialRef {
    /// `env:NAME`: a variable of the gateway's environment, read once at start.
    Env(String),
    /// `secret:NAME`: a secret of the calling workspace (or its organisation), resolved per call
    /// by a secrets-store source.
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

/// A credential that could not be resolved. The message names the reference, never a value.
#[derive(Debug, thiserror::Error)]
pub enum CredentialError {
    #[error("credential {0} is not set")]
    NotFound(CredentialRef),
    #[error("credential {0} needs a workspace secrets store, which this gateway has not been given")]
    NoSecretsStore(CredentialRef),
}

/// Resolves credentials for a workspace. The secrets store of the api plugs in here.
#[async_trait]
pub trait CredentialSource: Send + Sync {
    /// The secret behind `reference` for calls made on behalf of `workspace_id`.
    async fn resolve(&self, workspace_id: &str, reference: &CredentialRef) -> Result<SecretString, CredentialError>;
}

/// `env:NAME` credentials, snapshotted from the environment at start (only the names the
/// catalog uses). `secret:NAME` needs another source.
#[derive(Clone, Default)]
pub struct EnvCredentials {
    values: BTreeMap<String, SecretString>,
}

impl fmt::Debug for EnvCredentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EnvCredentials").field("names", &self.values.keys().collect::<Vec<_>>()).finish()
    }
}

impl EnvCredentials {
    /// Reads each of `names` from `env`; names that are unset are left out (and fail at use).
    pub fn capture<'a>(env: &Env, names: impl IntoIterator<Item = &'a str>) -> Self {
        let values = names
            .into_iter()
            .filter_map(|n| env.get(n).map(|v| (n.to_owned(), SecretString::from(v.to_owned()))))
            .collect();
        Self { values }
    }

    /// Whether `name` was set.
    pub fn contains(&self, name: &str) -> bool {
        self.values.contains_key(name)
    }
}

#[async_trait]
impl CredentialSource for EnvCredentials {
    async fn resolve(&self, _workspace_id: &str, reference: &CredentialRef) -> Result<SecretString, CredentialError> {
        match reference {
            CredentialRef::Env(name) => {
                self.values.get(name).cloned().ok_or_else(|| CredentialError::NotFound(reference.clone()))
            }
            CredentialRef::Secret(_) => Err(CredentialError::NoSecretsStore(reference.clone())),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use secrecy::ExposeSecret as _;

    #[tokio::test]
    async fn env_credentials_resolve_only_captured_names() {
        let env = Env::from_pairs([("A_KEY", "sk-a"), ("OTHER", "x")]);
        let creds = EnvCredentials::capture(&env, ["A_KEY", "MISSING"]);
        assert_eq!(creds.resolve("ws", &CredentialRef::Env("A_KEY".into())).await.unwrap().expose_secret(), "sk-a");
        assert!(creds.resolve("ws", &CredentialRef::Env("OTHER".into())).await.is_err());
        assert!(matches!(
            creds.resolve("ws", &CredentialRef::Secret("OPENAI".into())).await,
            Err(CredentialError::NoSecretsStore(_))
        ));
        assert!(!format!("{creds:?}").contains("sk-a"));
    }

    #[test]
    fn parses_references() {
        assert_eq!(CredentialRef::parse("env:X"), Ok(CredentialRef::Env("X".into())));
        assert_eq!(CredentialRef::parse("secret:openai"), Ok(CredentialRef::Secret("openai".into())));
        assert!(CredentialRef::parse("sk-literal-key").is_err());
    }
}
