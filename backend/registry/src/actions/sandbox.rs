//! The script sandbox: runs a Python program under bubblewrap with fresh user, pid, ipc, uts
//! and net namespaces, a read-only root built from the host's
//! `/usr` and a few `/etc` files, a private size-limited `/tmp`, a per-job `/work` folder that is
//! the only writable host path, an EMPTY environment (only the variables the action asks for),
//! rlimits set by util-linux `prlimit` before it execs bwrap (our crate forbids `unsafe`, so no
//! `pre_exec`), and a wall-clock timeout that kills the whole process tree.
//!
//! Killing the tree: `prlimit` execs `bwrap`, so the child we hold is bwrap itself. bwrap runs
//! with `--die-with-parent` and `--unshare-pid`: when we SIGKILL it, its pid-1 reaper inside the
//! namespace gets SIGKILL, and the kernel kills every process left in that pid namespace.
//!
//! Protocol with the program: the job's JSON input is written to `/work/input.json`; the program
//! writes its outcome to `/work/.result.json`; stdout and stderr are captured (capped).
//!
//! Network: the namespace never has more than loopback. With a network policy the job gets the
//! socket of an [`super::egress_proxy`] at [`EGRESS_SOCKET`] (named in the input as
//! `egress_socket`), through which every connection is checked against the egress policy.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::Arc;
use std::time::Duration;

use serde_json::Value;
use tokio::io::{AsyncRead, AsyncReadExt as _};
use tokio::process::Command;

use ferrocat_shared::egress::EgressPolicy;

/// Captured stdout/stderr beyond this many bytes is dropped (the pipe is still drained).
pub const OUTPUT_CAP_BYTES: usize = 64 * 1024;

/// Resource limits of one sandboxed run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SandboxLimits {
    /// RLIMIT_CPU, in seconds of CPU time.
    pub cpu_seconds: u64,
    /// RLIMIT_AS, the address-space size in bytes.
    pub memory_bytes: u64,
    /// RLIMIT_FSIZE, the largest file the program may write, in bytes.
    pub file_size_bytes: u64,
    /// RLIMIT_NPROC. Not enforced by the kernel when the executor runs as host root.
    pub max_processes: u64,
    /// RLIMIT_NOFILE.
    pub max_open_files: u64,
    /// Size of the private `/tmp` tmpfs, in bytes.
    pub tmp_size_bytes: u64,
    /// Wall-clock limit; the whole tree is killed when it passes.
    pub wall_clock: Duration,
}

impl Default for SandboxLimits {
    /// Tracecat's nsjail defaults: 2 GiB memory, 300 s, 256 MiB files and /tmp, 64 processes.
    fn default() -> Self {
        Self {
            cpu_seconds: 300,
            memory_bytes: 2048 * 1024 * 1024,
            file_size_bytes: 256 * 1024 * 1024,
            max_processes: 64,
            max_open_files: 256,
            tmp_size_bytes: 256 * 1024 * 1024,
            wall_clock: Duration::from_secs(300),
        }
    }
}

/// One program to run in the sandbox.
#[derive(Debug, Clone)]
pub struct SandboxJob<'a> {
    /// Python source of the program (run with `python3 -I -B`).
    pub program: &'a str,
    /// Written to `/work/input.json` before the program starts.
    pub input: &'a Value,
    /// The program's whole environment.
    pub env: &'a BTreeMap<String, String>,
    /// Reach the network through the egress proxy under this policy; `None`: no network.
    pub network: Option<Arc<EgressPolicy>>,
    /// Resource limits.
    pub limits: SandboxLimits,
}

/// What a finished run left behind.
#[derive(Debug, Clone, PartialEq)]
pub struct SandboxOutput {
    /// `/work/.result.json`, parsed, if the program wrote valid JSON there.
    pub result: Option<Value>,
    /// Captured stdout (at most [`OUTPUT_CAP_BYTES`]).
    pub stdout: String,
    /// Captured stderr (at most [`OUTPUT_CAP_BYTES`]).
    pub stderr: String,
    /// Exit code, or `None` when killed by a signal.
    pub exit_code: Option<i32>,
}

