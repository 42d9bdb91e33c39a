//! Secret values at rest: AES-256-GCM under a keyring from configuration. The api seals the
//! values users store; the executor opens them to resolve `SECRETS.name.KEY`.
//!
//! A sealed blob is `0x01 || key id (4 bytes) || nonce (12 bytes) || ciphertext || tag`. The key
//! id names the key that sealed it, so keys can rotate: the current key
//! (`FERROCAT_DB_ENCRYPTION_KEY`) seals, and it or any retired key
//! (`FERROCAT_DB_ENCRYPTION_KEYS_OLD`, comma-separated) opens. The associated data binds a blob to
//! its row, so a ciphertext copied onto another secret does not open.

use aes_gcm::aead::{Aead, KeyInit, Payload};
use aes_gcm::{Aes256Gcm, Nonce};
use base64::Engine as _;
use rand::RngCore;
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};
use uuid::Uuid;

use crate::config::{ConfigError, Env};

/// Variable holding the key that seals (32 bytes as 64 hex digits or base64).
pub const KEY_VAR: &str = "FERROCAT_DB_ENCRYPTION_KEY";
/// Variable holding retired keys that still open older blobs, comma-separated.
pub const OLD_KEYS_VAR: &str = "FERROCAT_DB_ENCRYPTION_KEYS_OLD";

const VERSION: u8 = 1;
const KEY_ID_LEN: usize = 4;
const NONCE_LEN: usize = 12;
const HEADER_LEN: usize = 1 + KEY_ID_LEN + NONCE_LEN;

/// What can go wrong parsing keys or opening a blob. Messages never include key material or
/// plaintext.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum SecretsError {
    #[error("encryption key is invalid: {0}")]
    InvalidKey(String),
    #[error("sealed secret is malformed")]
    Malformed,
    #[error("sealed secret names key id {0}, which is not configured")]
    UnknownKey(String),
    #[error("sealed secret does not authenticate (wrong key, wrong row or tampered data)")]
    Tampered,
    #[error("sealed secret does not hold a JSON object of strings")]
    NotKeyValues,
}

#[derive(Clone)]
struct Key {
    id: [u8; KEY_ID_LEN],
    cipher: Aes256Gcm,
}

impl Key {
    fn parse(text: &str) -> Result<Key, SecretsError> {
        let text = text.trim();
        let bytes = if text.len() == 64 && text.bytes().all(|b| b.is_ascii_hexdigit()) {
            hex::decode(text).map_err(|_| SecretsError::InvalidKey("bad hex".into()))?
        } else {
            let engines = [
                &base64::engine::general_purpose::STANDARD,
                &base64::engine::general_purpose::URL_SAFE,
                &base64::engine::general_purpose::STANDARD_NO_PAD,
                &base64::engine::general_purpose::URL_SAFE_NO_PAD,
            ];
            engines
                .iter()
                .find_map(|engine| engine.decode(text).ok())
                .ok_or_else(|| SecretsError::InvalidKey("expected 64 hex digits or base64".into()))?
        };
        if bytes.len() != 32 {
            return Err(SecretsError::InvalidKey(format!("expected 32 bytes, got {}", bytes.len())));
        }
        let digest = Sha256::new().chain_update(b"ferrocat-key-id:").chain_update(&bytes).finalize();
        let mut id = [0u8; KEY_ID_LEN];
        id.copy_from_slice(&digest[..KEY_ID_LEN]);
        let cipher = Aes256Gcm::new_from_slice(&bytes).map_err(|_| SecretsError::InvalidKey("bad length".into()))?;
        Ok(Key { id, cipher })
    }
}

/// The sealing key and the retired keys that still open older blobs.
#[derive(Clone)]
pub struct Keyring {
    current: Key,
    old: Vec<Key>,
}

impl std::fmt::Debug for Keyring {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let old: Vec<String> = self.old.iter().map(|k| hex::encode(k.id)).collect();
        f.debug_struct("Keyring").field("current", &hex::encode(self.current.id)).field("old", &old).finish()
    }
}

impl Keyring {
    /// Builds a keyring from the current key and any retired keys.
    pub fn parse(current: &str, old: &[&str]) -> Result<Keyring, SecretsError> {
        let current = Key::parse(current)?;
        let old = old.iter().filter(|k| !k.trim().is_empty()).map(|k| Key::parse(k)).collect::<Result<Vec<_>, _>>()?;
        Ok(Keyring { current, old })
    }

