//! Every service on a host of its own (deploy/netns-test.sh): each in its own network
//! namespace, one bridge per network of the seed's compose file and nothing routed between
//! them, the addresses of the others from configuration only. The executor cannot reach
//! Postgres or Redis (not even through a host on both networks), the api can, and a webhook
//! posted to the edge runs through a worker and an executor on other hosts to its result.

#[test]
fn the_services_work_each_on_its_own_host_behind_the_four_networks() {
    let out = std::process::Command::new("bash")
        .arg(concat!(env!("CARGO_MANIFEST_DIR"), "/deploy/netns-test.sh"))
        .arg(env!("CARGO_BIN_EXE_ferrocat"))
        .output()
        .expect("run deploy/netns-test.sh");
    let (stdout, stderr) = (String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert!(out.status.success(), "deploy/netns-test.sh failed:\n{stdout}\n{stderr}");
    for line in [
        "isolation: executor -> Postgres: no",
        "isolation: executor -> Redis: no",
        "isolation: executor -> Postgres through the api's host: no",
        "isolation: api -> Postgres: yes",
        "isolation: executor -> Temporal: yes",
    ] {
        assert!(stdout.lines().any(|l| l == line), "missing {line:?} in:\n{stdout}");
    }
    let webhook = stdout.lines().find(|l| l.starts_with("webhook: ")).unwrap_or_else(|| panic!("no webhook line:\n{stdout}"));
    assert!(webhook.contains("\"alert\":\"A-7\"") && webhook.contains("\"loud\":true"), "{webhook}");
}
