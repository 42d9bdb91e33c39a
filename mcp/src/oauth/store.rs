//! Postgres storage of the authorization server: clients, pending authorization requests,
//! codes, grants (refresh-token families) and tokens. Secrets arrive here already hashed.
//! Runtime-checked queries (the tables are this crate's own and young).

use chrono::{DateTime, Utc};
use serde_json::Value;
use sqlx::{PgConnection, PgExecutor};
use uuid::Uuid;

/// A registered client.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Client {
    pub client_id: String,
    pub client_secret_hash: Option<Vec<u8>>,
    pub client_name: String,
    pub redirect_uris: Vec<String>,
    pub grant_types: Vec<String>,
    pub token_endpoint_auth_method: String,
    pub registration: String,
}

/// A client to store.
pub struct NewClient<'a> {
    pub client_id: &'a str,
    pub client_secret_hash: Option<&'a [u8]>,
    pub client_name: &'a str,
    pub redirect_uris: &'a [String],
    pub grant_types: &'a [String],
    pub token_endpoint_auth_method: &'a str,
    pub application_type: &'a str,
    pub registration: &'a str,
    pub metadata: &'a Value,
}

const CLIENT_COLUMNS: &str =
    "client_id, client_secret_hash, client_name, redirect_uris, grant_types, token_endpoint_auth_method, registration";

/// How long a dynamically registered client may go without a grant (without anyone completing
/// a sign-in and consent for it) before it is forgotten. Registration is anonymous: without
/// this, abandoned or hostile registrations would accumulate forever.
pub const UNUSED_CLIENT_TTL_HOURS: i32 = 24;

/// The condition naming expired clients (for a row aliased `c`).
const EXPIRED_CLIENT: &str = "c.registration = 'dcr' AND c.created_at < now() - make_interval(hours => $1)
     AND NOT EXISTS (SELECT 1 FROM oauth_grants g WHERE g.client_id = c.client_id)";

/// Stores a client; a client ID metadata document replaces its earlier copy.
pub async fn upsert_client(db: impl PgExecutor<'_>, new: &NewClient<'_>) -> sqlx::Result<()> {
    sqlx::query(
        "INSERT INTO oauth_clients (client_id, client_secret_hash, client_name, redirect_uris, grant_types,
                                    token_endpoint_auth_method, application_type, registration, metadata)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
         ON CONFLICT (client_id) DO UPDATE SET client_name = EXCLUDED.client_name, redirect_uris = EXCLUDED.redirect_uris,
             grant_types = EXCLUDED.grant_types, token_endpoint_auth_method = EXCLUDED.token_endpoint_auth_method,
             application_type = EXCLUDED.application_type, metadata = EXCLUDED.metadata
         WHERE oauth_clients.registration = 'cimd'",
    )
    .bind(new.client_id)
    .bind(new.client_secret_hash)
    .bind(new.client_name)
    .bind(new.redirect_uris)
    .bind(new.grant_types)
    .bind(new.token_endpoint_auth_method)
    .bind(new.application_type)
    .bind(new.registration)
    .bind(new.metadata)
    .execute(db)
    .await?;
    Ok(())
}

/// A client by id; a registration that expired unused (see [`UNUSED_CLIENT_TTL_HOURS`]) is
/// gone even before a sweep deletes it.
pub async fn client(db: impl PgExecutor<'_>, client_id: &str) -> sqlx::Result<Option<Client>> {
    // Both pieces are constants of this module; the id and the TTL are bound.
    sqlx::query_as::<_, Client>(sqlx::AssertSqlSafe(format!(
        "SELECT {CLIENT_COLUMNS} FROM oauth_clients c WHERE client_id = $2 AND NOT ({EXPIRED_CLIENT})"
    )))
    .bind(UNUSED_CLIENT_TTL_HOURS)
    .bind(client_id)
    .fetch_optional(db)
    .await
}

/// Deletes dynamically registered clients that never got a grant within
/// [`UNUSED_CLIENT_TTL_HOURS`]; returns how many.
pub async fn delete_unused_clients(db: impl PgExecutor<'_>) -> sqlx::Result<u64> {
    // EXPIRED_CLIENT is a constant of this module (no input in it); the TTL is bound.
    let done = sqlx::query(sqlx::AssertSqlSafe(format!("DELETE FROM oauth_clients c WHERE {EXPIRED_CLIENT}")))
        .bind(UNUSED_CLIENT_TTL_HOURS)
        .execute(db)
        .await?;
    Ok(done.rows_affected())
}

