//! OpenAI chat completions -> Gemini `generateContent`, and Gemini responses and streams back to
//! OpenAI's shape (tools as `functionDeclarations`/`functionCall`/`functionResponse`, JSON mode
//! as `responseMimeType` + `responseJsonSchema`). Embeddings both ways.

use std::collections::HashMap;

use serde_json::{Map, Value, json};

use super::openai::{openai_text, parse_arguments};
use super::translator::{StreamTranslator, TranslateError};
use crate::auth::unix_now;
use crate::sse::SseEvent;

fn parts_of(content: Option<&Value>) -> Vec<Value> {
    match content {
        Some(Value::Array(parts)) => parts
            .iter()
            .filter_map(|p| match p["type"].as_str() {
                Some("text") => Some(json!({"text": p["text"]})),
                Some("image_url") => {
                    let url = p.pointer("/image_url/url").and_then(Value::as_str).unwrap_or_default();
                    Some(match url.strip_prefix("data:").and_then(|r| r.split_once(";base64,")) {
                        Some((mime, data)) => json!({"inlineData": {"mimeType": mime, "data": data}}),
                        None => json!({"fileData": {"mimeType": "image/jpeg", "fileUri": url}}),
                    })
                }
                _ => None,
            })
            .collect(),
        other => vec![json!({"text": openai_text(other)})],
    }
}

fn push(contents: &mut Vec<Value>, role: &str, mut parts: Vec<Value>) {
    if let Some(last) = contents.last_mut()
        && last["role"] == role
    {
        last["parts"].as_array_mut().expect("built with arrays").append(&mut parts);
        return;
    }
    contents.push(json!({"role": role, "parts": parts}));
}

/// An OpenAI chat request as a Gemini `generateContent` body.
pub fn request_from_openai(body: &Map<String, Value>) -> Result<Map<String, Value>, TranslateError> {
    let mut system = Vec::new();
    let mut contents = Vec::new();
    let mut tool_names: HashMap<String, String> = HashMap::new();
    for m in body.get("messages").and_then(Value::as_array).into_iter().flatten() {
        match m["role"].as_str() {
            Some("system") | Some("developer") => system.push(json!({"text": openai_text(m.get("content"))})),
            Some("user") => push(&mut contents, "user", parts_of(m.get("content"))),
            Some("assistant") => {
                let mut parts = Vec::new();
                let text = openai_text(m.get("content"));
                if !text.is_empty() {
                    parts.push(json!({"text": text}));
                }
                for call in m["tool_calls"].as_array().into_iter().flatten() {
                    let name = call.pointer("/function/name").and_then(Value::as_str).unwrap_or_default();
                    if let Some(id) = call["id"].as_str() {
                        tool_names.insert(id.to_owned(), name.to_owned());
                    }
                    parts.push(json!({"functionCall": {"name": name, "args": parse_arguments(call.pointer("/function/arguments"))}}));
                }
                push(&mut contents, "model", parts);
            }
            Some("tool") => {
                let id = m["tool_call_id"].as_str().unwrap_or_default();
                let name = tool_names.get(id).cloned().unwrap_or_else(|| id.to_owned());
                let text = openai_text(m.get("content"));
                let response = match serde_json::from_str::<Value>(&text) {
                    Ok(v @ Value::Object(_)) => v,
                    _ => json!({"content": text}),
                };
                push(&mut contents, "user", vec![json!({"functionResponse": {"name": name, "response": response}})]);
            }
            other => return Err(TranslateError(format!("unknown message role {other:?}"))),
        }
    }
    let mut out = Map::new();
    out.insert("contents".into(), Value::Array(contents));
    if !system.is_empty() {
        out.insert("systemInstruction".into(), json!({"parts": system}));
    }
    let mut config = Map::new();
    for (from, to) in [
        ("temperature", "temperature"),
        ("top_p", "topP"),
        ("max_tokens", "maxOutputTokens"),
        ("max_completion_tokens", "maxOutputTokens"),
        ("n", "candidateCount"),
        ("seed", "seed"),
        ("presence_penalty", "presencePenalty"),
        ("frequency_penalty", "frequencyPenalty"),
    ] {
        if let Some(v) = body.get(from).filter(|v| !v.is_null()) {
            config.insert(to.into(), v.clone());
        }
    }
    match body.get("stop") {
        Some(Value::String(s)) => {
            config.insert("stopSequences".into(), json!([s]));
        }
        Some(v @ Value::Array(_)) => {
            config.insert("stopSequences".into(), v.clone());
        }
        _ => {}
    }
    if let Some(format) = body.get("response_format") {
        match format["type"].as_str() {
            Some("json_object") => {
                config.insert("responseMimeType".into(), json!("application/json"));
            }
            Some("json_schema") => {
                config.insert("responseMimeType".into(), json!("application/json"));
                if let Some(schema) = format.pointer("/json_schema/schema") {
                    config.insert("responseJsonSchema".into(), schema.clone());
                }
            }
            _ => {}
        }
    }
    if !config.is_empty() {
        out.insert("generationConfig".into(), Value::Object(config));
    }
    let declarations: Vec<Value> = body
        .get("tools")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|t| t.get("function"))
        .map(|f| {
            let mut d = json!({"name": f["name"]});
            if let Some(desc) = f.get("description") {
                d["description"] = desc.clone();
            }
            if let Some(p) = f.get("parameters") {
                d["parameters"] = p.clone();
            }
            d
        })
        .collect();
    if !declarations.is_empty() {
        out.insert("tools".into(), json!([{"functionDeclarations": declarations}]));
    }
    if let Some(choice) = body.get("tool_choice") {
        let config = match choice {
            Value::String(s) if s == "required" => json!({"mode": "ANY"}),
            Value::String(s) if s == "none" => json!({"mode": "NONE"}),
            Value::Object(o) => json!({"mode": "ANY", "allowedFunctionNames": [o.get("function").and_then(|f| f.get("name"))]}),
            _ => json!({"mode": "AUTO"}),
        };
        out.insert("toolConfig".into(), json!({"functionCallingConfig": config}));
    }
    Ok(out)
}

