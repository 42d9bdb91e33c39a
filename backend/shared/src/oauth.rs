//! OAuth integrations: the providers (data: `oauth-providers.toml`, plus an operator's file in
//! `FERROCAT_OAUTH_PROVIDERS`), the token grants (client credentials, authorization code with
//! PKCE, refresh) sent through the egress policy, and the tokens a workspace holds, sealed with
//! the database key and refreshed before they expire. Templates read them as Tracecat names
//! them: `SECRETS.<provider>_oauth.<PROVIDER>_USER_TOKEN` (authorization code) and
//! `_SERVICE_TOKEN` (client credentials).

use std::collections::BTreeMap;
use std::sync::Arc;

use chrono::{DateTime, Duration, Utc};
use rand::RngCore as _;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use sha2::Digest as _;
use sqlx::PgPool;
use uuid::Uuid;

use crate::config::{ConfigError, Env};
use crate::egress::EgressClient;
use crate::secrets::Keyring;

/// A token closer than this to its expiry is refreshed before use.
pub const REFRESH_MARGIN_SECONDS: i64 = 300;

/// The two grants an integration may use.
pub const GRANT_TYPES: [&str; 2] = ["authorization_code", "client_credentials"];

/// Default scopes per grant.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Scopes {
    #[serde(default)]
    pub authorization_code: Vec<String>,
    #[serde(default)]
    pub client_credentials: Vec<String>,
}

/// An OAuth provider, as data.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Provider {
    /// `microsoft_entra`: the secret is `<id>_oauth`.
    pub id: String,
    pub name: String,
    #[serde(default)]
    pub description: String,
    pub grant_types: Vec<String>,
    /// Where users grant access (authorization code only); may hold `{param}` placeholders.
    #[serde(default)]
    pub authorization_endpoint: Option<String>,
    pub token_endpoint: String,
    /// Placeholders of the endpoints and their defaults (`tenant = "common"`).
    #[serde(default)]
    pub params: BTreeMap<String, String>,
    #[serde(default)]
    pub scopes: Scopes,
    /// Whether the authorization-code grant sends a PKCE S256 challenge.
    #[serde(default = "yes")]
    pub pkce: bool,
    #[serde(default)]
    pub docs_url: Option<String>,
    /// The authorize parameter the scopes go in, when not `scope` (Slack's user tokens:
    /// `user_scope`).
    #[serde(default)]
    pub scope_param: Option<String>,
    /// Where in the token answer the token object is, as a JSON pointer, when not at its top
    /// (Slack's user tokens: `/authed_user`).
    #[serde(default)]
    pub token_path: Option<String>,
}

