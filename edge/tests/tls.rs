//! HTTPS with an operator-supplied certificate: a self-signed certificate made at test time,
//! trusted by the client, served over HTTP/2 and HTTP/1.1; the plain listener redirects.

mod common;

use std::net::SocketAddr;
use std::path::PathBuf;

use common::{TestEdge, Upstreams, dead_addr, raw_get, spawn_echo, spawn_edge_with};
use ferrocat_edge::EdgeConfig;
use ferrocat_shared::config::Env;
use serde_json::Value;

struct TlsStack {
    edge: TestEdge,
    https: SocketAddr,
    ca_pem: String,
    dir: PathBuf,
}

impl Drop for TlsStack {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// A fresh directory holding a self-signed certificate for `edge.test` and its key.
fn self_signed(tag: &str) -> (PathBuf, String) {
    let dir = std::env::temp_dir().join(format!(
        "ferrocat-edge-tls-{tag}-{}-{}",
        std::process::id(),
        dead_addr().port()
    ));
    std::fs::create_dir_all(&dir).unwrap();
    let generated = rcgen::generate_simple_self_signed(vec!["edge.test".to_owned()]).unwrap();
    let cert_pem = generated.cert.pem();
    std::fs::write(dir.join("cert.pem"), &cert_pem).unwrap();
    std::fs::write(dir.join("key.pem"), generated.signing_key.serialize_pem()).unwrap();
    (dir, cert_pem)
}

async fn tls_stack() -> TlsStack {
    let (api, _) = spawn_echo("api").await;
    let (mcp, _) = spawn_echo("mcp").await;
    let (ui, _) = spawn_echo("ui").await;
    let (s3, _) = spawn_echo("s3").await;
    let (dir, ca_pem) = self_signed("static");
    let https = dead_addr();
    let edge = spawn_edge_with(
        &Upstreams { api, mcp, ui, s3 },
        &[
            ("FERROCAT_EDGE_HTTPS_ADDR", https.to_string()),
            (
                "FERROCAT_EDGE_TLS_CERT",
                dir.join("cert.pem").display().to_string(),
            ),
            (
                "FERROCAT_EDGE_TLS_KEY",
                dir.join("key.pem").display().to_string(),
            ),
        ],
    )
    .await;
    TlsStack {
        edge,
        https,
        ca_pem,
        dir,
    }
}

/// A client that trusts only `ca_pem` and reaches `edge.test` at `addr`.
fn tls_client(ca_pem: &str, addr: SocketAddr, http1_only: bool) -> reqwest::Client {
    let builder = reqwest::Client::builder()
        .no_proxy()
        .tls_built_in_root_certs(false)
        .add_root_certificate(reqwest::Certificate::from_pem(ca_pem.as_bytes()).unwrap())
        .resolve("edge.test", addr)
        .timeout(std::time::Duration::from_secs(10));
    let builder = if http1_only {
        builder.http1_only()
    } else {
        builder
    };
    builder.build().unwrap()
}

#[tokio::test]
async fn https_serves_h2_and_http1_with_forwarding_headers_and_hsts() {
    let stack = tls_stack().await;
    let url = format!("https://edge.test:{}/api/x?a=1", stack.https.port());
    for (http1_only, version) in [
        (false, reqwest::Version::HTTP_2),
        (true, reqwest::Version::HTTP_11),
    ] {
        let response = tls_client(&stack.ca_pem, stack.https, http1_only)
            .get(&url)
            .header("X-Forwarded-Proto", "http")
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200);
        assert_eq!(response.version(), version);
        assert_eq!(
            response.headers()["strict-transport-security"],
            "max-age=31536000"
        );
        let echo: Value = response.json().await.unwrap();
        assert_eq!(echo["upstream"], "api");
        assert_eq!(echo["uri"], "/x?a=1");
        assert_eq!(echo["headers"]["x-forwarded-proto"][0], "https", "{echo}");
        assert_eq!(
            echo["headers"]["x-forwarded-host"][0], "edge.test",
            "{echo}"
        );
    }

    // The edge's own answers carry HSTS on HTTPS too.
    let response = tls_client(&stack.ca_pem, stack.https, false)
        .get(format!(
            "https://edge.test:{}/__edge/healthz",
            stack.https.port()
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert!(response.headers().contains_key("strict-transport-security"));
}

#[tokio::test]
async fn plain_http_redirects_to_https_except_health_and_acme() {
    let stack = tls_stack().await;
    let host = format!("edge.test:{}", stack.edge.addr.port());
    let response = raw_get(stack.edge.addr, "/api/x?a=1&b=%2F", &[("Host", &host)]).await;
    assert_eq!(response.status, 308, "{response:?}");
    assert_eq!(
        response.header("location"),
        Some(format!("https://edge.test:{}/api/x?a=1&b=%2F", stack.https.port()).as_str())
    );
    assert_eq!(
        response.header("strict-transport-security"),
        None,
        "no HSTS on plain HTTP"
    );

    let response = raw_get(stack.edge.addr, "/__edge/healthz", &[("Host", &host)]).await;
    assert_eq!(response.status, 200);

    // With a static certificate the edge answers no ACME challenge itself: the path is proxied
    // on plain HTTP (for an operator's own certbot behind it), not redirected.
    let response = raw_get(
        stack.edge.addr,
        "/.well-known/acme-challenge/token",
        &[("Host", &host)],
    )
    .await;
    assert_eq!(response.status, 200, "{response:?}");
    assert_eq!(response.json()["upstream"], "ui");
}

#[test]
fn a_bad_certificate_fails_the_start() {
    let (dir, _) = self_signed("bad");
    let (other_key_dir, _) = self_signed("other");
    let env = Env::from_pairs([
        ("FERROCAT_EDGE_HTTP_ADDR", dead_addr().to_string()),
        ("FERROCAT_EDGE_HTTPS_ADDR", dead_addr().to_string()),
        (
            "FERROCAT_EDGE_TLS_CERT",
            dir.join("cert.pem").display().to_string(),
        ),
        (
            "FERROCAT_EDGE_TLS_KEY",
            other_key_dir.join("key.pem").display().to_string(),
        ),
    ]);
    let config = EdgeConfig::from_env(&env).unwrap();
    let error = ferrocat_edge::run_until(config, std::future::pending()).unwrap_err();
    assert!(
        format!("{error:#}").contains("does not belong to the certificate"),
        "{error:#}"
    );
    let _ = std::fs::remove_dir_all(&dir);
    let _ = std::fs::remove_dir_all(&other_key_dir);
}
