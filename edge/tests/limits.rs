//! Client limits (body size per route, header size, idle keep-alive) and the metrics endpoint.

mod common;

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use common::{TestEdge, Upstreams, client, dead_addr, raw_get, spawn_echo, spawn_edge_with};
use futures::stream;
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

async fn limited_stack(metrics: Option<SocketAddr>) -> TestEdge {
    let (api, _) = spawn_echo("api").await;
    let (mcp, _) = spawn_echo("mcp").await;
    let (ui, _) = spawn_echo("ui").await;
    let (s3, _) = spawn_echo("s3").await;
    let mut settings = vec![
        ("FERROCAT_EDGE_MAX_BODY_BYTES", "1000".to_owned()),
        ("FERROCAT_EDGE_S3_MAX_BODY_BYTES", "5000".to_owned()),
        ("FERROCAT_EDGE_MAX_HEADER_BYTES", "4096".to_owned()),
        ("FERROCAT_EDGE_CLIENT_IDLE_TIMEOUT_SECS", "1".to_owned()),
    ];
    if let Some(addr) = metrics {
        settings.push(("FERROCAT_EDGE_METRICS_ADDR", addr.to_string()));
    }
    spawn_edge_with(&Upstreams { api, mcp, ui, s3 }, &settings).await
}

#[tokio::test]
async fn bodies_over_the_route_limit_are_413() {
    let edge = limited_stack(None).await;
    let client = client();
    let post = |path: &str, len: usize| {
        client
            .post(format!("{}{path}", edge.base))
            .body(vec![b'x'; len])
            .send()
    };

    let response = post("/api/upload", 1000).await.unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(response.json::<Value>().await.unwrap()["body_len"], 1000);

    let response = post("/api/upload", 1001).await.unwrap();
    assert_eq!(response.status(), 413);
    assert_eq!(response.headers()["content-type"], "application/json");
    assert_eq!(
        response.json::<Value>().await.unwrap(),
        json!({"detail": "request body too large"})
    );

    // /s3 has a limit of its own.
    let response = post("/s3/bucket/key", 4000).await.unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(post("/s3/bucket/key", 5001).await.unwrap().status(), 413);

    // A chunked body declares no length: it is counted as it passes.
    let chunks: Vec<Result<Vec<u8>, std::io::Error>> =
        (0..4).map(|_| Ok(vec![b'y'; 400])).collect();
    let response = client
        .post(format!("{}/api/upload", edge.base))
        .body(reqwest::Body::wrap_stream(stream::iter(chunks)))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 413);
    assert_eq!(
        response.json::<Value>().await.unwrap(),
        json!({"detail": "request body too large"})
    );
}

#[tokio::test]
async fn oversized_headers_are_431() {
    let edge = limited_stack(None).await;
    let big = "a".repeat(5000);
    let response = raw_get(edge.addr, "/api/x", &[("X-Big", &big)]).await;
    assert_eq!(response.status, 431, "{response:?}");
    assert_eq!(
        response.json(),
        json!({"detail": "request header fields too large"})
    );
    let response = raw_get(edge.addr, "/api/x", &[("X-Small", "a")]).await;
    assert_eq!(response.status, 200);
}

#[tokio::test]
async fn idle_keep_alive_connections_are_closed() {
    let edge = limited_stack(None).await;
    let mut stream = TcpStream::connect(edge.addr).await.unwrap();
    let request = format!("GET /api/x HTTP/1.1\r\nHost: {}\r\n\r\n", edge.addr);
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut buf = vec![0u8; 64 * 1024];
    let n = stream.read(&mut buf).await.unwrap();
    assert!(
        buf[..n].starts_with(b"HTTP/1.1 200"),
        "{}",
        String::from_utf8_lossy(&buf[..n])
    );

    // Send nothing more: the edge closes the connection after the 1 s idle timeout.
    let started = Instant::now();
    let read = tokio::time::timeout(Duration::from_secs(10), async {
        loop {
            match stream.read(&mut buf).await {
                Ok(0) | Err(_) => break,
                Ok(_) => continue, // rest of a response that came in two reads
            }
        }
    })
    .await;
    assert!(read.is_ok(), "the idle connection was not closed");
    assert!(
        started.elapsed() >= Duration::from_millis(900),
        "closed too early"
    );

    // An HTTP/1.0 client without keep-alive gets its response and the close right away.
    let mut stream = TcpStream::connect(edge.addr).await.unwrap();
    stream
        .write_all(b"GET /api/x HTTP/1.0\r\n\r\n")
        .await
        .unwrap();
    let started = Instant::now();
    let mut response = Vec::new();
    tokio::time::timeout(Duration::from_secs(10), stream.read_to_end(&mut response))
        .await
        .unwrap()
        .unwrap();
    assert!(response.starts_with(b"HTTP/1.1 200") || response.starts_with(b"HTTP/1.0 200"));
    assert!(
        started.elapsed() < Duration::from_millis(800),
        "HTTP/1.0 connection held open for {:?}",
        started.elapsed()
    );
}