/// An `/authorize` request waiting for sign-in and consent.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct PendingRequest {
    pub client_id: String,
    pub redirect_uri: String,
    pub code_challenge: String,
    pub resource: String,
    pub scope: String,
    pub state: Option<String>,
    pub user_id: Option<Uuid>,
}

/// A validated authorization request to remember.
pub struct NewRequest<'a> {
    pub id_hash: &'a [u8],
    pub client_id: &'a str,
    pub redirect_uri: &'a str,
    pub code_challenge: &'a str,
    pub resource: &'a str,
    pub scope: &'a str,
    pub state: Option<&'a str>,
    pub user_id: Option<Uuid>,
    pub expires_at: DateTime<Utc>,
}

pub async fn insert_request(db: impl PgExecutor<'_>, new: &NewRequest<'_>) -> sqlx::Result<()> {
    sqlx::query(
        "INSERT INTO oauth_requests (id_hash, client_id, redirect_uri, code_challenge, resource, scope, state, user_id, expires_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
    )
    .bind(new.id_hash)
    .bind(new.client_id)
    .bind(new.redirect_uri)
    .bind(new.code_challenge)
    .bind(new.resource)
    .bind(new.scope)
    .bind(new.state)
    .bind(new.user_id)
    .bind(new.expires_at)
    .execute(db)
    .await?;
    Ok(())
}

const REQUEST_COLUMNS: &str = "client_id, redirect_uri, code_challenge, resource, scope, state, user_id";

/// An unexpired pending request.
pub async fn request(db: impl PgExecutor<'_>, id_hash: &[u8]) -> sqlx::Result<Option<PendingRequest>> {
    sqlx::query_as::<_, PendingRequest>(sqlx::AssertSqlSafe(format!(
        "SELECT {REQUEST_COLUMNS} FROM oauth_requests WHERE id_hash = $1 AND expires_at > now()"
    )))
    .bind(id_hash)
    .fetch_optional(db)
    .await
}

/// Records who signed in for a pending request.
pub async fn set_request_user(db: impl PgExecutor<'_>, id_hash: &[u8], user_id: Uuid) -> sqlx::Result<()> {
    sqlx::query("UPDATE oauth_requests SET user_id = $2 WHERE id_hash = $1").bind(id_hash).bind(user_id).execute(db).await?;
    Ok(())
}

/// Removes a pending request of `user_id` and returns it: a consent decision uses it once.
pub async fn take_request(db: impl PgExecutor<'_>, id_hash: &[u8], user_id: Uuid) -> sqlx::Result<Option<PendingRequest>> {
    sqlx::query_as::<_, PendingRequest>(sqlx::AssertSqlSafe(format!(
        "DELETE FROM oauth_requests WHERE id_hash = $1 AND user_id = $2 AND expires_at > now() RETURNING {REQUEST_COLUMNS}"
    )))
    .bind(id_hash)
    .bind(user_id)
    .fetch_optional(db)
    .await
}

/// Drops expired requests, codes, tokens and unused client registrations (called at start,
/// then now and then from `/authorize` and `/register`).
pub async fn sweep(db: impl PgExecutor<'_> + Copy) -> sqlx::Result<()> {
    delete_unused_clients(db).await?;
    sqlx::query("DELETE FROM oauth_requests WHERE expires_at < now() - interval '1 hour'").execute(db).await?;
    sqlx::query("DELETE FROM oauth_codes WHERE expires_at < now() - interval '1 day'").execute(db).await?;
    sqlx::query("DELETE FROM oauth_access_tokens WHERE expires_at < now() - interval '1 hour'").execute(db).await?;
    sqlx::query("DELETE FROM oidc_logins WHERE expires_at < now() - interval '1 hour'").execute(db).await?;
    Ok(())
}

/// An authorization code to store.
pub struct NewCode<'a> {
    pub code_hash: &'a [u8],
    pub request: &'a PendingRequest,
    pub user_id: Uuid,
    pub expires_at: DateTime<Utc>,
}

pub async fn insert_code(db: impl PgExecutor<'_>, new: &NewCode<'_>) -> sqlx::Result<()> {
    let r = new.request;
    sqlx::query(
        "INSERT INTO oauth_codes (code_hash, client_id, user_id, redirect_uri, code_challenge, resource, scope, expires_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
    )
    .bind(new.code_hash)
    .bind(&r.client_id)
    .bind(new.user_id)
    .bind(&r.redirect_uri)
    .bind(&r.code_challenge)
    .bind(&r.resource)
    .bind(&r.scope)
    .bind(new.expires_at)
    .execute(db)
    .await?;
    Ok(())
}

