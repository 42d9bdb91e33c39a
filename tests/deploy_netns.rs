//! Every service on a host of its own (deploy/netns-test.sh): each in its own network
//! namespace, one bridge per network of the seed's compose file and nothing routed between
//! them, the addresses of the others from configuration only. The executor cannot reach
//! Postgres or Redis (not even through a host on both networks), the api can, and a webhook
//! posted to the edge runs through a worker and an executor on other hosts to its result.

use ferrocat_test_support::scripts::{assert_lines, run_deploy_script};

#[test]
fn the_services_work_each_on_its_own_host_behind_the_four_networks() {
    let stdout = run_deploy_script("netns-test.sh", &[env!("CARGO_BIN_EXE_ferrocat")]);
    assert_lines(
        &stdout,
        &[
            "isolation: executor -> Postgres: no",
            "isolation: executor -> Redis: no",
            "isolation: executor -> Postgres through the api's host: no",
            "isolation: api -> Postgres: yes",
            "isolation: executor -> Temporal: yes",
        ],
    );
    let webhook = stdout.lines().find(|l| l.starts_with("webhook: ")).unwrap_or_else(|| panic!("no webhook line:\n{stdout}"));
    assert!(webhook.contains("\"alert\":\"A-7\"") && webhook.contains("\"loud\":true"), "{webhook}");
}
