//! People's credentials: passwords (argon2id), session tokens, workspace roles, and the
//! first-admin bootstrap.

use argon2::password_hash::{PasswordHasher, SaltString, rand_core::OsRng};
use argon2::{Argon2, PasswordHash, PasswordVerifier};
use rand::RngCore;
use secrecy::ExposeSecret;
use sha2::{Digest, Sha256};

use crate::App;
use crate::db::{users, workspaces};

/// Name of the session cookie.
pub const SESSION_COOKIE: &str = "ferrocat_session";

/// Hashes a password with argon2id and a random salt (PHC string).
pub fn hash_password(password: &str) -> anyhow::Result<String> {
    let salt = SaltString::generate(&mut OsRng);
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| anyhow::anyhow!("hashing password: {e}"))
}

/// Checks a password against a PHC hash; a malformed hash never verifies.
pub fn verify_password(password: &str, hash: &str) -> bool {
    PasswordHash::new(hash).is_ok_and(|parsed| Argon2::default().verify_password(password.as_bytes(), &parsed).is_ok())
}

/// [`verify_password`] on the blocking pool: argon2 spends tens of milliseconds of CPU, which
/// must not stall the async workers.
pub async fn verify_password_blocking(password: String, hash: String) -> anyhow::Result<bool> {
    Ok(tokio::task::spawn_blocking(move || verify_password(&password, &hash)).await?)
}

/// [`hash_password`] on the blocking pool.
pub async fn hash_password_blocking(password: String) -> anyhow::Result<String> {
    tokio::task::spawn_blocking(move || hash_password(&password)).await?
}

/// A fresh opaque session token (256 bits, base64url) and the SHA-256 stored for it.
pub fn new_session_token() -> (String, Vec<u8>) {
    let mut raw = [0u8; 32];
    rand::thread_rng().fill_bytes(&mut raw);
    let token = base64::Engine::encode(&base64::engine::general_purpose::URL_SAFE_NO_PAD, raw);
    let hash = token_hash(&token);
    (token, hash)
}

/// What the database stores for a session token.
pub fn token_hash(token: &str) -> Vec<u8> {
    Sha256::digest(token.as_bytes()).to_vec()
}

/// Creates the default workspace and the configured first admin, once; later starts change nothing.
pub async fn bootstrap(state: &App) -> anyhow::Result<()> {
    let workspace = workspaces::ensure_default(&state.db).await?;
    let Some((email, password)) = &state.config.admin else { return Ok(()) };
    if users::find_credentials(&state.db, email).await?.is_some() {
        return Ok(());
    }
    let hash = hash_password(password.expose_secret())?;
    let mut tx = state.db.begin().await?;
    match users::insert(&mut *tx, email, &hash, true).await {
        Ok(id) => {
            workspaces::upsert_membership(&mut *tx, id, workspace, "admin").await?;
            tx.commit().await?;
            tracing::info!(email = %email, "created the first admin");
        }
        // Another api process created it at the same moment.
        Err(sqlx::Error::Database(e)) if e.constraint() == Some("users_email_key") => {}
        Err(e) => return Err(e.into()),
    }
    Ok(())
}

/// Workspace roles, weakest first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Role {
    Viewer,
    Editor,
    Admin,
}

impl Role {
    /// Reads a stored role; anything unknown is the weakest.
    pub fn parse(text: &str) -> Role {
        match text {
            "admin" => Role::Admin,
            "editor" => Role::Editor,
            _ => Role::Viewer,
        }
    }

    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Viewer => "viewer",
            Role::Editor => "editor",
            Role::Admin => "admin",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_verify_only_themselves() {
        let hash = hash_password("correct horse battery").unwrap();
        assert!(hash.starts_with("$argon2id$"));
        assert!(verify_password("correct horse battery", &hash));
        assert!(!verify_password("wrong horse battery", &hash));
        assert!(!verify_password("anything", "not-a-phc-string"));
    }

    #[test]
    fn session_tokens_are_unique_and_hashed() {
        let (a, ha) = new_session_token();
        let (b, _) = new_session_token();
        assert_ne!(a, b);
        assert_eq!(ha, token_hash(&a));
        assert_eq!(ha.len(), 32);
    }
}
