//! Requests, OpenAI chat completions <-> Anthropic messages: system prompts, content parts and
//! images, tools (`tool_calls` <-> `tool_use`/`tool_result`, turns merged as Anthropic requires)
//! and JSON mode, sent as a forced [`JSON_TOOL`].

use serde_json::{Map, Value, json};

use crate::translate::openai::{copy_keys, openai_text, parse_arguments};
use crate::translate::translator::{Options, TranslateError};

/// Name of the tool that carries a JSON-schema response through Anthropic.
pub const JSON_TOOL: &str = "ferrocat_json_response";

fn image_block(url: &str) -> Value {
    match url.strip_prefix("data:").and_then(|rest| rest.split_once(";base64,")) {
        Some((media_type, data)) => json!({"type": "image", "source": {"type": "base64", "media_type": media_type, "data": data}}),
        None => json!({"type": "image", "source": {"type": "url", "url": url}}),
    }
}

fn user_blocks(content: Option<&Value>) -> Value {
    match content {
        Some(Value::Array(parts)) => Value::Array(
            parts
                .iter()
                .filter_map(|p| match p.get("type").and_then(Value::as_str) {
                    Some("text") => Some(json!({"type": "text", "text": p.get("text").cloned().unwrap_or_default()})),
                    Some("image_url") => {
                        let url = p.pointer("/image_url/url").and_then(Value::as_str).unwrap_or_default();
                        Some(image_block(url))
                    }
                    _ => None,
                })
                .collect(),
        ),
        other => Value::String(openai_text(other)),
    }
}

/// Appends `message`, merging it into the previous one when the role repeats (Anthropic wants
/// alternating turns; OpenAI sends one `tool` message per result).
fn push_turn(messages: &mut Vec<Value>, role: &str, mut blocks: Vec<Value>) {
    if let Some(last) = messages.last_mut()
        && last["role"] == role
    {
        let content = last["content"].as_array_mut().expect("turns are built with block arrays");
        content.append(&mut blocks);
        return;
    }
    messages.push(json!({"role": role, "content": blocks}));
}

fn as_blocks(v: Value) -> Vec<Value> {
    match v {
        Value::Array(a) => a,
        Value::String(s) if s.is_empty() => vec![],
        Value::String(s) => vec![json!({"type": "text", "text": s})],
        _ => vec![],
    }
}

