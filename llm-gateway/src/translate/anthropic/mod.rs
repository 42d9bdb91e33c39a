//! OpenAI chat completions <-> Anthropic messages, one file per part of the exchange:
//! requests, non-streamed responses and streams, including tools (`tool_calls` <->
//! `tool_use`/`tool_result`) and JSON mode (a forced tool whose input is returned as the message
//! text, since Anthropic has no `response_format`).

mod request;
mod response;
mod stream;

pub use request::{JSON_TOOL, request_from_openai, request_to_openai};
pub use response::{response_from_openai, response_to_openai};
pub use stream::{StreamFromOpenAi, StreamToOpenAi};

#[cfg(test)]
mod tests {
    use serde_json::{Map, Value, json};

    use super::*;
    use crate::sse::SseEvent;
    use crate::translate::translator::{Options, StreamTranslator as _};

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
