//! Streams: frames forwarded in order and one at a time (the first reaches the caller while the
//! upstream is still held back), translated both ways including tool calls, keep-alive comments
//! while the upstream is silent, and usage recorded at the end.

use serde_json::{Value, json};

use crate::harness::{openai_stream_text, spawn, spawn_with, sse_events, sse_json};

fn tools_openai() -> Value {
    json!([{"type": "function", "function": {"name": "get_weather", "parameters": {"type": "object"}}}])
}

#[tokio::test]
async fn openai_stream_is_forwarded_frame_for_frame_and_usage_is_recorded() {
    let mut gw = spawn().await;
    let token = gw.token(&["gpt"]);
    let r = gw.post("/v1/chat/completions", &token, &json!({"model": "gpt", "stream": true, "messages": [{"role": "user", "content": "hi"}]})).await;
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["content-type"], "text/event-stream");
    let text = r.text().await.unwrap();
    assert_eq!(text, include_str!("../fixtures/openai_stream.sse"), "same format: bytes unchanged");
    let events = sse_json(&text);
    assert_eq!(openai_stream_text(&events), "Hello from the mock provider, streamed.");

    let usage = gw.next_usage().await;
    assert_eq!((usage.usage.input, usage.usage.output), (12, 8));
    assert!(usage.stream);
    assert_eq!(usage.status, 200);
    assert_eq!(usage.workspace_id, "ws-test");
    assert_eq!(usage.run_id.as_deref(), Some("run-42"));
    assert_eq!(usage.served_by, Some(("gpt".into(), "openai".into())));
    assert!(usage.first_event.unwrap() <= usage.latency);
}

#[tokio::test]
async fn first_frame_reaches_the_caller_before_the_upstream_finishes() {
    let gw = spawn().await;
    let token = gw.token(&["gated"]);
    let mut r = gw.post("/v1/chat/completions", &token, &json!({"model": "gated", "stream": true, "messages": [{"role": "user", "content": "hi"}]})).await;
    assert_eq!(r.status(), 200);
    let mut received = String::new();
    while !received.contains("\n\n") {
        let chunk = r.chunk().await.unwrap().expect("the first frame, while the mock holds the rest");
        received.push_str(std::str::from_utf8(&chunk).unwrap());
    }
    // The mock sends nothing after its first frame until released: the gateway did not wait
    // for the whole upstream stream.
    assert_eq!(gw.mock.streams_finished(), 0);
    let first = sse_json(&received);
    assert_eq!(first.len(), 1, "{received}");
    assert_eq!(first[0]["choices"][0]["delta"]["role"], "assistant");
    gw.mock.release();
    while let Some(chunk) = r.chunk().await.unwrap() {
        received.push_str(std::str::from_utf8(&chunk).unwrap());
    }
    assert_eq!(gw.mock.streams_finished(), 1);
    assert_eq!(openai_stream_text(&sse_json(&received)), "Hello from the mock provider, streamed.");
    assert!(received.ends_with("data: [DONE]\n\n"));
}

#[tokio::test]
async fn keep_alive_comments_flow_while_the_upstream_is_silent() {
    let gw = spawn_with(|c| c.keepalive = std::time::Duration::from_millis(20)).await;
    let token = gw.token(&["slowhead"]);
    let mut r = gw.post("/v1/chat/completions", &token, &json!({"model": "slowhead", "stream": true, "messages": [{"role": "user", "content": "hi"}]})).await;
    // The head arrives although the provider has not answered yet.
    assert_eq!(r.status(), 200);
    let first = r.chunk().await.unwrap().unwrap();
    assert_eq!(&first[..], b": keep-alive\n\n");
    assert_eq!(gw.mock.received().len(), 1, "the upstream request is out, unanswered");
    gw.mock.release();
    let mut rest = String::new();
    while let Some(chunk) = r.chunk().await.unwrap() {
        rest.push_str(std::str::from_utf8(&chunk).unwrap());
    }
    let events = sse_json(&rest);
    assert_eq!(openai_stream_text(&events), "Hello from the mock provider, streamed.");
    assert_eq!(events.iter().filter(|e| e["choices"][0]["finish_reason"] == "stop").count(), 1);
    assert!(rest.ends_with("data: [DONE]\n\n"));
}

