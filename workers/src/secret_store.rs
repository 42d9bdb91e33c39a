//! `SECRETS` for actions: the names an action refers to, read from the api's encrypted store
//! for the run's workspace and environment, decrypted here in the executor only. Values never
//! enter workflow history: the workflow sends the unevaluated arguments, the executor resolves
//! them and masks every value as `***` in what it returns.

use std::collections::BTreeSet;

use serde_json::{Map, Value};
use sqlx::PgPool;
use uuid::Uuid;

use ferrocat_shared::config::Env;
use ferrocat_shared::dsl::ActionStatement;
use ferrocat_shared::secrets::Keyring;

/// The encrypted secrets table and the key that opens it.
pub struct SecretStore {
    db: PgPool,
    keyring: Keyring,
}

/// The secret names a statement needs: those its args, `for_each` and `run_if` use
/// (`SECRETS.<name>.KEY`), and those its action reads itself (the registry's `secrets`).
pub fn referenced(task: &ActionStatement) -> BTreeSet<String> {
    let mut text = Value::Object(task.args.clone()).to_string();
    if let Some(for_each) = &task.for_each {
        text.push_str(&for_each.to_string());
    }
    if let Some(run_if) = &task.run_if {
        text.push_str(run_if);
    }
    let mut names = BTreeSet::new();
    for (start, _) in text.match_indices("SECRETS.") {
        let name: String = text[start + "SECRETS.".len()..]
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '_' || *c == '-')
            .collect();
        if !name.is_empty() {
            names.insert(name);
        }
    }
    if let Some(spec) = ferrocat_shared::registry::spec(&task.action) {
        names.extend(spec.secrets.iter().map(|s| (*s).to_owned()));
    }
    names
}

impl SecretStore {
    /// A store when both `FERROCAT_DATABASE_URL` and `FERROCAT_DB_ENCRYPTION_KEY` are set.
    pub async fn from_env(env: &Env) -> anyhow::Result<Option<Self>> {
        let (Some(url), Some(_)) = (env.get("FERROCAT_DATABASE_URL"), env.get("FERROCAT_DB_ENCRYPTION_KEY")) else {
            return Ok(None);
        };
        let keyring = Keyring::from_env(env)?;
        let db = ferrocat_shared::db::connect(url, 4).await?;
        Ok(Some(Self { db, keyring }))
    }

    /// `name → {KEY: value}` for each of `names` in the workspace's `environment`; a missing
    /// secret is an error naming it (never its value).
    pub async fn load(
        &self,
        workspace_id: Uuid,
        environment: &str,
        names: &BTreeSet<String>,
    ) -> Result<Map<String, Value>, String> {
        let wanted: Vec<String> = names.iter().cloned().collect();
        let rows = sqlx::query!(
            "SELECT id, name, encrypted_keys FROM secrets WHERE workspace_id = $1 AND environment = $2 AND name = ANY($3)",
            workspace_id,
            environment,
            &wanted
        )
        .fetch_all(&self.db)
        .await
        .map_err(|e| format!("reading secrets: {e}"))?;
        let mut secrets = Map::new();
        for row in rows {
            let pairs = self
                .keyring
                .open_keys(row.id, &row.encrypted_keys)
                .map_err(|e| format!("secret '{}' cannot be decrypted: {e}", row.name))?;
            let keys: Map<String, Value> = pairs.into_iter().map(|(k, v)| (k, Value::String(v))).collect();
            secrets.insert(row.name, Value::Object(keys));
        }
        if let Some(missing) = names.iter().find(|n| !secrets.contains_key(n.as_str())) {
            return Err(format!("secret '{missing}' is not defined in environment '{environment}'"));
        }
        Ok(secrets)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_secret_names_in_args_loops_and_conditions() {
        let task: ActionStatement = serde_json::from_value(serde_json::json!({
            "ref": "a",
            "action": "core.http_request",
            "args": {"headers": {"Authorization": "Bearer ${{ SECRETS.api.TOKEN }}"}, "url": "${{ SECRETS.base_url.URL }}"},
            "for_each": "${{ for var.x in SECRETS.list.ITEMS }}",
            "run_if": "${{ SECRETS.api.TOKEN != None }}",
        }))
        .unwrap();
        let names: Vec<String> = referenced(&task).into_iter().collect();
        assert_eq!(names, vec!["api", "base_url", "list"]);
    }
}
