//! Signing in on the authorization pages with a platform account: the api's session cookie when
//! the browser has one, else email and password, which start an api session (so the console is
//! signed in too). Failed attempts count against the api's sign-in lockout
//! ([`ferrocat_app::lockout`], in Redis): the same buckets as `/api/auth/login`.

use std::sync::LazyLock;

use axum::http::HeaderMap;
use axum_extra::extract::CookieJar;
use axum_extra::extract::cookie::{Cookie, SameSite};

use ferrocat_app::accounts::{self as auth, SESSION_COOKIE};
use ferrocat_app::db::users::{self, User};

use crate::state::McpState;

/// The user of the api session cookie, if the browser is signed in.
pub async fn session_user(state: &McpState, headers: &HeaderMap) -> sqlx::Result<Option<User>> {
    let jar = CookieJar::from_headers(headers);
    let Some(cookie) = jar.get(SESSION_COOKIE) else { return Ok(None) };
    users::find_by_session(state.db(), &auth::token_hash(cookie.value()), state.config.app.session_idle_seconds).await
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
    let ok = auth::verify_password_blocking(password, hash).await?;
    Ok(user.filter(|u| ok && u.is_active))
}

/// Starts an api session for `user` and returns its cookie.
pub async fn start_session(state: &McpState, user: &User) -> sqlx::Result<Cookie<'static>> {
    let ttl = state.config.app.session_ttl_seconds;
    let (token, token_hash) = auth::new_session_token();
    users::insert_session(state.db(), &token_hash, user.id, chrono::Utc::now() + chrono::Duration::seconds(ttl)).await?;
    users::touch_login(state.db(), user.id).await?;
    Ok(Cookie::build((SESSION_COOKIE, token))
        .path("/")
        .http_only(true)
        .secure(state.config.secure_cookies())
        // The api's session cookie, so the same attribute: never sent on cross-site navigations.
        .same_site(SameSite::Strict)
        .max_age(time::Duration::seconds(ttl))
        .build())
}
