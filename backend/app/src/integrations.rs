//! OAuth integration use cases, with Tracecat's routes' meaning: a workspace configures a
//! provider's client for a grant, connects it (client credentials at once; authorization code
//! through the provider's consent page, with state and PKCE, and a callback that only the user
//! who started it may finish), disconnects or deletes it. Tokens and client secrets are sealed
//! and never leave the server; runs read the tokens as `SECRETS.<provider>_oauth.*`.

use serde_json::{Map, Value, json};
use uuid::Uuid;

use ferrocat_shared::oauth::{self, ClientConfig, Grant, Provider};

use crate::checks::invalid;
use crate::db::integrations::{self as db, Config, IntegrationRow};
use crate::{App, AppError};

/// How long a user has to grant access once a flow starts.
pub const STATE_TTL_SECONDS: f64 = 600.0;

/// The provider `provider_id` offering `grant_type`, or a 400 naming what is wrong.
pub fn provider<'a>(app: &'a App, provider_id: &str, grant_type: &str) -> Result<&'a Provider, AppError> {
    if !oauth::GRANT_TYPES.contains(&grant_type) {
        return Err(invalid("grant_type", "grant_type must be authorization_code or client_credentials"));
    }
    let provider = app.config.oauth.get(provider_id).ok_or_else(|| AppError::BadRequest(format!("Unsupported provider ID: {provider_id}")))?;
    if !provider.offers(grant_type) {
        return Err(AppError::BadRequest(format!("Provider {provider_id} does not support the {grant_type} grant")));
    }
    Ok(provider)
}

/// `not_configured`, `configured`, `connected`, `reauth_required` (Tracecat's statuses).
pub fn status(row: Option<&IntegrationRow>) -> &'static str {
    match row {
        None => "not_configured",
        Some(row) if !row.connected => "configured",
        // A connected integration whose last refresh failed needs a person to connect it again.
        Some(row) if row.last_error.is_some() => "reauth_required",
        Some(_) => "connected",
    }
}

/// What the api shows of an integration: never the client secret or a token.
pub fn read_model(provider: &Provider, row: &IntegrationRow, redirect_uri: &str) -> Value {
    json!({
        "id": row.id,
        "provider_id": row.provider_id,
        "grant_type": row.grant_type,
        "client_id": row.client_id,
        "requested_scopes": row.scopes,
        "granted_scopes": row.granted_scopes,
        "params": row.params,
        "status": status(Some(row)),
        "expires_at": row.expires_at,
        "is_expired": row.expires_at.is_some_and(|at| at < chrono::Utc::now()),
        "last_error": row.last_error,
        "secret_name": provider.secret_name(),
        "token_key": oauth::token_key(&provider.id, &row.grant_type),
        "redirect_uri": (row.grant_type == "authorization_code").then_some(redirect_uri),
        "created_at": row.created_at,
        "updated_at": row.updated_at,
    })
}

/// Every configured integration of the workspace.
pub async fn list(app: &App, workspace_id: Uuid) -> Result<Vec<IntegrationRow>, AppError> {
    Ok(db::list(&app.db, workspace_id).await?)
}

/// The integration of `provider_id` for `grant_type`; not found when none is configured.
pub async fn get(app: &App, workspace_id: Uuid, provider_id: &str, grant_type: &str) -> Result<IntegrationRow, AppError> {
    provider(app, provider_id, grant_type)?;
    db::get(&app.db, workspace_id, provider_id, grant_type)
        .await?
        .ok_or_else(|| AppError::NotFound(format!("{provider_id} ({grant_type}) integration not found")))
}

/// A configuration to save; `None` keeps what is stored (a new integration needs the client).
#[derive(Debug, Default)]
pub struct IntegrationInput {
    pub client_id: Option<String>,
    pub client_secret: Option<String>,
    pub scopes: Option<Vec<String>>,
    pub params: Option<Map<String, Value>>,
}

