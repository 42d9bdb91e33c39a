//! The sign-in lockout every sign-in form shares (the api's `/auth/login` and the MCP server's
//! OAuth sign-in page): failures are counted in Redis per account name (whether or not the
//! account exists; hashed, since people sometimes type a password there) and per client
//! address. Past `FERROCAT_LOGIN_MAX_FAILURES` (or `_PER_ADDRESS`) within
//! `FERROCAT_LOGIN_LOCKOUT_SECONDS`, attempts are refused before any password is checked, so a
//! locked account answers alike whether it exists. Counting in one place means alternating
//! between the two forms buys an attacker nothing, and a restart forgets nothing.

use std::net::IpAddr;

use sha2::Digest as _;

use crate::error::AppError;
use crate::App;

/// One sign-in attempt's lockout buckets.
pub struct SignInAttempt {
    /// The account's bucket, then the address's.
    buckets: [String; 2],
}

impl SignInAttempt {
    /// The buckets of `username` (keyed by [`crate::db::users::email_key`], the normalisation
    /// the account lookup also applies) and of the client address.
    pub fn new(username: &str, ip: IpAddr) -> Self {
        let account = hex::encode(sha2::Sha256::digest(crate::db::users::email_key(username).as_bytes()));
        Self { buckets: [format!("login:account:{account}"), format!("login:address:{ip}")] }
    }

    /// `AppError::TooManyRequests` (with the seconds to wait) when the account or the address
    /// has failed too often in the window. When Redis cannot answer the attempt is let through
    /// (and that logged): the password check still guards the account.
    pub async fn check(&self, state: &App) -> Result<(), AppError> {
        let limits = state.config.login;
        let mut retry_after = 0;
        for (bucket, max) in self.buckets.iter().zip([limits.max_failures, limits.max_failures_per_address]) {
            match state.limiter.peek(bucket, max - 1, limits.lockout).await {
                Ok(decision) if !decision.allowed => retry_after = retry_after.max(decision.retry_after_seconds()),
                Ok(_) => {}
                Err(error) => tracing::error!(error = %error, "sign-in lockout unavailable; attempt let through"),
            }
        }
        if retry_after > 0 {
            return Err(AppError::TooManyRequests { detail: "LOGIN_TOO_MANY_ATTEMPTS".into(), retry_after });
        }
        Ok(())
    }

    /// Counts a failure against the account and the address.
    pub async fn failed(&self, state: &App) {
        let limits = state.config.login;
        for (bucket, max) in self.buckets.iter().zip([limits.max_failures, limits.max_failures_per_address]) {
            if let Err(error) = state.limiter.hit_and_hold(bucket, max, limits.lockout).await {
                tracing::error!(error = %error, "sign-in failure not counted");
            }
        }
    }

    /// A success forgets the account's failures (not the address's: one good password there
    /// must not reset guessing at other accounts).
    pub async fn succeeded(&self, state: &App) {
        if let Err(error) = state.limiter.reset(&self.buckets[0]).await {
            tracing::error!(error = %error, "sign-in failures not cleared");
        }
    }
}