    /// Reads [`KEY_VAR`] (required) and [`OLD_KEYS_VAR`].
    pub fn from_env(env: &Env) -> Result<Keyring, ConfigError> {
        let invalid = |key: &str, e: SecretsError| ConfigError::Invalid {
            key: key.to_owned(),
            value: "<redacted>".into(),
            reason: e.to_string(),
        };
        let current = Key::parse(&env.required(KEY_VAR)?).map_err(|e| invalid(KEY_VAR, e))?;
        let old = env
            .get(OLD_KEYS_VAR)
            .unwrap_or("")
            .split(',')
            .filter(|k| !k.trim().is_empty())
            .map(Key::parse)
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| invalid(OLD_KEYS_VAR, e))?;
        Ok(Keyring { current, old })
    }

    /// Hex id of the sealing key (safe to log).
    pub fn current_key_id(&self) -> String {
        hex::encode(self.current.id)
    }

    /// Encrypts `plaintext` under the current key, bound to `aad`.
    pub fn seal(&self, plaintext: &[u8], aad: &[u8]) -> Vec<u8> {
        let mut nonce = [0u8; NONCE_LEN];
        rand::thread_rng().fill_bytes(&mut nonce);
        let ciphertext = self
            .current
            .cipher
            .encrypt(Nonce::from_slice(&nonce), Payload { msg: plaintext, aad })
            .expect("AES-GCM encryption of an in-memory buffer cannot fail");
        let mut blob = Vec::with_capacity(HEADER_LEN + ciphertext.len());
        blob.push(VERSION);
        blob.extend_from_slice(&self.current.id);
        blob.extend_from_slice(&nonce);
        blob.extend_from_slice(&ciphertext);
        blob
    }

    /// Decrypts a blob sealed by [`Keyring::seal`] with the same `aad`, under whichever
    /// configured key sealed it.
    pub fn open(&self, blob: &[u8], aad: &[u8]) -> Result<Vec<u8>, SecretsError> {
        if blob.len() < HEADER_LEN + 16 || blob[0] != VERSION {
            return Err(SecretsError::Malformed);
        }
        let id = &blob[1..1 + KEY_ID_LEN];
        let key = std::iter::once(&self.current)
            .chain(&self.old)
            .find(|k| k.id == id)
            .ok_or_else(|| SecretsError::UnknownKey(hex::encode(id)))?;
        let nonce = Nonce::from_slice(&blob[1 + KEY_ID_LEN..HEADER_LEN]);
        key.cipher.decrypt(nonce, Payload { msg: &blob[HEADER_LEN..], aad }).map_err(|_| SecretsError::Tampered)
    }

    /// Whether a blob was sealed by a key other than the current one (so should be re-sealed).
    pub fn is_stale(&self, blob: &[u8]) -> bool {
        blob.get(1..1 + KEY_ID_LEN) != Some(&self.current.id[..])
    }

    /// Seals a secret's `{KEY: value}` pairs (in their order) for the row `secret_id`.
    pub fn seal_keys(&self, secret_id: Uuid, keys: &[(String, String)]) -> Vec<u8> {
        let map: Map<String, Value> = keys.iter().map(|(k, v)| (k.clone(), Value::String(v.clone()))).collect();
        let plaintext = serde_json::to_vec(&map).expect("a map of strings serialises");
        self.seal(&plaintext, &secret_aad(secret_id))
    }

    /// Opens what [`Keyring::seal_keys`] sealed for the row `secret_id`.
    pub fn open_keys(&self, secret_id: Uuid, blob: &[u8]) -> Result<Vec<(String, String)>, SecretsError> {
        let plaintext = self.open(blob, &secret_aad(secret_id))?;
        let map: Map<String, Value> = serde_json::from_slice(&plaintext).map_err(|_| SecretsError::NotKeyValues)?;
        map.into_iter()
            .map(|(k, v)| match v {
                Value::String(s) => Ok((k, s)),
                _ => Err(SecretsError::NotKeyValues),
            })
            .collect()
    }
}

/// Associated data binding a secret's blob to its row.
pub fn secret_aad(secret_id: Uuid) -> Vec<u8> {
    let mut aad = b"ferrocat:secret:".to_vec();
    aad.extend_from_slice(secret_id.as_bytes());
    aad
}

#[cfg(test)]
mod tests {
    use super::*;

