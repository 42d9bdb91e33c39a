//! Scale-out (deploy/scale-test.sh): two workers and two executors against one Temporal, 500
//! webhook runs, and one worker and one executor killed while runs are in flight. Every run
//! completes, once, with its own result, and both executors did part of the work.

#[test]
fn five_hundred_runs_survive_a_worker_and_an_executor_killed_mid_way() {
    let out = std::process::Command::new("bash")
        .arg(concat!(env!("CARGO_MANIFEST_DIR"), "/deploy/scale-test.sh"))
        .arg(env!("CARGO_BIN_EXE_ferrocat"))
        .arg("500")
        .output()
        .expect("run deploy/scale-test.sh");
    let (stdout, stderr) = (String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert!(out.status.success(), "deploy/scale-test.sh failed:\n{stdout}\n{}", stderr.lines().filter(|l| !l.contains("DEBUG")).collect::<Vec<_>>().join("\n"));
    assert!(stdout.lines().any(|l| l.starts_with("killed: worker ")), "{stdout}");
    assert!(stdout.lines().any(|l| l == "runs: 500 posted, 500 distinct"), "{stdout}");
    assert!(stdout.lines().any(|l| l.starts_with("completed: 500 of 500 runs, each once")), "{stdout}");
    for executor in ["executor 1: ", "executor 2: "] {
        assert!(stdout.lines().any(|l| l.starts_with(executor)), "{executor} did no work:\n{stdout}");
    }
}
