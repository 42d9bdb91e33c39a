//! core.script.run_python and the bubblewrap sandbox, run for real: results, validation and
//! error texts, an empty environment, no network by default, a read-only root, and enforced
//! time, memory, CPU and file-size limits.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use ferrocat_registry::actions::sandbox::SandboxLimits;
use ferrocat_registry::actions::{http, script};
use serde_json::{Map, Value, json};

async fn run_python(args: Value) -> Result<Value, String> {
    let client = http::client(std::sync::Arc::new(ferrocat_shared::egress::EgressPolicy::permissive())).unwrap();
    ferrocat_registry::dispatch("core.script.run_python", args.as_object().cloned().unwrap(), &client)
        .await
        .map_err(|e| e.to_string())
}

#[tokio::test]
async fn main_is_called_with_inputs_as_kwargs() {
    let script = "def helper(x):\n    return x * 10\n\ndef main(a, b, c):\n    print('hello from the script')\n    return {'sum': helper(a) + b, 'c_is_none': c is None, 'tuple': (1, 2)}\n";
    let out = run_python(json!({"script": script, "inputs": {"a": 1, "b": 2}})).await.unwrap();
    assert_eq!(out, json!({"sum": 12, "c_is_none": true, "tuple": [1, 2]}));

    let single = "async def only(name):\n    return f'hi {name}'\n";
    assert_eq!(run_python(json!({"script": single, "inputs": {"name": "ann"}})).await.unwrap(), json!("hi ann"));
}

#[tokio::test]
async fn invalid_scripts_and_failures_have_clear_messages() {
    let err = run_python(json!({"script": "x = 1"})).await.unwrap_err();
    assert_eq!(err, "PythonScriptValidationError: Script must contain at least one function definition.");
    let err = run_python(json!({"script": "def a():\n    pass\ndef b():\n    pass\n"})).await.unwrap_err();
    assert_eq!(err, "PythonScriptValidationError: When script contains multiple functions, one must be named 'main'.");
    let err = run_python(json!({"script": "def main(:\n"})).await.unwrap_err();
    assert!(err.starts_with("PythonScriptExecutionError: Script execution failed: SyntaxError:"), "{err}");
    let err = run_python(json!({"script": "import sys\ndef main():\n    sys.stderr.write('about to fail\\n')\n    return 1 / 0\n"}))
        .await
        .unwrap_err();
    assert!(err.starts_with("PythonScriptExecutionError: Script execution failed: ZeroDivisionError: division by zero"), "{err}");
    assert!(err.contains("stderr:\nabout to fail"), "{err}");
    let err = run_python(json!({"script": "def main():\n    return object()\n"})).await.unwrap_err();
    assert!(err.starts_with("PythonScriptOutputError: the return value is not JSON serialisable"), "{err}");
    let err = run_python(json!({"script": "def main():\n    pass\n", "dependencies": ["requests"]})).await.unwrap_err();
    assert!(err.contains("dependencies are not supported"), "{err}");
    let err = run_python(json!({"script": "def main():\n    pass\n", "timeout_seconds": 0})).await.unwrap_err();
    assert!(err.contains("timeout_seconds must be between 1 and 3600, got 0"), "{err}");
}

#[tokio::test]
async fn environment_is_empty_except_env_vars() {
    // Variables cargo sets in this (the executor's) process must not reach the script.
    assert!(std::env::var("CARGO_MANIFEST_DIR").is_ok() && std::env::var("PATH").is_ok());
    let script = "import os\ndef main():\n    return dict(os.environ)\n";
    let out = run_python(json!({"script": script, "env_vars": {"API_TOKEN": "t0k"}})).await.unwrap();
    let env = out.as_object().unwrap();
    assert_eq!(env.get("API_TOKEN"), Some(&json!("t0k")));
    for leaked in ["CARGO_MANIFEST_DIR", "PATH", "HOME", "RUST_LOG", "DATABASE_URL"] {
        assert!(!env.contains_key(leaked), "{leaked} leaked into the sandbox: {env:?}");
    }
    // Only what bwrap (PWD) and CPython's locale coercion (LC_CTYPE) add themselves.
    let extra: Vec<&String> = env.keys().filter(|k| !["API_TOKEN", "PWD", "LC_CTYPE"].contains(&k.as_str())).collect();
    assert!(extra.is_empty(), "unexpected variables {extra:?}");
    let err = run_python(json!({"script": script, "env_vars": {"A=B": "x"}})).await.unwrap_err();
    assert!(err.contains("env_vars: invalid variable name \"A=B\""), "{err}");
}

