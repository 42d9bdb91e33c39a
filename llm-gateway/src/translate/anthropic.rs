//! OpenAI chat completions <-> Anthropic messages: requests, responses and streams, including
//! tools (`tool_calls` <-> `tool_use`/`tool_result`) and JSON mode (a forced tool whose input is
//! returned as the message text, since Anthropic has no `response_format`).

use std::collections::HashMap;

use serde_json::{Map, Value, json};

use super::{Options, TranslateError, copy_keys, openai_text, parse_arguments};
use crate::auth::unix_now;
use crate::sse::SseEvent;

/// Name of the tool that carries a JSON-schema response through Anthropic.
pub const JSON_TOOL: &str = "ferrocat_json_response";

fn stop_to_openai(reason: Option<&str>) -> &'static str {
    match reason {
        Some("max_tokens") => "length",
        Some("tool_use") => "tool_calls",
        Some("refusal") => "content_filter",
        _ => "stop",
    }
}

fn stop_from_openai(reason: Option<&str>) -> &'static str {
    match reason {
        Some("length") => "max_tokens",
        Some("tool_calls") | Some("function_call") => "tool_use",
        _ => "end_turn",
    }
}

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

/// Anthropic stream events -> OpenAI chunks.
pub struct StreamToOpenAi {
    id: String,
    model: String,
    created: u64,
    include_usage: bool,
    /// Anthropic block index -> OpenAI tool call index, for tool_use blocks.
    tools: HashMap<u64, u64>,
    json_blocks: Vec<u64>,
    input_tokens: u64,
    output_tokens: u64,
    done: bool,
}

impl StreamToOpenAi {
    /// A translator whose chunks name `model`.
    pub fn new(model: &str, include_usage: bool) -> Self {
        Self {
            id: String::new(),
            model: model.to_owned(),
            created: unix_now(),
            include_usage,
            tools: HashMap::new(),
            json_blocks: Vec::new(),
            input_tokens: 0,
            output_tokens: 0,
            done: false,
        }
    }

    fn chunk(&self, delta: Value, finish: Option<&str>) -> SseEvent {
        SseEvent::data(json!({
            "id": self.id, "object": "chat.completion.chunk", "created": self.created, "model": self.model,
            "choices": [{"index": 0, "delta": delta, "finish_reason": finish, "logprobs": null}],
        }))
    }
}

impl super::StreamTranslator for StreamToOpenAi {
    fn event(&mut self, event: SseEvent, out: &mut Vec<SseEvent>) {
        let Ok(v) = serde_json::from_str::<Value>(&event.data) else { return };
        let index = v["index"].as_u64().unwrap_or(0);
        match v["type"].as_str() {
            Some("message_start") => {
                self.id = v.pointer("/message/id").and_then(Value::as_str).unwrap_or("msg").to_owned();
                self.input_tokens = v.pointer("/message/usage/input_tokens").and_then(Value::as_u64).unwrap_or(0);
                out.push(self.chunk(json!({"role": "assistant", "content": ""}), None));
            }
            Some("content_block_start") if v["content_block"]["type"] == "tool_use" => {
                if v["content_block"]["name"] == JSON_TOOL {
                    self.json_blocks.push(index);
                    return;
                }
                let tool_index = self.tools.len() as u64;
                self.tools.insert(index, tool_index);
                out.push(self.chunk(
                    json!({"tool_calls": [{"index": tool_index, "id": v["content_block"]["id"], "type": "function",
                                          "function": {"name": v["content_block"]["name"], "arguments": ""}}]}),
                    None,
                ));
            }
            Some("content_block_delta") => {
                let delta = &v["delta"];
                match delta["type"].as_str() {
                    Some("text_delta") => out.push(self.chunk(json!({"content": delta["text"]}), None)),
                    Some("input_json_delta") if self.json_blocks.contains(&index) => {
                        out.push(self.chunk(json!({"content": delta["partial_json"]}), None));
                    }
                    Some("input_json_delta") => {
                        if let Some(tool_index) = self.tools.get(&index) {
                            out.push(self.chunk(
                                json!({"tool_calls": [{"index": tool_index, "function": {"arguments": delta["partial_json"]}}]}),
                                None,
                            ));
                        }
                    }
                    _ => {}
                }
            }
            Some("message_delta") => {
                if let Some(n) = v.pointer("/usage/output_tokens").and_then(Value::as_u64) {
                    self.output_tokens = n;
                }
                if let Some(n) = v.pointer("/usage/input_tokens").and_then(Value::as_u64) {
                    self.input_tokens = n;
                }
                let finish = if self.json_blocks.is_empty() { stop_to_openai(v.pointer("/delta/stop_reason").and_then(Value::as_str)) } else { "stop" };
                out.push(self.chunk(json!({}), Some(finish)));
                if self.include_usage {
                    let (i, o) = (self.input_tokens, self.output_tokens);
                    out.push(SseEvent::data(json!({
                        "id": self.id, "object": "chat.completion.chunk", "created": self.created, "model": self.model,
                        "choices": [], "usage": {"prompt_tokens": i, "completion_tokens": o, "total_tokens": i + o},
                    })));
                }
            }
            Some("message_stop") => {
                self.done = true;
                out.push(SseEvent::done());
            }
            Some("error") => out.push(SseEvent::data(json!({"error": {
                "message": v.pointer("/error/message").cloned().unwrap_or_default(),
                "type": v.pointer("/error/type").cloned().unwrap_or_default(),
            }}))),
            _ => {}
        }
    }

