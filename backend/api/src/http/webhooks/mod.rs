//! Webhooks. Management under `/workflows/{id}/webhook` (and its optional API key under
//! `/workflows/{id}/webhook/api-key`); the public receiver at `/webhooks/{workflow_id}/{secret}`
//! (start a run, answer once Temporal accepted it) and `/webhooks/{workflow_id}/{secret}/wait`
//! (answer with the run's result). Checks, in order: the webhook exists, the secret matches
//! (constant time), online (400), method (405), client address (403), the API key when the
//! webhook has one (401), the per-webhook rate limit (429), then the body (413 beyond
//! `FERROCAT_WEBHOOK_MAX_PAYLOAD_BYTES`). Only requests that pass the secret, address and key
//! checks count against the webhook's rate limit; refused ones count in a bucket of their own,
//! so someone with the URL but not the key cannot lock out the real sender.
//!
//! With `include_headers` the trigger carries the request's headers, except credentials
//! ([`CREDENTIAL_HEADERS`]): a browser following a link sends its session cookie, and a run's
//! trigger is readable by every member of the workspace.


pub(super) mod manage;
pub(super) mod receive;

use axum::Router;
use axum::routing::{any, get, post};
use secrecy::ExposeSecret;
use sha2::{Digest, Sha256};
use uuid::Uuid;

use ferrocat_app::db::webhooks::WebhookRow;

use super::{Path, Query, client_ip};
use crate::state::AppState;

pub(super) fn router() -> Router<AppState> {
    Router::new()
        .route("/workflows/{workflow_id}/webhook", get(manage::get_webhook).post(manage::create_webhook).patch(manage::create_webhook))
        .route("/workflows/{workflow_id}/webhook/api-key", post(manage::create_webhook_api_key).delete(manage::delete_webhook_api_key))
        .route("/workflows/{workflow_id}/webhook/api-key/revoke", post(manage::revoke_webhook_api_key))
        .route("/workflows/{workflow_id}/webhook/rotate", post(manage::rotate_webhook_secret))
        .route("/webhooks/{workflow_id}/{secret}", any(receive::receive_webhook))
        .route("/webhooks/{workflow_id}/{secret}/wait", post(receive::receive_webhook_wait))
}

/// The secret in a webhook's URL: `sha256_hex("wh-" + id.hex + signing_secret)`, as Tracecat,
/// until the secret is first rotated; then `sha256_hex("wh-" + id.hex + ":" + salt + ":" +
/// signing_secret)` with the webhook's stored random salt.
pub fn webhook_secret(webhook_id: Uuid, salt: Option<&str>, signing_secret: &str) -> String {
    let mut hasher = Sha256::new();
    hasher.update(b"wh-");
    hasher.update(webhook_id.simple().to_string().as_bytes());
    if let Some(salt) = salt {
        hasher.update(b":");
        hasher.update(salt.as_bytes());
        hasher.update(b":");
    }
    hasher.update(signing_secret.as_bytes());
    hex::encode(hasher.finalize())
}

pub(super) fn secret_of(state: &AppState, row: &WebhookRow) -> String {
    webhook_secret(row.id, row.secret_salt.as_deref(), state.config.signing_secret.expose_secret())
}

/// The header that carries a webhook's API key.
pub const API_KEY_HEADER: &str = "x-tracecat-api-key";

/// Request headers never copied into a trigger: the credentials of this stack (session cookie,
/// bearer tokens, API keys, the model gateway's token) and of proxies. Header names arrive
/// lowercased, so every spelling of these is caught.
pub const CREDENTIAL_HEADERS: &[&str] = &[
    "cookie",
    "authorization",
    "proxy-authorization",
    API_KEY_HEADER,
    "x-api-key",
    "x-ferrocat-token",
];

/// Whether a request header is a credential that must not reach a run (see
/// [`CREDENTIAL_HEADERS`]; also every `x-ferrocat-*` header, which only this stack sets).
pub fn is_credential_header(name: &str) -> bool {
    let name = name.to_ascii_lowercase();
    CREDENTIAL_HEADERS.contains(&name.as_str()) || name.starts_with("x-ferrocat-")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secret_is_sha256_of_prefixed_hex_id_and_signing_secret() {
        let id = Uuid::parse_str("0193a7a0-0000-7000-8000-000000000001").unwrap();
        let expected = hex::encode(Sha256::digest(b"wh-0193a7a0000070008000000000000001signing"));
        assert_eq!(webhook_secret(id, None, "signing"), expected);
        assert_ne!(webhook_secret(id, None, "other"), expected);
        let rotated = webhook_secret(id, Some("00ff"), "signing");
        assert_eq!(rotated, hex::encode(Sha256::digest(b"wh-0193a7a0000070008000000000000001:00ff:signing")));
        assert_ne!(rotated, webhook_secret(id, Some("00fe"), "signing"));
    }

    #[test]
    fn credential_headers_are_caught_in_any_case() {
        for name in ["cookie", "Cookie", "AUTHORIZATION", "Proxy-Authorization", "X-Tracecat-Api-Key", "x-api-key", "X-Ferrocat-Token", "x-ferrocat-anything"] {
            assert!(is_credential_header(name), "{name}");
        }
        for name in ["content-type", "x-alert-source", "x-hub-signature-256", "user-agent"] {
            assert!(!is_credential_header(name), "{name}");
        }
    }
}