/// Why a sandboxed run produced no output.
#[derive(Debug, thiserror::Error)]
pub enum SandboxError {
    /// The wall-clock limit passed; the process tree was killed.
    #[error("timed out after {0:?}")]
    Timeout(Duration),
    /// An environment variable name the sandbox cannot set.
    #[error("invalid environment variable name {0:?}")]
    EnvName(String),
    /// Preparing the job folder or starting the sandbox failed.
    #[error("could not {what}: {source}")]
    Io {
        /// What was being done.
        what: String,
        /// The underlying error.
        source: std::io::Error,
    },
}

/// The host programs the sandbox is built from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sandbox {
    /// `bwrap` (Debian `bubblewrap`).
    pub bwrap: PathBuf,
    /// `prlimit` (util-linux).
    pub prlimit: PathBuf,
    /// The system Python, which must live under `/usr`.
    pub python: PathBuf,
}

impl Default for Sandbox {
    fn default() -> Self {
        Self {
            bwrap: PathBuf::from("/usr/bin/bwrap"),
            prlimit: PathBuf::from("/usr/bin/prlimit"),
            python: PathBuf::from("/usr/bin/python3"),
        }
    }
}

/// `/etc` files a Python program may need; bound read-only when they exist.
const ETC_FILES: &[&str] = &["/etc/localtime", "/etc/ld.so.cache", "/etc/mime.types"];
/// Extra `/etc` entries for TLS, only when network is allowed (names are resolved by the
/// egress proxy, not in the sandbox).
const ETC_NETWORK: &[&str] = &["/etc/hosts", "/etc/nsswitch.conf", "/etc/ssl", "/etc/ca-certificates"];
/// Where the egress proxy's socket appears inside the sandbox.
pub const EGRESS_SOCKET: &str = "/run/egress/proxy.sock";

impl Sandbox {
    /// Runs `job` and waits for it (at most `job.limits.wall_clock`).
    #[tracing::instrument(skip_all, fields(network = job.network.is_some()))]
    pub async fn run(&self, job: SandboxJob<'_>) -> Result<SandboxOutput, SandboxError> {
        let output = self.run_job(job).await;
        ferrocat_shared::metrics::get().sandbox_run(output.as_ref().is_ok_and(|o| o.exit_code == Some(0)));
        output
    }

    async fn run_job(&self, job: SandboxJob<'_>) -> Result<SandboxOutput, SandboxError> {
        for name in job.env.keys() {
            if name.is_empty() || name.contains(['=', '\0']) {
                return Err(SandboxError::EnvName(name.clone()));
            }
        }
        let dir = JobDir::create().await?;
        let io = |what: &str| {
            let what = what.to_owned();
            move |source| SandboxError::Io { what, source }
        };
        tokio::fs::write(dir.path.join("runner.py"), job.program).await.map_err(io("write the program"))?;
        // The proxy lives as long as this run; its folder is bound at EGRESS_SOCKET's.
        let (egress_dir, _proxy) = match &job.network {
            Some(policy) => {
                let egress = JobDir::create().await?;
                let proxy = super::egress_proxy::start(&egress.path.join("proxy.sock"), policy.clone())
                    .map_err(io("start the egress proxy"))?;
                (Some(egress), Some(proxy))
            }
            None => (None, None),
        };
        let mut input = job.input.clone();
        if let (Some(_), Value::Object(fields)) = (&egress_dir, &mut input) {
            fields.insert("egress_socket".into(), Value::String(EGRESS_SOCKET.into()));
        }
        tokio::fs::write(dir.path.join("input.json"), input.to_string())
            .await
            .map_err(io("write the input"))?;

        let mut command = Command::new(&self.prlimit);
        command
            .args(self.prlimit_args(&job.limits))
            .arg("--")
            .arg(&self.bwrap)
            .args(self.bwrap_args(&job, &dir.path, egress_dir.as_ref().map(|d| d.path.as_path())))
            .arg("--")
            .arg(&self.python)
            .args(["-I", "-B", "/work/runner.py"])
            .env_clear()
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true);
        let mut child = command.spawn().map_err(io("start bwrap under prlimit"))?;
        let stdout = tokio::spawn(read_capped(child.stdout.take(), OUTPUT_CAP_BYTES));
        let stderr = tokio::spawn(read_capped(child.stderr.take(), OUTPUT_CAP_BYTES));

