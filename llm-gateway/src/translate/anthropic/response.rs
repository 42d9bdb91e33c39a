//! Non-streamed answers, Anthropic messages <-> OpenAI chat completions, and the stop reasons
//! both ways (the streams map them the same); a [`JSON_TOOL`] call comes back as the text.

use serde_json::{Value, json};

use super::request::JSON_TOOL;
use crate::auth::unix_now;
use crate::translate::openai::{openai_text, parse_arguments};

/// An Anthropic `stop_reason` as an OpenAI `finish_reason`.
pub(super) fn stop_to_openai(reason: Option<&str>) -> &'static str {
    match reason {
        Some("max_tokens") => "length",
        Some("tool_use") => "tool_calls",
        Some("refusal") => "content_filter",
        _ => "stop",
    }
}

/// An OpenAI `finish_reason` as an Anthropic `stop_reason`.
pub(super) fn stop_from_openai(reason: Option<&str>) -> &'static str {
    match reason {
        Some("length") => "max_tokens",
        Some("tool_calls") | Some("function_call") => "tool_use",
        _ => "end_turn",
    }
}

/// An Anthropic message as an OpenAI chat completion.
pub fn response_to_openai(body: Value, model: &str) -> Value {
    let mut text = String::new();
    let mut calls = Vec::new();
    let mut json_mode = false;
    for b in body["content"].as_array().into_iter().flatten() {
        match b["type"].as_str() {
            Some("text") => text.push_str(b["text"].as_str().unwrap_or_default()),
            Some("tool_use") if b["name"] == JSON_TOOL => {
                json_mode = true;
                text.push_str(&b["input"].to_string());
            }
            Some("tool_use") => calls.push(json!({
                "id": b["id"], "type": "function",
                "function": {"name": b["name"], "arguments": b["input"].to_string()},
            })),
            _ => {}
        }
    }
    let finish = if json_mode { "stop" } else { stop_to_openai(body["stop_reason"].as_str()) };
    let mut message = json!({"role": "assistant", "content": if text.is_empty() && !calls.is_empty() { Value::Null } else { Value::String(text) }});
    if !calls.is_empty() {
        message["tool_calls"] = Value::Array(calls);
    }
    let input = body.pointer("/usage/input_tokens").and_then(Value::as_u64).unwrap_or(0);
    let output = body.pointer("/usage/output_tokens").and_then(Value::as_u64).unwrap_or(0);
    json!({
        "id": body["id"],
        "object": "chat.completion",
        "created": unix_now(),
        "model": model,
        "choices": [{"index": 0, "message": message, "finish_reason": finish, "logprobs": null}],
        "usage": {"prompt_tokens": input, "completion_tokens": output, "total_tokens": input + output},
    })
}

/// An OpenAI chat completion as an Anthropic message.
pub fn response_from_openai(body: Value, model: &str) -> Value {
    let choice = &body["choices"][0];
    let message = &choice["message"];
    let mut content = Vec::new();
    let text = openai_text(message.get("content"));
    if !text.is_empty() {
        content.push(json!({"type": "text", "text": text}));
    }
    for call in message["tool_calls"].as_array().into_iter().flatten() {
        content.push(json!({
            "type": "tool_use", "id": call["id"], "name": call["function"]["name"],
            "input": parse_arguments(call.pointer("/function/arguments")),
        }));
    }
    json!({
        "id": body["id"],
        "type": "message",
        "role": "assistant",
        "model": model,
        "content": content,
        "stop_reason": stop_from_openai(choice["finish_reason"].as_str()),
        "stop_sequence": null,
        "usage": {
            "input_tokens": body.pointer("/usage/prompt_tokens").and_then(Value::as_u64).unwrap_or(0),
            "output_tokens": body.pointer("/usage/completion_tokens").and_then(Value::as_u64).unwrap_or(0),
        },
    })
}