    fn finish(&mut self, out: &mut Vec<SseEvent>) {
        if !self.done {
            self.done = true;
            out.push(SseEvent::done());
        }
    }
}

#[derive(PartialEq)]
enum Open {
    None,
    Text(u64),
    Tool(u64, u64),
}

/// OpenAI chunks -> Anthropic stream events.
pub struct StreamFromOpenAi {
    model: String,
    started: bool,
    open: Open,
    next_block: u64,
    stop_reason: &'static str,
    input_tokens: u64,
    output_tokens: u64,
    done: bool,
}

impl StreamFromOpenAi {
    /// A translator whose `message_start` names `model`.
    pub fn new(model: &str) -> Self {
        Self {
            model: model.to_owned(),
            started: false,
            open: Open::None,
            next_block: 0,
            stop_reason: "end_turn",
            input_tokens: 0,
            output_tokens: 0,
            done: false,
        }
    }

    fn close(&mut self, out: &mut Vec<SseEvent>) {
        let index = match self.open {
            Open::None => return,
            Open::Text(i) | Open::Tool(i, _) => i,
        };
        out.push(SseEvent::named("content_block_stop", json!({"type": "content_block_stop", "index": index})));
        self.open = Open::None;
    }

    fn start(&mut self, id: &Value, out: &mut Vec<SseEvent>) {
        if self.started {
            return;
        }
        self.started = true;
        out.push(SseEvent::named(
            "message_start",
            json!({"type": "message_start", "message": {
                "id": id, "type": "message", "role": "assistant", "model": self.model, "content": [],
                "stop_reason": null, "stop_sequence": null, "usage": {"input_tokens": 0, "output_tokens": 0},
            }}),
        ));
    }

    fn end(&mut self, out: &mut Vec<SseEvent>) {
        if self.done {
            return;
        }
        self.done = true;
        self.start(&Value::String("msg".into()), out);
        self.close(out);
        out.push(SseEvent::named(
            "message_delta",
            json!({"type": "message_delta", "delta": {"stop_reason": self.stop_reason, "stop_sequence": null},
                   "usage": {"input_tokens": self.input_tokens, "output_tokens": self.output_tokens}}),
        ));
        out.push(SseEvent::named("message_stop", json!({"type": "message_stop"})));
    }
}