/// An OpenAI chat request as an Anthropic messages request.
pub fn request_from_openai(body: &Map<String, Value>, opts: Options) -> Result<Map<String, Value>, TranslateError> {
    let empty = vec![];
    let source = body.get("messages").and_then(Value::as_array).unwrap_or(&empty);
    let mut system = Vec::new();
    let mut messages = Vec::new();
    for m in source {
        let content = m.get("content");
        match m.get("role").and_then(Value::as_str) {
            Some("system") | Some("developer") => system.push(openai_text(content)),
            Some("user") => push_turn(&mut messages, "user", as_blocks(user_blocks(content))),
            Some("assistant") => {
                let mut blocks = as_blocks(Value::String(openai_text(content)));
                for call in m.get("tool_calls").and_then(Value::as_array).into_iter().flatten() {
                    blocks.push(json!({
                        "type": "tool_use",
                        "id": call.get("id").cloned().unwrap_or_default(),
                        "name": call.pointer("/function/name").cloned().unwrap_or_default(),
                        "input": parse_arguments(call.pointer("/function/arguments")),
                    }));
                }
                push_turn(&mut messages, "assistant", blocks);
            }
            Some("tool") => {
                let block = json!({
                    "type": "tool_result",
                    "tool_use_id": m.get("tool_call_id").cloned().unwrap_or_default(),
                    "content": openai_text(content),
                });
                push_turn(&mut messages, "user", vec![block]);
            }
            other => return Err(TranslateError(format!("unknown message role {other:?}"))),
        }
    }
    let mut out = Map::new();
    if !system.is_empty() {
        out.insert("system".into(), Value::String(system.join("\n\n")));
    }
    out.insert("messages".into(), Value::Array(messages));
    let max_tokens = body
        .get("max_completion_tokens")
        .or_else(|| body.get("max_tokens"))
        .and_then(Value::as_u64)
        .unwrap_or(opts.default_max_tokens);
    out.insert("max_tokens".into(), max_tokens.into());
    copy_keys(body, &mut out, &[("temperature", "temperature"), ("top_p", "top_p"), ("stream", "stream")]);
    match body.get("stop") {
        Some(Value::String(s)) => {
            out.insert("stop_sequences".into(), json!([s]));
        }
        Some(v @ Value::Array(_)) => {
            out.insert("stop_sequences".into(), v.clone());
        }
        _ => {}
    }
    if let Some(user) = body.get("user").and_then(Value::as_str) {
        out.insert("metadata".into(), json!({"user_id": user}));
    }
    let mut tools: Vec<Value> = body
        .get("tools")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|t| t.get("function"))
        .map(|f| {
            let mut tool = json!({
                "name": f.get("name").cloned().unwrap_or_default(),
                "input_schema": f.get("parameters").cloned().unwrap_or_else(|| json!({"type": "object"})),
            });
            if let Some(d) = f.get("description") {
                tool["description"] = d.clone();
            }
            tool
        })
        .collect();
    let mut tool_choice = match body.get("tool_choice") {
        Some(Value::String(s)) if s == "required" => Some(json!({"type": "any"})),
        Some(Value::String(s)) if s == "none" => Some(json!({"type": "none"})),
        Some(Value::String(s)) if s == "auto" => Some(json!({"type": "auto"})),
        Some(Value::Object(o)) => o.get("function").and_then(|f| f.get("name")).map(|n| json!({"type": "tool", "name": n})),
        _ => None,
    };
    if body.get("parallel_tool_calls") == Some(&Value::Bool(false)) {
        let choice = tool_choice.get_or_insert_with(|| json!({"type": "auto"}));
        choice["disable_parallel_tool_use"] = Value::Bool(true);
    }
    match body.get("response_format").and_then(|f| f.get("type")).and_then(Value::as_str) {
        Some("json_schema") => {
            let schema = body
                .get("response_format")
                .and_then(|f| f.pointer("/json_schema/schema"))
                .cloned()
                .unwrap_or_else(|| json!({"type": "object"}));
            tools.push(json!({"name": JSON_TOOL, "description": "Respond with the answer as JSON matching this schema.", "input_schema": schema}));
            tool_choice = Some(json!({"type": "tool", "name": JSON_TOOL}));
        }
        Some("json_object") => {
            let note = "Respond with a single JSON object and nothing else.";
            let system = match out.get("system").and_then(Value::as_str) {
                Some(s) => format!("{s}\n\n{note}"),
                None => note.to_owned(),
            };
            out.insert("system".into(), Value::String(system));
        }
        _ => {}
    }
    if !tools.is_empty() {
        out.insert("tools".into(), Value::Array(tools));
    }
    if let Some(choice) = tool_choice {
        out.insert("tool_choice".into(), choice);
    }
    Ok(out)
}

fn tool_result_text(content: Option<&Value>) -> String {
    match content {
        Some(Value::String(s)) => s.clone(),
        Some(Value::Array(blocks)) => blocks
            .iter()
            .filter_map(|b| b.get("text").and_then(Value::as_str))
            .collect::<Vec<_>>()
            .join(""),
        _ => String::new(),
    }
}