fn finish_reason(reason: Option<&str>, has_calls: bool) -> Option<&'static str> {
    Some(match reason? {
        "STOP" if has_calls => "tool_calls",
        "STOP" => "stop",
        "MAX_TOKENS" => "length",
        "SAFETY" | "RECITATION" | "BLOCKLIST" | "PROHIBITED_CONTENT" | "SPII" | "IMAGE_SAFETY" => "content_filter",
        _ => "stop",
    })
}

fn usage(body: &Value) -> Option<Value> {
    let u = body.get("usageMetadata")?;
    let input = u["promptTokenCount"].as_u64().unwrap_or(0);
    let output = u["candidatesTokenCount"].as_u64().unwrap_or(0) + u["thoughtsTokenCount"].as_u64().unwrap_or(0);
    Some(json!({"prompt_tokens": input, "completion_tokens": output, "total_tokens": input + output}))
}

/// Text and function calls of a candidate's parts; call ids are numbered from `first_call`.
fn split_parts(candidate: &Value, first_call: usize) -> (String, Vec<Value>) {
    let mut text = String::new();
    let mut calls = Vec::new();
    for p in candidate.pointer("/content/parts").and_then(Value::as_array).into_iter().flatten() {
        if p.get("thought") == Some(&Value::Bool(true)) {
            continue;
        }
        if let Some(t) = p["text"].as_str() {
            text.push_str(t);
        }
        if let Some(fc) = p.get("functionCall") {
            let id = fc["id"].as_str().map(str::to_owned).unwrap_or_else(|| format!("call_{}", first_call + calls.len()));
            calls.push(json!({"id": id, "type": "function",
                              "function": {"name": fc["name"], "arguments": fc.get("args").unwrap_or(&json!({})).to_string()}}));
        }
    }
    (text, calls)
}

/// A Gemini `generateContent` response as an OpenAI chat completion.
pub fn response_to_openai(body: Value, model: &str) -> Value {
    let candidate = &body["candidates"][0];
    let (text, calls) = split_parts(candidate, 0);
    let mut message = json!({"role": "assistant", "content": if text.is_empty() && !calls.is_empty() { Value::Null } else { Value::String(text) }});
    let finish = finish_reason(candidate["finishReason"].as_str(), !calls.is_empty()).unwrap_or("stop");
    if !calls.is_empty() {
        message["tool_calls"] = Value::Array(calls);
    }
    json!({
        "id": body.get("responseId").cloned().unwrap_or_else(|| json!("chatcmpl-gemini")),
        "object": "chat.completion",
        "created": unix_now(),
        "model": model,
        "choices": [{"index": 0, "message": message, "finish_reason": finish, "logprobs": null}],
        "usage": usage(&body).unwrap_or_else(|| json!({"prompt_tokens": 0, "completion_tokens": 0, "total_tokens": 0})),
    })
}

/// Gemini stream events (each a partial `GenerateContentResponse`) -> OpenAI chunks.
pub struct StreamToOpenAi {
    model: String,
    created: u64,
    include_usage: bool,
    id: String,
    started: bool,
    calls: usize,
    usage: Option<Value>,
    done: bool,
}

impl StreamToOpenAi {
    /// A translator whose chunks name `model`.
    pub fn new(model: &str, include_usage: bool) -> Self {
        Self { model: model.to_owned(), created: unix_now(), include_usage, id: "chatcmpl-gemini".into(), started: false, calls: 0, usage: None, done: false }
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
        if let Some(err) = v.get("error") {
            out.push(SseEvent::data(json!({"error": {"message": err["message"], "type": "api_error"}})));
            return;
        }
        if !self.started {
            self.started = true;
            if let Some(id) = v["responseId"].as_str() {
                self.id = id.to_owned();
            }
            out.push(self.chunk(json!({"role": "assistant", "content": ""}), None));
        }
        if let Some(u) = usage(&v) {
            self.usage = Some(u);
        }
        let candidate = &v["candidates"][0];
        let (text, calls) = split_parts(candidate, self.calls);
        if !text.is_empty() {
            out.push(self.chunk(json!({"content": text}), None));
        }
        if !calls.is_empty() {
            let deltas: Vec<Value> = calls
                .into_iter()
                .enumerate()
                .map(|(i, mut c)| {
                    c["index"] = json!(self.calls + i);
                    c
                })
                .collect();
            self.calls += deltas.len();
            out.push(self.chunk(json!({"tool_calls": deltas}), None));
        }
        if let Some(reason) = finish_reason(candidate["finishReason"].as_str(), self.calls > 0) {
            out.push(self.chunk(json!({}), Some(reason)));
        }
    }

