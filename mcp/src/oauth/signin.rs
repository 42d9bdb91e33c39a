//! Signing in on the authorization pages with a platform account: the api's session cookie when
//! the browser has one, else email and password, which start an api session (so the console is
//! signed in too). Failed attempts are counted per account and per client address, in memory.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{LazyLock, Mutex};
use std::time::{Duration, Instant};

use axum::http::HeaderMap;
use axum_extra::extract::CookieJar;
use axum_extra::extract::cookie::{Cookie, SameSite};

use ferrocat_api::auth::{self, SESSION_COOKIE};
use ferrocat_api::db::users::{self, User};

use crate::state::McpState;

/// How many failures an account or an address may have within [`SignInLimiter::window`].
const MAX_FAILURES_PER_ACCOUNT: u32 = 5;
const MAX_FAILURES_PER_ADDRESS: u32 = 20;

/// Failure counters that reset a window after the first failure.
pub struct SignInLimiter {
    window: Duration,
    counts: Mutex<HashMap<String, (u32, Instant)>>,
}

impl Default for SignInLimiter {
    fn default() -> Self {
        Self { window: Duration::from_secs(900), counts: Mutex::new(HashMap::new()) }
    }
}

impl SignInLimiter {
    fn buckets(email: &str, ip: IpAddr) -> [(String, u32); 2] {
        [(format!("account:{}", email.trim().to_lowercase()), MAX_FAILURES_PER_ACCOUNT), (format!("address:{ip}"), MAX_FAILURES_PER_ADDRESS)]
    }

    /// Whether another attempt for this account from this address is allowed now.
    pub fn allows(&self, email: &str, ip: IpAddr) -> bool {
        let now = Instant::now();
        let mut counts = self.counts.lock().expect("limiter lock");
        counts.retain(|_, (_, since)| now.duration_since(*since) < self.window);
        Self::buckets(email, ip).iter().all(|(key, max)| counts.get(key).is_none_or(|(n, _)| n < max))
    }

    /// Counts a failure.
    pub fn fail(&self, email: &str, ip: IpAddr) {
        let now = Instant::now();
        let mut counts = self.counts.lock().expect("limiter lock");
        for (key, _) in Self::buckets(email, ip) {
            counts.entry(key).or_insert((0, now)).0 += 1;
        }
    }

    /// Forgets an account's failures after a success (not the address's).
    pub fn succeed(&self, email: &str) {
        self.counts.lock().expect("limiter lock").remove(&format!("account:{}", email.trim().to_lowercase()));
    }
}

/// The user of the api session cookie, if the browser is signed in.
pub async fn session_user(state: &McpState, headers: &HeaderMap) -> sqlx::Result<Option<User>> {
    let jar = CookieJar::from_headers(headers);
    let Some(cookie) = jar.get(SESSION_COOKIE) else { return Ok(None) };
    users::find_by_session(state.db(), &auth::token_hash(cookie.value())).await
}

/// A real argon2id hash, verified against when the account is unknown, so that timing does not
/// tell which accounts exist.
static DUMMY_HASH: LazyLock<String> = LazyLock::new(|| auth::hash_password("no such account: dummy").expect("hashing works"));

/// Checks an email and password; the active user on success.
pub async fn verify(state: &McpState, email: &str, password: String) -> anyhow::Result<Option<User>> {
    let found = users::find_credentials(state.db(), email.trim()).await?;
    let (user, hash) = match found {
        Some((user, hash)) => (Some(user), hash),
        None => (None, DUMMY_HASH.clone()),
    };
    let ok = tokio::task::spawn_blocking(move || auth::verify_password(&password, &hash)).await?;
    Ok(user.filter(|u| ok && u.is_active))
}

/// Starts an api session for `user` and returns its cookie.
pub async fn start_session(state: &McpState, user: &User) -> sqlx::Result<Cookie<'static>> {
    let ttl = state.config.api.session_ttl_seconds;
    let (token, token_hash) = auth::new_session_token();
    users::insert_session(state.db(), &token_hash, user.id, chrono::Utc::now() + chrono::Duration::seconds(ttl)).await?;
    users::touch_login(state.db(), user.id).await?;
    Ok(Cookie::build((SESSION_COOKIE, token))
        .path("/")
        .http_only(true)
        .secure(state.config.secure_cookies())
        .same_site(SameSite::Lax)
        .max_age(time::Duration::seconds(ttl))
        .build())
}

/// The client address: `X-Real-IP` when the peer is the edge on loopback, else the peer.
pub fn client_ip(peer: std::net::SocketAddr, headers: &HeaderMap) -> IpAddr {
    if peer.ip().is_loopback()
        && let Some(ip) = headers.get("x-real-ip").and_then(|v| v.to_str().ok()).and_then(|v| v.trim().parse().ok())
    {
        return ip;
    }
    peer.ip()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_account_locks_after_five_failures_and_a_success_clears_it() {
        let limiter = SignInLimiter::default();
        let ip: IpAddr = "192.0.2.1".parse().unwrap();
        for _ in 0..5 {
            assert!(limiter.allows("A@example.com", ip));
            limiter.fail("a@example.com", ip);
        }
        assert!(!limiter.allows("a@example.com", ip));
        assert!(limiter.allows("b@example.com", ip));
        limiter.succeed("a@example.com");
        assert!(limiter.allows("a@example.com", ip));
    }
}
