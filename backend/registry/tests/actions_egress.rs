//! The egress policy on every action that opens a connection, against real servers on
//! loopback: refused before a byte is sent (so nothing of the answer can leak), names checked
//! at resolution, every redirect target checked, SMTP and the sandbox's network included, and
//! an explicitly allowed port still reachable.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use serde_json::{Map, Value, json};
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};

use ferrocat_shared::egress::EgressPolicy;
use ferrocat_registry::ActionDeps;
use ferrocat_registry::actions::http;

/// A loopback HTTP server answering every request with `response`; counts connections.
async fn server(response: String) -> (u16, Arc<AtomicUsize>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let hits = Arc::new(AtomicUsize::new(0));
    let counter = hits.clone();
    tokio::spawn(async move {
        while let Ok((mut socket, _)) = listener.accept().await {
            counter.fetch_add(1, Ordering::SeqCst);
            let response = response.clone();
            tokio::spawn(async move {
                let mut buf = [0u8; 4096];
                let _ = socket.read(&mut buf).await;
                let _ = socket.write_all(response.as_bytes()).await;
            });
        }
    });
    (port, hits)
}

fn ok_body(body: &str) -> String {
    format!("HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}", body.len())
}

async fn run(policy: EgressPolicy, action: &str, args: Value, secrets: Value) -> Result<Value, String> {
    let deps = ActionDeps { http: http::client(Arc::new(policy)).unwrap(), redis: None, ai: None, cases: None, tables: None };
    let secrets: Map<String, Value> = secrets.as_object().cloned().unwrap_or_default();
    ferrocat_registry::dispatch_with(action, args.as_object().cloned().unwrap(), &deps, &secrets).await.map_err(|e| e.to_string())
}

#[tokio::test]
async fn http_to_loopback_and_metadata_is_refused_unless_allowed() {
    let (port, hits) = server(ok_body("internal secret data")).await;
    for url in [format!("http://127.0.0.1:{port}/"), format!("http://localhost:{port}/"), format!("http://[::ffff:127.0.0.1]:{port}/"), format!("http://2130706433:{port}/")] {
        let error = run(EgressPolicy::strict(), "core.http_request", json!({"url": url}), json!({})).await.unwrap_err();
        assert!(error.contains("egress") && error.contains("FERROCAT_EGRESS_ALLOW") && !error.contains("internal secret data"), "{url}: {error}");
    }
    let error = run(EgressPolicy::strict(), "core.http_request", json!({"url": "http://169.254.169.254/latest/meta-data/"}), json!({}))
        .await
        .unwrap_err();
    assert!(error.contains("egress to 169.254.169.254:80 refused") && error.contains("link-local"), "{error}");
    assert_eq!(hits.load(Ordering::SeqCst), 0, "a refused request reached the server");

    let allowed = EgressPolicy::strict().allowing(&format!("127.0.0.1:{port}")).unwrap();
    let out = run(allowed.clone(), "core.http_request", json!({"url": format!("http://127.0.0.1:{port}/")}), json!({})).await.unwrap();
    assert_eq!(out["data"], json!("internal secret data"));
    // The allowance is for that port only.
    let (other, other_hits) = server(ok_body("other")).await;
    let error = run(allowed, "core.http_request", json!({"url": format!("http://127.0.0.1:{other}/")}), json!({})).await.unwrap_err();
    assert!(error.contains(&format!("127.0.0.1:{other}")), "{error}");
    assert_eq!(other_hits.load(Ordering::SeqCst), 0);
}

#[tokio::test]
async fn every_redirect_target_is_checked() {
    let (inner, inner_hits) = server(ok_body("temporal's api")).await;
    let (outer, _) =
        server(format!("HTTP/1.1 302 Found\r\nlocation: http://127.0.0.1:{inner}/api/v1/namespaces\r\ncontent-length: 0\r\nconnection: close\r\n\r\n")).await;
    let policy = EgressPolicy::strict().allowing(&format!("127.0.0.1:{outer}")).unwrap();
    let args = json!({"url": format!("http://127.0.0.1:{outer}/"), "follow_redirects": true});
    let error = run(policy.clone(), "core.http_request", args, json!({})).await.unwrap_err();
    assert!(error.contains("egress") && error.contains(&format!("127.0.0.1:{inner}")), "{error}");
    assert_eq!(inner_hits.load(Ordering::SeqCst), 0);
    // Polling and paging use the same client.
    let error = run(policy, "core.http_poll", json!({"url": format!("http://127.0.0.1:{inner}/"), "poll_max_attempts": 1, "poll_retry_codes": 500}), json!({}))
        .await
        .unwrap_err();
    assert!(error.contains("egress"), "{error}");
    assert_eq!(inner_hits.load(Ordering::SeqCst), 0);
}

#[tokio::test]
async fn smtp_to_a_refused_address_is_not_attempted() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let args = json!({"sender": "soc@example.com", "recipients": ["a@example.com"], "subject": "s", "body": "b"});
    let secrets = json!({"smtp": {"SMTP_HOST": "127.0.0.1", "SMTP_PORT": port.to_string()}});
    let error = run(EgressPolicy::strict(), "core.send_email_smtp", args, secrets).await.unwrap_err();
    assert!(error.contains("egress") && error.contains(&format!("127.0.0.1:{port}")), "{error}");
    let accepted = tokio::time::timeout(std::time::Duration::from_millis(1), listener.accept()).await;
    assert!(accepted.is_err(), "the SMTP server was connected to");
}

#[tokio::test]
async fn a_sandbox_with_network_obeys_the_same_policy() {
    let (port, hits) = server(ok_body("postgres-ish")).await;
    let script = "import socket, urllib.request\ndef main(port):\n    out = {}\n    try:\n        out['http'] = urllib.request.urlopen(f'http://127.0.0.1:{port}/', timeout=5).read().decode()\n    except Exception as e:\n        out['http'] = f'failed: {e}'\n    try:\n        s = socket.create_connection(('127.0.0.1', port), timeout=3)\n        out['raw'] = 'connected'\n    except OSError:\n        out['raw'] = 'failed'\n    try:\n        urllib.request.urlopen('http://169.254.169.254/latest/meta-data/', timeout=5).read()\n        out['metadata'] = 'reached'\n    except Exception as e:\n        out['metadata'] = f'failed: {e}'\n    return out\n";
    let args = json!({"script": script, "inputs": {"port": port}, "allow_network": true});
    let out = run(EgressPolicy::strict(), "core.script.run_python", args.clone(), json!({})).await.unwrap();
    assert!(out["http"].as_str().unwrap().contains("403"), "{out}");
    assert_eq!(out["raw"], json!("failed"), "{out}");
    assert!(out["metadata"].as_str().unwrap().contains("403"), "{out}");
    assert_eq!(hits.load(Ordering::SeqCst), 0, "the sandbox reached a refused address");

    let allowed = EgressPolicy::strict().allowing(&format!("127.0.0.1:{port}")).unwrap();
    let out = run(allowed, "core.script.run_python", args, json!({})).await.unwrap();
    assert_eq!(out["http"], json!("postgres-ish"), "{out}");
    assert_eq!(out["raw"], json!("failed"), "raw sockets reach only the sandbox's own loopback: {out}");
}
