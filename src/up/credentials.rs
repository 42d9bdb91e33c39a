//! The credentials `ferrocat up` gives its own dependencies, even on loopback: a per-stack
//! Postgres login role that is no superuser and owns only the stack's database, a password on a
//! private Redis, and a per-stack Redis ACL user confined to the stack's key prefix on a shared
//! one. Passwords come from the data dir's `secrets.env` (generated once, mode 0600), so a
//! second `up` on the same data dir finds the same role with the same password.

use anyhow::Context as _;
use sqlx::postgres::PgConnectOptions;
use sqlx::{ConnectOptions as _, Connection as _, PgConnection};

/// `"name"`: an identifier quoted as Postgres does (identifiers cannot be bound).
fn ident(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

/// `'text'`: a literal quoted as Postgres does (role passwords cannot be bound).
fn literal(text: &str) -> String {
    format!("'{}'", text.replace('\'', "''"))
}

async fn execute(conn: &mut PgConnection, sql: String) -> anyhow::Result<()> {
    sqlx::raw_sql(sqlx::AssertSqlSafe(sql)).execute(&mut *conn).await?;
    Ok(())
}

/// Makes `role` (login, `password`, no superuser, no CREATEDB, no CREATEROLE) the owner of
/// `database` and of everything in its public schema, creating either when missing; no other
/// role may connect to the database (PUBLIC's CONNECT is revoked). `admin` is a superuser's
/// connection options. Idempotent: run at every `up`, it also resets the password to
/// `password` and takes over tables an earlier `up` created as the superuser.
pub async fn ensure_app_role(admin: &PgConnectOptions, database: &str, role: &str, password: &str) -> anyhow::Result<()> {
    let mut conn = admin.clone().database("postgres").connect().await?;
    let attributes = format!("LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS PASSWORD {}", literal(password));
    let role_exists: bool = sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = $1)")
        .bind(role)
        .fetch_one(&mut conn)
        .await?;
    let verb = if role_exists { "ALTER" } else { "CREATE" };
    if let Err(e) = execute(&mut conn, format!("{verb} ROLE {} WITH {attributes}", ident(role))).await {
        // Another `up` on the same data dir created it first.
        if !e.to_string().contains("already exists") {
            return Err(e.context(format!("creating the database role {role}")));
        }
    }
    let db_exists: bool = sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)")
        .bind(database)
        .fetch_one(&mut conn)
        .await?;
    let (db, owner) = (ident(database), ident(role));
    if db_exists {
        execute(&mut conn, format!("ALTER DATABASE {db} OWNER TO {owner}")).await?;
    } else {
        execute(&mut conn, format!("CREATE DATABASE {db} OWNER {owner}")).await.context("creating the database")?;
    }
    execute(&mut conn, format!("REVOKE ALL ON DATABASE {db} FROM PUBLIC; GRANT CONNECT, TEMPORARY ON DATABASE {db} TO {owner}")).await?;
    conn.close().await?;

    // Inside the database: the role owns the schema it migrates and whatever an earlier `up`
    // (which migrated as the superuser) left there. Tables first: their sequences follow them.
    let mut conn = admin.clone().database(database).connect().await?;
    execute(
        &mut conn,
        format!(
            "ALTER SCHEMA public OWNER TO {owner};
             DO $$ DECLARE r record; BEGIN
               FOR r IN SELECT c.oid::regclass AS name FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
                        WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p', 'v', 'm', 'f') AND c.relowner <> {role_oid} LOOP
                 EXECUTE format('ALTER TABLE %s OWNER TO %I', r.name, {role_text});
               END LOOP;
               FOR r IN SELECT c.oid::regclass AS name FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
                        WHERE n.nspname = 'public' AND c.relkind = 'S' AND c.relowner <> {role_oid} LOOP
                 EXECUTE format('ALTER SEQUENCE %s OWNER TO %I', r.name, {role_text});
               END LOOP;
               FOR r IN SELECT t.oid::regtype AS name FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace
                        WHERE n.nspname = 'public' AND t.typtype IN ('e', 'd', 'c') AND t.typrelid = 0 AND t.typowner <> {role_oid} LOOP
                 EXECUTE format('ALTER TYPE %s OWNER TO %I', r.name, {role_text});
               END LOOP;
               FOR r IN SELECT p.oid::regprocedure AS name FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
                        WHERE n.nspname = 'public' AND p.proowner <> {role_oid} LOOP
                 EXECUTE format('ALTER ROUTINE %s OWNER TO %I', r.name, {role_text});
               END LOOP;
             END $$",
            role_oid = format_args!("(SELECT oid FROM pg_roles WHERE rolname = {})", literal(role)),
            role_text = literal(role),
        ),
    )
    .await
    .context("handing the database's objects to the stack's role")?;
    conn.close().await?;
    Ok(())
}

/// The stack's Redis ACL user on a shared server: only keys and channels under `prefix`, no
/// admin or dangerous commands. `Ok(false)` when the server has no ACLs (before Redis 6).
pub async fn ensure_redis_user(admin_url: &str, user: &str, password: &str, prefix: &str) -> anyhow::Result<bool> {
    let client = redis::Client::open(admin_url)?;
    let mut conn = client.get_multiplexed_async_connection().await?;
    let pattern = format!("{}*", prefix.replace(['*', '?', '[', ']', '\\'], ""));
    // Channel patterns (`&`) came with Redis 6.2; the stack uses no pub/sub, so on 6.0 the
    // user goes without them.
    let mut last = None;
    for channels in [Some(format!("&{pattern}")), None] {
        let mut command = redis::cmd("ACL");
        command.arg("SETUSER").arg(user).arg("reset").arg("on").arg(format!(">{password}")).arg(format!("~{pattern}"));
        if let Some(channels) = &channels {
            command.arg(channels);
        }
        command.arg("+@all").arg("-@admin").arg("-@dangerous");
        match command.query_async::<()>(&mut conn).await {
            Ok(()) => return Ok(true),
            Err(e) if e.to_string().to_ascii_lowercase().contains("unknown command") => return Ok(false),
            Err(e) if channels.is_some() && e.to_string().to_ascii_lowercase().contains("syntax error") => last = Some(e),
            Err(e) => return Err(e.into()),
        }
    }
    Err(last.map_or_else(|| anyhow::anyhow!("ACL SETUSER failed"), Into::into))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quoting_doubles_the_quote() {
        assert_eq!(ident("a\"b"), "\"a\"\"b\"");
        assert_eq!(literal("it's"), "'it''s'");
    }
}
