//! Drives the npm `@modelcontextprotocol/inspector` CLI (its binary named by
//! `FERROCAT_TEST_INSPECTOR`; deploy/test.sh installs the version test-support/npm pins into
//! `.ferrocat/npm`) against an MCP URL. The inspector does the OAuth itself (discovery from the
//! 401, dynamic registration, PKCE, the token exchange) and opens the authorization URL in a
//! "browser": mcp/tests/py/headless_browser.py, which signs in and consents like a person
//! would. Its tokens stay in a storage folder of its own, one per [`Inspector`]. Shared by the
//! MCP crate's tests and the end-to-end test through the edge.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use serde_json::{Value, json};

/// One inspector "installation" (its own OAuth storage) for one protocol era.
pub struct Inspector {
    bin: String,
    browser: PathBuf,
    url: String,
    email: String,
    password: String,
    era: &'static str,
    storage: PathBuf,
}

impl Drop for Inspector {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.storage);
    }
}

impl Inspector {
    /// An inspector for `url` in `era` (`legacy` or `modern`), signing in with these
    /// credentials through `browser` (the path of headless_browser.py).
    pub fn new(url: &str, browser: &Path, email: &str, password: &str, era: &'static str) -> Self {
        let bin = std::env::var("FERROCAT_TEST_INSPECTOR").expect(
            "FERROCAT_TEST_INSPECTOR must name the mcp-inspector binary (deploy/test.sh installs it into .ferrocat/npm)",
        );
        assert!(Path::new(&bin).is_file(), "FERROCAT_TEST_INSPECTOR={bin} is not a file");
        let storage = std::env::temp_dir().join(format!("ferrocat-inspector-{}", uuid::Uuid::new_v4().simple()));
        std::fs::create_dir_all(&storage).unwrap();
        Self {
            bin,
            browser: browser.to_owned(),
            url: url.to_owned(),
            email: email.to_owned(),
            password: password.to_owned(),
            era,
            storage,
        }
    }

    /// One CLI run with these arguments (`--method ...`); its JSON result.
    pub async fn call(&self, args: &[&str]) -> Value {
        let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let callback = format!("http://127.0.0.1:{port}/oauth/callback");
        let browser_log = self.storage.join("browser.log");
        let run = tokio::process::Command::new(&self.bin)
            .args(["--cli", &self.url, "--transport", "http", "--protocol-era", self.era, "--format", "json"])
            .args(["--callback-url", &callback])
            .args(args)
            .current_dir(&self.storage)
            .env("HOME", &self.storage)
            .env("MCP_STORAGE_DIR", &self.storage)
            .env("MCP_INSPECTOR_SECRET_STORE", "file")
            // No TTY here: open the authorization URL in $BROWSER anyway (xdg-open's generic
            // mode, hence no display variables).
            .env("MCP_AUTO_OPEN_ENABLED", "true")
            .env("BROWSER", &self.browser)
            .env_remove("DISPLAY")
            .env_remove("WAYLAND_DISPLAY")
            .env("FERROCAT_TEST_EMAIL", &self.email)
            .env("FERROCAT_TEST_PASSWORD", &self.password)
            .env("FERROCAT_TEST_BROWSER_LOG", &browser_log)
            .stdin(Stdio::null())
            .kill_on_drop(true)
            .output();
        let output = tokio::time::timeout(Duration::from_secs(180), run)
            .await
            .unwrap_or_else(|_| panic!("the inspector did not finish {args:?} in time; browser: {}", read(&browser_log)))
            .expect("run the inspector");
        let (stdout, stderr) = (String::from_utf8_lossy(&output.stdout), String::from_utf8_lossy(&output.stderr));
        assert!(
            output.status.success(),
            "inspector {args:?} failed ({})\nstdout:\n{stdout}\nstderr:\n{stderr}\nbrowser:\n{}",
            output.status,
            read(&browser_log)
        );
        let printed: Value =
            serde_json::from_str(stdout.trim()).unwrap_or_else(|e| panic!("inspector {args:?} printed no JSON ({e}):\n{stdout}"));
        // `--format json` prints `{"result": <the JSON-RPC result>}`.
        printed.get("result").cloned().unwrap_or_else(|| panic!("inspector {args:?} printed no result: {printed}"))
    }

    /// `tools/call` with JSON arguments; the tool's structured result (asserting it is no error).
    pub async fn tool(&self, name: &str, arguments: Value) -> Value {
        let args = arguments.to_string();
        let result = self.call(&["--method", "tools/call", "--tool-name", name, "--tool-args-json", &args]).await;
        assert_ne!(result["isError"], json!(true), "{name}: {result}");
        result["structuredContent"].clone()
    }
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|_| "(no log)".into())
}

/// The workflow every MCP client test creates (shared with the Python client's test).
const ECHO_WORKFLOW: &str = include_str!("../../mcp/tests/py/echo_workflow.yaml");

/// The whole IDE path in one era: sign in (on the first call), `tools/list`, `resources/list`,
/// then a workflow created, committed and run, and its run read back. A line saying so.
pub async fn drive(url: &str, browser: &Path, email: &str, password: &str, era: &'static str) -> String {
    let inspector = Inspector::new(url, browser, email, password, era);
    let tools = inspector.call(&["--method", "tools/list"]).await;
    let names: Vec<&str> = tools["tools"].as_array().unwrap_or_else(|| panic!("{era}: no tool list: {tools}")).iter().filter_map(|t| t["name"].as_str()).collect();
    for needed in ["create_workflow", "commit_workflow", "run_workflow", "get_execution"] {
        assert!(names.contains(&needed), "{era}: {needed} missing from {names:?}");
    }
    let resources = inspector.call(&["--method", "resources/list"]).await;
    assert!(resources["resources"].as_array().is_some_and(|r| !r.is_empty()), "{era}: {resources}");

    let created = inspector.tool("create_workflow", json!({"yaml": ECHO_WORKFLOW.replace("TAG", &format!("inspector {era} {}", uuid::Uuid::new_v4().simple()))})).await;
    let workflow_id = created["workflow"]["id"].as_str().unwrap_or_else(|| panic!("{era}: {created}")).to_owned();
    inspector.tool("commit_workflow", json!({"workflow_id": workflow_id})).await;
    let ran = inspector
        .tool("run_workflow", json!({"workflow_id": workflow_id, "inputs": {"name": era}, "wait": true, "timeout_seconds": 60}))
        .await;
    assert_eq!(ran["status"], "COMPLETED", "{era}: {ran}");
    assert_eq!(ran["result"], json!({"greeting": format!("Hello {era}")}), "{era}: {ran}");
    let execution_id = ran["execution_id"].as_str().unwrap().to_owned();
    let detail = inspector.tool("get_execution", json!({"execution_id": execution_id})).await;
    let greet = detail["events"].as_array().and_then(|events| events.iter().find(|e| e["action_ref"] == "greet")).cloned();
    assert_eq!(greet.map(|e| e["status"].clone()), Some(json!("COMPLETED")), "{era}: {detail}");
    format!("ok: {era}: signed in, tools/list, resources/list, workflow {workflow_id} run and read")
}
