//! Scale-out (deploy/scale-test.sh): two workers and two executors against one Temporal, 500
//! webhook runs, and one worker and one executor killed while runs are in flight. Every run
//! completes, once, with its own result, and both executors did part of the work.

use ferrocat_test_support::scripts::{assert_lines, run_deploy_script};

#[test]
fn five_hundred_runs_survive_a_worker_and_an_executor_killed_mid_way() {
    let stdout = run_deploy_script("scale-test.sh", &[env!("CARGO_BIN_EXE_ferrocat"), "500"]);
    assert!(stdout.lines().any(|l| l.starts_with("killed: worker ")), "{stdout}");
    assert_lines(&stdout, &["runs: 500 posted, 500 distinct"]);
    assert!(stdout.lines().any(|l| l.starts_with("completed: 500 of 500 runs, each once")), "{stdout}");
    for executor in ["executor 1: ", "executor 2: "] {
        assert!(stdout.lines().any(|l| l.starts_with(executor)), "{executor} did no work:\n{stdout}");
    }
}
