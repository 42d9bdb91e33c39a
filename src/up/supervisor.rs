//! Supervision of `ferrocat up`'s children: a child that exits or is killed is started again
//! after a back-off (doubling, capped, reset once it has run a while) with one log line per
//! restart, while the others keep running; a child that keeps dying (a crash loop) ends the
//! watch with an error, and the caller stops the stack. Each child's pid is kept in
//! `<pid dir>/<name>.pid` so operators (and tests) can find it.

use std::collections::{BTreeMap, VecDeque};
use std::path::{Path, PathBuf};
use std::process::{ExitStatus, Stdio};
use std::time::Duration;

use anyhow::Context as _;
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};
use tokio::time::Instant;

/// When to restart and when to give up.
#[derive(Clone, Copy, Debug)]
pub struct Policy {
    /// The first restart's delay; it doubles with every exit.
    pub first_backoff: Duration,
    /// The longest delay between restarts.
    pub max_backoff: Duration,
    /// A child that ran at least this long starts again from `first_backoff`.
    pub stable_after: Duration,
    /// This many exits within `window` is a crash loop.
    pub max_exits: usize,
    pub window: Duration,
    /// How long a child may take to stop after SIGTERM before it is killed (its shutdown grace
    /// and a margin).
    pub stop_timeout: Duration,
}

impl Default for Policy {
    fn default() -> Self {
        Self {
            first_backoff: Duration::from_millis(500),
            max_backoff: Duration::from_secs(10),
            stable_after: Duration::from_secs(30),
            max_exits: 5,
            window: Duration::from_secs(60),
            stop_timeout: Duration::from_secs(35),
        }
    }
}

/// How to start one child: `program args` with `env` added to ours.
pub struct Spec {
    pub name: &'static str,
    pub program: PathBuf,
    pub args: Vec<String>,
    pub env: BTreeMap<String, String>,
}

struct Supervised {
    spec: Spec,
    child: Option<Child>,
    started: Instant,
    backoff: Duration,
    /// Set while the child is down: when to start it again.
    restart_at: Option<Instant>,
    exits: VecDeque<Instant>,
}

/// The stack's processes, in start order.
pub struct Supervisor {
    services: Vec<Supervised>,
    pid_dir: PathBuf,
    policy: Policy,
}

impl Supervisor {
    pub fn new(pid_dir: &Path, policy: Policy) -> anyhow::Result<Self> {
        std::fs::create_dir_all(pid_dir).with_context(|| format!("creating {}", pid_dir.display()))?;
        Ok(Self { services: Vec::new(), pid_dir: pid_dir.to_owned(), policy })
    }

    /// Starts a child and keeps it running from now on.
    pub fn start(&mut self, spec: Spec) -> anyhow::Result<()> {
        let child = spawn(&spec, &self.pid_dir)?;
        let policy = self.policy;
        self.services.push(Supervised {
            spec,
            child: Some(child),
            started: Instant::now(),
            backoff: policy.first_backoff,
            restart_at: None,
            exits: VecDeque::new(),
        });
        Ok(())
    }

    /// Restarts children as they die; returns only with the error of a crash loop. Safe to
    /// cancel at any await (bring-up races it against health checks, `run` against Ctrl-C).
    pub async fn watch(&mut self) -> anyhow::Error {
        loop {
            let now = Instant::now();
            for service in &mut self.services {
                if service.restart_at.is_some_and(|at| at <= now) {
                    service.restart_at = None;
                    service.started = now;
                    match spawn(&service.spec, &self.pid_dir) {
                        Ok(child) => service.child = Some(child),
                        Err(e) => {
                            eprintln!("{}: restart failed: {e:#}", service.spec.name);
                            service.restart_at = Some(now + service.backoff);
                        }
                    }
                }
            }
            let next_restart = self.services.iter().filter_map(|s| s.restart_at).min();
            let exited = {
                let waits: Vec<_> = self
                    .services
                    .iter_mut()
                    .enumerate()
                    .filter_map(|(i, s)| s.child.as_mut().map(|c| Box::pin(async move { (i, c.wait().await) })))
                    .collect();
                let any_exit = async {
                    if waits.is_empty() {
                        std::future::pending().await
                    } else {
                        futures::future::select_all(waits).await.0
                    }
                };
                let timer = async {
                    match next_restart {
                        Some(at) => tokio::time::sleep_until(at).await,
                        None => std::future::pending().await,
                    }
                };
                tokio::select! {
                    exited = any_exit => Some(exited),
                    () = timer => None,
                }
            };
            if let Some((index, status)) = exited
                && let Some(error) = self.exited(index, status)
            {
                return error;
            }
        }
    }

