//! Scale-out and a rolling upgrade (deploy/scale-test.sh): two workers and two executors
//! against one Temporal, 500 webhook runs each crossing a durable timer; one worker and one
//! executor killed while runs are in flight, then a new generation joins and the old one's
//! last worker and executor drain and leave. Every run completes, once, with its own result,
//! and every executor of both generations did part of the work.

use ferrocat_test_support::scripts::{assert_lines, run_deploy_script};

#[test]
fn five_hundred_runs_survive_a_kill_and_a_rolling_change_of_generation() {
    let stdout = run_deploy_script("scale-test.sh", &[env!("CARGO_BIN_EXE_ferrocat"), "500"]);
    for step in ["killed: worker ", "joined: worker ", "rolled: worker "] {
        assert!(stdout.lines().any(|l| l.starts_with(step)), "no {step:?} line:\n{stdout}");
    }
    assert_lines(&stdout, &["drained: worker exit 0, executor exit 0"]);
    assert_lines(&stdout, &["runs: 500 posted, 500 distinct"]);
    assert!(stdout.lines().any(|l| l.starts_with("completed: 500 of 500 runs, each once")), "{stdout}");
    for executor in ["executor 1: ", "executor 2: ", "executor 3: "] {
        assert!(stdout.lines().any(|l| l.starts_with(executor)), "{executor} did no work:\n{stdout}");
    }
}
