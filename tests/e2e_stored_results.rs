//! Large results through the whole stack: `ferrocat up`'s executor writes them to its embedded
//! object store, later actions read them back, and the api shows them as they are. The same
//! against an external S3 API (`FERROCAT_S3_ENDPOINT`): moto's S3 server, another
//! implementation of the protocol than ours, standing in for MinIO, AWS or R2.

mod common;

use serde_json::{Value, json};

use common::{Stack, commit_workflow, json_of, login};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn large_results_go_to_the_object_store_and_come_back() {
    let stack = tokio::task::spawn_blocking(Stack::up).await.unwrap();
    let api = format!("{}/api", stack.url);
    let (http, workspace) = login(&stack.url).await;
    let wf_id = commit_workflow(
        &http,
        &stack.url,
        &workspace,
        r#"
title: Big results
description: a result over 128 KiB, read by the next action
entrypoint: {}
actions:
  - {ref: numbers, action: core.transform.reshape, args: {value: "${{ FN.range(0, 40000) }}"}}
  - {ref: total, action: core.transform.reshape, depends_on: [numbers], args: {value: "${{ FN.sum(ACTIONS.numbers.result) }}"}}
"#
        .to_owned(),
    )
    .await;
    let (status, hook) = json_of(http.post(format!("{api}/workflows/{wf_id}/webhook?workspace_id={workspace}")).send().await.unwrap()).await;
    assert_eq!(status, 200, "{hook}");
    let (status, waited) =
        json_of(reqwest::Client::new().post(format!("{}/wait", hook["url"].as_str().unwrap())).json(&json!({})).send().await.unwrap())
            .await;
    assert_eq!(status, 200, "{waited}");
    // Without `returns`, a run returns its identity.
    let exec_id = waited["value"]["wf_exec_id"].as_str().expect("the run's id").to_owned();

    // The list itself is the one object in the (fresh) stack's store...
    let objects = walk(&stack.data_dir.join("objects/ferrocat-workflow"));
    assert_eq!(objects.len(), 1, "{objects:?}");
    let stored: Value = serde_json::from_slice(&std::fs::read(&objects[0]).unwrap()).unwrap();
    assert_eq!(stored.as_array().map(Vec::len), Some(40_000));

    // ...the api links it (a presigned download through /s3)...
    let (status, run) =
        json_of(http.get(format!("{api}/workflow-executions/{exec_id}?workspace_id={workspace}")).send().await.unwrap()).await;
    assert_eq!(status, 200, "{run}");
    let linked = run["events"].as_array().unwrap().iter().find(|e| e["action_ref"] == "numbers").expect("the numbers action").clone();
    assert_eq!(linked["action_result"]["kind"], "download", "{linked}");
    let fetched: Value = reqwest::get(linked["action_result"]["url"].as_str().unwrap()).await.unwrap().json().await.unwrap();
    assert_eq!(fetched.as_array().map(Vec::len), Some(40_000));
    // ...or shows the value itself when asked.
    let (status, run) = json_of(
        http.get(format!("{api}/workflow-executions/{exec_id}?workspace_id={workspace}&inline_results=true")).send().await.unwrap(),
    )
    .await;
    assert_eq!(status, 200, "{run}");
    let events = run["events"].as_array().expect("events");
    let numbers = events.iter().find(|e| e["action_ref"] == "numbers").expect("the numbers action");
    assert_eq!(numbers["action_result"].as_array().map(Vec::len), Some(40_000), "{}", numbers["action_result"].to_string().chars().take(300).collect::<String>());
    assert_eq!(numbers["action_result"][39_999], json!(39_999));
    let total = events.iter().find(|e| e["action_ref"] == "total").expect("the total action");
    let expected: u64 = (0..40_000).sum();
    assert_eq!(total["action_result"], json!(expected), "the next action read the stored list");

    // A return value that large comes from /wait as a download link through the edge's /s3.
    let big = commit_workflow(
        &http,
        &stack.url,
        &workspace,
        r#"
title: Big return
description: returns a list over 128 KiB
entrypoint: {}
actions:
  - {ref: numbers, action: core.transform.reshape, args: {value: "${{ FN.range(0, 40000) }}"}}
returns: {numbers: "${{ ACTIONS.numbers.result }}", count: "${{ FN.length(ACTIONS.numbers.result) }}"}
"#
        .to_owned(),
    )
    .await;
    let (status, hook) = json_of(http.post(format!("{api}/workflows/{big}/webhook?workspace_id={workspace}")).send().await.unwrap()).await;
    assert_eq!(status, 200, "{hook}");
    let wait = format!("{}/wait", hook["url"].as_str().unwrap());
    let (status, waited) = json_of(reqwest::Client::new().post(&wait).json(&json!({})).send().await.unwrap()).await;
    assert_eq!(status, 200, "{waited}");
    assert_eq!(waited["kind"], "download", "{}", waited.to_string().chars().take(300).collect::<String>());
    let url = waited["url"].as_str().unwrap();
    assert!(url.starts_with(&format!("{}/s3/ferrocat-workflow/", stack.url)), "{url}");
    let download = reqwest::get(url).await.unwrap();
    assert_eq!(download.status(), 200, "{}", download.text().await.unwrap());
    assert!(download.headers()["content-disposition"].to_str().unwrap().starts_with("attachment"));
    let body: Value = download.json().await.unwrap();
    assert_eq!(body["count"], 40_000);
    assert_eq!(body["numbers"][39_999], 39_999);
    // A tampered link is refused by the store.
    let at = url.find("X-Amz-Signature=").expect("a signed link") + "X-Amz-Signature=".len();
    let flipped = if &url[at..at + 1] == "0" { "1" } else { "0" };
    let forged = format!("{}{flipped}{}", &url[..at], &url[at + 1..]);
    assert_eq!(reqwest::get(&forged).await.unwrap().status(), 403);
    // With unwrap, the value itself.
    let (status, unwrapped) = json_of(reqwest::Client::new().post(format!("{wait}?unwrap=true")).json(&json!({})).send().await.unwrap()).await;
    assert_eq!(status, 200);
    assert_eq!(unwrapped["count"], 40_000);
}

