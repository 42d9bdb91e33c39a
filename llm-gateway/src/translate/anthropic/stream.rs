//! Streams: Anthropic's named events (`message_start`, `content_block_delta`...) <-> OpenAI's
//! `chat.completion.chunk`s, keeping the state each side needs (open blocks, tool-call indexes,
//! the final usage).

use std::collections::HashMap;

use serde_json::{Value, json};

use super::request::JSON_TOOL;
use super::response::{stop_from_openai, stop_to_openai};
use crate::auth::unix_now;
use crate::sse::SseEvent;
use crate::translate::translator::StreamTranslator;

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

impl StreamTranslator for StreamToOpenAi {
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

impl StreamTranslator for StreamFromOpenAi {
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