/// A code being redeemed.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Code {
    pub client_id: String,
    pub user_id: Uuid,
    pub redirect_uri: String,
    pub code_challenge: String,
    pub resource: String,
    pub scope: String,
}

/// What redeeming a code found.
pub enum Redeemed {
    /// First use of a live code: it is now spent.
    Fresh(Code),
    /// The code was already used: the grant it started (if any) must be revoked.
    Replayed(Option<Uuid>),
    /// No such code, or it expired.
    Unknown,
}

/// Marks a code used, once.
pub async fn redeem_code(tx: &mut PgConnection, code_hash: &[u8]) -> sqlx::Result<Redeemed> {
    let fresh = sqlx::query_as::<_, Code>(
        "UPDATE oauth_codes SET used_at = now() WHERE code_hash = $1 AND used_at IS NULL AND expires_at > now()
         RETURNING client_id, user_id, redirect_uri, code_challenge, resource, scope",
    )
    .bind(code_hash)
    .fetch_optional(&mut *tx)
    .await?;
    if let Some(code) = fresh {
        return Ok(Redeemed::Fresh(code));
    }
    let used: Option<Option<Uuid>> =
        sqlx::query_scalar("SELECT grant_id FROM oauth_codes WHERE code_hash = $1 AND used_at IS NOT NULL")
            .bind(code_hash)
            .fetch_optional(&mut *tx)
            .await?;
    Ok(match used {
        Some(grant) => Redeemed::Replayed(grant),
        None => Redeemed::Unknown,
    })
}

/// Remembers which grant a code started.
pub async fn set_code_grant(db: impl PgExecutor<'_>, code_hash: &[u8], grant_id: Uuid) -> sqlx::Result<()> {
    sqlx::query("UPDATE oauth_codes SET grant_id = $2 WHERE code_hash = $1").bind(code_hash).bind(grant_id).execute(db).await?;
    Ok(())
}

/// A grant (one consent, one refresh-token family).
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Grant {
    pub id: Uuid,
    pub client_id: String,
    pub user_id: Uuid,
    pub resource: String,
    pub scope: String,
}

/// Starts a grant.
pub async fn insert_grant(db: impl PgExecutor<'_>, client_id: &str, user_id: Uuid, resource: &str, scope: &str) -> sqlx::Result<Grant> {
    let id = Uuid::now_v7();
    sqlx::query("INSERT INTO oauth_grants (id, client_id, user_id, resource, scope) VALUES ($1, $2, $3, $4, $5)")
        .bind(id)
        .bind(client_id)
        .bind(user_id)
        .bind(resource)
        .bind(scope)
        .execute(db)
        .await?;
    Ok(Grant { id, client_id: client_id.to_owned(), user_id, resource: resource.to_owned(), scope: scope.to_owned() })
}

/// Revokes a grant and deletes its access tokens; its refresh tokens stop working with it.
/// Whether it was live until now.
pub async fn revoke_grant(tx: &mut PgConnection, grant_id: Uuid, why: &str) -> sqlx::Result<bool> {
    let done = sqlx::query("UPDATE oauth_grants SET revoked_at = now(), revoked_why = $2 WHERE id = $1 AND revoked_at IS NULL")
        .bind(grant_id)
        .bind(why)
        .execute(&mut *tx)
        .await?;
    sqlx::query("DELETE FROM oauth_access_tokens WHERE grant_id = $1").bind(grant_id).execute(&mut *tx).await?;
    Ok(done.rows_affected() == 1)
}

/// Whether a grant is revoked (or gone).
pub async fn grant_revoked(db: impl PgExecutor<'_>, grant_id: Uuid) -> sqlx::Result<bool> {
    let live: Option<bool> = sqlx::query_scalar("SELECT revoked_at IS NULL FROM oauth_grants WHERE id = $1")
        .bind(grant_id)
        .fetch_optional(db)
        .await?;
    Ok(live != Some(true))
}

pub async fn insert_refresh_token(db: impl PgExecutor<'_>, token_hash: &[u8], grant_id: Uuid, expires_at: DateTime<Utc>) -> sqlx::Result<()> {
    sqlx::query("INSERT INTO oauth_refresh_tokens (token_hash, grant_id, expires_at) VALUES ($1, $2, $3)")
        .bind(token_hash)
        .bind(grant_id)
        .bind(expires_at)
        .execute(db)
        .await?;
    Ok(())
}

