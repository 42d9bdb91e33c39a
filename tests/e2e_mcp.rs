//! An IDE's path through the whole stack: the official PyPI `mcp` client (mcp/tests/py) finds the
//! OAuth server from `/mcp`'s 401, registers, signs in and consents through the edge's OAuth
//! routes, and creates, commits and runs a workflow over `/mcp`, in every protocol era. Needs a
//! Python with `mcp` installed, named by `FERROCAT_TEST_PYTHON` (deploy/test.sh sets one up).

mod common;

use common::{ADMIN_EMAIL, ADMIN_PASSWORD, Stack};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_mcp_client_signs_in_and_runs_a_workflow_through_the_edge() {
    let python = std::env::var("FERROCAT_TEST_PYTHON")
        .expect("FERROCAT_TEST_PYTHON must name a Python with the PyPI mcp package (deploy/test.sh sets it up)");
    let stack = tokio::task::spawn_blocking(Stack::up).await.unwrap();
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/mcp/tests/py/test_mcp_client.py");
    let output = tokio::process::Command::new(python)
        .arg(script)
        .current_dir("/")
        .env("FERROCAT_MCP_URL", format!("{}/mcp", stack.url))
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
}
