//! The edge in front of real (echo) upstreams: routing, rewriting, failures and streaming.

mod common;

use std::sync::Arc;
use std::time::{Duration, Instant};

use common::{
    RawResponse, TestEdge, Upstreams, client, dead_addr, raw_get, raw_request, spawn_echo,
    spawn_edge, spawn_edge_with,
};
use ferrocat_edge::EdgeConfig;
use ferrocat_shared::config::Env;
use serde_json::{Value, json};

/// Four echo upstreams and an edge in front of them.
async fn stack() -> (TestEdge, common::SseControl) {
    let (api, _) = spawn_echo("api").await;
    let (mcp, sse) = spawn_echo("mcp").await;
    let (ui, _) = spawn_echo("ui").await;
    let (s3, _) = spawn_echo("s3").await;
    (spawn_edge(&Upstreams { api, mcp, ui, s3 }).await, sse)
}

fn header<'a>(echo: &'a Value, name: &str) -> Vec<&'a str> {
    echo["headers"][name]
        .as_array()
        .map_or_else(Vec::new, |values| {
            values.iter().map(|v| v.as_str().unwrap()).collect()
        })
}

#[tokio::test]
async fn routes_by_prefix_and_forwards_the_normalised_path() {
    let (edge, _) = stack().await;
    let cases = [
        ("/api/health", "api", "/health"),
        ("/api", "api", "/"),
        ("/API/x", "api", "/x"),
        ("/apix", "ui", "/apix"),
        ("/apihealth", "ui", "/apihealth"),
        ("/API/health", "api", "/health"),
        ("/%61pi/x", "api", "/x"),
        ("//api/x", "api", "/x"),
        ("/mcp/../api/x", "api", "/x"),
        ("/s3/../api/x", "api", "/x"),
        (
            "/api/webhooks/wf_1/s3cr3t/wait?a=1&b=%2F",
            "api",
            "/webhooks/wf_1/s3cr3t/wait?a=1&b=%2F",
        ),
        (
            "/s3/bucket/key.txt?X-Amz-Signature=abc",
            "s3",
            "/bucket/key.txt?X-Amz-Signature=abc",
        ),
        ("/S3/b", "s3", "/b"),
        ("/s3", "ui", "/s3"),
        ("/mcp", "mcp", "/mcp"),
        ("/mcp/messages?session=1", "mcp", "/mcp/messages?session=1"),
        ("/mcpx", "ui", "/mcpx"),
        ("/authorizex", "ui", "/authorizex"),
        ("/consentx", "ui", "/consentx"),
        (
            "/.well-known/oauth-authorization-server",
            "mcp",
            "/.well-known/oauth-authorization-server",
        ),
        (
            "/.well-known/oauth-protected-resource/mcp",
            "mcp",
            "/.well-known/oauth-protected-resource/mcp",
        ),
        ("/authorize?client_id=c", "mcp", "/authorize?client_id=c"),
        ("/token", "mcp", "/token"),
        ("/token/", "ui", "/token/"),
        ("/tokens", "ui", "/tokens"),
        ("/register", "mcp", "/register"),
        ("/register/x", "ui", "/register/x"),
        ("/consent/abc", "mcp", "/consent/abc"),
        ("/auth", "ui", "/auth"),
        ("/auth/callback?code=1", "mcp", "/auth/callback?code=1"),
        ("/", "ui", "/"),
        ("/workflows/../cases?tab=2", "ui", "/cases?tab=2"),
    ];
    for (target, upstream, forwarded) in cases {
        let response = raw_get(edge.addr, target, &[]).await;
        assert_eq!(response.status, 200, "{target}: {response:?}");
        let echo = response.json();
        assert_eq!(echo["upstream"], upstream, "upstream for {target}");
        assert_eq!(echo["uri"], forwarded, "path forwarded for {target}");
    }
}

