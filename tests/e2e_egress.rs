//! A workflow author cannot reach the stack's insides from a workflow run through `ferrocat
//! up`: not Temporal's HTTP API (which lists and terminates every workspace's runs), the api's
//! internal port past the edge, the object store, cloud metadata, nor (from a sandboxed script
//! with network) Postgres. A server on a port the operator allowed, and the stack's own public
//! port, still answer.

mod common;

use common::{Stack, commit_workflow, free_port, json_of, login};
use serde_json::json;

/// Temporal's HTTP port, read from the command line `up` started it with.
fn temporal_http_port(data_dir: &std::path::Path) -> u16 {
    let marker = data_dir.join("temporal.db").to_string_lossy().into_owned();
    for entry in std::fs::read_dir("/proc").unwrap().flatten() {
        let Ok(cmdline) = std::fs::read(entry.path().join("cmdline")) else { continue };
        let args: Vec<String> = cmdline.split(|b| *b == 0).map(|a| String::from_utf8_lossy(a).into_owned()).collect();
        if args.iter().any(|a| a == &marker)
            && let Some(i) = args.iter().position(|a| a == "--http-port")
        {
            return args[i + 1].parse().unwrap();
        }
    }
    panic!("no temporal process for {marker}");
}

const FETCH: &str = r#"
title: Fetch
description: fetches what the trigger names
entrypoint: {ref: fetch}
actions:
  - ref: fetch
    action: core.http_request
    args:
      url: ${{ TRIGGER.url }}
returns: ${{ ACTIONS.fetch.result.status_code }}
"#;

const RAW_TCP: &str = r#"
title: Raw
description: a script with network tries raw TCP and the proxy
entrypoint: {ref: raw}
actions:
  - ref: raw
    action: core.script.run_python
    args:
      allow_network: true
      inputs: {port: "${{ TRIGGER.port }}"}
      script: |
        import socket, urllib.request
        def main(port):
            out = {}
            try:
                socket.create_connection(("127.0.0.1", int(port)), timeout=3).close()
                out["raw"] = "connected"
            except OSError:
                out["raw"] = "refused"
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=5)
                out["proxied"] = "reached"
            except Exception as e:
                out["proxied"] = str(e)
            return out
returns: ${{ ACTIONS.raw.result }}
"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn workflows_reach_allowed_servers_and_nothing_of_the_stack() {
    let allowed = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let allowed_addr = allowed.local_addr().unwrap();
    tokio::spawn(async move {
        let app = axum::Router::new().route("/", axum::routing::get(|| async { "fine" }));
        axum::serve(allowed, app).await.unwrap();
    });
    let (api_port, s3_port) = (free_port(), free_port());
    let stack = tokio::task::spawn_blocking(move || {
        Stack::up_with(&[
            ("FERROCAT_EGRESS_ALLOW", allowed_addr.to_string()),
            ("FERROCAT_API_ADDR", format!("127.0.0.1:{api_port}")),
            ("FERROCAT_S3_ADDR", format!("127.0.0.1:{s3_port}")),
        ])
    })
    .await
    .unwrap();
    let temporal = temporal_http_port(&stack.data_dir);
    let (http, workspace) = login(&stack.url).await;
    let hook = |wf: String| {
        let (http, url, workspace) = (http.clone(), stack.url.clone(), workspace.clone());
        async move {
            let (status, body) =
                json_of(http.post(format!("{url}/api/workflows/{wf}/webhook?workspace_id={workspace}")).send().await.unwrap()).await;
            assert_eq!(status, 200, "{body}");
            body["url"].as_str().unwrap().to_owned()
        }
    };
    let fetch = hook(commit_workflow(&http, &stack.url, &workspace, FETCH.to_owned()).await).await;
    let caller = reqwest::Client::new();

    let (status, body) = json_of(caller.post(format!("{fetch}/wait")).json(&json!({"url": format!("http://{allowed_addr}/")})).send().await.unwrap()).await;
    assert_eq!((status, body), (200, json!({"kind": "value", "value": 200})));
    // The stack's own public port is what the internet reaches anyway: allowed.
    let (status, body) = json_of(caller.post(format!("{fetch}/wait")).json(&json!({"url": format!("{}/api/health", stack.url)})).send().await.unwrap()).await;
    assert_eq!((status, body), (200, json!({"kind": "value", "value": 200})));

    for target in [
        format!("http://127.0.0.1:{temporal}/api/v1/namespaces/default/workflows"),
        format!("http://localhost:{temporal}/api/v1/namespaces"),
        format!("http://127.0.0.1:{api_port}/health"),
        format!("http://127.0.0.1:{s3_port}/"),
        "http://169.254.169.254/latest/meta-data/".to_owned(),
        format!("http://[::ffff:127.0.0.1]:{temporal}/"),
    ] {
        let response = caller.post(format!("{fetch}/wait")).json(&json!({"url": target})).send().await.unwrap();
        let status = response.status().as_u16();
        let text = response.text().await.unwrap();
        assert_ne!(status, 200, "{target} was reached: {text}");
        assert!(text.contains("egress") && text.contains("FERROCAT_EGRESS_ALLOW"), "{target}: {status} {text}");
        assert!(!text.contains("namespaces\":") && !text.contains("\"status\":\"ok\""), "{target} leaked its answer: {text}");
    }

    // Raw TCP from a sandbox with network reaches nothing; through its proxy, Postgres is refused.
    let raw = hook(commit_workflow(&http, &stack.url, &workspace, RAW_TCP.to_owned()).await).await;
    let (status, body) = json_of(caller.post(format!("{raw}/wait")).json(&json!({"port": 5432})).send().await.unwrap()).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["value"]["raw"], "refused", "{body}");
    assert!(body["value"]["proxied"].as_str().unwrap().contains("403"), "{body}");
}
