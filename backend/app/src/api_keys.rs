//! API keys of service accounts: `tc_ws_sk_<key id>_<secret>`, where the key id (base62 of a
//! UUID) finds the row and the secret (256 random bits, hex) is checked against its SHA-256 in
//! constant time. The full key is shown once, at creation. Webhook keys (`tc_sk_<secret>`, sent
//! in `x-tracecat-api-key`) belong to their webhook and are checked the same way.

use rand::RngCore;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;
use uuid::Uuid;

/// Prefix of a workspace service-account key (Tracecat's shape).
pub const WORKSPACE_KEY_PREFIX: &str = "tc_ws_sk_";

/// A freshly minted key: what to show once, and what to store.
pub struct NewKey {
    pub key_id: Uuid,
    /// The full key. Shown once; never stored or logged.
    pub key: String,
    pub secret_hash: Vec<u8>,
    /// A recognisable, harmless excerpt (`tc_ws_sk_<id>_…abcd`).
    pub preview: String,
}

/// Mints a new key.
pub fn generate() -> NewKey {
    let key_id = Uuid::now_v7();
    let mut raw = [0u8; 32];
    rand::thread_rng().fill_bytes(&mut raw);
    let secret = hex::encode(raw);
    let id = ferrocat_shared::ids::base62(key_id);
    NewKey {
        key_id,
        key: format!("{WORKSPACE_KEY_PREFIX}{id}_{secret}"),
        secret_hash: Sha256::digest(secret.as_bytes()).to_vec(),
        preview: format!("{WORKSPACE_KEY_PREFIX}{id}_…{}", &secret[secret.len() - 4..]),
    }
}

/// Whether a bearer token is meant as an API key (rather than a session token).
pub fn looks_like_key(token: &str) -> bool {
    token.starts_with(WORKSPACE_KEY_PREFIX)
}

/// Splits a key into its id and secret; `None` when it does not have the shape.
pub fn parse(key: &str) -> Option<(Uuid, &str)> {
    let rest = key.strip_prefix(WORKSPACE_KEY_PREFIX)?;
    let (id, secret) = rest.split_once('_')?;
    if secret.len() != 64 || !secret.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    Some((ferrocat_shared::ids::from_base62(id)?, secret))
}

/// Whether `secret` matches the stored hash (constant time).
pub fn verify(secret: &str, stored_hash: &[u8]) -> bool {
    let hash = Sha256::digest(secret.as_bytes());
    bool::from(hash.as_slice().ct_eq(stored_hash))
}

/// Prefix of a webhook's API key (Tracecat's shape).
pub const WEBHOOK_KEY_PREFIX: &str = "tc_sk_";

/// A freshly minted webhook key: the key to show once, its SHA-256, and a harmless preview.
pub fn generate_webhook_key() -> (String, Vec<u8>, String) {
    let mut raw = [0u8; 32];
    rand::thread_rng().fill_bytes(&mut raw);
    let key = format!("{WEBHOOK_KEY_PREFIX}{}", hex::encode(raw));
    let hash = Sha256::digest(key.as_bytes()).to_vec();
    let preview = format!("{WEBHOOK_KEY_PREFIX}…{}", &key[key.len() - 4..]);
    (key, hash, preview)
}

/// Whether a presented webhook key matches the stored hash (constant time).
pub fn verify_webhook_key(presented: &str, stored_hash: &[u8]) -> bool {
    bool::from(Sha256::digest(presented.as_bytes()).as_slice().ct_eq(stored_hash))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn webhook_keys_verify_only_themselves() {
        let (key, hash, preview) = generate_webhook_key();
        assert!(key.starts_with(WEBHOOK_KEY_PREFIX) && key.len() == WEBHOOK_KEY_PREFIX.len() + 64);
        assert!(verify_webhook_key(&key, &hash));
        assert!(!verify_webhook_key(&key[..key.len() - 1], &hash));
        assert!(!verify_webhook_key("", &hash));
        assert!(!preview.contains(&key[WEBHOOK_KEY_PREFIX.len()..key.len() - 4]));
        let (other, _, _) = generate_webhook_key();
        assert!(!verify_webhook_key(&other, &hash));
    }

    #[test]
    fn minted_keys_parse_and_verify_only_themselves() {
        let new = generate();
        assert!(looks_like_key(&new.key));
        let (id, secret) = parse(&new.key).unwrap();
        assert_eq!(id, new.key_id);
        assert!(verify(secret, &new.secret_hash));
        assert!(!verify(&secret.replace(&secret[..1], "x"), &new.secret_hash));
        assert!(!new.preview.contains(secret), "the preview must not reveal the secret");
        let other = generate();
        assert_ne!(other.key, new.key);
        assert!(!verify(parse(&other.key).unwrap().1, &new.secret_hash));
    }

    #[test]
    fn malformed_keys_do_not_parse() {
        for bad in ["", "tc_ws_sk_", "tc_ws_sk_abc", "tc_ws_sk_!!_00", "tc_org_sk_1_2", "tc_ws_sk_1_nothex"] {
            assert!(parse(bad).is_none(), "{bad}");
        }
        let good = generate().key;
        assert!(parse(&good[..good.len() - 1]).is_none());
    }
}