/// Saves the client (and scopes and placeholder values) for `provider_id` and `grant_type`.
pub async fn configure(app: &App, workspace_id: Uuid, provider_id: &str, grant_type: &str, input: IntegrationInput) -> Result<IntegrationRow, AppError> {
    let provider = provider(app, provider_id, grant_type)?;
    let existing = db::get(&app.db, workspace_id, provider_id, grant_type).await?;
    let id = existing.as_ref().map_or_else(Uuid::now_v7, |row| row.id);
    let client_id = match (input.client_id, &existing) {
        (Some(client_id), _) => client_id.trim().to_owned(),
        (None, Some(row)) => row.client_id.clone(),
        (None, None) => return Err(invalid("client_id", "client_id is required to configure an integration")),
    };
    if client_id.is_empty() || client_id.len() > 512 {
        return Err(invalid("client_id", "client_id must be 1-512 characters"));
    }
    let sealed = match (input.client_secret, &existing) {
        (Some(secret), _) if secret.is_empty() || secret.len() > 4096 => return Err(invalid("client_secret", "client_secret must be 1-4096 characters")),
        (Some(secret), _) => oauth::seal_client_secret(&app.config.keyring, id, &secret),
        (None, Some(row)) => row.encrypted_client.clone(),
        (None, None) => return Err(invalid("client_secret", "client_secret is required to configure an integration")),
    };
    let scopes = match (input.scopes, &existing) {
        (Some(scopes), _) => scopes,
        (None, Some(row)) => row.scopes.clone(),
        (None, None) => provider.default_scopes(grant_type).to_vec(),
    };
    if scopes.len() > 100 || scopes.iter().any(|s| s.is_empty() || s.len() > 512 || s.chars().any(char::is_whitespace)) {
        return Err(invalid("scopes", "scopes are at most 100 words of 1-512 characters without spaces"));
    }
    let params = match (input.params, &existing) {
        (Some(params), _) => params,
        (None, Some(row)) => row.params.as_object().cloned().unwrap_or_default(),
        (None, None) => Map::new(),
    };
    for (name, value) in &params {
        if !provider.params.contains_key(name) {
            return Err(invalid("params", format!("{provider_id} has no endpoint parameter {name:?}")));
        }
        if !value.is_string() {
            return Err(invalid("params", format!("params.{name} must be a string")));
        }
    }
    // The endpoints must come out well formed with these values.
    let client = ClientConfig { client_id: client_id.clone(), client_secret: String::new(), scopes: scopes.clone(), params: params.clone() };
    if grant_type == "authorization_code" {
        provider.authorization_url(&client, "check", "check", "https://check.invalid/").map_err(|e| invalid("params", e.to_string()))?;
    }
    let params = Value::Object(params);
    let config = Config { client_id: &client_id, encrypted_client: &sealed, scopes: &scopes, params: &params };
    db::upsert(&app.db, id, workspace_id, provider_id, grant_type, &config).await?;
    tracing::info!(provider_id, grant_type, "integration configured");
    get(app, workspace_id, provider_id, grant_type).await
}

/// Removes the integration and its tokens.
pub async fn delete(app: &App, workspace_id: Uuid, provider_id: &str, grant_type: &str) -> Result<(), AppError> {
    let row = get(app, workspace_id, provider_id, grant_type).await?;
    db::delete(&app.db, row.id).await?;
    tracing::info!(provider_id, grant_type, "integration deleted");
    Ok(())
}

/// Forgets the tokens; the configuration stays.
pub async fn disconnect(app: &App, workspace_id: Uuid, provider_id: &str, grant_type: &str) -> Result<IntegrationRow, AppError> {
    let row = get(app, workspace_id, provider_id, grant_type).await?;
    db::disconnect(&app.db, row.id).await?;
    tracing::info!(provider_id, grant_type, "integration disconnected");
    get(app, workspace_id, provider_id, grant_type).await
}

/// What connecting did.
pub enum Connected {
    /// Send the user here to grant access (authorization code).
    Authorize(url::Url),
    /// The token is held (client credentials).
    Done(Box<IntegrationRow>),
}

fn client(app: &App, row: &IntegrationRow) -> Result<ClientConfig, AppError> {
    let client_secret = oauth::open_client_secret(&app.config.keyring, row.id, &row.encrypted_client).map_err(|e| AppError::Internal(anyhow::anyhow!(e)))?;
    Ok(ClientConfig {
        client_id: row.client_id.clone(),
        client_secret,
        scopes: row.scopes.clone(),
        params: row.params.as_object().cloned().unwrap_or_default(),
    })
}

/// The callback the provider sends the user back to: through the edge, to the api.
pub fn redirect_uri(app: &App) -> String {
    format!("{}/api/integrations/callback", app.config.public_url)
}