fn yes() -> bool {
    true
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ProviderFile {
    #[serde(default)]
    provider: Vec<Provider>,
}

/// Why a grant or a provider failed; never holds a token or a client secret.
#[derive(Debug, thiserror::Error)]
pub enum OAuthError {
    #[error("{0}")]
    Invalid(String),
    /// The token endpoint refused or could not be reached.
    #[error("the token request to {provider} failed: {message}")]
    Token { provider: String, message: String },
}

impl Provider {
    /// The secret name templates read: `<id>_oauth`.
    pub fn secret_name(&self) -> String {
        format!("{}_oauth", self.id)
    }

    /// Whether it offers `grant_type`.
    pub fn offers(&self, grant_type: &str) -> bool {
        self.grant_types.iter().any(|g| g == grant_type)
    }

    /// The scopes asked for by default with `grant_type`.
    pub fn default_scopes(&self, grant_type: &str) -> &[String] {
        if grant_type == "client_credentials" { &self.scopes.client_credentials } else { &self.scopes.authorization_code }
    }

    /// `template` with each `{param}` replaced by the integration's value or the default.
    fn endpoint(&self, template: &str, values: &Map<String, Value>) -> Result<url::Url, OAuthError> {
        let mut out = template.to_owned();
        for (name, default) in &self.params {
            let value = values.get(name).and_then(Value::as_str).unwrap_or(default);
            if value.is_empty() || !value.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '.' | '_')) {
                return Err(OAuthError::Invalid(format!("{name} must be letters, digits, '-', '.' or '_'")));
            }
            out = out.replace(&format!("{{{name}}}"), value);
        }
        url::Url::parse(&out).map_err(|e| OAuthError::Invalid(format!("the provider's endpoint {out:?}: {e}")))
    }

    /// Where to send the user to grant access: the authorization endpoint with the client,
    /// scopes, `state` and (with PKCE) the challenge of `verifier`.
    pub fn authorization_url(&self, client: &ClientConfig, state: &str, verifier: &str, redirect_uri: &str) -> Result<url::Url, OAuthError> {
        let template = self.authorization_endpoint.as_deref().ok_or_else(|| OAuthError::Invalid(format!("{} has no authorization-code grant", self.id)))?;
        let mut url = self.endpoint(template, &client.params)?;
        {
            let mut query = url.query_pairs_mut();
            query
                .append_pair("response_type", "code")
                .append_pair("client_id", &client.client_id)
                .append_pair("redirect_uri", redirect_uri)
                .append_pair("state", state);
            if !client.scopes.is_empty() {
                query.append_pair(self.scope_param.as_deref().unwrap_or("scope"), &client.scopes.join(" "));
            }
            if self.pkce {
                query.append_pair("code_challenge", &challenge(verifier)).append_pair("code_challenge_method", "S256");
            }
        }
        Ok(url)
    }

    /// Asks the token endpoint for tokens with `grant`.
    pub async fn request_token(&self, http: &EgressClient, client: &ClientConfig, grant: Grant<'_>) -> Result<Tokens, OAuthError> {
        let url = self.endpoint(&self.token_endpoint, &client.params)?;
        let fail = |message: String| OAuthError::Token { provider: self.id.clone(), message };
        let mut form: Vec<(&str, String)> = vec![("client_id", client.client_id.clone()), ("client_secret", client.client_secret.clone())];
        match grant {
            Grant::ClientCredentials => {
                form.push(("grant_type", "client_credentials".into()));
                if !client.scopes.is_empty() {
                    form.push(("scope", client.scopes.join(" ")));
                }
            }
            Grant::AuthorizationCode { code, verifier, redirect_uri } => {
                form.extend([("grant_type", "authorization_code".into()), ("code", code.to_owned()), ("redirect_uri", redirect_uri.to_owned())]);
                if self.pkce {
                    form.push(("code_verifier", verifier.to_owned()));
                }
            }
            Grant::Refresh { refresh_token } => {
                form.extend([("grant_type", "refresh_token".into()), ("refresh_token", refresh_token.to_owned())]);
                if !client.scopes.is_empty() {
                    form.push(("scope", client.scopes.join(" ")));
                }
            }
        }
        let response = http
            .request(reqwest::Method::POST, url)
            .map_err(|refused| fail(refused.to_string()))?
            .header(reqwest::header::ACCEPT, "application/json")
            .form(&form)
            .timeout(std::time::Duration::from_secs(30))
            .send()
            .await
            .map_err(|e| fail(e.without_url().to_string()))?;
        let status = response.status();
        let answer: Value = response.json().await.map_err(|_| fail(format!("HTTP {} without a JSON answer", status.as_u16())))?;
        let body = match &self.token_path {
            Some(pointer) => answer.pointer(pointer).cloned().unwrap_or_else(|| answer.clone()),
            None => answer.clone(),
        };
        if !status.is_success() || body.get("access_token").is_none() {
            let body = &answer;
            // The provider's error code and description only: never echo the whole answer.
            let code = body.get("error").and_then(Value::as_str).unwrap_or("no error code");
            let description = body.get("error_description").and_then(Value::as_str).unwrap_or("");
            return Err(fail(format!("HTTP {}: {code} {description}", status.as_u16()).trim().to_owned()));
        }
        let text = |key: &str| body.get(key).and_then(Value::as_str).map(str::to_owned);
        Ok(Tokens {
            access_token: text("access_token").unwrap_or_default(),
            refresh_token: text("refresh_token"),
            expires_at: body.get("expires_in").and_then(Value::as_i64).map(|seconds| Utc::now() + Duration::seconds(seconds)),
            scopes: text("scope").map(|s| s.split_whitespace().map(str::to_owned).collect()),
        })
    }
}

