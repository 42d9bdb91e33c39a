//! The official PyPI `mcp` client against this server: tests/py/test_mcp_client.py, headless,
//! in the legacy, auto and 2026-07-28 modes. It needs a Python with `mcp` installed, named by
//! `FERROCAT_TEST_PYTHON`; run it with `cargo test -p ferrocat-mcp --test mcp -- --ignored`.

use crate::common::{ADMIN_EMAIL, ADMIN_PASSWORD, spawn};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs FERROCAT_TEST_PYTHON: a Python with the PyPI mcp package (pip install mcp)"]
async fn the_pypi_mcp_client_signs_in_and_runs_a_workflow_in_every_era() {
    let python = std::env::var("FERROCAT_TEST_PYTHON").expect("FERROCAT_TEST_PYTHON names a Python with the mcp package");
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