impl super::StreamTranslator for StreamFromOpenAi {
    fn event(&mut self, event: SseEvent, out: &mut Vec<SseEvent>) {
        if event.data.trim() == "[DONE]" {
            self.end(out);
            return;
        }
        let Ok(v) = serde_json::from_str::<Value>(&event.data) else { return };
        if let Some(err) = v.get("error") {
            out.push(SseEvent::named(
                "error",
                json!({"type": "error", "error": {"type": "api_error", "message": err.get("message").cloned().unwrap_or_default()}}),
            ));
            return;
        }
        self.start(&v["id"], out);
        if let Some(usage) = v.get("usage").filter(|u| u.is_object()) {
            self.input_tokens = usage["prompt_tokens"].as_u64().unwrap_or(self.input_tokens);
            self.output_tokens = usage["completion_tokens"].as_u64().unwrap_or(self.output_tokens);
        }
        let Some(choice) = v.pointer("/choices/0") else { return };
        let delta = &choice["delta"];
        if let Some(text) = delta["content"].as_str().filter(|t| !t.is_empty()) {
            if !matches!(self.open, Open::Text(_)) {
                self.close(out);
                let index = self.next_block;
                self.next_block += 1;
                self.open = Open::Text(index);
                out.push(SseEvent::named(
                    "content_block_start",
                    json!({"type": "content_block_start", "index": index, "content_block": {"type": "text", "text": ""}}),
                ));
            }
            let Open::Text(index) = self.open else { unreachable!("opened above") };
            out.push(SseEvent::named(
                "content_block_delta",
                json!({"type": "content_block_delta", "index": index, "delta": {"type": "text_delta", "text": text}}),
            ));
        }
        for call in delta["tool_calls"].as_array().into_iter().flatten() {
            let tool = call["index"].as_u64().unwrap_or(0);
            let is_open = matches!(self.open, Open::Tool(_, t) if t == tool);
            if !is_open {
                self.close(out);
                let index = self.next_block;
                self.next_block += 1;
                self.open = Open::Tool(index, tool);
                out.push(SseEvent::named(
                    "content_block_start",
                    json!({"type": "content_block_start", "index": index,
                           "content_block": {"type": "tool_use", "id": call["id"], "name": call["function"]["name"], "input": {}}}),
                ));
            }
            let Open::Tool(index, _) = self.open else { unreachable!("opened above") };
            if let Some(args) = call.pointer("/function/arguments").and_then(Value::as_str).filter(|a| !a.is_empty()) {
                out.push(SseEvent::named(
                    "content_block_delta",
                    json!({"type": "content_block_delta", "index": index, "delta": {"type": "input_json_delta", "partial_json": args}}),
                ));
            }
        }
        if let Some(reason) = choice["finish_reason"].as_str() {
            self.stop_reason = stop_from_openai(Some(reason));
            self.close(out);
        }
    }