#[tokio::test]
async fn network_is_off_unless_allowed_and_then_only_through_the_egress_proxy() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(async move {
        while let Ok((mut socket, _)) = listener.accept().await {
            use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
            let mut buf = [0u8; 1024];
            let _ = socket.read(&mut buf).await;
            let _ = socket.write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 5\r\nconnection: close\r\n\r\nhello").await;
        }
    });
    let script = "import socket, urllib.request\ndef main(port):\n    out = {}\n    try:\n        socket.create_connection(('127.0.0.1', port), timeout=3).close()\n        out['raw'] = 'connected'\n    except OSError as e:\n        out['raw'] = 'failed'\n    try:\n        out['http'] = urllib.request.urlopen(f'http://127.0.0.1:{port}/', timeout=5).read().decode()\n    except Exception as e:\n        out['http'] = f'failed: {e}'\n    return out\n";
    let out = run_python(json!({"script": script, "inputs": {"port": port}})).await.unwrap();
    assert_eq!(out["raw"], json!("failed"), "{out}");
    assert!(out["http"].as_str().unwrap().starts_with("failed"), "{out}");
    // With network (under the permissive policy of this test's client): HTTP through the
    // proxy works; a raw socket still reaches nothing outside the sandbox's own loopback.
    let out = run_python(json!({"script": script, "inputs": {"port": port}, "allow_network": true})).await.unwrap();
    assert_eq!(out, json!({"raw": "failed", "http": "hello"}));
}

#[tokio::test]
async fn root_is_read_only_and_only_work_and_tmp_are_writable() {
    let script = r#"
import os, socket
def main():
    out = {}
    for path in ['/usr/ferrocat-x', '/etc/ferrocat-x', '/ferrocat-x', '/bin/ferrocat-x', '/work/ok', '/tmp/ok']:
        try:
            with open(path, 'w') as f:
                f.write('x')
            out[path] = 'written'
        except OSError as e:
            out[path] = type(e).__name__
    out['uid'] = os.getuid()
    out['hostname'] = socket.gethostname()
    out['home_visible'] = os.path.exists('/root') or os.path.exists('/home')
    out['host_tmp_visible'] = os.path.exists(host_file)
    out['work'] = sorted(os.listdir('/work'))
    return out
"#;
    let script = script.replace("def main():", "def main(host_file):");
    // A file in the host's /tmp must not be visible in the sandbox's private /tmp.
    let host_file = std::env::temp_dir().join(format!("ferrocat-host-{}", uuid::Uuid::new_v4()));
    std::fs::write(&host_file, "host").unwrap();
    let out = run_python(json!({"script": script, "inputs": {"host_file": host_file}})).await.unwrap();
    std::fs::remove_file(&host_file).unwrap();
    assert_eq!(out["host_tmp_visible"], json!(false));
    // The job folder holds only the runner and what the script wrote (the input is consumed).
    assert_eq!(out["work"], json!(["ok", "runner.py"]));
    for path in ["/usr/ferrocat-x", "/etc/ferrocat-x", "/ferrocat-x", "/bin/ferrocat-x"] {
        assert_ne!(out[path], json!("written"), "{path} was writable: {out}");
    }
    assert_eq!(out["/work/ok"], json!("written"));
    assert_eq!(out["/tmp/ok"], json!("written"));
    assert_eq!(out["uid"], json!(1000));
    assert_eq!(out["hostname"], json!("sandbox"));
    assert_eq!(out["home_visible"], json!(false));
    assert!(!std::path::Path::new("/ferrocat-x").exists() && !std::path::Path::new("/usr/ferrocat-x").exists());
}

fn processes_with(marker: &str) -> Vec<String> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir("/proc").unwrap().flatten() {
        if let Ok(cmdline) = std::fs::read(entry.path().join("cmdline"))
            && String::from_utf8_lossy(&cmdline).contains(marker)
        {
            found.push(entry.file_name().to_string_lossy().into_owned());
        }
    }
    found
}

