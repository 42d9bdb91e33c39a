//! Test databases on the local Postgres: a fresh, migrated database per test, dropped after it.

use sqlx::PgPool;
use uuid::Uuid;

/// The Postgres to make test databases in (`FERROCAT_TEST_POSTGRES`, a URL without a database).
pub fn postgres_base() -> String {
    std::env::var("FERROCAT_TEST_POSTGRES").unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432".into())
}

/// A new, migrated database named `<prefix>_<random>`: its name, URL and a pool.
pub async fn fresh_database(prefix: &str) -> (String, String, PgPool) {
    let name = format!("{prefix}_{}", Uuid::new_v4().simple());
    let url = format!("{}/{name}", postgres_base());
    ferrocat_shared::db::ensure_database(&url).await.expect("create the test database");
    let db = ferrocat_shared::db::connect(&url, 5).await.expect("connect to the test database");
    ferrocat_shared::db::migrate(&db).await.expect("migrate the test database");
    (name, url, db)
}

/// Drops a test database (from a thread of its own: callers may be inside a runtime, or in a
/// `Drop`).
pub fn drop_database(name: &str) {
    let admin_url = format!("{}/postgres", postgres_base());
    let name = name.to_owned();
    let _ = std::thread::spawn(move || {
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        runtime.block_on(async {
            if let Ok(pool) = ferrocat_shared::db::connect(&admin_url, 1).await {
                let sql = format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)");
                let _ = sqlx::query(sqlx::AssertSqlSafe(sql)).execute(&pool).await;
            }
        });
    })
    .join();
}
