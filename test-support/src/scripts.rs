//! The deploy scripts the suite runs whole (deploy/netns-test.sh, compose-test.sh,
//! scale-test.sh): each prints what it proved, one fact a line.

use std::path::Path;

/// Runs `deploy/<script>` of the repository with `args` under bash and returns its stdout;
/// panics with both streams (stderr without its DEBUG lines) when it fails.
pub fn run_deploy_script(script: &str, args: &[&str]) -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../deploy").join(script);
    let out = std::process::Command::new("bash").arg(&path).args(args).output().unwrap_or_else(|e| panic!("run {}: {e}", path.display()));
    let (stdout, stderr) = (String::from_utf8_lossy(&out.stdout).into_owned(), String::from_utf8_lossy(&out.stderr));
    let stderr: Vec<&str> = stderr.lines().filter(|l| !l.contains("DEBUG")).collect();
    assert!(out.status.success(), "deploy/{script} failed:\n{stdout}\n{}", stderr.join("\n"));
    stdout
}

/// Panics unless every one of `lines` is a whole line of `output`.
pub fn assert_lines(output: &str, lines: &[&str]) {
    for line in lines {
        assert!(output.lines().any(|l| l == *line), "missing {line:?} in:\n{output}");
    }
}
