//! Black-box helpers: start a whole stack with `ferrocat up` on free ports and a fresh data dir,
//! and talk to it only through the edge's public port.

#![allow(dead_code)]

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

pub const ADMIN_EMAIL: &str = "admin@example.com";
pub const ADMIN_PASSWORD: &str = "correct-horse-battery-staple";

/// A running stack; stopped (SIGTERM, then waited for) when dropped.
pub struct Stack {
    child: Child,
    pub url: String,
    pub data_dir: PathBuf,
    logs: std::sync::Arc<std::sync::Mutex<String>>,
    /// Says when up's stderr has been read to its end (so `logs` holds its last lines).
    logs_done: mpsc::Receiver<()>,
    /// Leave the data dir behind when dropped (for a second `up` on it).
    keep_data: bool,
}

/// A free loopback port.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

impl Stack {
    /// Runs `ferrocat up` and returns once it printed its URL (it waits for every service's health).
    pub fn up() -> Stack {
        Stack::up_with(&[])
    }

    /// [`Stack::up`] with extra environment, e.g. `FERROCAT_EGRESS_ALLOW` for the test's own
    /// servers on loopback (which workflows may not reach otherwise).
    pub fn up_with(env: &[(&str, String)]) -> Stack {
        Stack::start(fresh_data_dir(), false, env)
    }

    /// `up` on a given data dir (a second `up` on an earlier stack's state), with extra
    /// environment as in [`Stack::up_with`].
    pub fn up_in(data_dir: PathBuf, env: &[(&str, String)]) -> Stack {
        Stack::start(data_dir, false, env)
    }

    /// `up` in a process group of its own, as a shell runs it in a terminal, so that
    /// [`Stack::interrupt`] can send Ctrl-C's SIGINT to the whole group.
    pub fn up_in_own_group() -> Stack {
        Stack::start(fresh_data_dir(), true, &[])
    }

    fn start(data_dir: PathBuf, own_group: bool, env: &[(&str, String)]) -> Stack {
        use std::os::unix::process::CommandExt as _;
        let port = free_port();
        let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let mut command = up_command(&data_dir, port, &env);
        if own_group {
            command.process_group(0);
        }
        let mut child = command.stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().expect("spawn ferrocat up");
        let stdout = child.stdout.take().unwrap();
        // Every service's log lines come through up's stderr: keep them for assertions.
        let logs = std::sync::Arc::new(std::sync::Mutex::new(String::new()));
        let stderr = child.stderr.take().unwrap();
        let sink = logs.clone();
        let (read_all, logs_done) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                eprintln!("{line}");
                let mut all = sink.lock().unwrap();
                all.push_str(&line);
                all.push('\n');
            }
            let _ = read_all.send(());
        });
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                println!("up: {line}");
                if let Some(url) = line.strip_prefix("ferrocat is up: ") {
                    let _ = tx.send(url.trim().to_owned());
                }
            }
        });
        let url = match rx.recv_timeout(Duration::from_secs(300)) {
            Ok(url) => url,
            Err(_) => {
                let _ = child.kill();
                panic!("ferrocat up did not report its URL; status: {:?}", child.try_wait());
            }
        };
        assert_eq!(url, format!("http://127.0.0.1:{port}"));
        Stack { child, url, data_dir, logs, logs_done, keep_data: false }
    }

    /// The pid of one of the stack's children, from the pid file `up` keeps for it.
    pub fn pid(&self, service: &str) -> Option<i32> {
        std::fs::read_to_string(self.data_dir.join("run").join(format!("{service}.pid"))).ok()?.trim().parse().ok()
    }

    /// A variable of a child's environment, as `up` set it.
    pub fn service_env(&self, service: &str, key: &str) -> Option<String> {
        self.service_environ(service)?.into_iter().find_map(|(k, v)| (k == key).then_some(v))
    }

    /// A child's whole environment, as `up` set it.
    pub fn service_environ(&self, service: &str) -> Option<Vec<(String, String)>> {
        let pid = self.pid(service)?;
        let environ = std::fs::read(format!("/proc/{pid}/environ")).ok()?;
        Some(environ.split(|b| *b == 0).filter_map(|entry| String::from_utf8_lossy(entry).split_once('=').map(|(k, v)| (k.to_owned(), v.to_owned()))).collect())
    }

    /// Ctrl-C in a terminal: SIGINT to `up`'s process group (see [`Stack::up_in_own_group`]);
    /// waits for `up` to exit and returns whether it exited successfully.
    pub fn interrupt(&mut self) -> bool {
        let _ = Command::new("kill").args(["-INT", "--", &format!("-{}", self.child.id())]).status();
        let clean = self.child.wait().map(|s| s.success()).unwrap_or(false);
        self.drain_logs();
        clean
    }

    /// Waits (a while) until up's stderr is read to its end: its last lines are in `logs` once
    /// it has exited.
    fn drain_logs(&self) {
        let _ = self.logs_done.recv_timeout(Duration::from_secs(10));
    }

    /// Whether `ferrocat up` itself is still running.
    pub fn is_running(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(None))
    }

    /// Stops the stack and keeps its data dir for another `up`; returns it.
    pub fn stop_keeping_data(mut self) -> (bool, PathBuf) {
        self.keep_data = true;
        (self.stop(), self.data_dir.clone())
    }

    /// Everything the stack logged so far.
    pub fn logs(&self) -> String {
        self.logs.lock().unwrap().clone()
    }

    /// Sends SIGTERM and waits for a clean stop; returns whether it exited successfully.
    pub fn stop(&mut self) -> bool {
        let _ = Command::new("kill").args(["-TERM", &self.child.id().to_string()]).status();
        let clean = self.child.wait().map(|s| s.success()).unwrap_or(false);
        self.drain_logs();
        clean
    }
}