/// What presenting a refresh token found.
pub enum Rotated {
    /// The current token of a live grant: it is now rotated out.
    Fresh(Grant),
    /// A token already rotated out (or of a revoked grant): the grant must be revoked.
    Replayed(Uuid),
    /// No such token, or it expired.
    Unknown,
}

/// Rotates a refresh token out, once.
pub async fn rotate_refresh_token(tx: &mut PgConnection, token_hash: &[u8]) -> sqlx::Result<Rotated> {
    let fresh = sqlx::query_as::<_, Grant>(
        "WITH spent AS (
             UPDATE oauth_refresh_tokens SET rotated_at = now()
             WHERE token_hash = $1 AND rotated_at IS NULL AND expires_at > now() RETURNING grant_id)
         SELECT g.id, g.client_id, g.user_id, g.resource, g.scope
         FROM spent JOIN oauth_grants g ON g.id = spent.grant_id WHERE g.revoked_at IS NULL",
    )
    .bind(token_hash)
    .fetch_optional(&mut *tx)
    .await?;
    if let Some(grant) = fresh {
        return Ok(Rotated::Fresh(grant));
    }
    let known: Option<(Uuid, bool)> =
        sqlx::query_as("SELECT grant_id, rotated_at IS NOT NULL FROM oauth_refresh_tokens WHERE token_hash = $1")
            .bind(token_hash)
            .fetch_optional(&mut *tx)
            .await?;
    let Some((grant_id, rotated)) = known else { return Ok(Rotated::Unknown) };
    if rotated || grant_revoked(&mut *tx, grant_id).await? {
        return Ok(Rotated::Replayed(grant_id));
    }
    // The current token, expired.
    Ok(Rotated::Unknown)
}

pub async fn insert_access_token(
    db: impl PgExecutor<'_>,
    token_hash: &[u8],
    grant_id: Uuid,
    audience: &str,
    expires_at: DateTime<Utc>,
) -> sqlx::Result<()> {
    sqlx::query("INSERT INTO oauth_access_tokens (token_hash, grant_id, audience, expires_at) VALUES ($1, $2, $3, $4)")
        .bind(token_hash)
        .bind(grant_id)
        .bind(audience)
        .bind(expires_at)
        .execute(db)
        .await?;
    Ok(())
}

/// A live access token: its audience, grant and active user.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct AccessToken {
    pub audience: String,
    pub grant_id: Uuid,
    pub client_id: String,
    pub scope: String,
    pub user_id: Uuid,
    pub email: String,
    pub is_superuser: bool,
}

/// The unexpired access token with this hash, of a live grant and an active user.
pub async fn access_token(db: impl PgExecutor<'_>, token_hash: &[u8]) -> sqlx::Result<Option<AccessToken>> {
    sqlx::query_as::<_, AccessToken>(
        "SELECT t.audience, t.grant_id, g.client_id, g.scope, u.id AS user_id, u.email, u.is_superuser
         FROM oauth_access_tokens t JOIN oauth_grants g ON g.id = t.grant_id JOIN users u ON u.id = g.user_id
         WHERE t.token_hash = $1 AND t.expires_at > now() AND g.revoked_at IS NULL AND u.is_active",
    )
    .bind(token_hash)
    .fetch_optional(db)
    .await
}

/// The grant a token (access or refresh) belongs to, and the client it was issued to.
pub async fn token_grant(db: impl PgExecutor<'_>, token_hash: &[u8]) -> sqlx::Result<Option<(Uuid, String, bool)>> {
    sqlx::query_as(
        "SELECT g.id, g.client_id, true FROM oauth_refresh_tokens r JOIN oauth_grants g ON g.id = r.grant_id WHERE r.token_hash = $1
         UNION ALL
         SELECT g.id, g.client_id, false FROM oauth_access_tokens a JOIN oauth_grants g ON g.id = a.grant_id WHERE a.token_hash = $1
         LIMIT 1",
    )
    .bind(token_hash)
    .fetch_optional(db)
    .await
}

/// Deletes one access token.
pub async fn delete_access_token(db: impl PgExecutor<'_>, token_hash: &[u8]) -> sqlx::Result<()> {
    sqlx::query("DELETE FROM oauth_access_tokens WHERE token_hash = $1").bind(token_hash).execute(db).await?;
    Ok(())
}