    fn finish(&mut self, out: &mut Vec<SseEvent>) {
        self.end(out);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::translate::StreamTranslator as _;

    const OPTS: Options = Options { default_max_tokens: 1024 };

    fn map(v: Value) -> Map<String, Value> {
        v.as_object().unwrap().clone()
    }

    #[test]
    fn openai_tool_conversation_to_anthropic_and_back() {
        let openai = map(json!({
            "model": "m", "max_tokens": 50, "stop": "END", "parallel_tool_calls": false,
            "messages": [
                {"role": "system", "content": "be brief"},
                {"role": "user", "content": "weather in Paris?"},
                {"role": "assistant", "content": null, "tool_calls": [
                    {"id": "call_1", "type": "function", "function": {"name": "get_weather", "arguments": "{\"city\":\"Paris\"}"}}]},
                {"role": "tool", "tool_call_id": "call_1", "content": "18C"},
            ],
            "tools": [{"type": "function", "function": {"name": "get_weather", "description": "d", "parameters": {"type": "object"}}}],
            "tool_choice": "required",
        }));
        let a = request_from_openai(&openai, OPTS).unwrap();
        assert_eq!(a["system"], "be brief");
        assert_eq!(a["max_tokens"], 50);
        assert_eq!(a["stop_sequences"], json!(["END"]));
        assert_eq!(a["messages"][1]["content"][0], json!({"type": "tool_use", "id": "call_1", "name": "get_weather", "input": {"city": "Paris"}}));
        assert_eq!(a["messages"][2]["content"][0]["type"], "tool_result");
        assert_eq!(a["messages"][2]["content"][0]["tool_use_id"], "call_1");
        assert_eq!(a["tools"][0]["input_schema"], json!({"type": "object"}));
        assert_eq!(a["tool_choice"], json!({"type": "any", "disable_parallel_tool_use": true}));

        let back = request_to_openai(&a).unwrap();
        assert_eq!(back["messages"][0], json!({"role": "system", "content": "be brief"}));
        assert_eq!(back["messages"][2]["tool_calls"][0]["function"]["arguments"], "{\"city\":\"Paris\"}");
        assert_eq!(back["messages"][3], json!({"role": "tool", "tool_call_id": "call_1", "content": "18C"}));
        assert_eq!(back["tool_choice"], "required");
        assert_eq!(back["parallel_tool_calls"], false);
    }

    #[test]
    fn json_schema_goes_through_a_forced_tool_and_comes_back_as_text() {
        let req = map(json!({"messages": [{"role": "user", "content": "x"}],
            "response_format": {"type": "json_schema", "json_schema": {"name": "r", "schema": {"type": "object", "properties": {"ok": {"type": "boolean"}}}}}}));
        let a = request_from_openai(&req, OPTS).unwrap();
        assert_eq!(a["tool_choice"], json!({"type": "tool", "name": JSON_TOOL}));
        assert_eq!(a["max_tokens"], 1024);
        let resp = json!({"id": "msg_1", "content": [{"type": "tool_use", "id": "t", "name": JSON_TOOL, "input": {"ok": true}}],
                          "stop_reason": "tool_use", "usage": {"input_tokens": 3, "output_tokens": 4}});
        let o = response_to_openai(resp, "m");
        assert_eq!(o["choices"][0]["message"]["content"], "{\"ok\":true}");
        assert_eq!(o["choices"][0]["finish_reason"], "stop");
        assert_eq!(o["usage"]["total_tokens"], 7);
    }

    #[test]
    fn openai_stream_with_tool_call_becomes_anthropic_events() {
        let mut t = StreamFromOpenAi::new("m");
        let mut out = Vec::new();
        for data in [
            json!({"id": "c1", "choices": [{"index": 0, "delta": {"role": "assistant", "content": "Hi"}}]}),
            json!({"id": "c1", "choices": [{"index": 0, "delta": {"tool_calls": [{"index": 0, "id": "call_9", "type": "function", "function": {"name": "f", "arguments": ""}}]}}]}),
            json!({"id": "c1", "choices": [{"index": 0, "delta": {"tool_calls": [{"index": 0, "function": {"arguments": "{\"a\":1}"}}]}}]}),
            json!({"id": "c1", "choices": [{"index": 0, "delta": {}, "finish_reason": "tool_calls"}]}),
            json!({"id": "c1", "choices": [], "usage": {"prompt_tokens": 5, "completion_tokens": 2}}),
        ] {
            t.event(SseEvent::data(data), &mut out);
        }
        t.event(SseEvent::done(), &mut out);
        let names: Vec<_> = out.iter().map(|e| e.event.clone().unwrap()).collect();
        assert_eq!(names, [
            "message_start", "content_block_start", "content_block_delta", "content_block_stop",
            "content_block_start", "content_block_delta", "content_block_stop", "message_delta", "message_stop",
        ]);
        let delta: Value = serde_json::from_str(&out[7].data).unwrap();
        assert_eq!(delta["delta"]["stop_reason"], "tool_use");
        assert_eq!(delta["usage"]["output_tokens"], 2);
        let tool: Value = serde_json::from_str(&out[5].data).unwrap();
        assert_eq!(tool["delta"]["partial_json"], "{\"a\":1}");
    }
}
