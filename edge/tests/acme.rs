//! ACME against Debian's `pebble` with real HTTP-01 validation: `pebble-challtestsrv` is the DNS
//! server that maps every name to 127.0.0.1, so pebble fetches the token from the edge's plain
//! listener. A client that trusts only pebble's root then completes a request over HTTPS, and a
//! restart with the same cache directory serves the same certificate without a new order.
//!
//! The same runs with TLS-ALPN-01, answered by the edge's pre-TLS hook on the HTTPS listener.
//!
//! Requires the Debian package `pebble` (it ships `pebble` and `pebble-challtestsrv`); without
//! it the test fails and says so.

mod common;

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::{Upstreams, dead_addr, spawn_echo, spawn_edge_with};
use serde_json::Value;

/// Child processes killed (by their own handle) when the test ends, pass or fail.
struct Procs(Vec<Child>);

impl Drop for Procs {
    fn drop(&mut self) {
        for child in &mut self.0 {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

fn require(binary: &str) {
    let found = std::env::var_os("PATH")
        .is_some_and(|path| std::env::split_paths(&path).any(|dir| dir.join(binary).is_file()));
    assert!(
        found,
        "`{binary}` is not installed: the ACME test needs Debian's `pebble` package \
         (apt-get install -y pebble), which provides pebble and pebble-challtestsrv"
    );
}

/// A free loopback port for both TCP and UDP (the mock DNS server uses UDP).
fn free_udp_tcp_port() -> u16 {
    loop {
        let addr = dead_addr();
        if std::net::UdpSocket::bind(addr).is_ok() {
            return addr.port();
        }
    }
}

/// Pebble's own CA and its HTTPS certificate for `localhost`/`127.0.0.1`, made now (Debian's
/// package ships no test certificates). Returns the CA's PEM path.
fn pebble_certs(dir: &Path) -> PathBuf {
    let ca_key = rcgen::KeyPair::generate().unwrap();
    let mut ca_params = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
    ca_params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
    ca_params
        .distinguished_name
        .push(rcgen::DnType::CommonName, "ferrocat test pebble CA");
    ca_params.key_usages = vec![
        rcgen::KeyUsagePurpose::KeyCertSign,
        rcgen::KeyUsagePurpose::DigitalSignature,
    ];
    let ca_cert = ca_params.self_signed(&ca_key).unwrap();
    let issuer = rcgen::Issuer::new(ca_params, ca_key);

    let wfe_key = rcgen::KeyPair::generate().unwrap();
    let wfe_params =
        rcgen::CertificateParams::new(vec!["localhost".to_owned(), "127.0.0.1".to_owned()])
            .unwrap();
    let wfe_cert = wfe_params.signed_by(&wfe_key, &issuer).unwrap();

    std::fs::write(dir.join("ca.pem"), ca_cert.pem()).unwrap();
    std::fs::write(dir.join("wfe.pem"), wfe_cert.pem()).unwrap();
    std::fs::write(dir.join("wfe.key"), wfe_key.serialize_pem()).unwrap();
    dir.join("ca.pem")
}

fn spawn(command: &mut Command, log: &Path) -> Child {
    let out = std::fs::File::create(log).unwrap();
    command
        .stdout(out.try_clone().unwrap())
        .stderr(out)
        .stdin(Stdio::null())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start {command:?}: {e}"))
}

/// A client that trusts only `root_pem`, reaching `edge.test` at `addr`, reporting TLS info.
fn client_trusting(root_pem: &[u8], addr: SocketAddr) -> reqwest::Client {
    reqwest::Client::builder()
        .no_proxy()
        .tls_built_in_root_certs(false)
        .add_root_certificate(reqwest::Certificate::from_pem(root_pem).unwrap())
        .resolve("edge.test", addr)
        .tls_info(true)
        .timeout(Duration::from_secs(5))
        .build()
        .unwrap()
}

/// Polls (bounded) until `https://edge.test/api/x` succeeds; returns the leaf certificate (DER).
async fn wait_for_https(client: &reqwest::Client, https: SocketAddr, within: Duration) -> Vec<u8> {
    let url = format!("https://edge.test:{}/api/x", https.port());
    let started = Instant::now();
    let mut last = String::new();
    while started.elapsed() < within {
        match client.get(&url).send().await {
            Ok(response) if response.status() == 200 => {
                let leaf = response
                    .extensions()
                    .get::<reqwest::tls::TlsInfo>()
                    .and_then(|info| info.peer_certificate())
                    .expect("tls info")
                    .to_vec();
                let echo: Value = response.json().await.unwrap();
                assert_eq!(echo["upstream"], "api");
                assert_eq!(echo["headers"]["x-forwarded-proto"][0], "https");
                return leaf;
            }
            Ok(response) => last = format!("status {}", response.status()),
            Err(error) => last = format!("{error:?}"),
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    panic!("no verified HTTPS answer within {within:?}; last: {last}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn http01_certificate_from_pebble_is_served_and_cached() {
    certificate_from_pebble("http-01").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tls_alpn01_certificate_from_pebble_is_served_and_cached() {
    certificate_from_pebble("tls-alpn-01").await;
}

/// Obtains a certificate for `edge.test` with `challenge`, checks it with a client trusting only
/// pebble's root, then restarts the edge on the same cache.
async fn certificate_from_pebble(challenge: &str) {
    require("pebble");
    require("pebble-challtestsrv");
    let dir = std::env::temp_dir().join(format!(
        "ferrocat-edge-acme-{}-{}",
        std::process::id(),
        dead_addr().port()
    ));
    std::fs::create_dir_all(&dir).unwrap();
    let ca = pebble_certs(&dir);

    // The edge's listeners are the ports pebble validates on (httpPort / tlsPort).
    let http = SocketAddr::from(([127, 0, 0, 1], dead_addr().port()));
    let https = SocketAddr::from(([127, 0, 0, 1], dead_addr().port()));
    let acme_port = dead_addr().port();
    let pebble_mgmt = dead_addr().port();
    let dns_port = free_udp_tcp_port();
    let chall_mgmt = dead_addr().port();
    let config = serde_json::json!({"pebble": {
        "listenAddress": format!("127.0.0.1:{acme_port}"),
        "managementListenAddress": format!("127.0.0.1:{pebble_mgmt}"),
        "certificate": dir.join("wfe.pem"),
        "privateKey": dir.join("wfe.key"),
        "httpPort": http.port(),
        "tlsPort": https.port(),
        "ocspResponderURL": "",
        "externalAccountBindingRequired": false,
    }});
    std::fs::write(dir.join("pebble.json"), config.to_string()).unwrap();

    let mut procs = Procs(Vec::new());
    procs.0.push(spawn(
        Command::new("pebble-challtestsrv").args([
            "-dns01",
            &format!("127.0.0.1:{dns_port}"),
            "-http01",
            "",
            "-https01",
            "",
            "-tlsalpn01",
            "",
            "-management",
            &format!("127.0.0.1:{chall_mgmt}"),
            "-defaultIPv4",
            "127.0.0.1",
            "-defaultIPv6",
            "",
        ]),
        &dir.join("challtestsrv.log"),
    ));
    procs.0.push(spawn(
        Command::new("pebble")
            .arg("-config")
            .arg(dir.join("pebble.json"))
            .args(["-dnsserver", &format!("127.0.0.1:{dns_port}")])
            .env("PEBBLE_VA_NOSLEEP", "1")
            .env("PEBBLE_WFE_NONCEREJECT", "0"),
        &dir.join("pebble.log"),
    ));

    // Pebble makes a fresh root at every start; fetch it once it answers.
    let ca_pem = std::fs::read(&ca).unwrap();
    let pebble_client = reqwest::Client::builder()
        .no_proxy()
        .tls_built_in_root_certs(false)
        .add_root_certificate(reqwest::Certificate::from_pem(&ca_pem).unwrap())
        .timeout(Duration::from_secs(5))
        .build()
        .unwrap();
    let mut root = None;
    for _ in 0..100 {
        if let Ok(response) = pebble_client
            .get(format!("https://127.0.0.1:{pebble_mgmt}/roots/0"))
            .send()
            .await
            && response.status() == 200
        {
            root = Some(response.bytes().await.unwrap());
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let root = root.unwrap_or_else(|| {
        panic!(
            "pebble did not start; its log: {}",
            std::fs::read_to_string(dir.join("pebble.log")).unwrap_or_default()
        )
    });

    let (api, _) = spawn_echo("api").await;
    let (other, _) = spawn_echo("other").await;
    let upstreams = Upstreams {
        api,
        mcp: other,
        ui: other,
        s3: other,
    };
    let settings = [
        ("FERROCAT_EDGE_HTTP_ADDR", http.to_string()),
        ("FERROCAT_EDGE_HTTPS_ADDR", https.to_string()),
        ("FERROCAT_EDGE_DOMAINS", "edge.test".to_owned()),
        (
            "FERROCAT_EDGE_ACME_DIRECTORY",
            format!("https://127.0.0.1:{acme_port}/dir"),
        ),
        ("FERROCAT_EDGE_ACME_CA_FILE", ca.display().to_string()),
        (
            "FERROCAT_EDGE_ACME_CACHE_DIR",
            dir.join("cache").display().to_string(),
        ),
        ("FERROCAT_EDGE_ACME_EMAIL", "ops@edge.test".to_owned()),
        ("FERROCAT_EDGE_ACME_CHALLENGE", challenge.to_owned()),
    ];

    let edge = spawn_edge_with(&upstreams, &settings).await;
    let client = client_trusting(&root, https);
    let issued = wait_for_https(&client, https, Duration::from_secs(60)).await;
    tokio::task::spawn_blocking(move || edge.stop())
        .await
        .unwrap()
        .unwrap();

    // Restart on the same cache: the cached certificate is served, no new order is placed.
    let edge = spawn_edge_with(&upstreams, &settings).await;
    let cached = wait_for_https(&client, https, Duration::from_secs(10)).await;
    assert_eq!(cached, issued, "the restart serves the cached certificate");
    tokio::task::spawn_blocking(move || edge.stop())
        .await
        .unwrap()
        .unwrap();

    drop(procs);
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test]
async fn an_unreachable_acme_server_leaves_the_edge_running() {
    // No pebble needed: the directory points at a closed port, so every order fails and is
    // retried with back-off while plain HTTP keeps working.
    let dir = std::env::temp_dir().join(format!(
        "ferrocat-edge-acme-down-{}-{}",
        std::process::id(),
        dead_addr().port()
    ));
    let (api, _) = spawn_echo("api").await;
    let upstreams = Upstreams {
        api,
        mcp: api,
        ui: api,
        s3: api,
    };
    let edge = spawn_edge_with(
        &upstreams,
        &[
            ("FERROCAT_EDGE_HTTPS_ADDR", dead_addr().to_string()),
            ("FERROCAT_EDGE_DOMAINS", "edge.test".to_owned()),
            (
                "FERROCAT_EDGE_ACME_DIRECTORY",
                format!("https://{}/dir", dead_addr()),
            ),
            (
                "FERROCAT_EDGE_ACME_CACHE_DIR",
                dir.join("cache").display().to_string(),
            ),
        ],
    )
    .await;
    tokio::time::sleep(Duration::from_secs(2)).await; // at least one failed order and a retry
    let response = common::raw_get(edge.addr, "/__edge/healthz", &[]).await;
    assert_eq!(response.status, 200);
    let response = common::raw_get(edge.addr, "/api/x", &[("Host", "edge.test")]).await;
    assert_eq!(response.status, 308);
    tokio::task::spawn_blocking(move || edge.stop())
        .await
        .unwrap()
        .unwrap();
    let _ = std::fs::remove_dir_all(&dir);
}