    fn finish(&mut self, out: &mut Vec<SseEvent>) {
        if self.done {
            return;
        }
        self.done = true;
        if self.include_usage
            && let Some(u) = self.usage.take()
        {
            out.push(SseEvent::data(json!({
                "id": self.id, "object": "chat.completion.chunk", "created": self.created, "model": self.model,
                "choices": [], "usage": u,
            })));
        }
        out.push(SseEvent::done());
    }
}

/// An OpenAI embeddings request as a Gemini `batchEmbedContents` body.
pub fn embeddings_request(body: &Map<String, Value>, upstream_model: &str) -> Vec<u8> {
    let inputs: Vec<String> = match body.get("input") {
        Some(Value::String(s)) => vec![s.clone()],
        Some(Value::Array(a)) => a.iter().filter_map(|v| v.as_str().map(str::to_owned)).collect(),
        _ => vec![],
    };
    let requests: Vec<Value> = inputs
        .iter()
        .map(|text| {
            let mut r = json!({"model": format!("models/{upstream_model}"), "content": {"parts": [{"text": text}]}});
            if let Some(d) = body.get("dimensions") {
                r["outputDimensionality"] = d.clone();
            }
            r
        })
        .collect();
    serde_json::to_vec(&json!({"requests": requests})).expect("JSON values serialize")
}

/// A Gemini `batchEmbedContents` response as an OpenAI embeddings response.
pub fn embeddings_response(body: Value, model: &str) -> Value {
    let data: Vec<Value> = body["embeddings"]
        .as_array()
        .into_iter()
        .flatten()
        .enumerate()
        .map(|(i, e)| json!({"object": "embedding", "index": i, "embedding": e["values"]}))
        .collect();
    json!({"object": "list", "data": data, "model": model, "usage": {"prompt_tokens": 0, "total_tokens": 0}})
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tool_round_trip_keeps_names_and_json_mode() {
        let body = json!({
            "messages": [
                {"role": "system", "content": "s"},
                {"role": "user", "content": "q"},
                {"role": "assistant", "tool_calls": [{"id": "call_1", "type": "function", "function": {"name": "lookup", "arguments": "{\"q\":1}"}}]},
                {"role": "tool", "tool_call_id": "call_1", "content": "plain text"},
            ],
            "max_tokens": 9, "response_format": {"type": "json_object"},
            "tools": [{"type": "function", "function": {"name": "lookup", "parameters": {"type": "object"}}}],
        });
        let g = request_from_openai(body.as_object().unwrap()).unwrap();
        assert_eq!(g["systemInstruction"]["parts"][0]["text"], "s");
        assert_eq!(g["contents"][1]["parts"][0]["functionCall"], json!({"name": "lookup", "args": {"q": 1}}));
        assert_eq!(g["contents"][2]["parts"][0]["functionResponse"], json!({"name": "lookup", "response": {"content": "plain text"}}));
        assert_eq!(g["generationConfig"]["maxOutputTokens"], 9);
        assert_eq!(g["generationConfig"]["responseMimeType"], "application/json");
        assert_eq!(g["tools"][0]["functionDeclarations"][0]["name"], "lookup");
    }

    #[test]
    fn stream_numbers_tool_calls_and_ends_with_done() {
        let mut t = StreamToOpenAi::new("g", true);
        let mut out = Vec::new();
        t.event(SseEvent::data(json!({"candidates": [{"content": {"parts": [{"text": "Hel"}]}}]})), &mut out);
        t.event(
            SseEvent::data(json!({"candidates": [{"content": {"parts": [{"functionCall": {"name": "f", "args": {"x": 1}}}]}, "finishReason": "STOP"}],
                                  "usageMetadata": {"promptTokenCount": 4, "candidatesTokenCount": 6}})),
            &mut out,
        );
        t.finish(&mut out);
        let data: Vec<Value> = out.iter().filter(|e| e.data != "[DONE]").map(|e| serde_json::from_str(&e.data).unwrap()).collect();
        assert_eq!(data[1]["choices"][0]["delta"]["content"], "Hel");
        assert_eq!(data[2]["choices"][0]["delta"]["tool_calls"][0]["id"], "call_0");
        assert_eq!(data[3]["choices"][0]["finish_reason"], "tool_calls");
        assert_eq!(data[4]["usage"]["total_tokens"], 10);
        assert_eq!(out.last().unwrap().data, "[DONE]");
    }
}