/// A grant sent to the token endpoint.
pub enum Grant<'a> {
    ClientCredentials,
    AuthorizationCode { code: &'a str, verifier: &'a str, redirect_uri: &'a str },
    Refresh { refresh_token: &'a str },
}

/// A workspace's client for a provider.
#[derive(Clone)]
pub struct ClientConfig {
    pub client_id: String,
    pub client_secret: String,
    pub scopes: Vec<String>,
    /// Values of the provider's placeholders.
    pub params: Map<String, Value>,
}

/// What a token endpoint answered.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Tokens {
    pub access_token: String,
    #[serde(default)]
    pub refresh_token: Option<String>,
    #[serde(skip)]
    pub expires_at: Option<DateTime<Utc>>,
    #[serde(skip)]
    pub scopes: Option<Vec<String>>,
}

/// The providers an installation offers.
#[derive(Debug, Clone)]
pub struct Catalog {
    providers: BTreeMap<String, Provider>,
}

/// The providers shipped in the binary.
const BUILTIN: &str = include_str!("../oauth-providers.toml");

impl Catalog {
    /// The shipped providers.
    pub fn builtin() -> Self {
        Self::parse(BUILTIN).expect("the shipped oauth-providers.toml is valid (tested)")
    }

    fn parse(text: &str) -> Result<Self, String> {
        let file: ProviderFile = toml::from_str(text).map_err(|e| e.to_string())?;
        let mut providers = BTreeMap::new();
        for provider in file.provider {
            check(&provider)?;
            providers.insert(provider.id.clone(), provider);
        }
        Ok(Self { providers })
    }

    /// The shipped providers, then those of the TOML file `FERROCAT_OAUTH_PROVIDERS` (same
    /// format; a provider of the same id replaces the shipped one).
    pub fn from_env(env: &Env) -> Result<Self, ConfigError> {
        let mut catalog = Self::builtin();
        if let Some(path) = env.get("FERROCAT_OAUTH_PROVIDERS") {
            let invalid = |reason: String| ConfigError::Invalid { key: "FERROCAT_OAUTH_PROVIDERS".into(), value: path.to_owned(), reason };
            let text = std::fs::read_to_string(path).map_err(|e| invalid(e.to_string()))?;
            let extra = Self::parse(&text).map_err(invalid)?;
            catalog.providers.extend(extra.providers);
        }
        Ok(catalog)
    }

    pub fn get(&self, id: &str) -> Option<&Provider> {
        self.providers.get(id)
    }

    pub fn list(&self) -> impl Iterator<Item = &Provider> {
        self.providers.values()
    }
}

fn check(provider: &Provider) -> Result<(), String> {
    let id = &provider.id;
    if id.is_empty() || !id.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_') {
        return Err(format!("provider id {id:?}: lowercase letters, digits and '_'"));
    }
    if provider.grant_types.is_empty() || provider.grant_types.iter().any(|g| !GRANT_TYPES.contains(&g.as_str())) {
        return Err(format!("provider {id}: grant_types must be authorization_code and/or client_credentials"));
    }
    if provider.offers("authorization_code") && provider.authorization_endpoint.is_none() {
        return Err(format!("provider {id}: the authorization-code grant needs an authorization_endpoint"));
    }
    let endpoints = std::iter::once(&provider.token_endpoint).chain(provider.authorization_endpoint.iter());
    for endpoint in endpoints {
        let mut filled = endpoint.clone();
        for (name, default) in &provider.params {
            filled = filled.replace(&format!("{{{name}}}"), default);
        }
        let url = url::Url::parse(&filled).map_err(|e| format!("provider {id}: endpoint {endpoint:?}: {e}"))?;
        if !matches!(url.scheme(), "https" | "http") {
            return Err(format!("provider {id}: endpoint {endpoint:?} is not http(s)"));
        }
    }
    Ok(())
}