    const K1: &str = "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f";
    const K2: &str = "ICEiIyQlJicoKSorLC0uLzAxMjM0NTY3ODk6Ozw9Pj8="; // base64 of 0x20..0x3f

    #[test]
    fn seals_and_opens_key_values_in_order() {
        let ring = Keyring::parse(K1, &[]).unwrap();
        let id = Uuid::new_v4();
        let keys = vec![("Z_KEY".to_owned(), "zz".to_owned()), ("A_KEY".to_owned(), "s3cr3t-value".to_owned())];
        let blob = ring.seal_keys(id, &keys);
        assert!(!blob.windows(12).any(|w| w == b"s3cr3t-value"), "plaintext leaked into the blob");
        assert_eq!(ring.open_keys(id, &blob).unwrap(), keys);
        assert_ne!(ring.seal_keys(id, &keys), blob, "nonces must differ");
    }

    #[test]
    fn a_blob_opens_only_for_its_row() {
        let ring = Keyring::parse(K1, &[]).unwrap();
        let blob = ring.seal_keys(Uuid::new_v4(), &[("K".into(), "v".into())]);
        assert_eq!(ring.open_keys(Uuid::new_v4(), &blob), Err(SecretsError::Tampered));
    }

    #[test]
    fn tampering_and_garbage_are_refused() {
        let ring = Keyring::parse(K1, &[]).unwrap();
        let aad = b"row";
        let mut blob = ring.seal(b"hello", aad);
        let last = blob.len() - 1;
        blob[last] ^= 1;
        assert_eq!(ring.open(&blob, aad), Err(SecretsError::Tampered));
        assert_eq!(ring.open(b"short", aad), Err(SecretsError::Malformed));
        let mut wrong_version = ring.seal(b"hello", aad);
        wrong_version[0] = 9;
        assert_eq!(ring.open(&wrong_version, aad), Err(SecretsError::Malformed));
    }

    #[test]
    fn rotation_opens_old_blobs_and_seals_with_the_new_key() {
        let old_ring = Keyring::parse(K1, &[]).unwrap();
        let blob = old_ring.seal(b"payload", b"x");
        let rotated = Keyring::parse(K2, &[K1]).unwrap();
        assert_eq!(rotated.open(&blob, b"x").unwrap(), b"payload");
        assert!(rotated.is_stale(&blob));
        let resealed = rotated.seal(b"payload", b"x");
        assert!(!rotated.is_stale(&resealed));
        // Without the retired key the old blob names an unknown key.
        let new_only = Keyring::parse(K2, &[]).unwrap();
        assert!(matches!(new_only.open(&blob, b"x"), Err(SecretsError::UnknownKey(_))));
    }

    #[test]
    fn keys_parse_from_hex_and_base64_only_at_32_bytes() {
        assert!(Keyring::parse(K1, &[]).is_ok());
        assert!(Keyring::parse(K2, &[]).is_ok());
        assert!(Keyring::parse("ICEiIyQlJicoKSorLC0uLzAxMjM0NTY3ODk6Ozw9Pj8", &[]).is_ok());
        assert!(matches!(Keyring::parse("abcd", &[]), Err(SecretsError::InvalidKey(_))));
        assert!(matches!(Keyring::parse("not a key at all!", &[]), Err(SecretsError::InvalidKey(_))));
        assert_eq!(Keyring::parse(K1, &[]).unwrap().current_key_id(), Keyring::parse(K1, &[]).unwrap().current_key_id());
    }

    #[test]
    fn config_errors_never_echo_the_key() {
        let env = Env::from_pairs([(KEY_VAR, "deadbeef-not-a-key")]);
        let err = Keyring::from_env(&env).unwrap_err().to_string();
        assert!(err.contains(KEY_VAR), "{err}");
        assert!(!err.contains("deadbeef"), "{err}");
        let env = Env::from_pairs([(KEY_VAR, K1), (OLD_KEYS_VAR, &format!("{K2},bogus"))]);
        assert!(Keyring::from_env(&env).unwrap_err().to_string().contains(OLD_KEYS_VAR));
        assert!(matches!(Keyring::from_env(&Env::default()), Err(ConfigError::Missing { .. })));
        let ring = Keyring::from_env(&Env::from_pairs([(KEY_VAR, K2), (OLD_KEYS_VAR, K1)])).unwrap();
        assert!(!format!("{ring:?}").contains(K1));
    }
}