/// moto's S3 server (PyPI `moto[server]`, in the venv of FERROCAT_TEST_PYTHON) on a free port;
/// killed when dropped.
struct Moto {
    url: String,
    child: std::process::Child,
}

impl Moto {
    fn start() -> Moto {
        let python = std::env::var("FERROCAT_TEST_PYTHON").expect("FERROCAT_TEST_PYTHON must name a Python with moto[server] (deploy/test.sh sets it up)");
        let server = std::path::Path::new(&python).with_file_name("moto_server");
        let port = common::free_port();
        let child = std::process::Command::new(&server)
            .args(["-H", "127.0.0.1", "-p", &port.to_string()])
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("{}: {e}", server.display()));
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(std::time::Instant::now() < deadline, "moto_server did not open port {port}");
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
        Moto { url: format!("http://127.0.0.1:{port}"), child }
    }
}

impl Drop for Moto {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn large_results_go_to_an_external_s3_api_and_come_back() {
    let moto = tokio::task::spawn_blocking(Moto::start).await.unwrap();
    // An external store's buckets are the operator's to create (as with MinIO, AWS or R2).
    let created = reqwest::Client::new().put(format!("{}/ferrocat-workflow", moto.url)).send().await.unwrap();
    assert!(created.status().is_success(), "creating the bucket: {}", created.text().await.unwrap());
    let env = [("FERROCAT_S3_ENDPOINT", moto.url.clone()), ("FERROCAT_S3_PRESIGN_URL", moto.url.clone())];
    let stack = tokio::task::spawn_blocking(move || Stack::up_with(&env)).await.unwrap();
    let (http, workspace) = login(&stack.url).await;
    let wf_id = commit_workflow(
        &http,
        &stack.url,
        &workspace,
        r#"
title: Big return, elsewhere
description: a list over 128 KiB, summed by the next action
entrypoint: {}
actions:
  - {ref: numbers, action: core.transform.reshape, args: {value: "${{ FN.range(0, 40000) }}"}}
  - {ref: total, action: core.transform.reshape, depends_on: [numbers], args: {value: "${{ FN.sum(ACTIONS.numbers.result) }}"}}
returns: {numbers: "${{ ACTIONS.numbers.result }}", total: "${{ ACTIONS.total.result }}"}
"#
        .to_owned(),
    )
    .await;
    let (status, hook) = json_of(http.post(format!("{}/api/workflows/{wf_id}/webhook?workspace_id={workspace}", stack.url)).send().await.unwrap()).await;
    assert_eq!(status, 200, "{hook}");
    let wait = format!("{}/wait", hook["url"].as_str().unwrap());
    let (status, waited) = json_of(reqwest::Client::new().post(&wait).json(&json!({})).send().await.unwrap()).await;
    assert_eq!(status, 200, "{waited}");
    // The download link points at the external store, signed for it, and it serves the value.
    let url = waited["url"].as_str().unwrap_or_else(|| panic!("{}", waited.to_string().chars().take(300).collect::<String>()));
    assert!(url.starts_with(&format!("{}/ferrocat-workflow/", moto.url)), "{url}");
    let body: Value = reqwest::get(url).await.unwrap().json().await.unwrap();
    assert_eq!(body["total"], json!((0..40_000u64).sum::<u64>()), "the next action read the list back from the external store");
    assert_eq!(body["numbers"].as_array().map(Vec::len), Some(40_000));
    // The objects are in the external store, none in the embedded one.
    let listing = reqwest::get(format!("{}/ferrocat-workflow?list-type=2", moto.url)).await.unwrap().text().await.unwrap();
    assert!(listing.matches("<Key>").count() >= 2, "the list and the return value are in moto: {listing}");
    assert!(walk(&stack.data_dir.join("objects/ferrocat-workflow")).is_empty(), "the embedded store was used");
}

fn walk(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let path = entry.path();
        if path.is_dir() { out.extend(walk(&path)) } else { out.push(path) }
    }
    out
}
