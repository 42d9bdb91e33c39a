//! Single sign-on into the console and api: [`start`] sends the browser to the provider (state,
//! nonce and PKCE S256 kept here by the state's hash, bound to the browser by a token only its
//! cookie holds), [`finish`] spends the state once, checks the browser, redeems the code, and
//! finds the platform user through the same rules as the MCP sign-in page
//! ([`super::platform_user`]).

use chrono::Utc;
use sqlx::PgPool;

use super::{OidcError, Provider};
use crate::AppError;
use crate::accounts::{new_session_token, token_hash};
use crate::db::users::User;

/// How long the user has at the provider.
const LOGIN_TTL_SECONDS: i64 = 600;

/// Where to send the browser, and the token its cookie must carry back.
pub struct Started {
    pub url: String,
    pub browser_token: String,
}

/// A path of this site to return to: `/…`, never `//…` (another host) or with a backslash;
/// anything else is `/`.
pub fn safe_return_to(given: Option<&str>) -> String {
    match given {
        Some(path) if path.starts_with('/') && !path.starts_with("//") && !path.contains('\\') && path.len() <= 2000 => path.to_owned(),
        _ => "/".to_owned(),
    }
}

fn unreachable(provider: &Provider, e: &OidcError) -> AppError {
    tracing::warn!(error = %e, issuer = %provider.issuer(), "the identity provider is unavailable");
    AppError::Unavailable(format!("{} cannot be reached right now: try again, or sign in with your password", provider.name()))
}

/// Starts a sign-in through the provider, to return to `return_to` afterwards.
pub async fn start(db: &PgPool, provider: &Provider, return_to: Option<&str>) -> Result<Started, AppError> {
    if !crate::auth_settings::read(db).await?.oidc_enabled {
        return Err(AppError::Forbidden("single sign-on through OpenID Connect is turned off for this organisation".into()));
    }
    let redirect = provider.redirect().await.map_err(|e| unreachable(provider, &e))?;
    let (browser_token, browser_hash) = new_session_token();
    sqlx::query(
        "INSERT INTO console_sso_logins (state_hash, browser_hash, nonce, pkce_verifier, return_to, expires_at) VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(token_hash(&redirect.state))
    .bind(browser_hash)
    .bind(&redirect.nonce)
    .bind(&redirect.pkce_verifier)
    .bind(safe_return_to(return_to))
    .bind(Utc::now() + chrono::Duration::seconds(LOGIN_TTL_SECONDS))
    .execute(db)
    .await?;
    // Sign-ins nobody finished go after a day.
    sqlx::query("DELETE FROM console_sso_logins WHERE expires_at < now() - interval '1 day'").execute(db).await?;
    Ok(Started { url: redirect.url, browser_token })
}

/// Finishes the sign-in the provider answered: the user, and where to return to.
pub async fn finish(db: &PgPool, provider: &Provider, state: &str, browser_token: Option<&str>, code: &str) -> Result<(User, String), AppError> {
    let again = "sign in again";
    let found: Option<(Vec<u8>, String, String, String)> = sqlx::query_as(
        "UPDATE console_sso_logins SET used_at = now() WHERE state_hash = $1 AND used_at IS NULL AND expires_at > now()
         RETURNING browser_hash, nonce, pkce_verifier, return_to",
    )
    .bind(token_hash(state))
    .fetch_optional(db)
    .await?;
    let Some((browser_hash, nonce, verifier, return_to)) = found else {
        return Err(AppError::BadRequest(format!("this sign-in answer was already used, expired, or was not started here: {again}")));
    };
    // Only the browser that started the sign-in holds the token (login CSRF).
    if browser_token.map(token_hash) != Some(browser_hash) {
        tracing::warn!("a single sign-on answer came to another browser than the one that started it");
        return Err(AppError::BadRequest(format!("this sign-in was started in another browser: {again}")));
    }
    let identity = provider.finish(code, &nonce, &verifier).await.map_err(|e| match e {
        OidcError::Discovery { .. } | OidcError::TokenRequest(_) => unreachable(provider, &e),
        OidcError::CodeRefused(_) => AppError::BadRequest(format!("{} refused the sign-in code: {again}", provider.name())),
        OidcError::NoIdToken | OidcError::InvalidIdToken(_) => {
            tracing::warn!(error = %e, issuer = %provider.issuer(), "single sign-on refused");
            AppError::BadRequest(format!("the answer of {} failed verification, so it cannot sign you in", provider.name()))
        }
    })?;
    match super::platform_user(db, &provider.source(), &identity).await? {
        Ok(user) => {
            tracing::info!(user_id = %user.id, issuer = %identity.issuer, "signed in to the console through sso");
            Ok((user, return_to))
        }
        Err(refusal) => {
            tracing::info!(issuer = %identity.issuer, subject = %identity.subject, why = %refusal, "single sign-on: no platform user");
            Err(AppError::Forbidden(refusal))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::safe_return_to;

    #[test]
    fn only_paths_of_this_site_are_returned_to() {
        assert_eq!(safe_return_to(Some("/workspaces/ws_1/cases?x=1")), "/workspaces/ws_1/cases?x=1");
        for bad in ["//evil.example.com/x", "https://evil.example.com", "/\\evil.example.com", "cases"] {
            assert_eq!(safe_return_to(Some(bad)), "/", "{bad}");
        }
        assert_eq!(safe_return_to(None), "/");
    }
}