#[tokio::test]
async fn anthropic_stream_with_tool_use_becomes_openai_chunks() {
    let gw = spawn().await;
    let token = gw.token(&["claude"]);
    let body = json!({"model": "claude", "stream": true, "stream_options": {"include_usage": true},
                      "messages": [{"role": "user", "content": "Paris?"}], "tools": tools_openai()});
    let text = gw.post("/v1/chat/completions", &token, &body).await.text().await.unwrap();
    let events = sse_json(&text);
    assert!(text.ends_with("data: [DONE]\n\n"), "{text}");
    assert_eq!(events[0]["choices"][0]["delta"]["role"], "assistant");
    assert_eq!(events[0]["id"], "msg_mock2");
    assert_eq!(openai_stream_text(&events), "Let me check.");
    let calls: Vec<&Value> = events.iter().filter_map(|e| e.pointer("/choices/0/delta/tool_calls/0")).collect();
    assert_eq!(calls[0]["id"], "toolu_mock1");
    assert_eq!(calls[0]["function"]["name"], "get_weather");
    let args: String = calls.iter().filter_map(|c| c.pointer("/function/arguments").and_then(Value::as_str)).collect();
    assert_eq!(serde_json::from_str::<Value>(&args).unwrap(), json!({"city": "Paris"}));
    let finish: Vec<&Value> = events.iter().filter_map(|e| e.pointer("/choices/0/finish_reason")).filter(|f| !f.is_null()).collect();
    assert_eq!(finish, [&json!("tool_calls")]);
    let usage = events.iter().find_map(|e| e.get("usage")).expect("usage chunk, as include_usage asked");
    assert_eq!(usage, &json!({"prompt_tokens": 40, "completion_tokens": 9, "total_tokens": 49}));
}

#[tokio::test]
async fn openai_stream_with_tool_calls_becomes_anthropic_events() {
    let gw = spawn().await;
    let token = gw.token(&["gpt"]);
    let body = json!({"model": "gpt", "stream": true, "max_tokens": 50, "messages": [{"role": "user", "content": "Paris?"}],
                      "tools": [{"name": "get_weather", "input_schema": {"type": "object"}}]});
    let text = gw.post("/v1/messages", &token, &body).await.text().await.unwrap();
    let events = sse_events(&text);
    let names: Vec<&str> = events.iter().map(|(n, _)| n.as_deref().unwrap()).collect();
    assert_eq!(names, ["message_start", "content_block_start", "content_block_delta", "content_block_delta", "content_block_stop", "message_delta", "message_stop"]);
    let data: Vec<Value> = events.iter().map(|(_, d)| serde_json::from_str(d).unwrap()).collect();
    assert_eq!(data[1]["content_block"], json!({"type": "tool_use", "id": "call_mock1", "name": "get_weather", "input": {}}));
    let args: String = data.iter().filter_map(|d| d.pointer("/delta/partial_json").and_then(Value::as_str)).collect();
    assert_eq!(serde_json::from_str::<Value>(&args).unwrap(), json!({"city": "Paris"}));
    assert_eq!(data[5]["delta"]["stop_reason"], "tool_use");
    assert_eq!(data[5]["usage"]["output_tokens"], 9);
    // The upstream was asked for usage so that message_delta can carry it.
    assert_eq!(gw.mock.received()[0].body["stream_options"], json!({"include_usage": true}));
}

#[tokio::test]
async fn gemini_stream_reaches_both_dialects() {
    let gw = spawn().await;
    let token = gw.token(&["gemini"]);
    let text = gw
        .post("/v1/chat/completions", &token, &json!({"model": "gemini", "stream": true, "messages": [{"role": "user", "content": "hi"}]}))
        .await
        .text()
        .await
        .unwrap();
    assert_eq!(openai_stream_text(&sse_json(&text)), "Hello from the mock provider, streamed.");
    assert!(text.ends_with("data: [DONE]\n\n"));
    let sent = &gw.mock.received()[0];
    assert_eq!(sent.path, "/gemini/v1beta/models/gemini-mock:streamGenerateContent");
    assert_eq!(sent.query.as_deref(), Some("alt=sse"));

    let text = gw
        .post("/v1/messages", &token, &json!({"model": "gemini", "stream": true, "max_tokens": 9, "messages": [{"role": "user", "content": "hi"}]}))
        .await
        .text()
        .await
        .unwrap();
    let events = sse_events(&text);
    let deltas: String = events
        .iter()
        .filter_map(|(_, d)| serde_json::from_str::<Value>(d).ok())
        .filter_map(|d| d.pointer("/delta/text").and_then(Value::as_str).map(str::to_owned))
        .collect();
    assert_eq!(deltas, "Hello from the mock provider, streamed.");
    assert_eq!(events.first().unwrap().0.as_deref(), Some("message_start"));
    assert_eq!(events.last().unwrap().0.as_deref(), Some("message_stop"));
    let delta: Value = serde_json::from_str(&events[events.len() - 2].1).unwrap();
    assert_eq!(delta["usage"]["output_tokens"], 8);
}