/// Connects: client credentials ask for a token now; authorization code starts a flow for
/// `user_id` and returns where to send them.
pub async fn connect(app: &App, workspace_id: Uuid, user_id: Uuid, provider_id: &str, grant_type: &str) -> Result<Connected, AppError> {
    let provider = provider(app, provider_id, grant_type)?;
    let row = get(app, workspace_id, provider_id, grant_type).await?;
    let client = client(app, &row)?;
    if grant_type == "client_credentials" {
        let row = fetch(app, provider, &row, &client, Grant::ClientCredentials).await?;
        db::set_connected_by(&app.db, row.id, user_id).await?;
        return Ok(Connected::Done(Box::new(row)));
    }
    let state = oauth::random_token();
    let verifier = oauth::random_token();
    let url = provider.authorization_url(&client, &state, &verifier, &redirect_uri(app)).map_err(|e| AppError::BadRequest(e.to_string()))?;
    let sealed = app.config.keyring.seal(verifier.as_bytes(), format!("oauth-state:{state}").as_bytes());
    db::insert_state(&app.db, &state, row.id, user_id, &sealed, STATE_TTL_SECONDS).await?;
    tracing::info!(provider_id, "authorization-code flow started");
    Ok(Connected::Authorize(url))
}

/// Asks for tokens with `grant` and stores them; a refusal is stored as the last error and
/// answered as a 4xx naming the provider's reason (never a token or secret).
async fn fetch(app: &App, provider: &Provider, row: &IntegrationRow, client: &ClientConfig, grant: Grant<'_>) -> Result<IntegrationRow, AppError> {
    match provider.request_token(&app.http, client, grant).await {
        Ok(tokens) => {
            oauth::store_tokens(&app.db, &app.config.keyring, row.id, &tokens).await?;
            tracing::info!(provider_id = %provider.id, grant_type = %row.grant_type, "integration connected");
            db::get_by_id(&app.db, row.id).await?.ok_or_else(|| AppError::NotFound("the integration was deleted meanwhile".into()))
        }
        Err(error) => {
            let message = error.to_string();
            db::set_error(&app.db, row.id, &message).await?;
            tracing::warn!(provider_id = %provider.id, error = %message, "token request failed");
            Err(AppError::BadRequest(message))
        }
    }
}

/// Finishes an authorization-code flow: the state must be one this user started, unexpired;
/// the code is exchanged (with the PKCE verifier) and the tokens stored. Returns the workspace
/// and the integration.
pub async fn callback(app: &App, user_id: Uuid, state: &str, code: &str) -> Result<IntegrationRow, AppError> {
    let unknown = || AppError::BadRequest("this authorization is unknown, used or expired: connect the integration again".into());
    if state.is_empty() || state.len() > 200 {
        return Err(unknown());
    }
    let taken = db::take_state(&app.db, state).await?.ok_or_else(unknown)?;
    if taken.expired || taken.user_id != user_id {
        return Err(unknown());
    }
    let verifier = app.config.keyring.open(&taken.encrypted_verifier, format!("oauth-state:{state}").as_bytes()).map_err(|e| AppError::Internal(anyhow::anyhow!(e)))?;
    let verifier = String::from_utf8(verifier).map_err(|_| AppError::Internal(anyhow::anyhow!("the PKCE verifier is not text")))?;
    let row = db::get_by_id(&app.db, taken.integration_id).await?.ok_or_else(unknown)?;
    let provider = provider(app, &row.provider_id, &row.grant_type)?;
    let client = client(app, &row)?;
    let redirect_uri = redirect_uri(app);
    let row = fetch(app, provider, &row, &client, Grant::AuthorizationCode { code, verifier: &verifier, redirect_uri: &redirect_uri }).await?;
    db::set_connected_by(&app.db, row.id, user_id).await?;
    Ok(row)
}

/// Whether the integration can get a token now: client credentials ask for a fresh one, an
/// authorization-code integration refreshes with its refresh token. `(success, message)`.
pub async fn test(app: &App, workspace_id: Uuid, provider_id: &str, grant_type: &str) -> Result<(bool, String), AppError> {
    let provider = provider(app, provider_id, grant_type)?;
    let row = get(app, workspace_id, provider_id, grant_type).await?;
    let client = client(app, &row)?;
    let outcome = if grant_type == "client_credentials" {
        fetch(app, provider, &row, &client, Grant::ClientCredentials).await.map(drop)
    } else {
        let source = oauth::TokenSource { db: app.db.clone(), keyring: (*app.config.keyring).clone(), http: app.http.clone(), catalog: app.config.oauth.clone() };
        match source.tokens(workspace_id, provider_id).await {
            Ok(Some(_)) => Ok(()),
            Ok(None) => Err(AppError::BadRequest(format!("{provider_id} is not connected"))),
            Err(message) => Err(AppError::BadRequest(message)),
        }
    };
    Ok(match outcome {
        Ok(()) => (true, format!("{provider_id} ({grant_type}) holds a valid token")),
        Err(error) => (false, error.to_string()),
    })
}
