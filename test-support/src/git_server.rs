//! A git repository served over `git daemon` on loopback: a bare repository the daemon
//! exports, and a work tree a test commits template files in and pushes to it.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

/// The daemon and its one repository; stopped and removed when dropped.
pub struct GitServer {
    /// `git://127.0.0.1:<port>/registry.git`.
    pub url: String,
    pub port: u16,
    root: PathBuf,
    work: PathBuf,
    daemon: Child,
}

impl Drop for GitServer {
    fn drop(&mut self) {
        let _ = self.daemon.kill();
        let _ = self.daemon.wait();
        let _ = std::fs::remove_dir_all(&self.root);
    }
}

fn git(dir: &Path, args: &[&str]) -> String {
    let output = Command::new("git")
        .args(args)
        .current_dir(dir)
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("HOME", dir)
        .env("GIT_AUTHOR_NAME", "test")
        .env("GIT_AUTHOR_EMAIL", "test@example.com")
        .env("GIT_COMMITTER_NAME", "test")
        .env("GIT_COMMITTER_EMAIL", "test@example.com")
        .output()
        .expect("git runs");
    assert!(output.status.success(), "git {args:?}: {}", String::from_utf8_lossy(&output.stderr));
    String::from_utf8_lossy(&output.stdout).trim().to_owned()
}

impl GitServer {
    /// An empty repository (branch `main`) served on a free port.
    pub fn start() -> Self {
        let root = std::env::temp_dir().join(format!("ferrocat-git-{}", uuid::Uuid::new_v4().simple()));
        let bare = root.join("repos/registry.git");
        let work = root.join("work");
        std::fs::create_dir_all(&bare).unwrap();
        std::fs::create_dir_all(&work).unwrap();
        git(&bare, &["init", "--quiet", "--bare", "--initial-branch=main"]);
        git(&work, &["init", "--quiet", "--initial-branch=main"]);
        git(&work, &["remote", "add", "origin", bare.to_str().unwrap()]);
        let port = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        // `git-daemon` itself, not `git daemon`: git runs the daemon as a child of its own, which
        // killing `git` on drop would leave running.
        let exec_path = String::from_utf8(Command::new("git").arg("--exec-path").output().expect("git runs").stdout).unwrap();
        let daemon = Command::new(Path::new(exec_path.trim()).join("git-daemon"))
            .args(["--reuseaddr", "--export-all", "--listen=127.0.0.1", &format!("--port={port}")])
            .arg(format!("--base-path={}", root.join("repos").display()))
            .arg(root.join("repos"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("git daemon runs");
        // Ready once it accepts a connection.
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(std::time::Instant::now() < deadline, "git daemon did not listen on {port} within 20 s");
            std::thread::yield_now();
        }
        Self { url: format!("git://127.0.0.1:{port}/registry.git"), port, root, work, daemon }
    }

    /// The same repository served over ssh by an sshd of its own on a free port, which lets in
    /// only the returned deploy key: `(origin, private key in OpenSSH format, server)`.
    pub fn serve_ssh(&self) -> (String, String, SshServer) {
        let dir = self.root.join(format!("ssh-{}", uuid::Uuid::new_v4().simple()));
        std::fs::create_dir_all(&dir).unwrap();
        for key in ["host_key", "deploy_key"] {
            let made = Command::new("ssh-keygen").args(["-q", "-t", "ed25519", "-N", "", "-f"]).arg(dir.join(key)).status().expect("ssh-keygen runs");
            assert!(made.success(), "ssh-keygen {key}");
        }
        std::fs::copy(dir.join("deploy_key.pub"), dir.join("authorized_keys")).unwrap();
        let port = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let config = dir.join("sshd_config");
        std::fs::write(
            &config,
            format!(
                "Port {port}\nListenAddress 127.0.0.1\nHostKey {host}\nAuthorizedKeysFile {keys}\nPasswordAuthentication no\n\
                 KbdInteractiveAuthentication no\nUsePAM no\nStrictModes no\nPidFile none\nPermitRootLogin prohibit-password\n",
                host = dir.join("host_key").display(),
                keys = dir.join("authorized_keys").display(),
            ),
        )
        .unwrap();
        // sshd wants its privilege-separation folder even when it runs for one user.
        let _ = std::fs::create_dir_all("/run/sshd");
        let daemon = Command::new("/usr/sbin/sshd")
            .args(["-D", "-e", "-f"])
            .arg(&config)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("sshd runs (deploy/test.sh installs openssh-server)");
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(std::time::Instant::now() < deadline, "sshd did not listen on {port} within 20 s");
            std::thread::yield_now();
        }
        let user = String::from_utf8(Command::new("id").arg("-un").output().unwrap().stdout).unwrap().trim().to_owned();
        let origin = format!("ssh://{user}@127.0.0.1:{port}{}", self.root.join("repos/registry.git").display());
        let key = std::fs::read_to_string(dir.join("deploy_key")).unwrap();
        (origin, key, SshServer { daemon, port })
    }

    /// Writes `files` (path → text, `None` removes it), commits them and pushes; the new
    /// commit's sha.
    pub fn commit(&self, message: &str, files: &[(&str, Option<&str>)]) -> String {
        for (path, text) in files {
            let at = self.work.join(path);
            match text {
                Some(text) => {
                    std::fs::create_dir_all(at.parent().unwrap()).unwrap();
                    std::fs::write(&at, text).unwrap();
                }
                None => {
                    let _ = std::fs::remove_file(&at);
                }
            }
        }
        git(&self.work, &["add", "--all"]);
        git(&self.work, &["commit", "--quiet", "--allow-empty", "-m", message]);
        git(&self.work, &["push", "--quiet", "origin", "HEAD:main"]);
        git(&self.work, &["rev-parse", "HEAD"])
    }
}

/// An sshd serving a [`GitServer`]'s repository; stopped when dropped.
pub struct SshServer {
    daemon: Child,
    pub port: u16,
}

impl Drop for SshServer {
    fn drop(&mut self) {
        let _ = self.daemon.kill();
        let _ = self.daemon.wait();
    }
}
