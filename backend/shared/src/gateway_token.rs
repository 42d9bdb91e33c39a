//! The model gateway's caller tokens, the contract between the executor (which mints them) and
//! the gateway (which checks them): short-lived, HMAC-SHA256 signed claims that say which
//! workspace (and run) is calling, which models it may use, and which model settings the
//! executor fixed for it.
//!
//! A token is `base64url(claims JSON) "." base64url(HMAC-SHA256(key, first part))`, without
//! padding. The signature is checked in constant time before the claims are even parsed.

use std::time::{SystemTime, UNIX_EPOCH};

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, Mac};
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use sha2::Sha256;

/// The model settings a token may fix for its caller; any other key in `settings` is dropped
/// (Tracecat's list).
pub const ALLOWED_SETTINGS: &[&str] =
    &["temperature", "max_tokens", "top_p", "frequency_penalty", "presence_penalty", "stop", "reasoning_effort", "seed"];

/// What a caller token asserts.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Claims {
    /// The workspace on whose behalf the call is made (rate limits and usage are per workspace).
    pub workspace_id: String,
    /// One allowed model name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub model: Option<String>,
    /// More allowed model names; `"*"` allows every model of the catalog.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub models: Vec<String>,
    /// When set, the provider that must serve the model.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub provider: Option<String>,
    /// The workflow run the call belongs to, for usage records.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub run_id: Option<String>,
    /// Expiry, in Unix seconds.
    pub exp: u64,
    /// Issue time, in Unix seconds.
    #[serde(default)]
    pub iat: u64,
    /// Model settings merged into every request (only [`ALLOWED_SETTINGS`] keys are used).
    #[serde(default, skip_serializing_if = "Map::is_empty")]
    pub settings: Map<String, Value>,
}

impl Claims {
    /// Whether the token lets its caller use the catalog model `name`.
    pub fn allows_model(&self, name: &str) -> bool {
        self.model.as_deref() == Some(name) || self.models.iter().any(|m| m == name || m == "*")
    }

    /// The single model the token names, used when a request names none.
    pub fn default_model(&self) -> Option<&str> {
        match (&self.model, self.models.as_slice()) {
            (Some(m), _) => Some(m),
            (None, [only]) if only != "*" => Some(only),
            _ => None,
        }
    }

    /// The token's settings restricted to [`ALLOWED_SETTINGS`].
    pub fn allowed_settings(&self) -> impl Iterator<Item = (&str, &Value)> {
        self.settings.iter().filter(|(k, _)| ALLOWED_SETTINGS.contains(&k.as_str())).map(|(k, v)| (k.as_str(), v))
    }
}

/// Why a token was refused.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum AuthError {
    #[error("missing caller token: send `Authorization: Bearer <token>` (or `x-api-key`, or `x-ferrocat-token`)")]
    Missing,
    #[error("malformed caller token: {0}")]
    Malformed(&'static str),
    #[error("invalid caller token: the signature does not match")]
    BadSignature,
    #[error("caller token expired at {exp} (Unix time), {ago} s ago")]
    Expired { exp: u64, ago: u64 },
    #[error("caller token names no model")]
    NoModel,
}

/// The HMAC key that signs and verifies caller tokens.
#[derive(Clone)]
pub struct TokenKey {
    mac: Hmac<Sha256>,
}

impl std::fmt::Debug for TokenKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("TokenKey([REDACTED])")
    }
}

impl TokenKey {
    /// A key from the configured signing secret.
    pub fn new(secret: &SecretString) -> Self {
        Self { mac: Hmac::new_from_slice(secret.expose_secret().as_bytes()).expect("HMAC takes keys of any length") }
    }

    /// Signs `claims` into a token.
    pub fn mint(&self, claims: &Claims) -> String {
        let payload = URL_SAFE_NO_PAD.encode(serde_json::to_vec(claims).expect("claims serialize"));
        let mut mac = self.mac.clone();
        mac.update(payload.as_bytes());
        let signature = URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes());
        format!("{payload}.{signature}")
    }

    /// Checks the signature (constant time), then the expiry against `now` (Unix seconds).
    pub fn verify(&self, token: &str, now: u64) -> Result<Claims, AuthError> {
        let (payload, signature) = token.split_once('.').ok_or(AuthError::Malformed("expected two dot-separated parts"))?;
        let signature = URL_SAFE_NO_PAD.decode(signature).map_err(|_| AuthError::Malformed("signature is not base64url"))?;
        let mut mac = self.mac.clone();
        mac.update(payload.as_bytes());
        mac.verify_slice(&signature).map_err(|_| AuthError::BadSignature)?;
        let json = URL_SAFE_NO_PAD.decode(payload).map_err(|_| AuthError::Malformed("claims are not base64url"))?;
        let claims: Claims = serde_json::from_slice(&json).map_err(|_| AuthError::Malformed("claims are not valid JSON"))?;
        if claims.exp <= now {
            return Err(AuthError::Expired { exp: claims.exp, ago: now - claims.exp });
        }
        if claims.model.is_none() && claims.models.is_empty() {
            return Err(AuthError::NoModel);
        }
        Ok(claims)
    }
}

/// Seconds since the Unix epoch.
pub fn unix_now() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(s: &str) -> TokenKey {
        TokenKey::new(&SecretString::from(s.to_owned()))
    }

    fn claims(exp: u64) -> Claims {
        Claims {
            workspace_id: "ws1".into(),
            model: Some("gpt".into()),
            models: vec![],
            provider: None,
            run_id: Some("run-1".into()),
            exp,
            iat: 0,
            settings: Map::from_iter([("temperature".into(), 0.5.into()), ("api_base".into(), "http://evil".into())]),
        }
    }

    #[test]
    fn round_trips_and_rejects_forgeries_and_expiry() {
        let k = key("a-long-enough-signing-secret");
        let token = k.mint(&claims(1_000));
        assert_eq!(k.verify(&token, 999).unwrap(), claims(1_000));
        assert_eq!(k.verify(&token, 1_000), Err(AuthError::Expired { exp: 1_000, ago: 0 }));
        assert_eq!(key("another-signing-secret").verify(&token, 999), Err(AuthError::BadSignature));
        // Changing the claims (a longer expiry) without the key breaks the signature.
        let (_, sig) = token.split_once('.').unwrap();
        let forged = format!("{}.{sig}", URL_SAFE_NO_PAD.encode(serde_json::to_vec(&claims(9_999)).unwrap()));
        assert_eq!(k.verify(&forged, 999), Err(AuthError::BadSignature));
        assert!(matches!(k.verify("nodot", 0), Err(AuthError::Malformed(_))));
    }

    #[test]
    fn only_allowlisted_settings_pass_and_models_are_checked() {
        let c = claims(1);
        let keys: Vec<_> = c.allowed_settings().map(|(k, _)| k).collect();
        assert_eq!(keys, ["temperature"]);
        assert!(c.allows_model("gpt"));
        assert!(!c.allows_model("claude"));
        let any = Claims { model: None, models: vec!["*".into()], ..c };
        assert!(any.allows_model("claude"));
        assert_eq!(any.default_model(), None);
    }
}
