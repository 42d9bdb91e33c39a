//! The official PyPI `mcp` client against this server: tests/py/test_mcp_client.py, headless,
//! in the legacy, auto and 2026-07-28 modes. It needs a Python with `mcp` installed, named by
//! `FERROCAT_TEST_PYTHON` (deploy/test.sh makes such a venv under `.ferrocat/py`).

use crate::common::{ADMIN_EMAIL, ADMIN_PASSWORD, spawn};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_pypi_mcp_client_signs_in_and_runs_a_workflow_in_every_era() {
    let python = std::env::var("FERROCAT_TEST_PYTHON").expect("FERROCAT_TEST_PYTHON must name a Python with the PyPI mcp package (deploy/test.sh sets it up)");
    let mut app = spawn().await;
    app.start_worker();
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/py/test_mcp_client.py");
    let output = tokio::process::Command::new(python)
        .arg(script)
        .current_dir("/")
        .env("FERROCAT_MCP_URL", app.resource())
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