#[tokio::test]
async fn api_gets_forwarding_headers_and_spoofed_values_are_dropped() {
    let (edge, _) = stack().await;
    let spoofed = [
        ("X-Forwarded-For", "6.6.6.6"),
        ("X-Real-IP", "6.6.6.6"),
        ("X-Forwarded-Host", "evil.example"),
    ];

    let echo = raw_get(edge.addr, "/api/x", &spoofed).await.json();
    assert_eq!(header(&echo, "x-forwarded-for"), ["127.0.0.1"]);
    assert_eq!(header(&echo, "x-real-ip"), ["127.0.0.1"]);
    assert_eq!(header(&echo, "x-forwarded-proto"), ["http"]);
    assert_eq!(
        header(&echo, "x-forwarded-host"),
        ["127.0.0.1"],
        "api gets the host without port"
    );
    assert_eq!(
        header(&echo, "host"),
        [edge.addr.to_string()],
        "Host is passed through"
    );

    let echo = raw_get(edge.addr, "/dashboard", &spoofed).await.json();
    assert_eq!(echo["upstream"], "ui");
    assert_eq!(header(&echo, "x-forwarded-for"), ["127.0.0.1"]);
    assert!(
        header(&echo, "x-real-ip").is_empty(),
        "client X-Real-IP is stripped: {echo}"
    );
    assert_eq!(header(&echo, "x-forwarded-host"), [edge.addr.to_string()]);
    assert_eq!(header(&echo, "x-forwarded-proto"), ["http"]);

    let echo = raw_get(edge.addr, "/mcp", &spoofed).await.json();
    assert_eq!(header(&echo, "x-forwarded-for"), ["127.0.0.1"]);
    assert!(
        header(&echo, "x-real-ip").is_empty(),
        "client X-Real-IP is stripped: {echo}"
    );
}

#[tokio::test]
async fn s3_gets_the_public_host_without_port_and_no_server_header() {
    let (edge, _) = stack().await;
    let headers = [
        ("Host", "files.example.org:8443"),
        ("Server", "client"),
        ("X-Forwarded-For", "6.6.6.6"),
    ];
    let echo = raw_get(edge.addr, "/s3/bucket/key", &headers).await.json();
    assert_eq!(echo["upstream"], "s3");
    assert_eq!(echo["uri"], "/bucket/key");
    assert_eq!(header(&echo, "host"), ["files.example.org"]);
    assert!(
        header(&echo, "server").is_empty(),
        "Server is removed: {echo}"
    );
    assert_eq!(header(&echo, "x-forwarded-for"), ["127.0.0.1"]);
    assert!(header(&echo, "x-real-ip").is_empty());

    // Only /s3 drops the port: other routes pass Host through.
    let echo = raw_get(edge.addr, "/", &headers).await.json();
    assert_eq!(header(&echo, "host"), ["files.example.org:8443"]);
    assert_eq!(header(&echo, "server"), ["client"]);
}

