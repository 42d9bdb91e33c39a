//! The npm `@modelcontextprotocol/inspector` CLI against this server, in the legacy
//! (2025-11-25, sessions) and modern (2026-07-28, stateless) eras: it registers, signs in
//! through mcp/tests/py/headless_browser.py, consents, exchanges the code with PKCE, and lists,
//! creates, commits, runs and reads (see `common::inspector`).

use std::path::Path;

use ferrocat_test_support::inspector;

use crate::common::{ADMIN_EMAIL, ADMIN_PASSWORD, spawn};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_npm_inspector_cli_signs_in_and_runs_a_workflow_in_both_eras() {
    let mut app = spawn().await;
    app.start_worker();
    let browser = Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/py/headless_browser.py"));
    for era in ["legacy", "modern"] {
        println!("{}", inspector::drive(&app.resource(), browser, ADMIN_EMAIL, ADMIN_PASSWORD, era).await);
    }
    let grants: i64 = sqlx::query_scalar("SELECT count(*) FROM oauth_grants WHERE revoked_at IS NULL").fetch_one(&app.db).await.unwrap();
    assert!(grants >= 2, "each era signed in through the OAuth flow of its own ({grants} grants)");
}
