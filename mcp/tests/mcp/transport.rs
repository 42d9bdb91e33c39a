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