#[tokio::test]
async fn request_bodies_and_methods_pass_through() {
    let (edge, _) = stack().await;
    let response = client()
        .post(format!("{}/api/webhooks/wf/secret", edge.base))
        .json(&json!({"alert": "x".repeat(100_000)}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let echo: Value = response.json().await.unwrap();
    assert_eq!(echo["method"], "POST");
    assert_eq!(echo["uri"], "/webhooks/wf/secret");
    assert_eq!(echo["body_len"], 100_000 + r#"{"alert":""}"#.len());
}

#[tokio::test]
async fn webhook_requests_reach_the_api_without_cookies() {
    let (edge, _) = stack().await;
    let cookie = ("Cookie", "ferrocat_session=victim-session-token");
    // However the path is spelled, a webhook never gets the caller's cookies.
    for target in [
        "/api/webhooks/wf_1/s3cr3t",
        "/api/webhooks/wf_1/s3cr3t/wait?echo=true",
        "/API/Webhooks/wf_1/s3cr3t",
        "/%61pi/webhooks/wf_1/s3cr3t",
        "/api//webhooks/wf_1/s3cr3t",
    ] {
        let echo = raw_get(edge.addr, target, &[cookie, ("COOKIE", "second=1")]).await.json();
        assert_eq!(echo["upstream"], "api", "{target}");
        assert!(
            header(&echo, "cookie").is_empty(),
            "{target}: the api got a cookie: {echo}"
        );
    }
    // The console's own api calls keep their session.
    let echo = raw_get(edge.addr, "/api/workflows", &[cookie]).await.json();
    assert_eq!(
        header(&echo, "cookie"),
        ["ferrocat_session=victim-session-token"]
    );
}

#[tokio::test]
async fn an_http_1_1_request_without_host_is_refused() {
    let (edge, _) = stack().await;
    let response = raw_request(
        edge.addr,
        "GET /api/health HTTP/1.1\r\nConnection: close\r\n\r\n",
    )
    .await;
    assert_eq!(response.status, 400, "{response:?}");
    assert_eq!(
        response.json(),
        json!({"detail": "an HTTP/1.1 request needs a Host header"})
    );
    // An empty Host is no better.
    let response = raw_request(
        edge.addr,
        "GET /api/health HTTP/1.1\r\nHost:\r\nConnection: close\r\n\r\n",
    )
    .await;
    assert_eq!(response.status, 400, "{response:?}");
    // HTTP/1.0 has no Host requirement; with a Host, 1.1 passes.
    let response = raw_request(edge.addr, "GET /api/health HTTP/1.0\r\n\r\n").await;
    assert_eq!(response.status, 200, "{response:?}");
    assert_eq!(raw_get(edge.addr, "/api/health", &[]).await.status, 200);
}

#[tokio::test]
async fn health_is_answered_by_the_edge() {
    // Every upstream is dead: the answer cannot come from one.
    let dead = dead_addr();
    let edge = spawn_edge(&Upstreams {
        api: dead,
        mcp: dead,
        ui: dead,
        s3: dead,
    })
    .await;
    let response = client()
        .get(format!("{}/__edge/healthz", edge.base))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["content-type"], "application/json");
    assert_eq!(
        response.json::<Value>().await.unwrap(),
        json!({"status": "ok"})
    );

    let response = raw_get(edge.addr, "/__edge/other", &[]).await;
    assert_eq!(
        (response.status, response.json()),
        (404, json!({"detail": "not found"}))
    );
    let response = client()
        .post(format!("{}/__edge/healthz", edge.base))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 405);
}

#[tokio::test]
async fn a_dead_upstream_is_a_502_with_a_json_body() {
    let (api, _) = spawn_echo("api").await;
    let (ui, _) = spawn_echo("ui").await;
    let dead = dead_addr();
    let edge = spawn_edge(&Upstreams {
        api,
        mcp: dead,
        ui,
        s3: dead,
    })
    .await;

    let response: RawResponse = raw_get(edge.addr, "/s3/bucket/key", &[]).await;
    assert_eq!(response.status, 502);
    assert_eq!(response.header("content-type"), Some("application/json"));
    assert_eq!(
        response.json(),
        json!({"detail": "upstream s3 unavailable"})
    );

    let response = raw_get(edge.addr, "/token", &[]).await;
    assert_eq!(
        (response.status, response.json()),
        (502, json!({"detail": "upstream mcp unavailable"}))
    );

    // The live upstreams are unaffected.
    assert_eq!(
        raw_get(edge.addr, "/api/x", &[]).await.json()["upstream"],
        "api"
    );
}

#[tokio::test]
async fn a_silent_upstream_is_a_504_after_the_read_timeout() {
    let (edge, _) = stack().await;
    let started = std::time::Instant::now();
    let response = raw_get(edge.addr, "/api/hang", &[]).await;
    assert_eq!(response.status, 504, "{response:?}");
    assert_eq!(response.json(), json!({"detail": "upstream api timed out"}));
    assert!(
        started.elapsed() >= Duration::from_secs(1),
        "the read timeout is 1 s"
    );
}

#[tokio::test]
async fn mcp_sse_arrives_event_by_event() {
    let (edge, sse) = stack().await;
    let mut response = client()
        .get(format!("{}/mcp/sse", edge.base))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["content-type"], "text/event-stream");

    // The upstream holds the second event back until the first has arrived here, so a proxy that
    // buffered the response would never deliver anything (and the timeout fails the test).
    let mut received = Vec::new();
    while !received.ends_with(b"data: one\n\n") {
        let chunk = tokio::time::timeout(Duration::from_secs(5), response.chunk())
            .await
            .expect("the first event arrives before the upstream finishes")
            .unwrap()
            .expect("the stream is still open");
        received.extend_from_slice(&chunk);
    }
    assert_eq!(received, b"data: one\n\n");

    sse.finish();
    while let Some(chunk) = tokio::time::timeout(Duration::from_secs(5), response.chunk())
        .await
        .expect("the stream ends")
        .unwrap()
    {
        received.extend_from_slice(&chunk);
    }
    assert_eq!(
        String::from_utf8(received).unwrap(),
        "data: one\n\ndata: two\n\n"
    );
}