/// A fresh PKCE verifier (43 characters of base64url, RFC 7636) or OAuth state.
pub fn random_token() -> String {
    use base64::Engine as _;
    let mut bytes = [0u8; 32];
    rand::thread_rng().fill_bytes(&mut bytes);
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

/// The S256 challenge of `verifier`.
pub fn challenge(verifier: &str) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(sha2::Sha256::digest(verifier.as_bytes()))
}

/// The key a grant's access token is read by: `<PROVIDER>_USER_TOKEN` or `_SERVICE_TOKEN`.
pub fn token_key(provider_id: &str, grant_type: &str) -> String {
    let kind = if grant_type == "client_credentials" { "SERVICE" } else { "USER" };
    format!("{}_{kind}_TOKEN", provider_id.to_ascii_uppercase())
}

fn client_aad(id: Uuid) -> Vec<u8> {
    format!("oauth-client:{id}").into_bytes()
}

fn tokens_aad(id: Uuid) -> Vec<u8> {
    format!("oauth-tokens:{id}").into_bytes()
}

/// The client secret sealed for integration `id`.
pub fn seal_client_secret(keyring: &Keyring, id: Uuid, secret: &str) -> Vec<u8> {
    keyring.seal(secret.as_bytes(), &client_aad(id))
}

/// The client secret of integration `id`.
pub fn open_client_secret(keyring: &Keyring, id: Uuid, sealed: &[u8]) -> Result<String, String> {
    let bytes = keyring.open(sealed, &client_aad(id)).map_err(|e| format!("the client secret cannot be decrypted: {e}"))?;
    String::from_utf8(bytes).map_err(|_| "the client secret is not text".to_owned())
}

/// Tokens sealed for integration `id`.
pub fn seal_tokens(keyring: &Keyring, id: Uuid, tokens: &Tokens) -> Vec<u8> {
    keyring.seal(&serde_json::to_vec(tokens).unwrap_or_default(), &tokens_aad(id))
}

fn open_tokens(keyring: &Keyring, id: Uuid, sealed: &[u8]) -> Result<Tokens, String> {
    let bytes = keyring.open(sealed, &tokens_aad(id)).map_err(|e| format!("the tokens cannot be decrypted: {e}"))?;
    serde_json::from_slice(&bytes).map_err(|_| "the stored tokens are malformed".to_owned())
}

/// Stores `tokens` on integration `id` (and clears its last error).
pub async fn store_tokens<'e, E: sqlx::PgExecutor<'e>>(db: E, keyring: &Keyring, id: Uuid, tokens: &Tokens) -> Result<(), sqlx::Error> {
    sqlx::query!(
        "UPDATE oauth_integrations SET encrypted_tokens = $2, expires_at = $3, granted_scopes = $4, last_error = NULL, updated_at = now() WHERE id = $1",
        id,
        seal_tokens(keyring, id, tokens),
        tokens.expires_at,
        tokens.scopes.as_deref()
    )
    .execute(db)
    .await?;
    Ok(())
}

