//! Client ID metadata documents: a client whose `client_id` is an https URL is described by the
//! JSON document at that URL (the MCP 2025-11-25 and 2026-07-28 registration of choice). The
//! document is fetched at `/authorize` without following redirects, from public addresses
//! only, at most 64 KiB, and cached in `oauth_clients` for the token endpoint.

use std::sync::Arc;
use std::time::Duration;

use ferrocat_shared::egress::{ClientOptions, EgressClient, EgressPolicy};

use serde_json::Value;

use super::register::{ClientMetadata, check_metadata};
use super::store;
use crate::state::McpState;

const MAX_DOCUMENT_BYTES: usize = 64 * 1024;

/// The HTTP client documents are fetched with: public addresses only (checked at the address
/// connected to, so a name that resolves differently the second time gains nothing), unless
/// `allow_insecure` (tests and local development) lets anything through.
pub fn http_client(allow_insecure: bool) -> EgressClient {
    let policy = if allow_insecure { EgressPolicy::permissive() } else { EgressPolicy::public_only() };
    let options = ClientOptions { timeout: Some(Duration::from_secs(5)), ..ClientOptions::default() };
    EgressClient::new(Arc::new(policy), options).expect("the TLS backend initialises")
}

/// Whether `client_id` names a metadata document (rather than a registered client).
pub fn is_document_url(client_id: &str, allow_insecure: bool) -> bool {
    client_id.starts_with("https://") || (allow_insecure && client_id.starts_with("http://"))
}

/// Fetches, checks and caches the document of `client_id`; the error says what is wrong.
pub async fn load(state: &McpState, client_id: &str) -> Result<store::Client, String> {
    let url = url::Url::parse(client_id).map_err(|e| format!("client_id is not a URL: {e}"))?;
    if url.path() == "/" || url.fragment().is_some() || !url.username().is_empty() {
        return Err("a client ID metadata URL needs a path and no fragment or credentials".into());
    }
    let request = state.http.request(reqwest::Method::GET, url.clone()).map_err(|e| e.to_string())?;
    let response = request.header("accept", "application/json").send().await.map_err(|e| match e.is_connect() {
        // Only the policy's refusal is worth telling; connection errors would map the network.
        true if error_chain_has_egress(&e) => "the client_id URL does not resolve to public addresses only".to_owned(),
        _ => "fetching the document failed".to_owned(),
    })?;
    if !response.status().is_success() {
        return Err("fetching the document did not answer 200".to_owned());
    }
    if response.content_length().is_some_and(|n| n as usize > MAX_DOCUMENT_BYTES) {
        return Err("the document is larger than 64 KiB".into());
    }
    let body = response.bytes().await.map_err(|e| format!("reading the document: {e}"))?;
    if body.len() > MAX_DOCUMENT_BYTES {
        return Err("the document is larger than 64 KiB".into());
    }
    let raw: Value = serde_json::from_slice(&body).map_err(|e| format!("the document is not JSON: {e}"))?;
    if raw.get("client_id").and_then(Value::as_str) != Some(client_id) {
        return Err("the document's client_id is not its own URL".into());
    }
    let meta: ClientMetadata = serde_json::from_value(raw.clone()).map_err(|e| format!("invalid client metadata: {e}"))?;
    let checked = check_metadata(meta, "none").map_err(|e| format!("{}: {}", e.code(), e.description()))?;
    if checked.token_endpoint_auth_method != "none" {
        return Err("a client described by a metadata document authenticates with PKCE only (token_endpoint_auth_method none)".into());
    }
    store::upsert_client(state.db(), &store::NewClient {
        client_id,
        client_secret_hash: None,
        client_name: &checked.client_name,
        redirect_uris: &checked.redirect_uris,
        grant_types: &checked.grant_types,
        token_endpoint_auth_method: "none",
        application_type: &checked.application_type,
        registration: "cimd",
        metadata: &raw,
    })
    .await
    .map_err(|e| {
        tracing::error!(error = %e, "caching a client metadata document");
        "internal error".to_owned()
    })?;
    Ok(store::Client {
        client_id: client_id.to_owned(),
        client_secret_hash: None,
        client_name: checked.client_name,
        redirect_uris: checked.redirect_uris,
        grant_types: checked.grant_types,
        token_endpoint_auth_method: "none".into(),
        registration: "cimd".into(),
    })
}

fn error_chain_has_egress(error: &(dyn std::error::Error + 'static)) -> bool {
    let mut current = Some(error);
    while let Some(e) = current {
        if e.to_string().contains("egress") {
            return true;
        }
        current = e.source();
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn only_public_addresses_are_fetched_and_errors_do_not_map_the_network() {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let client = http_client(false);
        for url in [format!("http://127.0.0.1:{port}/doc"), format!("http://localhost:{port}/doc"), "http://10.0.0.1/doc".to_owned()] {
            let refused = client.request(reqwest::Method::GET, url.parse().unwrap());
            let outcome = match refused {
                Err(e) => e.to_string(),
                Ok(request) => {
                    let e = request.send().await.unwrap_err();
                    assert!(error_chain_has_egress(&e), "{url}: {e}");
                    e.to_string()
                }
            };
            assert!(!outcome.is_empty());
        }
        let accepted = tokio::time::timeout(Duration::from_millis(1), listener.accept()).await;
        assert!(accepted.is_err(), "a refused address was connected to");
    }
}
