//! The streamable HTTP transport's own checks: Origin and Host, and SSE keep-alives.

use std::time::{Duration, Instant};

use reqwest::{Client, StatusCode, header};
use serde_json::json;

use crate::common::{ADMIN_EMAIL, ADMIN_PASSWORD, spawn};

#[tokio::test]
async fn foreign_origins_and_hosts_are_refused_and_sse_streams_keep_alive() {
    let app = spawn().await;
    let (_, tokens) = app.sign_in(ADMIN_EMAIL, ADMIN_PASSWORD).await;
    let token = tokens.access.as_str();
    let initialize = json!({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
        "protocolVersion": "2025-11-25", "capabilities": {}, "clientInfo": {"name": "t", "version": "1"}}});
    // A page on another origin cannot drive the endpoint from a browser (DNS rebinding, CSRF).
    let reply = app.mcp(Some(token), &[("origin", "https://evil.example")], &initialize).await;
    assert_eq!(reply.status, StatusCode::FORBIDDEN, "{reply:?}");
    let reply = app.mcp(Some(token), &[("host", "evil.example")], &initialize).await;
    assert_eq!(reply.status, StatusCode::FORBIDDEN, "{reply:?}");
    // Its own origin passes.
    let own = app.url.clone();
    let reply = app.mcp(Some(token), &[("origin", own.as_str())], &initialize).await;
    assert_eq!(reply.status, StatusCode::OK, "{reply:?}");

    // The session's standalone stream carries `:` keep-alive comments (1 s in tests).
    let session = app.initialize(token).await;
    let mut stream = Client::new()
        .get(app.at("/mcp"))
        .bearer_auth(token)
        .header(header::ACCEPT, "text/event-stream")
        .header("mcp-session-id", &session)
        .header("mcp-protocol-version", "2025-11-25")
        .send()
        .await
        .unwrap();
    assert_eq!(stream.status(), StatusCode::OK);
    assert!(stream.headers()[header::CONTENT_TYPE].to_str().unwrap().starts_with("text/event-stream"));
    assert_eq!(stream.headers()["x-accel-buffering"], "no");
    let deadline = Instant::now() + Duration::from_secs(5);
    let mut seen = String::new();
    while Instant::now() < deadline && !seen.lines().any(|l| l.starts_with(':')) {
        match tokio::time::timeout(Duration::from_secs(5), stream.chunk()).await {
            Ok(Ok(Some(bytes))) => seen.push_str(&String::from_utf8_lossy(&bytes)),
            _ => break,
        }
    }
    assert!(seen.lines().any(|l| l.starts_with(':')), "no keep-alive comment in {seen:?}");
}

/// Writes `request` on `stream` in two parts (its body after the server may have answered)
/// and reads one response: its head, lowercased, and whether the connection stayed open.
async fn exchange(stream: &mut tokio::net::TcpStream, head: &str, body: &[u8]) -> String {
    use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
    stream.write_all(head.as_bytes()).await.unwrap();
    stream.flush().await.unwrap();
    tokio::task::yield_now().await;
    stream.write_all(body).await.unwrap();
    let mut got = Vec::new();
    let mut buf = [0u8; 8192];
    // Read until the head and the whole body (Content-Length) are in.
    loop {
        let n = tokio::time::timeout(Duration::from_secs(10), stream.read(&mut buf)).await.expect("a response").unwrap();
        assert!(n > 0, "the server closed the connection instead of answering; got {:?}", String::from_utf8_lossy(&got));
        got.extend_from_slice(&buf[..n]);
        let text = String::from_utf8_lossy(&got).to_lowercase();
        if let Some(end) = text.find("\r\n\r\n") {
            let length: usize = text[..end]
                .lines()
                .find_map(|l| l.strip_prefix("content-length:"))
                .map(|v| v.trim().parse().unwrap())
                .unwrap_or(0);
            if got.len() >= end + 4 + length {
                return text;
            }
        }
    }
}

/// A refused request's body is read before the 401 goes out: hyper closes a connection whose
/// request body was left unread, and an MCP client sends its next request (the resource
/// metadata) on the same connection. A body too large to read gets `Connection: close`.
#[tokio::test]
async fn a_refused_request_leaves_its_connection_usable() {
    let app = spawn().await;
    let addr = app.url.trim_start_matches("http://").to_owned();
    let body = json!({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {"pad": "x".repeat(4000)}}).to_string();
    for _ in 0..20 {
        let mut stream = tokio::net::TcpStream::connect(&addr).await.unwrap();
        let post = format!(
            "POST /mcp HTTP/1.1\r\nhost: {addr}\r\ncontent-type: application/json\r\naccept: application/json, text/event-stream\r\ncontent-length: {}\r\n\r\n",
            body.len()
        );
        let refused = exchange(&mut stream, &post, body.as_bytes()).await;
        assert!(refused.starts_with("http/1.1 401"), "{refused}");
        assert!(!refused.contains("connection: close"), "{refused}");
        let metadata = exchange(&mut stream, &format!("GET /.well-known/oauth-protected-resource/mcp HTTP/1.1\r\nhost: {addr}\r\n\r\n"), b"").await;
        assert!(metadata.starts_with("http/1.1 200"), "{metadata}");
    }
    let huge = "x".repeat(200 * 1024);
    let mut stream = tokio::net::TcpStream::connect(&addr).await.unwrap();
    let post = format!("POST /mcp HTTP/1.1\r\nhost: {addr}\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n", huge.len());
    let refused = exchange(&mut stream, &post, huge.as_bytes()).await;
    assert!(refused.starts_with("http/1.1 401") && refused.contains("connection: close"), "{refused}");
}