#[tokio::test]
async fn timeout_kills_the_whole_process_tree() {
    let marker = format!("4242.{}", std::process::id());
    let script = format!(
        "import subprocess, time\ndef main():\n    subprocess.Popen(['/usr/bin/sleep', '{marker}'])\n    time.sleep(60)\n"
    );
    let started = Instant::now();
    let run = tokio::spawn(run_python(json!({"script": script, "timeout_seconds": 2})));
    // The grandchild really runs (so its absence afterwards means something).
    let mut seen = false;
    for _ in 0..30 {
        tokio::time::sleep(Duration::from_millis(50)).await;
        if !processes_with(&marker).is_empty() {
            seen = true;
            break;
        }
    }
    assert!(seen, "sleep {marker} never started");
    let err = run.await.unwrap().unwrap_err();
    assert_eq!(err, "PythonScriptTimeoutError: Script execution timed out after 2 seconds");
    assert!(started.elapsed() < Duration::from_secs(10), "took {:?}", started.elapsed());
    // The grandchild must be gone too (give the kernel a moment to reap the namespace).
    let mut left = processes_with(&marker);
    for _ in 0..20 {
        if left.is_empty() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
        left = processes_with(&marker);
    }
    assert!(left.is_empty(), "sleep {marker} survived as pids {left:?}");
}

#[tokio::test]
async fn memory_limit_is_enforced() {
    // The default limit is 2 GiB of address space: a 3 GiB allocation fails inside Python.
    let script = "def main():\n    block = bytearray(3 * 1024 ** 3)\n    return len(block)\n";
    let err = run_python(json!({"script": script})).await.unwrap_err();
    assert_eq!(err, "PythonScriptExecutionError: Script execution failed: MemoryError: ");
    // Within the limit it works.
    let script = "def main():\n    return len(bytearray(64 * 1024 ** 2))\n";
    assert_eq!(run_python(json!({"script": script})).await.unwrap(), json!(64 * 1024 * 1024));
}

#[tokio::test]
async fn cpu_and_file_size_limits_are_enforced() {
    let limits = SandboxLimits { cpu_seconds: 1, file_size_bytes: 1024 * 1024, wall_clock: Duration::from_secs(30), ..SandboxLimits::default() };
    let busy = "def main():\n    while True:\n        pass\n";
    let started = Instant::now();
    let err = script::run_with_limits(busy, Map::new(), BTreeMap::new(), None, limits.clone()).await.unwrap_err().to_string();
    assert!(err.contains("without a result"), "{err}");
    assert!(started.elapsed() < Duration::from_secs(15), "CPU limit not applied: {:?}", started.elapsed());

    let big_file = "def main():\n    with open('/work/big', 'wb') as f:\n        f.write(b'x' * (2 * 1024 * 1024))\n";
    let err = script::run_with_limits(big_file, Map::new(), BTreeMap::new(), None, limits).await.unwrap_err().to_string();
    assert!(err.contains("File too large"), "{err}");
}

/// A log sink for one test: every line the code under test logs on this thread.
#[derive(Clone, Default)]
struct Captured(std::sync::Arc<std::sync::Mutex<Vec<u8>>>);

impl std::io::Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[tokio::test]
async fn what_a_script_prints_never_reaches_the_log() {
    let captured = Captured::default();
    let sink = captured.clone();
    let subscriber = tracing_subscriber::fmt().with_max_level(tracing::Level::TRACE).with_writer(move || sink.clone()).finish();
    let _guard = tracing::subscriber::set_default(subscriber);
    let script = "import sys\ndef main(t):\n    print('stdout has', t)\n    sys.stderr.write('stderr has ' + t)\n    return 1\n";
    let out = run_python(json!({"script": script, "inputs": {"t": "tokAAAA1111"}})).await.unwrap();
    assert_eq!(out, json!(1));
    let log = String::from_utf8(captured.0.lock().unwrap().clone()).unwrap();
    assert!(log.contains("script finished"), "the run logged nothing: {log}");
    assert!(!log.contains("tokAAAA1111"), "a script's output reached the log: {log}");
}
