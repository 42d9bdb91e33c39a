//! An IDE's path through the whole stack, with the official MCP clients: the PyPI `mcp` client
//! (mcp/tests/py) and the npm `@modelcontextprotocol/inspector` CLI each find the OAuth server
//! from `/mcp`'s 401, register, sign in and consent through the edge's OAuth routes, and
//! create, commit and run a workflow over `/mcp`, in every protocol era. Needs a Python with
//! `mcp` installed, named by `FERROCAT_TEST_PYTHON`, and the inspector's binary, named by
//! `FERROCAT_TEST_INSPECTOR` (deploy/test.sh sets both up).

mod common;

use std::path::Path;

use ferrocat_test_support::inspector;

use common::{ADMIN_EMAIL, ADMIN_PASSWORD, Stack};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_official_mcp_clients_sign_in_and_run_a_workflow_through_the_edge() {
    let python = std::env::var("FERROCAT_TEST_PYTHON")
        .expect("FERROCAT_TEST_PYTHON must name a Python with the PyPI mcp package (deploy/test.sh sets it up)");
    let stack = tokio::task::spawn_blocking(Stack::up).await.unwrap();
    let url = format!("{}/mcp", stack.url);
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/mcp/tests/py/test_mcp_client.py");
    let output = tokio::process::Command::new(python)
        .arg(script)
        .current_dir("/")
        .env("FERROCAT_MCP_URL", &url)
        .env("FERROCAT_TEST_EMAIL", ADMIN_EMAIL)
        .env("FERROCAT_TEST_PASSWORD", ADMIN_PASSWORD)
        .output()
        .await
        .expect("run the Python client");
    let (stdout, stderr) = (String::from_utf8_lossy(&output.stdout), String::from_utf8_lossy(&output.stderr));
    assert!(output.status.success(), "python client failed\nstdout:\n{stdout}\nstderr:\n{stderr}");
    for mode in ["legacy", "auto", "2026-07-28"] {
        assert!(stdout.contains(&format!("ok: {mode}:")), "{mode} did not pass:\n{stdout}");
    }

    let browser = Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/mcp/tests/py/headless_browser.py"));
    for era in ["legacy", "modern"] {
        println!("{}", inspector::drive(&url, browser, ADMIN_EMAIL, ADMIN_PASSWORD, era).await);
    }
}