/// An Anthropic messages request as an OpenAI chat request.
pub fn request_to_openai(body: &Map<String, Value>) -> Result<Map<String, Value>, TranslateError> {
    let mut messages = Vec::new();
    match body.get("system") {
        Some(Value::String(s)) => messages.push(json!({"role": "system", "content": s})),
        Some(v @ Value::Array(_)) => messages.push(json!({"role": "system", "content": tool_result_text(Some(v))})),
        _ => {}
    }
    let empty = vec![];
    for m in body.get("messages").and_then(Value::as_array).unwrap_or(&empty) {
        let role = m.get("role").and_then(Value::as_str).unwrap_or("user");
        let blocks = match m.get("content") {
            Some(Value::String(s)) => {
                messages.push(json!({"role": role, "content": s}));
                continue;
            }
            Some(Value::Array(b)) => b,
            _ => return Err(TranslateError("message content must be a string or an array of blocks".into())),
        };
        if role == "assistant" {
            let text: String = blocks
                .iter()
                .filter(|b| b["type"] == "text")
                .filter_map(|b| b["text"].as_str())
                .collect();
            let calls: Vec<Value> = blocks
                .iter()
                .filter(|b| b["type"] == "tool_use")
                .map(|b| {
                    json!({"id": b["id"], "type": "function",
                           "function": {"name": b["name"], "arguments": b.get("input").unwrap_or(&json!({})).to_string()}})
                })
                .collect();
            let mut msg = json!({"role": "assistant", "content": if text.is_empty() { Value::Null } else { Value::String(text) }});
            if !calls.is_empty() {
                msg["tool_calls"] = Value::Array(calls);
            }
            messages.push(msg);
            continue;
        }
        // A user turn: tool results become `tool` messages (which must follow the assistant's
        // tool calls), the rest one user message.
        let mut parts = Vec::new();
        for b in blocks {
            match b["type"].as_str() {
                Some("tool_result") => messages.push(json!({
                    "role": "tool",
                    "tool_call_id": b["tool_use_id"],
                    "content": tool_result_text(b.get("content")),
                })),
                Some("text") => parts.push(json!({"type": "text", "text": b["text"]})),
                Some("image") => {
                    let source = &b["source"];
                    let url = match source["type"].as_str() {
                        Some("base64") => format!(
                            "data:{};base64,{}",
                            source["media_type"].as_str().unwrap_or("image/png"),
                            source["data"].as_str().unwrap_or_default()
                        ),
                        _ => source["url"].as_str().unwrap_or_default().to_owned(),
                    };
                    parts.push(json!({"type": "image_url", "image_url": {"url": url}}));
                }
                _ => {}
            }
        }
        if !parts.is_empty() {
            let all_text = parts.iter().all(|p| p["type"] == "text");
            let content = if all_text {
                Value::String(parts.iter().filter_map(|p| p["text"].as_str()).collect())
            } else {
                Value::Array(parts)
            };
            messages.push(json!({"role": "user", "content": content}));
        }
    }
    let mut out = Map::new();
    out.insert("messages".into(), Value::Array(messages));
    copy_keys(body, &mut out, &[("max_tokens", "max_tokens"), ("temperature", "temperature"), ("top_p", "top_p"), ("stop_sequences", "stop")]);
    if body.get("stream") == Some(&Value::Bool(true)) {
        out.insert("stream".into(), Value::Bool(true));
        out.insert("stream_options".into(), json!({"include_usage": true}));
    }
    if let Some(user) = body.get("metadata").and_then(|m| m.get("user_id")) {
        out.insert("user".into(), user.clone());
    }
    if let Some(tools) = body.get("tools").and_then(Value::as_array) {
        let tools: Vec<Value> = tools
            .iter()
            .map(|t| {
                let mut f = json!({"name": t["name"], "parameters": t.get("input_schema").cloned().unwrap_or_else(|| json!({"type": "object"}))});
                if let Some(d) = t.get("description") {
                    f["description"] = d.clone();
                }
                json!({"type": "function", "function": f})
            })
            .collect();
        out.insert("tools".into(), Value::Array(tools));
    }
    if let Some(choice) = body.get("tool_choice") {
        let mapped = match choice["type"].as_str() {
            Some("any") => json!("required"),
            Some("none") => json!("none"),
            Some("tool") => json!({"type": "function", "function": {"name": choice["name"]}}),
            _ => json!("auto"),
        };
        out.insert("tool_choice".into(), mapped);
        if choice.get("disable_parallel_tool_use") == Some(&Value::Bool(true)) {
            out.insert("parallel_tool_calls".into(), Value::Bool(false));
        }
    }
    Ok(out)
}
