//! Client ID metadata documents: a client whose `client_id` is an https URL is described by the
//! JSON document at that URL (the MCP 2025-11-25 and 2026-07-28 registration of choice). The
//! document is fetched at `/authorize` without following redirects, from public addresses
//! only, at most 64 KiB, and cached in `oauth_clients` for the token endpoint.

use std::net::IpAddr;
use std::time::Duration;

use serde_json::Value;

use super::register::{ClientMetadata, check_metadata};
use super::store;
use crate::state::McpState;

const MAX_DOCUMENT_BYTES: usize = 64 * 1024;

/// The HTTP client documents are fetched with.
pub fn http_client() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(Duration::from_secs(5))
        .build()
        .expect("the TLS backend initialises")
}

/// Whether `client_id` names a metadata document (rather than a registered client).
pub fn is_document_url(client_id: &str, allow_insecure: bool) -> bool {
    client_id.starts_with("https://") || (allow_insecure && client_id.starts_with("http://"))
}

fn is_public(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => {
            !(v4.is_private() || v4.is_loopback() || v4.is_link_local() || v4.is_unspecified() || v4.is_broadcast() || v4.is_documentation()
                || v4.octets()[0] == 100 && (v4.octets()[1] & 0xc0) == 64)
        }
        IpAddr::V6(v6) => {
            let first = v6.segments()[0];
            !(v6.is_loopback() || v6.is_unspecified() || (first & 0xfe00) == 0xfc00 || (first & 0xffc0) == 0xfe80)
                && v6.to_ipv4_mapped().is_none_or(|v4| is_public(IpAddr::V4(v4)))
        }
    }
}

/// Fetches, checks and caches the document of `client_id`; the error says what is wrong.
pub async fn load(state: &McpState, client_id: &str) -> Result<store::Client, String> {
    let insecure = state.config.cimd_allow_insecure;
    let url = url::Url::parse(client_id).map_err(|e| format!("client_id is not a URL: {e}"))?;
    if url.path() == "/" || url.fragment().is_some() || !url.username().is_empty() {
        return Err("a client ID metadata URL needs a path and no fragment or credentials".into());
    }
    let host = url.host_str().ok_or("client_id URL has no host")?.to_owned();
    let port = url.port_or_known_default().unwrap_or(443);
    if !insecure {
        let addresses: Vec<_> = tokio::net::lookup_host((host.trim_matches(['[', ']']), port))
            .await
            .map_err(|e| format!("cannot resolve {host}: {e}"))?
            .collect();
        if addresses.is_empty() || addresses.iter().any(|a| !is_public(a.ip())) {
            return Err(format!("{host} does not resolve to public addresses only"));
        }
    }
    let response = state.http.get(url.clone()).header("accept", "application/json").send().await.map_err(|e| format!("fetching the document: {e}"))?;
    if !response.status().is_success() {
        return Err(format!("fetching the document answered {}", response.status()));
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_public_addresses_are_fetched() {
        for private in ["127.0.0.1", "10.1.2.3", "192.168.0.1", "169.254.169.254", "100.64.0.1", "::1", "fd00::1", "fe80::1", "::ffff:10.0.0.1"] {
            assert!(!is_public(private.parse().unwrap()), "{private}");
        }
        for public in ["1.1.1.1", "2606:4700::1111"] {
            assert!(is_public(public.parse().unwrap()), "{public}");
        }
    }
}