/// Completes a key rotation for integrations: client secrets and tokens sealed by a retired key
/// are sealed again under the current one (a row changed meanwhile keeps its newer blob). How
/// many blobs were re-sealed; one no configured key opens is left as it is, and logged.
pub async fn reseal(db: &PgPool, keyring: &Keyring) -> Result<usize, sqlx::Error> {
    let rows = sqlx::query!("SELECT id, encrypted_client, encrypted_tokens FROM oauth_integrations").fetch_all(db).await?;
    let mut resealed = 0;
    for row in rows {
        let client = resealed_blob(keyring, &row.encrypted_client, &client_aad(row.id), row.id);
        let tokens = row.encrypted_tokens.as_deref().and_then(|blob| resealed_blob(keyring, blob, &tokens_aad(row.id), row.id));
        if client.is_none() && tokens.is_none() {
            continue;
        }
        // Each column changes only if it still holds the blob read above.
        sqlx::query!(
            "UPDATE oauth_integrations SET
               encrypted_client = CASE WHEN $3::bytea IS NOT NULL AND encrypted_client = $2 THEN $3 ELSE encrypted_client END,
               encrypted_tokens = CASE WHEN $5::bytea IS NOT NULL AND encrypted_tokens = $4 THEN $5 ELSE encrypted_tokens END
             WHERE id = $1",
            row.id,
            row.encrypted_client,
            client,
            row.encrypted_tokens,
            tokens
        )
        .execute(db)
        .await?;
        resealed += usize::from(client.is_some()) + usize::from(tokens.is_some());
    }
    Ok(resealed)
}

/// `blob` sealed again under the current key when a retired key sealed it; `None` when it is
/// current, or when no configured key opens it (logged: it stays as it is).
fn resealed_blob(keyring: &Keyring, blob: &[u8], aad: &[u8], id: Uuid) -> Option<Vec<u8>> {
    if !keyring.is_stale(blob) {
        return None;
    }
    match keyring.open(blob, aad) {
        Ok(plain) => Some(keyring.seal(&plain, aad)),
        Err(error) => {
            tracing::error!(integration_id = %id, %error, "cannot re-seal an integration's sealed values");
            None
        }
    }
}

/// Resolves `<provider>_oauth` secrets of a workspace from its connected integrations,
/// refreshing a token that expires within [`REFRESH_MARGIN_SECONDS`] first (one refresher at a
/// time per integration: the row is locked while it asks).
pub struct TokenSource {
    pub db: PgPool,
    pub keyring: Keyring,
    pub http: EgressClient,
    pub catalog: Arc<Catalog>,
}

impl TokenSource {
    /// `{<PROVIDER>_USER_TOKEN, <PROVIDER>_SERVICE_TOKEN}` (those connected) of `provider_id` in
    /// the workspace; `None` when none is connected.
    pub async fn tokens(&self, workspace_id: Uuid, provider_id: &str) -> Result<Option<Map<String, Value>>, String> {
        let ids = sqlx::query_scalar!(
            "SELECT id FROM oauth_integrations WHERE workspace_id = $1 AND provider_id = $2 AND encrypted_tokens IS NOT NULL ORDER BY grant_type",
            workspace_id,
            provider_id
        )
        .fetch_all(&self.db)
        .await
        .map_err(|e| format!("reading OAuth integrations: {e}"))?;
        if ids.is_empty() {
            return Ok(None);
        }
        let mut keys = Map::new();
        for id in ids {
            let (grant_type, token) = self.fresh(id).await?;
            keys.insert(token_key(provider_id, &grant_type), Value::String(token));
        }
        Ok(Some(keys))
    }