        let status = match tokio::time::timeout(job.limits.wall_clock, child.wait()).await {
            Ok(status) => status.map_err(io("wait for the sandbox"))?,
            Err(_) => {
                // SIGKILL to bwrap; --die-with-parent and the pid namespace take the rest.
                let _ = child.kill().await;
                stdout.abort();
                stderr.abort();
                return Err(SandboxError::Timeout(job.limits.wall_clock));
            }
        };
        let stdout = stdout.await.unwrap_or_default();
        let stderr = stderr.await.unwrap_or_default();
        let result = match tokio::fs::read(dir.path.join(".result.json")).await {
            Ok(bytes) => serde_json::from_slice(&bytes).ok(),
            Err(_) => None,
        };
        Ok(SandboxOutput { result, stdout, stderr, exit_code: status.code() })
    }

    fn prlimit_args(&self, limits: &SandboxLimits) -> Vec<String> {
        vec![
            format!("--cpu={}", limits.cpu_seconds),
            format!("--as={}", limits.memory_bytes),
            format!("--fsize={}", limits.file_size_bytes),
            format!("--nproc={}", limits.max_processes),
            format!("--nofile={}", limits.max_open_files),
            "--core=0".to_owned(),
        ]
    }

    fn bwrap_args(&self, job: &SandboxJob<'_>, work: &Path, egress: Option<&Path>) -> Vec<String> {
        let mut args: Vec<String> = [
            "--unshare-user",
            "--unshare-pid",
            "--unshare-ipc",
            "--unshare-uts",
            "--unshare-cgroup-try",
            "--uid",
            "1000",
            "--gid",
            "1000",
            "--hostname",
            "sandbox",
            "--die-with-parent",
            "--new-session",
            "--disable-userns",
            "--unshare-net",
            "--clearenv",
            "--ro-bind",
            "/usr",
            "/usr",
        ]
        .into_iter()
        .map(str::to_owned)
        .collect();
        // Merged-/usr systems have /bin, /lib… as symlinks into /usr; recreate them as such.
        for top in ["/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32"] {
            match std::fs::read_link(top) {
                Ok(target) => args.extend(["--symlink".to_owned(), target.display().to_string(), top.to_owned()]),
                Err(_) if Path::new(top).is_dir() => args.extend(["--ro-bind".to_owned(), top.to_owned(), top.to_owned()]),
                Err(_) => {}
            }
        }
        let etc = ETC_FILES.iter().chain(if egress.is_some() { ETC_NETWORK } else { &[] });
        for path in etc {
            args.extend(["--ro-bind-try".to_owned(), (*path).to_owned(), (*path).to_owned()]);
        }
        args.extend(
            [
                "--proc",
                "/proc",
                "--dev",
                "/dev",
                "--size",
                &job.limits.tmp_size_bytes.to_string(),
                "--tmpfs",
                "/tmp",
                "--bind",
                &work.display().to_string(),
                "/work",
                "--chdir",
                "/work",
            ]
            .into_iter()
            .map(str::to_owned),
        );
        if let Some(egress) = egress {
            let inside = Path::new(EGRESS_SOCKET).parent().unwrap_or(Path::new("/run"));
            args.extend(["--bind".to_owned(), egress.display().to_string(), inside.display().to_string()]);
        }
        args.extend(["--remount-ro".to_owned(), "/".to_owned()]);
        for (name, value) in job.env {
            args.extend(["--setenv".to_owned(), name.clone(), value.clone()]);
        }
        args
    }
}

/// A private folder on the host that becomes the job's `/work`; removed when dropped.
struct JobDir {
    path: PathBuf,
}

impl JobDir {
    async fn create() -> Result<Self, SandboxError> {
        let path = std::env::temp_dir().join(format!("ferrocat-sandbox-{}", uuid::Uuid::new_v4()));
        // 0700: the job's inputs may hold secrets; only the executor's user may read them.
        tokio::fs::DirBuilder::new()
            .mode(0o700)
            .create(&path)
            .await
            .map_err(|source| SandboxError::Io { what: format!("create {}", path.display()), source })?;
        Ok(Self { path })
    }
}

impl Drop for JobDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.path);
    }
}

async fn read_capped<R: AsyncRead + Unpin>(reader: Option<R>, cap: usize) -> String {
    let Some(mut reader) = reader else { return String::new() };
    let mut kept = Vec::new();
    let mut chunk = [0u8; 8192];
    loop {
        match reader.read(&mut chunk).await {
            Ok(0) | Err(_) => break,
            Ok(n) => {
                let room = cap.saturating_sub(kept.len());
                kept.extend_from_slice(&chunk[..n.min(room)]);
            }
        }
    }
    String::from_utf8_lossy(&kept).into_owned()
}
