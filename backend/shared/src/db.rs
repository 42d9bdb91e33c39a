//! Postgres access: the pool, the migrator and, under `db/`, one repository module per aggregate.

use std::time::Duration;

use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::{ConnectOptions, PgPool};

/// The schema history in `migrations/`, embedded in the binary.
pub static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("../../migrations");

/// Opens a pool; fails fast when the database does not answer.
pub async fn connect(url: &str, max_connections: u32) -> Result<PgPool, sqlx::Error> {
    let options = url.parse::<PgConnectOptions>()?.disable_statement_logging();
    PgPoolOptions::new()
        .max_connections(max_connections)
        // While the database is down a request waits this long for it, then gets a 503.
        .acquire_timeout(Duration::from_secs(3))
        .connect_with(options)
        .await
}

/// Whether `error` says the database could not be reached (down, restarting, refusing
/// connections) rather than that a statement failed.
pub fn unreachable(error: &sqlx::Error) -> bool {
    match error {
        sqlx::Error::PoolTimedOut | sqlx::Error::PoolClosed | sqlx::Error::Io(_) | sqlx::Error::Tls(_) => true,
        // Class 08 (connection exception) and 57P (the server shutting down or starting up).
        sqlx::Error::Database(db) => db.code().is_some_and(|code| code.starts_with("08") || code.starts_with("57P")),
        _ => false,
    }
}

/// Why a read failed: the database could not be reached (worth trying again once it is back),
/// or anything else (a missing row, a value that does not open).
#[derive(Debug, thiserror::Error)]
pub enum ReadError {
    #[error("{0}")]
    Unreachable(String),
    #[error("{0}")]
    Failed(String),
}

impl ReadError {
    /// `error` of the statement doing `what`, sorted by whether the database was reachable.
    pub fn sql(what: &str, error: sqlx::Error) -> ReadError {
        let message = format!("{what}: {error}");
        if unreachable(&error) { ReadError::Unreachable(message) } else { ReadError::Failed(message) }
    }
}

impl From<String> for ReadError {
    fn from(message: String) -> ReadError {
        ReadError::Failed(message)
    }
}

impl From<ReadError> for String {
    fn from(error: ReadError) -> String {
        error.to_string()
    }
}

/// Applies pending migrations. sqlx holds a Postgres advisory lock for the whole run, so
/// concurrent runners serialize and the second finds nothing to do.
pub async fn migrate(pool: &PgPool) -> Result<(), sqlx::migrate::MigrateError> {
    MIGRATOR.run(pool).await
}

/// Creates the database named in `url` when it does not exist (connecting to `postgres` to do so).
pub async fn ensure_database(url: &str) -> Result<(), sqlx::Error> {
    let options: PgConnectOptions = url.parse()?;
    let Some(name) = options.get_database().map(str::to_owned) else { return Ok(()) };
    let admin = options.clone().database("postgres");
    let mut conn = admin.connect().await?;
    let exists: bool = sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)")
        .bind(&name)
        .fetch_one(&mut conn)
        .await?;
    if !exists {
        // Identifiers cannot be bound; quote it as Postgres does.
        let quoted = format!("\"{}\"", name.replace('"', "\"\""));
        match sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {quoted}"))).execute(&mut conn).await {
            Ok(_) => {}
            // Another runner created it first: either it already existed when we asked (42P04),
            // or the two creations raced on pg_database's unique index (23505).
            Err(sqlx::Error::Database(e)) if matches!(e.code().as_deref(), Some("42P04" | "23505")) => {}
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

/// `VARS` for a run: every variable of the workspace's `environment` as `{name: {key: value}}`
/// (read when a run starts, and by the worker when a subflow runs in another environment).
pub async fn run_variables(
    db: impl sqlx::PgExecutor<'_>,
    workspace_id: uuid::Uuid,
    environment: &str,
) -> sqlx::Result<serde_json::Map<String, serde_json::Value>> {
    let rows = sqlx::query!(
        r#"SELECT name, "values" FROM variables WHERE workspace_id = $1 AND environment = $2 ORDER BY name"#,
        workspace_id,
        environment
    )
    .fetch_all(db)
    .await?;
    Ok(rows.into_iter().map(|r| (r.name, r.values)).collect())
}