    /// The access token of integration `id`, refreshed when it is about to expire.
    async fn fresh(&self, id: Uuid) -> Result<(String, String), String> {
        let mut tx = self.db.begin().await.map_err(|e| e.to_string())?;
        let row = sqlx::query!(
            "SELECT provider_id, grant_type, client_id, encrypted_client, scopes, params, encrypted_tokens, expires_at
             FROM oauth_integrations WHERE id = $1 FOR UPDATE",
            id
        )
        .fetch_one(&mut *tx)
        .await
        .map_err(|e| format!("reading OAuth integration: {e}"))?;
        let sealed = row.encrypted_tokens.ok_or_else(|| format!("the {} integration was disconnected", row.provider_id))?;
        let tokens = open_tokens(&self.keyring, id, &sealed)?;
        let due = row.expires_at.is_some_and(|at| at - Utc::now() < Duration::seconds(REFRESH_MARGIN_SECONDS));
        if !due {
            return Ok((row.grant_type, tokens.access_token));
        }
        let provider = self.catalog.get(&row.provider_id).ok_or_else(|| format!("OAuth provider {} is not configured here", row.provider_id))?;
        let client = ClientConfig {
            client_id: row.client_id,
            client_secret: open_client_secret(&self.keyring, id, &row.encrypted_client)?,
            scopes: row.scopes,
            params: row.params.as_object().cloned().unwrap_or_default(),
        };
        let grant = match (row.grant_type.as_str(), tokens.refresh_token.as_deref()) {
            ("client_credentials", _) => Grant::ClientCredentials,
            (_, Some(refresh_token)) => Grant::Refresh { refresh_token },
            (_, None) => return Err(format!("the {} token expired and there is no refresh token: connect the integration again", provider.id)),
        };
        match provider.request_token(&self.http, &client, grant).await {
            Ok(mut fresh) => {
                // A provider that does not rotate refresh tokens keeps the old one valid.
                if fresh.refresh_token.is_none() {
                    fresh.refresh_token = tokens.refresh_token;
                }
                store_tokens(&mut *tx, &self.keyring, id, &fresh).await.map_err(|e| e.to_string())?;
                tx.commit().await.map_err(|e| e.to_string())?;
                tracing::info!(provider = %provider.id, grant_type = %row.grant_type, "OAuth token refreshed");
                Ok((row.grant_type, fresh.access_token))
            }
            Err(error) => {
                let message = error.to_string();
                sqlx::query!("UPDATE oauth_integrations SET last_error = $2, updated_at = now() WHERE id = $1", id, message)
                    .execute(&mut *tx)
                    .await
                    .map_err(|e| e.to_string())?;
                tx.commit().await.map_err(|e| e.to_string())?;
                Err(message)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_shipped_providers_are_valid_and_name_their_secrets_as_tracecat_does() {
        let catalog = Catalog::builtin();
        assert!(catalog.list().count() >= 5);
        let entra = catalog.get("microsoft_entra").expect("microsoft_entra is shipped");
        assert_eq!(entra.secret_name(), "microsoft_entra_oauth");
        assert_eq!(token_key("microsoft_entra", "client_credentials"), "MICROSOFT_ENTRA_SERVICE_TOKEN");
        assert_eq!(token_key("microsoft_entra", "authorization_code"), "MICROSOFT_ENTRA_USER_TOKEN");
    }

    #[test]
    fn placeholders_are_filled_and_checked() {
        let provider = Provider {
            id: "p".into(),
            name: "P".into(),
            description: String::new(),
            grant_types: vec!["authorization_code".into()],
            authorization_endpoint: Some("https://login.example.com/{tenant}/authorize".into()),
            token_endpoint: "https://login.example.com/{tenant}/token".into(),
            params: [("tenant".to_owned(), "common".to_owned())].into(),
            scopes: Scopes::default(),
            pkce: true,
            docs_url: None,
            scope_param: None,
            token_path: None,
        };
        let mut client = ClientConfig { client_id: "c".into(), client_secret: "s".into(), scopes: vec!["a".into(), "b".into()], params: Map::new() };
        let url = provider.authorization_url(&client, "st", "verifier-verifier-verifier-verifier-verifier", "https://app/cb").unwrap();
        assert_eq!(url.path(), "/common/authorize");
        let query: BTreeMap<String, String> = url.query_pairs().into_owned().collect();
        assert_eq!(query["scope"], "a b");
        assert_eq!(query["code_challenge_method"], "S256");
        assert_eq!(query["code_challenge"], challenge("verifier-verifier-verifier-verifier-verifier"));
        client.params.insert("tenant".into(), Value::String("../evil".into()));
        assert!(provider.authorization_url(&client, "st", "v", "https://app/cb").is_err(), "a placeholder cannot leave its path segment");
        // RFC 7636's example pair.
        assert_eq!(challenge("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"), "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM");
    }
}