#[tokio::test]
async fn stopping_drains_and_returns() {
    let (edge, _) = stack().await;
    let addr = edge.addr;
    assert_eq!(raw_get(addr, "/api/x", &[]).await.status, 200);
    tokio::task::spawn_blocking(move || edge.stop())
        .await
        .unwrap()
        .expect("run_until returns Ok");
    // Nothing was in flight, so the stop was the fast one: Pingora's runtime threads drop the
    // listener just after `run_until` returns (bounded wait).
    let deadline = Instant::now() + Duration::from_secs(5);
    while tokio::net::TcpStream::connect(addr).await.is_ok() {
        assert!(Instant::now() < deadline, "the listener is still open");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

#[test]
fn a_taken_port_fails_the_start() {
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let env = Env::from_pairs([(
        "FERROCAT_EDGE_HTTP_ADDR",
        taken.local_addr().unwrap().to_string(),
    )]);
    let config = EdgeConfig::from_env(&env).unwrap();
    let error = ferrocat_edge::run_until(config, std::future::pending()).unwrap_err();
    assert!(error.to_string().contains("cannot listen on"), "{error}");
}

#[tokio::test]
async fn a_route_file_replaces_the_table() {
    let (api, _) = spawn_echo("api").await;
    let (hooks, _) = spawn_echo("hooks").await;
    let dir = std::env::temp_dir().join(format!("ferrocat-edge-routes-it-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("routes.toml");
    std::fs::write(
        &file,
        format!(
            r#"
            [[route]]
            name = "hooks"
            prefix = "/hooks"
            strip_prefix = "/hooks"
            upstream = "http://{hooks}"
            max_body_bytes = 10

            [[route]]
            name = "api"
            prefix = "/api"
            strip_prefix = "/api"
            upstream = "api"
            read_timeout_secs = 2
            "#
        ),
    )
    .unwrap();
    let dead = dead_addr();
    let upstreams = Upstreams {
        api,
        mcp: dead,
        ui: dead,
        s3: dead,
    };
    let settings = [("FERROCAT_EDGE_ROUTES", file.to_string_lossy().into_owned())];
    let edge = spawn_edge_with(&upstreams, &settings).await;

    let echo = raw_get(edge.addr, "/hooks/github?x=1", &[]).await.json();
    assert_eq!(
        (echo["upstream"].as_str(), echo["uri"].as_str()),
        (Some("hooks"), Some("/github?x=1"))
    );
    let echo = raw_get(edge.addr, "/API/x", &[]).await.json();
    assert_eq!(
        (echo["upstream"].as_str(), echo["uri"].as_str()),
        (Some("api"), Some("/x"))
    );

    let response = raw_get(edge.addr, "/dashboard", &[]).await;
    assert_eq!(
        (response.status, response.json()),
        (404, json!({"detail": "no route for this path"})),
        "the file has no fallback"
    );

    let response = client()
        .post(format!("{}/hooks/x", edge.base))
        .body(vec![b'x'; 11])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 413, "the route's own body limit");

    // The route's read timeout (2 s) replaces the global one (1 s in these tests).
    let started = std::time::Instant::now();
    let response = raw_get(edge.addr, "/api/hang", &[]).await;
    assert_eq!(response.status, 504);
    assert!(
        started.elapsed() >= Duration::from_secs(2),
        "{:?}",
        started.elapsed()
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

#[tokio::test]
async fn a_trusted_proxy_chain_is_appended_and_names_the_client() {
    let (api, _) = spawn_echo("api").await;
    let (ui, _) = spawn_echo("ui").await;
    let upstreams = Upstreams {
        api,
        mcp: ui,
        ui,
        s3: ui,
    };
    let trusted = [(
        "FERROCAT_EDGE_TRUSTED_PROXIES",
        "10.0.0.0/8, 127.0.0.0/8".to_owned(),
    )];
    let edge = spawn_edge_with(&upstreams, &trusted).await;
    // The peer (127.0.0.1) is trusted, so is the hop it names last; 198.51.100.7 is the client,
    // and the spoofed 6.6.6.6 to its left cannot become it.
    let sent = [
        ("X-Forwarded-For", "6.6.6.6, 198.51.100.7"),
        ("X-Forwarded-For", "10.1.2.3"),
        ("X-Real-IP", "6.6.6.6"),
    ];
    let echo = raw_get(edge.addr, "/api/x", &sent).await.json();
    assert_eq!(
        header(&echo, "x-forwarded-for"),
        ["6.6.6.6, 198.51.100.7, 10.1.2.3, 127.0.0.1"]
    );
    assert_eq!(header(&echo, "x-real-ip"), ["198.51.100.7"]);
    let echo = raw_get(edge.addr, "/", &sent).await.json();
    assert_eq!(
        header(&echo, "x-forwarded-for"),
        ["6.6.6.6, 198.51.100.7, 10.1.2.3, 127.0.0.1"]
    );
    assert!(header(&echo, "x-real-ip").is_empty(), "{echo}");
    // Without a chain the trusted peer is the client.
    let echo = raw_get(edge.addr, "/api/x", &[]).await.json();
    assert_eq!(header(&echo, "x-forwarded-for"), ["127.0.0.1"]);
    assert_eq!(header(&echo, "x-real-ip"), ["127.0.0.1"]);
}

#[tokio::test]
async fn an_untrusted_peer_cannot_spoof_even_with_trusted_proxies_set() {
    let (api, _) = spawn_echo("api").await;
    let upstreams = Upstreams {
        api,
        mcp: api,
        ui: api,
        s3: api,
    };
    let trusted = [(
        "FERROCAT_EDGE_TRUSTED_PROXIES",
        "10.0.0.0/8,fd00::/8".to_owned(),
    )];
    let edge = spawn_edge_with(&upstreams, &trusted).await;
    let sent = [
        ("X-Forwarded-For", "6.6.6.6, 10.0.0.1"),
        ("X-Real-IP", "6.6.6.6"),
    ];
    let echo = raw_get(edge.addr, "/api/x", &sent).await.json();
    assert_eq!(header(&echo, "x-forwarded-for"), ["127.0.0.1"]);
    assert_eq!(header(&echo, "x-real-ip"), ["127.0.0.1"]);
}

#[tokio::test]
async fn trusted_proxies_work_over_ipv6() {
    let (api, _) = spawn_echo("api").await;
    let upstreams = Upstreams {
        api,
        mcp: api,
        ui: api,
        s3: api,
    };
    let free = std::net::TcpListener::bind("[::1]:0").unwrap();
    let addr = free.local_addr().unwrap();
    drop(free);
    let settings = [
        ("FERROCAT_EDGE_HTTP_ADDR", addr.to_string()),
        ("FERROCAT_EDGE_TRUSTED_PROXIES", "::1/128".to_owned()),
    ];
    let edge = spawn_edge_with(&upstreams, &settings).await;
    let sent = [("X-Forwarded-For", "[2001:db8::7]:4711")];
    let echo = raw_get(edge.addr, "/api/x", &sent).await.json();
    assert_eq!(
        header(&echo, "x-forwarded-for"),
        ["[2001:db8::7]:4711, ::1"]
    );
    assert_eq!(header(&echo, "x-real-ip"), ["2001:db8::7"]);
}

/// An upstream whose every request waits for the test: it reports each arrival on `arrived`
/// and answers once `release` fires.
async fn spawn_gated() -> (
    std::net::SocketAddr,
    tokio::sync::mpsc::UnboundedReceiver<()>,
    Arc<tokio::sync::Notify>,
) {
    let (arrived_tx, arrived) = tokio::sync::mpsc::unbounded_channel();
    let release = Arc::new(tokio::sync::Notify::new());
    let gate = release.clone();
    let app = axum::Router::new().fallback(move || {
        let arrived = arrived_tx.clone();
        let gate = gate.clone();
        async move {
            let released = gate.notified();
            arrived.send(()).unwrap();
            released.await;
            "finished after the stop"
        }
    });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (addr, arrived, release)
}

#[tokio::test]
async fn stopping_finishes_a_request_in_flight_and_refuses_new_connections() {
    let (slow, mut arrived, release) = spawn_gated().await;
    let upstreams = Upstreams {
        api: slow,
        mcp: slow,
        ui: slow,
        s3: slow,
    };
    let grace = [("FERROCAT_EDGE_GRACE_PERIOD_SECS", "3".to_owned())];
    let edge = spawn_edge_with(&upstreams, &grace).await;
    let addr = edge.addr;
    let in_flight = tokio::spawn(raw_get(addr, "/api/slow", &[]));
    arrived
        .recv()
        .await
        .expect("the request reached the upstream");

    let stopping = tokio::task::spawn_blocking(move || edge.stop());
    // The listener closes as the stop begins, while the request is still held upstream.
    let deadline = Instant::now() + Duration::from_secs(5);
    while tokio::net::TcpStream::connect(addr).await.is_ok() {
        assert!(
            Instant::now() < deadline,
            "the edge still accepts connections"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(!in_flight.is_finished(), "the request is still in flight");

    release.notify_one();
    let response = in_flight.await.unwrap();
    assert_eq!(response.status, 200, "{response:?}");
    assert_eq!(response.body, b"finished after the stop");
    stopping.await.unwrap().expect("run_until returns Ok");
}

#[tokio::test]
async fn stopping_with_nothing_in_flight_skips_the_grace_period() {
    let (api, _) = spawn_echo("api").await;
    let metrics = dead_addr();
    let settings = [
        ("FERROCAT_EDGE_GRACE_PERIOD_SECS", "30".to_owned()),
        ("FERROCAT_EDGE_METRICS_ADDR", metrics.to_string()),
    ];
    let upstreams = Upstreams {
        api,
        mcp: api,
        ui: api,
        s3: api,
    };
    let edge = spawn_edge_with(&upstreams, &settings).await;
    assert_eq!(raw_get(edge.addr, "/api/x", &[]).await.status, 200);
    // The last request's context is dropped just after its response: wait until it is counted out.
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let text = String::from_utf8(raw_get(metrics, "/metrics", &[]).await.body).unwrap();
        if text.contains("ferrocat_edge_requests_in_flight 0") {
            break;
        }
        assert!(Instant::now() < deadline, "{text}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let started = Instant::now();
    tokio::task::spawn_blocking(move || edge.stop())
        .await
        .unwrap()
        .expect("run_until returns Ok");
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "stopped after {:?}; the grace period is 30 s",
        started.elapsed()
    );
}
