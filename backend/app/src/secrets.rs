//! Secret use cases, for a workspace (`owner` its id) or the organisation (`owner` `None`):
//! list, read by name, create, change and delete. Values are checked and sealed here on the way
//! in and never come back out (reads carry key names only); nothing here logs a value. Every
//! change is announced to the model gateway, which caches provider keys.

use serde_json::{Value, json};
use uuid::Uuid;

use crate::checks::{ResultExt as _, check_environment, check_identifier, check_tags, invalid, parse_id};
use crate::db::secrets::{self, NewSecret, SecretChanges, SecretRow};
use crate::{App, AppError};

/// The kinds of secret there are (Tracecat's).
pub const TYPES: &[&str] = &["custom", "ssh_key", "mtls", "ca_cert", "github_app"];
/// Most keys one secret holds.
pub const MAX_KEYS: usize = 100;
/// Largest value of one key.
pub const MAX_VALUE_BYTES: usize = 64 * 1024;
const NAME_TAKEN: &str = "a secret with this name already exists in this environment";

/// A secret to create. `Debug` is not derived so a value cannot end up in a log line.
pub struct SecretInput {
    pub name: String,
    pub kind: String,
    pub description: String,
    /// `(KEY, value)` pairs, in order.
    pub keys: Vec<(String, String)>,
    pub tags: Option<Value>,
    pub environment: String,
}

/// Changes to a secret; new keys replace the old ones wholesale.
pub struct SecretUpdate {
    pub name: Option<String>,
    pub kind: Option<String>,
    pub description: Option<String>,
    pub keys: Option<Vec<(String, String)>>,
    pub tags: Option<Value>,
    pub environment: Option<String>,
}

fn check_type(kind: &str) -> Result<(), AppError> {
    if !TYPES.contains(&kind) {
        return Err(invalid("type", format!("type must be one of {}", TYPES.join(", "))));
    }
    Ok(())
}

/// The key names of checked pairs; the values are never echoed in errors.
fn check_keys(keys: &[(String, String)]) -> Result<Vec<String>, AppError> {
    if keys.is_empty() || keys.len() > MAX_KEYS {
        return Err(invalid("keys", format!("a secret has between 1 and {MAX_KEYS} keys")));
    }
    let mut names: Vec<String> = Vec::with_capacity(keys.len());
    for (key, value) in keys {
        check_identifier("keys.key", key, 255)?;
        if names.contains(key) {
            return Err(invalid("keys.key", format!("duplicate key {key:?}")));
        }
        if value.is_empty() || value.len() > MAX_VALUE_BYTES {
            return Err(invalid("keys.value", format!("the value of {key:?} must be 1 to {MAX_VALUE_BYTES} bytes")));
        }
        names.push(key.clone());
    }
    Ok(names)
}

/// The unique constraint a name clash of `owner`'s secrets violates.
fn name_key(owner: Option<Uuid>) -> &'static str {
    if owner.is_some() { "secrets_name_key" } else { "secrets_org_name_key" }
}

/// Tells the model gateway to read secrets again. A lost notification only delays that by the
/// cache's lifetime, so it does not fail the change.
async fn announce(app: &App, owner: Option<Uuid>) {
    if let Err(e) = crate::db::llm::notify_secrets(&app.db, owner).await {
        tracing::warn!(error = %e, "announcing a secret change failed");
    }
}

/// `owner`'s secrets, optionally of one environment and one kind.
pub async fn list(app: &App, owner: Option<Uuid>, environment: Option<&str>, kind: Option<&str>) -> Result<Vec<SecretRow>, AppError> {
    Ok(secrets::list(&app.db, owner, environment, kind).await?)
}

/// `owner`'s secret `name` in `environment`.
pub async fn get(app: &App, owner: Option<Uuid>, name: &str, environment: &str) -> Result<SecretRow, AppError> {
    secrets::get_by_name(&app.db, owner, name, environment)
        .await?
        .ok_or_else(|| AppError::NotFound(format!("secret {name:?} not found in environment {environment:?}")))
}

/// Checks, seals and stores a new secret of `owner`.
#[tracing::instrument(skip(app, input), fields(secret = %input.name, environment = %input.environment))]
pub async fn create(app: &App, owner: Option<Uuid>, input: SecretInput) -> Result<SecretRow, AppError> {
    check_identifier("name", &input.name, 100)?;
    check_type(&input.kind)?;
    check_environment(&input.environment)?;
    let tags = input.tags.unwrap_or_else(|| json!({}));
    check_tags(&tags)?;
    let names = check_keys(&input.keys)?;
    let id = Uuid::now_v7();
    let sealed = app.config.keyring.seal_keys(id, &input.keys);
    let row = secrets::insert(
        &app.db,
        &NewSecret {
            id,
            workspace_id: owner,
            name: &input.name,
            kind: &input.kind,
            environment: &input.environment,
            description: &input.description,
            sealed: &sealed,
            key_names: &names,
            tags: &tags,
        },
    )
    .await
    .on_constraint(name_key(owner), NAME_TAKEN)?;
    tracing::info!(keys = ?row.key_names, organization = owner.is_none(), "secret created");
    announce(app, owner).await;
    Ok(row)
}

/// Applies `changes` to `owner`'s secret `id` (its id as text, as the route has it).
#[tracing::instrument(skip(app, changes))]
pub async fn update(app: &App, owner: Option<Uuid>, id: &str, changes: SecretUpdate) -> Result<SecretRow, AppError> {
    let text = id;
    let id = parse_id("secret", text)?;
    if let Some(name) = &changes.name {
        check_identifier("name", name, 100)?;
    }
    if let Some(kind) = &changes.kind {
        check_type(kind)?;
    }
    if let Some(environment) = &changes.environment {
        check_environment(environment)?;
    }
    if let Some(tags) = &changes.tags {
        check_tags(tags)?;
    }
    // New keys replace the old ones wholesale, sealed for this row.
    let replaced = changes.keys.as_deref().map(|keys| check_keys(keys).map(|names| (keys, names))).transpose()?;
    let sealed = replaced.map(|(pairs, names)| (app.config.keyring.seal_keys(id, pairs), names));
    let row_changes = SecretChanges {
        name: changes.name.as_deref(),
        kind: changes.kind.as_deref(),
        environment: changes.environment.as_deref(),
        description: changes.description.as_deref(),
        tags: changes.tags.as_ref(),
        sealed: sealed.as_ref().map(|(blob, names)| (blob.as_slice(), names.as_slice())),
    };
    let row = secrets::update(&app.db, owner, id, &row_changes)
        .await
        .on_constraint(name_key(owner), NAME_TAKEN)?
        .ok_or_else(|| AppError::NotFound(format!("secret {text:?} not found")))?;
    tracing::info!(secret = %row.name, environment = %row.environment, keys_replaced = sealed.is_some(), organization = owner.is_none(), "secret updated");
    announce(app, owner).await;
    Ok(row)
}

/// Deletes `owner`'s secret `id` (as text).
#[tracing::instrument(skip(app))]
pub async fn delete(app: &App, owner: Option<Uuid>, id: &str) -> Result<(), AppError> {
    let parsed = parse_id("secret", id)?;
    if !secrets::delete(&app.db, owner, parsed).await? {
        return Err(AppError::NotFound(format!("secret {id:?} not found")));
    }
    tracing::info!(organization = owner.is_none(), "secret deleted");
    announce(app, owner).await;
    Ok(())
}
