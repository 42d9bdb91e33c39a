//! Reading the api's encrypted secrets table: the executor resolves `SECRETS.name.KEY` with it
//! and the model gateway its `secret:` provider credentials. Values are decrypted only in the
//! process that uses them and never logged.

use std::collections::BTreeSet;

use serde_json::{Map, Value};
use sqlx::PgPool;
use uuid::Uuid;

use crate::secrets::Keyring;

/// The encrypted secrets table and the key that opens it.
pub struct SecretStore {
    db: PgPool,
    keyring: Keyring,
    /// Where `<provider>_oauth` secrets come from: the workspace's OAuth integrations.
    oauth: Option<crate::oauth::TokenSource>,
}

impl SecretStore {
    /// A store over `db`, opening values with `keyring`.
    pub fn new(db: PgPool, keyring: Keyring) -> Self {
        Self { db, keyring, oauth: None }
    }

    /// This store resolving `<provider>_oauth` names from OAuth integrations, refreshing their
    /// tokens through `http` (the egress policy's client) with the providers of `catalog`.
    pub fn with_oauth(self, http: crate::egress::EgressClient, catalog: std::sync::Arc<crate::oauth::Catalog>) -> Self {
        let oauth = crate::oauth::TokenSource { db: self.db.clone(), keyring: self.keyring.clone(), http, catalog };
        Self { oauth: Some(oauth), ..self }
    }

    /// `name → {KEY: value}` for each of `names` and of the `optional` names that exist, in the
    /// workspace's `environment`; a missing secret of `names` is an error naming it (never its
    /// value).
    pub async fn load(
        &self,
        workspace_id: Uuid,
        environment: &str,
        names: &BTreeSet<String>,
        optional: &BTreeSet<String>,
    ) -> Result<Map<String, Value>, crate::db::ReadError> {
        let wanted: Vec<String> = names.union(optional).cloned().collect();
        let rows = sqlx::query!(
            "SELECT id, name, encrypted_keys FROM secrets WHERE workspace_id = $1 AND environment = $2 AND name = ANY($3)",
            workspace_id,
            environment,
            &wanted
        )
        .fetch_all(&self.db)
        .await
        .map_err(|e| crate::db::ReadError::sql("reading secrets", e))?;
        let mut secrets = Map::new();
        for row in rows {
            let keys = self.open(row.id, &row.encrypted_keys, &row.name)?;
            secrets.insert(row.name, Value::Object(keys));
        }
        // `<provider>_oauth`: the tokens of the workspace's integrations with that provider.
        if let Some(oauth) = &self.oauth {
            let wanted: Vec<&String> = names.union(optional).filter(|n| !secrets.contains_key(n.as_str())).collect();
            for name in wanted {
                if let Some(provider) = name.strip_suffix("_oauth")
                    && let Some(keys) = oauth.tokens(workspace_id, provider).await?
                {
                    secrets.insert(name.clone(), Value::Object(keys));
                }
            }
        }
        if let Some(missing) = names.iter().find(|n| !secrets.contains_key(n.as_str())) {
            if let Some(provider) = missing.strip_suffix("_oauth") {
                return Err(format!("the {provider} OAuth integration is not connected in this workspace (secret '{missing}')").into());
            }
            return Err(format!("secret '{missing}' is not defined in environment '{environment}'").into());
        }
        Ok(secrets)
    }

    /// The keys of secret `name` in the `default` environment of `workspace_id`, else of the
    /// organisation (a secret without a workspace); `None` when neither has one. What the
    /// model gateway resolves provider keys with.
    pub async fn load_shared(&self, workspace_id: Uuid, name: &str) -> Result<Option<Map<String, Value>>, String> {
        let row = sqlx::query!(
            "SELECT id, encrypted_keys FROM secrets
             WHERE (workspace_id = $1 OR workspace_id IS NULL) AND environment = 'default' AND name = $2
             ORDER BY workspace_id NULLS LAST LIMIT 1",
            workspace_id,
            name
        )
        .fetch_optional(&self.db)
        .await
        .map_err(|e| format!("reading secrets: {e}"))?;
        row.map(|row| self.open(row.id, &row.encrypted_keys, name)).transpose()
    }

    /// `{KEY: value}` of the sealed blob of row `id` (secret `name`, for the error).
    fn open(&self, id: Uuid, sealed: &[u8], name: &str) -> Result<Map<String, Value>, String> {
        let pairs = self.keyring.open_keys(id, sealed).map_err(|e| format!("secret '{name}' cannot be decrypted: {e}"))?;
        Ok(pairs.into_iter().map(|(k, v)| (k, Value::String(v))).collect())
    }
}
