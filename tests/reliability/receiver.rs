//! The vendors the workflows call: one local HTTP server that counts the posts per seq, serves
//! slow scatter items, holds calls at a gate the test opens, and plays a slow model provider whose agent calls a tool four times.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Json;
use axum::routing::post;
use serde_json::{Value, json};

/// Counts of what arrived, by number (a seq, a scatter item, a tool call).
pub type Seen = Arc<Mutex<BTreeMap<u64, u32>>>;

/// How many tool calls the provider's agent makes before it answers.
pub const TOOL_CALLS: u64 = 4;

/// How long a scatter item's call takes at `/slow`: long enough that a kill lands in it.
const SLOW: Duration = Duration::from_secs(8);

/// How long the provider takes to answer a turn.
const TURN: Duration = Duration::from_millis(1500);

#[derive(Clone, Default)]
pub struct Receiver {
    /// Where it listens: `http://127.0.0.1:port`.
    pub base: String,
    /// seq -> posts to `/post`.
    pub posts: Seen,
    /// item -> calls to `/slow` that began.
    pub slow_items: Seen,
    /// item -> calls to `/slow` that were answered (a caller that died took its call with it).
    pub slow_done: Seen,
    /// call -> the agent's tool calls to `/tool`.
    pub tool_calls: Seen,
    /// The provider's turns so far (requests to `/v1/chat/completions`).
    pub turns: Arc<Mutex<u32>>,
    /// seq -> calls to `/gate`, which are answered only once the gate is open.
    pub gated: Seen,
    /// Whether `/gate` answers (see [`Receiver::open_gate`]).
    gate: Arc<tokio::sync::watch::Sender<bool>>,
}

fn count(seen: &Seen, n: Option<u64>) {
    if let Some(n) = n {
        *seen.lock().unwrap().entry(n).or_default() += 1;
    }
}

/// The provider's answer to a conversation in which the agent made `done` tool calls: the next
/// call, or the final answer once it has made them all.
fn turn(model: &Value, done: u64, tool_url: &str) -> Value {
    let message = if done < TOOL_CALLS {
        let call = done + 1;
        let arguments = json!({"url": tool_url, "method": "POST", "payload": {"call": call}}).to_string();
        json!({"role": "assistant", "content": null, "tool_calls": [{"id": format!("call_{call}"), "type": "function", "function": {"name": "core__http_request", "arguments": arguments}}]})
    } else {
        json!({"role": "assistant", "content": format!("done after {done} tool calls")})
    };
    json!({
        "id": "chatcmpl-reliability", "object": "chat.completion", "created": 0, "model": model,
        "choices": [{"index": 0, "message": message, "finish_reason": "stop"}],
        "usage": {"prompt_tokens": 10, "completion_tokens": 5, "total_tokens": 15},
    })
}

impl Receiver {
    pub async fn start() -> Receiver {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let receiver = Receiver { base: format!("http://{}", listener.local_addr().unwrap()), ..Receiver::default() };
        let (posts, slow, tools, turns) = (receiver.posts.clone(), receiver.slow_items.clone(), receiver.tool_calls.clone(), receiver.turns.clone());
        let slow_done = receiver.slow_done.clone();
        let (gated, gate) = (receiver.gated.clone(), receiver.gate.clone());
        let tool_url = format!("{}/tool", receiver.base);
        let app = axum::Router::new()
            .route(
                "/post",
                post(move |Json(body): Json<Value>| {
                    count(&posts, body["seq"].as_u64());
                    async { Json(json!({"ok": true})) }
                }),
            )
            .route(
                "/slow",
                post(move |Json(body): Json<Value>| {
                    count(&slow, body["item"].as_u64());
                    let slow_done = slow_done.clone();
                    async move {
                        tokio::time::sleep(SLOW).await;
                        count(&slow_done, body["item"].as_u64());
                        Json(json!({"item": body["item"]}))
                    }
                }),
            )
            .route(
                "/gate",
                post(move |Json(body): Json<Value>| {
                    count(&gated, body["seq"].as_u64());
                    let mut open = gate.subscribe();
                    async move {
                        let _ = open.wait_for(|open| *open).await;
                        Json(json!({"seq": body["seq"]}))
                    }
                }),
            )
            .route(
                "/tool",
                post(move |Json(body): Json<Value>| {
                    count(&tools, body["call"].as_u64());
                    async move { Json(json!({"call": body["call"]})) }
                }),
            )
            .route(
                "/v1/chat/completions",
                post(move |Json(body): Json<Value>| {
                    *turns.lock().unwrap() += 1;
                    let done = body["messages"].as_array().map_or(0, |m| m.iter().filter(|m| m["role"] == "tool").count()) as u64;
                    let answer = turn(&body["model"], done, &tool_url);
                    async move {
                        tokio::time::sleep(TURN).await;
                        Json(answer)
                    }
                }),
            );
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        receiver
    }

    /// Answers the calls waiting at `/gate`, and every later one at once.
    pub fn open_gate(&self) {
        self.gate.send_replace(true);
    }

    /// `host:port`, for `FERROCAT_EGRESS_ALLOW`.
    pub fn host(&self) -> String {
        self.base.trim_start_matches("http://").to_owned()
    }
}
