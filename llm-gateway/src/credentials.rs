//! Provider credentials: where the gateway gets the API key it injects into an upstream call.
//! A catalog entry names a [`CredentialRef`]; a [`CredentialSource`] turns it into a secret for
//! the calling workspace. Keys never leave the gateway: they go into upstream headers only, and
//! every error text is redacted of them (`crate::redact`).

use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use async_trait::async_trait;
use secrecy::SecretString;

use ferrocat_app::llm_catalog::CredentialRef;
use ferrocat_shared::config::Env;
use ferrocat_shared::secret_store::SecretStore;

/// A credential that could not be resolved. The message names the reference, never a value.
#[derive(Debug, thiserror::Error)]
pub enum CredentialError {
    #[error("credential {0} is not set")]
    NotFound(CredentialRef),
    #[error("credential {0} needs a workspace secrets store, which this gateway has not been given")]
    NoSecretsStore(CredentialRef),
    #[error("credential {0}: {1}")]
    Unusable(CredentialRef, String),
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

/// How long a resolved workspace secret is reused before it is read again. The api also
/// announces every change of a secret (`NOTIFY ferrocat_secrets`), which empties the cache at
/// once; the lifetime bounds staleness should a notification be lost.
pub const SECRET_CACHE_TTL: Duration = Duration::from_secs(60);

/// `secret:` credentials from the api's encrypted secrets table (through a short cache), and
/// `env:` ones from the captured environment.
pub struct StoredCredentials {
    env: EnvCredentials,
    store: SecretStore,
    cache: Mutex<HashMap<(String, String), (Instant, SecretString)>>,
}

impl fmt::Debug for StoredCredentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("StoredCredentials").field("env", &self.env).finish_non_exhaustive()
    }
}

impl StoredCredentials {
    pub fn new(env: EnvCredentials, store: SecretStore) -> Self {
        Self { env, store, cache: Mutex::default() }
    }

    /// Forgets every cached value (a secret changed somewhere).
    pub fn invalidate(&self) {
        self.cache.lock().expect("credential cache lock").clear();
    }

    async fn read(&self, workspace_id: &str, reference: &CredentialRef, raw: &str) -> Result<SecretString, CredentialError> {
        let not_found = || CredentialError::NotFound(reference.clone());
        let workspace = ferrocat_shared::ids::parse_workspace_id(workspace_id).map_err(|_| not_found())?;
        let (name, key) = match raw.split_once('.') {
            Some((name, key)) => (name, Some(key)),
            None => (raw, None),
        };
        let keys = self
            .store
            .load_shared(workspace, name)
            .await
            .map_err(|e| CredentialError::Unusable(reference.clone(), e))?
            .ok_or_else(not_found)?;
        let value = match key {
            Some(key) => keys.get(key).ok_or_else(|| {
                CredentialError::Unusable(reference.clone(), format!("the secret has no key {key:?}"))
            })?,
            None if keys.len() == 1 => keys.values().next().expect("one key"),
            None => {
                let names: Vec<&String> = keys.keys().collect();
                return Err(CredentialError::Unusable(
                    reference.clone(),
                    format!("the secret has keys {names:?}; name one as secret:{name}.KEY"),
                ));
            }
        };
        Ok(SecretString::from(value.as_str().unwrap_or_default().to_owned()))
    }
}

#[async_trait]
impl CredentialSource for StoredCredentials {
    async fn resolve(&self, workspace_id: &str, reference: &CredentialRef) -> Result<SecretString, CredentialError> {
        let CredentialRef::Secret(raw) = reference else { return self.env.resolve(workspace_id, reference).await };
        let cache_key = (workspace_id.to_owned(), raw.clone());
        if let Some((at, value)) = self.cache.lock().expect("credential cache lock").get(&cache_key)
            && at.elapsed() < SECRET_CACHE_TTL
        {
            return Ok(value.clone());
        }
        let value = self.read(workspace_id, reference, raw).await?;
        let mut cache = self.cache.lock().expect("credential cache lock");
        if cache.len() > 10_000 {
            cache.clear();
        }
        cache.insert(cache_key, (Instant::now(), value.clone()));
        Ok(value)
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