#[tokio::test]
async fn metrics_count_requests_by_route_and_status() {
    let metrics_addr = dead_addr();
    let edge = limited_stack(Some(metrics_addr)).await;
    for _ in 0..3 {
        assert_eq!(raw_get(edge.addr, "/api/x", &[]).await.status, 200);
    }
    assert_eq!(raw_get(edge.addr, "/mcp", &[]).await.status, 200);

    // Access logging (and counting) happens after the response is sent: poll, bounded.
    let mut text = String::new();
    for _ in 0..100 {
        let response = raw_get(metrics_addr, "/metrics", &[]).await;
        assert_eq!(response.status, 200);
        text = String::from_utf8(response.body).unwrap();
        if text.contains(r#"ferrocat_edge_requests_total{route="mcp",status="200"} 1"#)
            && text.contains(r#"ferrocat_edge_requests_total{route="api",status="200"} 3"#)
        {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(
        text.contains(r#"ferrocat_edge_requests_total{route="api",status="200"} 3"#),
        "{text}"
    );
    assert!(
        text.contains(r#"ferrocat_edge_requests_total{route="mcp",status="200"} 1"#),
        "{text}"
    );
    assert!(
        text.contains(r#"ferrocat_edge_upstream_response_seconds_count{route="api"} 3"#),
        "{text}"
    );
}

#[tokio::test]
async fn a_client_trickling_its_request_head_is_cut_off() {
    let (api, _) = spawn_echo("api").await;
    let settings = [("FERROCAT_EDGE_CLIENT_READ_TIMEOUT_SECS", "1".to_owned())];
    let edge = spawn_edge_with(
        &Upstreams {
            api,
            mcp: api,
            ui: api,
            s3: api,
        },
        &settings,
    )
    .await;
    let stream = TcpStream::connect(edge.addr).await.unwrap();
    let (mut reader, mut writer) = stream.into_split();
    let started = Instant::now();
    let closed = tokio::spawn(async move {
        let mut buf = [0u8; 1024];
        let mut got = Vec::new();
        loop {
            match reader.read(&mut buf).await {
                Ok(0) | Err(_) => return (started.elapsed(), got),
                Ok(n) => got.extend_from_slice(&buf[..n]),
            }
        }
    });
    // A byte-sized header line every 100 ms: each read is quick, the head never completes.
    writer.write_all(b"GET /api/x HTTP/1.1\r\n").await.unwrap();
    let mut n = 0;
    while !closed.is_finished() && started.elapsed() < Duration::from_secs(10) {
        if writer
            .write_all(format!("X-{n}: y\r\n").as_bytes())
            .await
            .is_err()
        {
            break;
        }
        n += 1;
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let (elapsed, got) = tokio::time::timeout(Duration::from_secs(10), closed)
        .await
        .expect("the edge closed the connection")
        .unwrap();
    assert!(got.is_empty(), "no response to an unfinished head: {got:?}");
    assert!(
        elapsed >= Duration::from_millis(900) && elapsed < Duration::from_secs(3),
        "closed after {elapsed:?}; the head timeout is 1 s"
    );

    // A complete head in time is served, and the body may then take its time.
    let response = raw_get(edge.addr, "/api/x", &[]).await;
    assert_eq!(response.status, 200);
}

#[tokio::test]
async fn a_chunked_body_over_the_limit_never_reaches_the_upstream_complete() {
    // An upstream that reports each request's arrival, then whether its body arrived whole.
    let (events_tx, mut events) = tokio::sync::mpsc::unbounded_channel::<Result<usize, String>>();
    let app = axum::Router::new().fallback(move |request: axum::extract::Request| {
        let events = events_tx.clone();
        async move {
            events.send(Ok(0)).unwrap();
            let body = axum::body::to_bytes(request.into_body(), usize::MAX).await;
            events
                .send(body.as_ref().map(|b| b.len()).map_err(|e| e.to_string()))
                .unwrap();
            "whole"
        }
    });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let upstream = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    let edge = spawn_edge_with(
        &Upstreams {
            api: upstream,
            mcp: upstream,
            ui: upstream,
            s3: upstream,
        },
        &[("FERROCAT_EDGE_MAX_BODY_BYTES", "1000".to_owned())],
    )
    .await;

    let mut stream = TcpStream::connect(edge.addr).await.unwrap();
    let head = format!(
        "POST /api/upload HTTP/1.1\r\nHost: {}\r\nTransfer-Encoding: chunked\r\n\r\n",
        edge.addr
    );
    stream.write_all(head.as_bytes()).await.unwrap();
    stream
        .write_all(format!("190\r\n{}\r\n", "a".repeat(400)).as_bytes())
        .await
        .unwrap();
    // The upstream has the request (and is reading its body) before the limit is crossed.
    assert_eq!(events.recv().await, Some(Ok(0)));
    stream
        .write_all(format!("3e8\r\n{}\r\n0\r\n\r\n", "b".repeat(1000)).as_bytes())
        .await
        .unwrap();
    let mut response = Vec::new();
    tokio::time::timeout(Duration::from_secs(10), stream.read_to_end(&mut response))
        .await
        .expect("a response")
        .unwrap();
    let text = String::from_utf8_lossy(&response);
    assert!(text.starts_with("HTTP/1.1 413"), "{text}");
    let outcome = tokio::time::timeout(Duration::from_secs(10), events.recv())
        .await
        .expect("the upstream sees the end of its connection")
        .unwrap();
    assert!(
        outcome.is_err(),
        "the upstream got a complete body: {outcome:?}"
    );
}