    /// Books an exit: schedules the restart (one log line), or reports a crash loop.
    fn exited(&mut self, index: usize, status: std::io::Result<ExitStatus>) -> Option<anyhow::Error> {
        let policy = self.policy;
        let service = &mut self.services[index];
        let name = service.spec.name;
        service.child = None;
        let _ = std::fs::remove_file(pid_file(&self.pid_dir, name));
        let now = Instant::now();
        let status = status.map_or_else(|e| format!("wait failed: {e}"), |s| s.to_string());
        if now.duration_since(service.started) >= policy.stable_after {
            service.backoff = policy.first_backoff;
        }
        service.exits.push_back(now);
        while service.exits.front().is_some_and(|t| now.duration_since(*t) > policy.window) {
            service.exits.pop_front();
        }
        if service.exits.len() >= policy.max_exits {
            return Some(anyhow::anyhow!(
                "{name} is crash-looping ({} exits within {}s, the last with {status}); stopping the stack",
                service.exits.len(),
                policy.window.as_secs()
            ));
        }
        eprintln!("{name} exited ({status}); restarting it in {:.1}s", service.backoff.as_secs_f64());
        service.restart_at = Some(now + service.backoff);
        service.backoff = (service.backoff * 2).min(policy.max_backoff);
        None
    }

    /// SIGTERM to every child (last started first), then waits for each; kills what does not
    /// stop within the policy's `stop_timeout`. Nothing is restarted any more.
    pub async fn stop(&mut self) {
        for service in self.services.iter_mut().rev() {
            if let Some(pid) = service.child.as_ref().and_then(Child::id) {
                let _ = nix::sys::signal::kill(nix::unistd::Pid::from_raw(pid as i32), nix::sys::signal::Signal::SIGTERM);
            }
        }
        let timeout = self.policy.stop_timeout;
        for service in self.services.iter_mut().rev() {
            if let Some(child) = service.child.as_mut()
                && tokio::time::timeout(timeout, child.wait()).await.is_err()
            {
                eprintln!("{} did not stop in {}s; killing it", service.spec.name, timeout.as_secs());
                let _ = child.kill().await;
            }
            let _ = std::fs::remove_file(pid_file(&self.pid_dir, service.spec.name));
        }
        self.services.clear();
    }
}

fn pid_file(dir: &Path, name: &str) -> PathBuf {
    dir.join(format!("{name}.pid"))
}

