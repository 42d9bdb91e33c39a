//! ferrocat's OCI image (deploy/Containerfile, built by deploy/image.sh from the binary under
//! test), on Debian's docker.io engine started here on a private socket and data folder and
//! stopped by its PID; nothing is pulled. The image runs as a non-root user with a read-only
//! root filesystem, no network and no capabilities, has no shell, and runs a workflow.

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

/// A private dockerd (deploy/lib.sh's start_dockerd: its own socket and data folder, no
/// iptables, no bridge); stopped by its PID and its folder removed when dropped.
struct Engine {
    dir: PathBuf,
    socket: String,
}

/// Runs a function of deploy/lib.sh with `args`.
fn lib_sh(function: &str, args: &[&str]) -> Output {
    Command::new("bash")
        .arg("-c")
        .arg(format!(". {}/deploy/lib.sh && {function} \"$@\"", env!("CARGO_MANIFEST_DIR")))
        .arg(function)
        .args(args)
        .stdin(Stdio::null())
        .output()
        .expect("bash")
}

impl Engine {
    fn start() -> Engine {
        let dir = std::env::temp_dir().join(format!("ferrocat-docker-{}", std::process::id()));
        let engine = Engine { socket: format!("unix://{}", dir.join("docker.sock").display()), dir };
        let started = lib_sh("start_dockerd", &[engine.dir.to_str().unwrap()]);
        assert!(started.status.success(), "dockerd did not come up on this machine: {}", text(&started));
        engine
    }

    fn docker(&self, args: &[&str]) -> Output {
        Command::new("docker").args(args).env("DOCKER_HOST", &self.socket).stdin(Stdio::null()).output().expect("the docker client")
    }
}

impl Drop for Engine {
    fn drop(&mut self) {
        lib_sh("stop_dockerd", &[self.dir.to_str().unwrap()]);
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn text(out: &Output) -> String {
    format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr))
}

#[test]
fn the_image_runs_a_workflow_as_a_non_root_user_on_a_read_only_root_without_a_shell() {
    let engine = Engine::start();
    let tag = format!("ferrocat:test-{}", std::process::id());
    let built = Command::new("bash")
        .arg(concat!(env!("CARGO_MANIFEST_DIR"), "/deploy/image.sh"))
        .args([env!("CARGO_BIN_EXE_ferrocat"), &tag])
        .env("DOCKER_HOST", &engine.socket)
        .output()
        .unwrap();
    assert!(built.status.success(), "deploy/image.sh: {}", text(&built));
    assert_eq!(text(&engine.docker(&["image", "inspect", "-f", "{{.Config.User}}", &tag])).trim(), "10001:10001");

    let locked = ["run", "--rm", "--pull=never", "--read-only", "--network", "none", "--cap-drop", "ALL", "--security-opt", "no-new-privileges"];
    let version = engine.docker(&[&locked[..], &[tag.as_str(), "--version"]].concat());
    assert!(version.status.success() && text(&version).starts_with("ferrocat "), "{}", text(&version));

    let workflow = Path::new(&engine.dir).join("wf.yml");
    std::fs::write(&workflow, "title: t\ndescription: in the image\nentrypoint: {ref: a}\nactions:\n  - {ref: a, action: core.transform.reshape, args: {value: {n: \"${{ TRIGGER.n }}\"}}}\nreturns: ${{ ACTIONS.a.result }}\n").unwrap();
    let mount = format!("{}:/wf.yml:ro", workflow.display());
    let ran = engine.docker(&[&locked[..], &["-v", &mount, tag.as_str(), "run", "/wf.yml", "--trigger", "{\"n\": 7}"]].concat());
    assert!(ran.status.success(), "{}", text(&ran));
    let result: serde_json::Value = serde_json::from_slice(&ran.stdout).unwrap_or_else(|e| panic!("{e}: {}", text(&ran)));
    assert_eq!(result, serde_json::json!({"n": 7}));

    // Nothing but the binary: no shell to run anything else with.
    let shell = engine.docker(&[&locked[..], &["--entrypoint", "/bin/sh", tag.as_str(), "-c", "id"]].concat());
    assert!(!shell.status.success(), "a shell ran: {}", text(&shell));
    assert!(text(&shell).contains("no such file or directory"), "{}", text(&shell));
}
