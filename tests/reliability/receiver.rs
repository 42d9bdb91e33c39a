//! The vendor the workflows post to: a local HTTP server counting the posts per seq.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use axum::Json;
use axum::routing::post;
use serde_json::{Value, json};

/// Starts the receiver; its URL and seq -> posts seen.
pub async fn start() -> (String, Arc<Mutex<BTreeMap<u64, u32>>>) {
    let seen = Arc::new(Mutex::new(BTreeMap::new()));
    let recorded = seen.clone();
    let app = axum::Router::new().route(
        "/post",
        post(move |Json(body): Json<Value>| {
            let recorded = recorded.clone();
            async move {
                if let Some(seq) = body["seq"].as_u64() {
                    *recorded.lock().unwrap().entry(seq).or_default() += 1;
                }
                Json(json!({"ok": true}))
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (format!("http://{addr}/post"), seen)
}