/// Starts `spec`, forwarding its output line by line behind `name | `, and writes its pid file.
fn spawn(spec: &Spec, pid_dir: &Path) -> anyhow::Result<Child> {
    let name = spec.name;
    let mut command = Command::new(&spec.program);
    command
        .args(&spec.args)
        .envs(&spec.env)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true);
    let mut child = command.spawn().with_context(|| format!("starting {name} ({})", spec.program.display()))?;
    for stream in [
        child.stdout.take().map(|s| Box::new(s) as Box<dyn tokio::io::AsyncRead + Unpin + Send>),
        child.stderr.take().map(|s| Box::new(s) as Box<dyn tokio::io::AsyncRead + Unpin + Send>),
    ]
    .into_iter()
    .flatten()
    {
        tokio::spawn(async move {
            let mut lines = BufReader::new(stream).lines();
            while let Ok(Some(line)) = lines.next_line().await {
                eprintln!("{name:>12} | {line}");
            }
        });
    }
    if let Some(pid) = child.id() {
        std::fs::write(pid_file(pid_dir, name), format!("{pid}\n")).with_context(|| format!("writing {name}'s pid file"))?;
    }
    Ok(child)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sh(name: &'static str, script: &str) -> Spec {
        Spec { name, program: "/bin/sh".into(), args: vec!["-c".into(), script.into()], env: BTreeMap::new() }
    }

    fn fast() -> Policy {
        Policy {
            first_backoff: Duration::from_millis(20),
            max_backoff: Duration::from_millis(80),
            stable_after: Duration::from_secs(30),
            max_exits: 4,
            window: Duration::from_secs(60),
            stop_timeout: Duration::from_millis(300),
        }
    }

    #[tokio::test]
    async fn a_crash_loop_ends_the_watch_and_the_others_keep_running() {
        let dir = std::env::temp_dir().join(format!("ferrocat-supervisor-{}", std::process::id()));
        let mut supervisor = Supervisor::new(&dir, fast()).unwrap();
        supervisor.start(sh("steady", "exec sleep 30")).unwrap();
        supervisor.start(sh("flaky", "exit 3")).unwrap();
        let steady_pid = std::fs::read_to_string(dir.join("steady.pid")).unwrap();
        let error = tokio::time::timeout(Duration::from_secs(10), supervisor.watch()).await.expect("a crash loop is seen");
        let message = error.to_string();
        assert!(message.starts_with("flaky is crash-looping (4 exits within 60s"), "{message}");
        assert!(message.contains("exit status: 3"), "{message}");
        // The steady child was never restarted: same pid, still alive.
        assert_eq!(std::fs::read_to_string(dir.join("steady.pid")).unwrap(), steady_pid);
        supervisor.stop().await;
        assert!(!dir.join("steady.pid").exists(), "stop removes pid files");
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[tokio::test]
    async fn a_child_that_ignores_sigterm_is_killed_after_the_stop_timeout() {
        let dir = std::env::temp_dir().join(format!("ferrocat-supervisor-stubborn-{}", std::process::id()));
        let mut supervisor = Supervisor::new(&dir, fast()).unwrap();
        supervisor.start(sh("stubborn", "trap '' TERM; while :; do sleep 1; done")).unwrap();
        let pid: i32 = std::fs::read_to_string(dir.join("stubborn.pid")).unwrap().trim().parse().unwrap();
        supervisor.stop().await;
        // Reaped: the pid names no process any more.
        assert!(nix::sys::signal::kill(nix::unistd::Pid::from_raw(pid), None).is_err(), "pid {pid} still alive");
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[tokio::test]
    async fn the_back_off_starts_over_after_a_stable_run() {
        let dir = std::env::temp_dir().join(format!("ferrocat-supervisor-stable-{}", std::process::id()));
        let policy = Policy {
            first_backoff: Duration::from_millis(20),
            max_backoff: Duration::from_secs(10),
            stable_after: Duration::from_millis(100),
            max_exits: 100,
            window: Duration::from_secs(60),
            ..Policy::default()
        };
        let mut supervisor = Supervisor::new(&dir, policy).unwrap();
        // Runs longer than `stable_after` every time, then fails.
        supervisor.start(sh("slow", "sleep 0.2; exit 1")).unwrap();
        let watched = tokio::time::timeout(Duration::from_millis(1000), supervisor.watch()).await;
        assert!(watched.is_err(), "no crash loop: {:?}", watched.map(|e| e.to_string()));
        let service = &supervisor.services[0];
        assert!(service.exits.len() >= 2, "it exited {} times", service.exits.len());
        // Without the reset it would be 20 ms doubled at every exit.
        assert_eq!(service.backoff, Duration::from_millis(40), "the next delay after a reset and one doubling");
        supervisor.stop().await;
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[tokio::test]
    async fn a_killed_child_is_restarted_with_a_new_pid() {
        let dir = std::env::temp_dir().join(format!("ferrocat-supervisor-kill-{}", std::process::id()));
        let mut supervisor = Supervisor::new(&dir, fast()).unwrap();
        supervisor.start(sh("victim", "exec sleep 30")).unwrap();
        let first: i32 = std::fs::read_to_string(dir.join("victim.pid")).unwrap().trim().parse().unwrap();
        nix::sys::signal::kill(nix::unistd::Pid::from_raw(first), nix::sys::signal::Signal::SIGKILL).unwrap();
        let restarted = async {
            loop {
                if let Ok(text) = std::fs::read_to_string(dir.join("victim.pid"))
                    && text.trim().parse::<i32>().is_ok_and(|pid| pid != first)
                {
                    return;
                }
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
        };
        tokio::select! {
            error = supervisor.watch() => panic!("one kill is no crash loop: {error}"),
            () = restarted => {}
            () = tokio::time::sleep(Duration::from_secs(10)) => panic!("not restarted within 10s"),
        }
        supervisor.stop().await;
        let _ = std::fs::remove_dir_all(&dir);
    }
}
