//! `ferrocat up` gives its dependencies credentials even on loopback: the services reach
//! Postgres as a per-stack role that is no superuser and cannot read another database, Redis as
//! a per-stack user confined to the stack's key prefix, and the object store only with signed
//! requests; a second `up` on the same data dir reuses the role and its password.

mod common;

use std::os::unix::fs::PermissionsExt as _;

use sqlx::{ConnectOptions as _, Connection as _};
use sqlx::postgres::PgConnectOptions;

use common::Stack;

const ADMIN_URL: &str = "postgres://postgres@127.0.0.1:5432/postgres";

async fn connect(url: &str) -> Result<sqlx::PgConnection, sqlx::Error> {
    url.parse::<PgConnectOptions>()?.disable_statement_logging().connect().await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn services_use_a_least_privileged_role_and_authenticate_everywhere() {
    let stack = tokio::task::spawn_blocking(Stack::up).await.unwrap();
    let secrets = stack.data_dir.join("secrets.env");
    assert_eq!(std::fs::metadata(&secrets).unwrap().permissions().mode() & 0o777, 0o600);

    // Every service gets the same URL: the stack's role, with its password.
    let url = stack.service_env("api", "FERROCAT_DATABASE_URL").expect("the api's database URL");
    for service in ["worker", "executor", "mcp", "llm-gateway"] {
        assert_eq!(stack.service_env(service, "FERROCAT_DATABASE_URL").as_deref(), Some(url.as_str()), "{service}");
    }
    let options: PgConnectOptions = url.parse().unwrap();
    let role = options.get_username().to_owned();
    let database = options.get_database().unwrap().to_owned();
    assert!(role.starts_with("ferrocat_") && role != "postgres", "{role}");
    let password = url.split_once(&format!("{role}:")).and_then(|(_, rest)| rest.split_once('@')).map(|(p, _)| p.to_owned()).unwrap();
    assert!(password.len() >= 32, "a generated password");
    assert!(std::fs::read_to_string(&secrets).unwrap().contains(&password), "the password lives in secrets.env");
    for service in ["api", "worker", "executor"] {
        let environ = std::fs::read(format!("/proc/{}/environ", stack.pid(service).unwrap())).unwrap();
        assert!(!String::from_utf8_lossy(&environ).contains("FERROCAT_UP_"), "{service} sees up's own passwords");
    }

    // Not a superuser, and no way to become one.
    let mut conn = connect(&url).await.expect("the services' URL connects");
    let (superuser, createdb, createrole): (bool, bool, bool) =
        sqlx::query_as("select rolsuper, rolcreatedb, rolcreaterole from pg_roles where rolname = current_user")
            .fetch_one(&mut conn)
            .await
            .unwrap();
    assert_eq!((superuser, createdb, createrole), (false, false, false));
    assert!(sqlx::query("SET ROLE postgres").execute(&mut conn).await.is_err(), "SET ROLE postgres works");
    assert!(sqlx::query("COPY (select 1) TO PROGRAM 'true'").execute(&mut conn).await.is_err(), "COPY TO PROGRAM works");
    // It owns the stack's tables (it ran the migrations).
    let foreign: i64 = sqlx::query_scalar(
        "select count(*) from pg_tables where schemaname = 'public' and tableowner <> current_user",
    )
    .fetch_one(&mut conn)
    .await
    .unwrap();
    assert_eq!(foreign, 0, "every table belongs to the stack's role");
    conn.close().await.unwrap();

    // Another database's data stays out of reach: its tables, and the right to connect to ours.
    let other = format!("ferrocat_other_{}", uuid::Uuid::new_v4().simple());
    let mut admin = connect(ADMIN_URL).await.unwrap();
    sqlx::raw_sql(sqlx::AssertSqlSafe(format!("CREATE DATABASE \"{other}\""))).execute(&mut admin).await.unwrap();
    let mut admin_other = connect(&format!("postgres://postgres@127.0.0.1:5432/{other}")).await.unwrap();
    sqlx::raw_sql("CREATE TABLE tenant (secret text); INSERT INTO tenant VALUES ('tenant-b-secret')")
        .execute(&mut admin_other)
        .await
        .unwrap();
    admin_other.close().await.unwrap();
    let other_url = url.replace(&format!("/{database}"), &format!("/{other}"));
    let read = async {
        let mut conn = connect(&other_url).await?;
        sqlx::query_scalar::<_, String>("select secret from tenant").fetch_one(&mut conn).await
    }
    .await;
    assert!(read.is_err(), "the stack's role read another database: {read:?}");
    let public_connect: i64 = sqlx::query_scalar(
        "select count(*) from pg_database d, aclexplode(d.datacl) a where d.datname = $1 and a.grantee = 0 and a.privilege_type = 'CONNECT'",
    )
    .bind(&database)
    .fetch_one(&mut admin)
    .await
    .unwrap();
    assert_eq!(public_connect, 0, "any role may connect to the stack's database");
    sqlx::raw_sql(sqlx::AssertSqlSafe(format!("DROP DATABASE \"{other}\" WITH (FORCE)"))).execute(&mut admin).await.unwrap();

    // Redis: the stack's own user, confined to the stack's prefix.
    let redis_url = stack.service_env("api", "FERROCAT_REDIS_URL").unwrap();
    let prefix = stack.service_env("api", "FERROCAT_REDIS_PREFIX").unwrap();
    assert!(redis_url.contains('@'), "Redis without credentials");
    let client = redis::Client::open(redis_url.as_str()).unwrap();
    let mut redis = client.get_multiplexed_async_connection().await.expect("the services' Redis URL authenticates");
    let own: redis::RedisResult<()> = redis::cmd("SET").arg(format!("{prefix}probe")).arg("1").arg("EX").arg(60).query_async(&mut redis).await;
    assert!(own.is_ok(), "{own:?}");
    let foreign: redis::RedisResult<Option<String>> = redis::cmd("GET").arg("someone-else:key").query_async(&mut redis).await;
    assert!(foreign.is_err_and(|e| e.to_string().contains("NOPERM")), "a key outside the prefix is readable");
    let flush: redis::RedisResult<()> = redis::cmd("FLUSHALL").query_async(&mut redis).await;
    assert!(flush.is_err(), "FLUSHALL is allowed");

    // The object store answers unsigned requests with 403.
    let s3 = stack.service_env("object-store", "FERROCAT_S3_ADDR").unwrap();
    let response = reqwest::get(format!("http://{s3}/")).await.unwrap();
    assert_eq!(response.status().as_u16(), 403, "{}", response.text().await.unwrap_or_default());

    // A second `up` on the same data dir: the same role and password, and it works.
    let (stopped, data_dir) = tokio::task::spawn_blocking(move || stack.stop_keeping_data()).await.unwrap();
    assert!(stopped);
    let again = tokio::task::spawn_blocking(move || Stack::up_in(data_dir, &[])).await.unwrap();
    assert_eq!(again.service_env("api", "FERROCAT_DATABASE_URL").as_deref(), Some(url.as_str()));
    let mut conn = connect(&url).await.expect("the same password still connects");
    let superuser: bool = sqlx::query_scalar("select rolsuper from pg_roles where rolname = current_user").fetch_one(&mut conn).await.unwrap();
    assert!(!superuser);
    conn.close().await.unwrap();
    let roles: i64 = sqlx::query_scalar("select count(*) from pg_roles where rolname = $1").bind(&role).fetch_one(&mut admin).await.unwrap();
    assert_eq!(roles, 1);
    let (status, _) = common::json_of(reqwest::get(format!("{}/api/health", again.url)).await.unwrap()).await;
    assert_eq!(status, 200);
    drop(again);
    // The harness drops the stack's database, role and Redis user.
    let _: redis::RedisResult<()> = redis::cmd("DEL").arg(format!("{prefix}probe")).query_async(&mut redis).await;
    let roles: i64 = sqlx::query_scalar("select count(*) from pg_roles where rolname = $1").bind(&role).fetch_one(&mut admin).await.unwrap();
    assert_eq!(roles, 0, "the harness cleans up after itself");
}

/// A data dir from before the stack had its own role: its database and tables belong to the
/// superuser. `up` hands them to the stack's role, and the data stays.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_older_stack_database_is_taken_over_by_the_role() {
    let data_dir = common::fresh_data_dir();
    std::fs::create_dir_all(&data_dir).unwrap();
    let id = common::stack_id(&data_dir).unwrap();
    let database = format!("ferrocat_{id}");
    let superuser_url = format!("postgres://postgres@127.0.0.1:5432/{database}");
    let migrated = std::process::Command::new(env!("CARGO_BIN_EXE_ferrocat"))
        .arg("migrate")
        .env("FERROCAT_DATABASE_URL", &superuser_url)
        .status()
        .unwrap();
    assert!(migrated.success());
    let mut old = connect(&superuser_url).await.unwrap();
    sqlx::query("INSERT INTO workspaces (id, name) VALUES ($1, 'kept from before')").bind(uuid::Uuid::now_v7()).execute(&mut old).await.unwrap();
    let owned_by_postgres: i64 = sqlx::query_scalar("select count(*) from pg_tables where schemaname = 'public' and tableowner = 'postgres'")
        .fetch_one(&mut old)
        .await
        .unwrap();
    assert!(owned_by_postgres > 5, "the old layout: tables of the superuser");
    old.close().await.unwrap();

    let stack = tokio::task::spawn_blocking(move || Stack::up_in(data_dir, &[])).await.unwrap();
    let url = stack.service_env("api", "FERROCAT_DATABASE_URL").unwrap();
    assert!(url.ends_with(&format!("/{database}")), "{url}");
    let mut conn = connect(&url).await.unwrap();
    let kept: String = sqlx::query_scalar("select name from workspaces where name = 'kept from before'").fetch_one(&mut conn).await.unwrap();
    assert_eq!(kept, "kept from before");
    let foreign: i64 = sqlx::query_scalar("select count(*) from pg_class c join pg_namespace n on n.oid = c.relnamespace where n.nspname = 'public' and c.relowner <> (select oid from pg_roles where rolname = current_user)")
        .fetch_one(&mut conn)
        .await
        .unwrap();
    assert_eq!(foreign, 0, "tables, indexes and sequences all moved to the stack's role");
    conn.close().await.unwrap();
    let (status, _) = common::json_of(reqwest::get(format!("{}/api/health", stack.url)).await.unwrap()).await;
    assert_eq!(status, 200);
}
