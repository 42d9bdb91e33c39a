//! The OAuth 2.1 authorization server the MCP clients sign in through: metadata (RFC 8414,
//! RFC 9728), dynamic client registration (RFC 7591) and client ID metadata documents,
//! `/authorize` with PKCE S256, the sign-in pages (password, or single sign-on through an
//! OpenID Connect provider) and the consent page, `/token` with refresh-token rotation, and
//! revocation (RFC 7009). Every route here is public; `/mcp` checks the tokens.

pub mod authorize;
pub mod cimd;
pub mod consent;
pub mod error;
pub mod metadata;
pub mod pages;
pub mod redirect;
pub mod register;
pub mod saml;
pub mod signin;
pub mod sso;
pub mod store;
pub mod token;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::routing::{get, post};
use base64::Engine as _;
use rand::RngCore as _;
use sha2::{Digest as _, Sha256};

use crate::state::McpState;

/// The one scope: use the MCP tools as the signed-in user.
pub const SCOPE: &str = "mcp";

/// Every OAuth route, at the paths the edge sends to this service.
pub fn router() -> Router<McpState> {
    Router::new()
        .route("/.well-known/oauth-authorization-server", get(metadata::get_authorization_server))
        .route("/.well-known/oauth-protected-resource", get(metadata::get_protected_resource))
        .route("/.well-known/oauth-protected-resource/mcp", get(metadata::get_protected_resource))
        .route("/register", post(register::register_client))
        .route("/authorize", get(authorize::get_authorize))
        .route("/authorize/sign-in", post(authorize::post_sign_in))
        .route("/consent", post(consent::post_consent))
        .route("/token", post(token::post_token))
        // The edge routes `/authorize*` here today; `/revoke` once it routes that path too.
        .route("/authorize/revoke", post(token::post_revoke))
        .route("/revoke", post(token::post_revoke))
        .route("/authorize/sso", post(sso::post_start))
        .route("/authorize/saml", post(saml::post_start))
        .route("/authorize/saml/acs", post(saml::post_acs))
        .route("/auth/callback", get(sso::get_callback))
        .layer(DefaultBodyLimit::max(64 * 1024))
}

/// A fresh secret: 256 random bits, base64url, after a prefix that says what it is.
pub fn new_secret(prefix: &str) -> String {
    let mut raw = [0u8; 32];
    rand::thread_rng().fill_bytes(&mut raw);
    format!("{prefix}{}", base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(raw))
}

/// What the database stores for a secret.
pub fn hash(secret: &str) -> Vec<u8> {
    Sha256::digest(secret.as_bytes()).to_vec()
}

/// The PKCE S256 challenge of a verifier (RFC 7636 §4.2).
pub fn s256(verifier: &str) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn s256_matches_the_rfc_7636_example() {
        assert_eq!(s256("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"), "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM");
    }

    #[test]
    fn secrets_are_prefixed_random_and_hashed() {
        let (a, b) = (new_secret("x_"), new_secret("x_"));
        assert!(a.starts_with("x_") && a.len() == 45);
        assert_ne!(a, b);
        assert_eq!(hash(&a).len(), 32);
    }
}