impl Drop for Stack {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            self.stop();
        }
        if !self.keep_data {
            drop_stack_credentials(&self.data_dir);
            let _ = std::fs::remove_dir_all(&self.data_dir);
        }
    }
}

/// The id `up` derives from an existing data dir (the first 6 bytes of the SHA-256 of its
/// canonical path), which names its database and role (`ferrocat_<id>`) and its Redis user
/// (`ferrocat-<id>`) on the shared local servers.
pub fn stack_id(data_dir: &std::path::Path) -> Option<String> {
    use sha2::Digest as _;
    let path = data_dir.canonicalize().ok()?;
    Some(hex::encode(&sha2::Sha256::digest(path.to_string_lossy().as_bytes())[..6]))
}

/// Drops the database, role and Redis user `up` made on the shared local servers for the
/// stack on `data_dir` (best effort, with their command-line clients). Call it before the data
/// dir is removed.
pub fn drop_stack_credentials(data_dir: &std::path::Path) {
    let Some(id) = stack_id(data_dir) else { return };
    let _ = Command::new("psql")
        .args(["-h", "127.0.0.1", "-U", "postgres", "-d", "postgres", "-q"])
        .args(["-c", &format!("DROP DATABASE IF EXISTS \"ferrocat_{id}\" WITH (FORCE)"), "-c", &format!("DROP ROLE IF EXISTS \"ferrocat_{id}\"")])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status();
    let _ = Command::new("redis-cli").args(["ACL", "DELUSER", &format!("ferrocat-{id}")]).stdout(Stdio::null()).status();
}

/// A new, empty data dir under the system's temp dir.
pub fn fresh_data_dir() -> PathBuf {
    std::env::temp_dir().join(format!("ferrocat-e2e-{}", uuid::Uuid::new_v4().simple()))
}

/// `ferrocat up` on `data_dir` with the test admin and `extra` settings (not yet started).
pub fn up_command(data_dir: &std::path::Path, port: u16, extra: &[(&str, &str)]) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_ferrocat"));
    command
        .args(["up", "--bind", "127.0.0.1", "--port", &port.to_string(), "--timeout", "240"])
        .arg("--data-dir")
        .arg(data_dir)
        .env("FERROCAT_ADMIN_EMAIL", ADMIN_EMAIL)
        .env("FERROCAT_ADMIN_PASSWORD", ADMIN_PASSWORD)
        .env("RUST_LOG", "info,ferrocat_edge::access=warn")
        .envs(extra.iter().copied());
    command
}

/// A response's status and JSON body (the raw text as a JSON string when it is not JSON).
pub async fn json_of(response: reqwest::Response) -> (u16, serde_json::Value) {
    let status = response.status().as_u16();
    let text = response.text().await.unwrap();
    (status, serde_json::from_str(&text).unwrap_or(serde_json::Value::String(text)))
}

/// Signs in as the bootstrapped admin through the edge; returns the client (with its session
/// cookie) and the id of the default workspace.
pub async fn login(url: &str) -> (reqwest::Client, String) {
    let http = reqwest::Client::builder().cookie_store(true).build().unwrap();
    let response = http
        .post(format!("{url}/api/auth/login"))
        .form(&[("username", ADMIN_EMAIL), ("password", ADMIN_PASSWORD)])
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    assert_eq!(status, 204, "sign-in: {}", response.text().await.unwrap_or_default());
    let (status, workspaces) = json_of(http.get(format!("{url}/api/workspaces")).send().await.unwrap()).await;
    assert_eq!(status, 200, "{workspaces}");
    (http, workspaces[0]["id"].as_str().expect("a default workspace").to_owned())
}

/// Imports `yaml` and commits it; returns the workflow id.
pub async fn commit_workflow(http: &reqwest::Client, url: &str, workspace: &str, yaml: String) -> String {
    let form = reqwest::multipart::Form::new().part("file", reqwest::multipart::Part::text(yaml).file_name("wf.yml"));
    let (status, workflow) =
        json_of(http.post(format!("{url}/api/workflows?workspace_id={workspace}")).multipart(form).send().await.unwrap()).await;
    assert_eq!(status, 201, "{workflow}");
    let id = workflow["id"].as_str().unwrap().to_owned();
    let (status, body) =
        json_of(http.post(format!("{url}/api/workflows/{id}/commit?workspace_id={workspace}")).send().await.unwrap()).await;
    assert_eq!(status, 200, "{body}");
    id
}
