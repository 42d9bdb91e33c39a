//! Requests and responses translated between the OpenAI and Anthropic dialects and every
//! provider format, including tools, JSON mode and embeddings; what reaches the provider is
//! checked on the mock's side.

use serde_json::{Value, json};

use crate::harness::{ANTHROPIC_KEY, AZURE_KEY, GEMINI_KEY, OPENAI_KEY, spawn};

fn weather_tool_openai() -> Value {
    json!([{"type": "function", "function": {"name": "get_weather", "description": "Weather of a city",
        "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}}}])
}

fn weather_tool_anthropic() -> Value {
    json!([{"name": "get_weather", "description": "Weather of a city",
        "input_schema": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}}])
}

#[tokio::test]
async fn openai_caller_reaches_anthropic_with_tools_and_gets_tool_calls_back() {
    let gw = spawn().await;
    let token = gw.token(&["claude"]);
    let body = json!({
        "model": "claude", "max_tokens": 64,
        "messages": [
            {"role": "system", "content": "You are terse."},
            {"role": "user", "content": "Weather in Paris?"},
            {"role": "assistant", "content": null, "tool_calls": [{"id": "call_prev", "type": "function", "function": {"name": "get_weather", "arguments": "{\"city\":\"Lyon\"}"}}]},
            {"role": "tool", "tool_call_id": "call_prev", "content": "12C"},
        ],
        "tools": weather_tool_openai(),
        "tool_choice": "auto",
    });
    let (status, out) = gw.post_json("/v1/chat/completions", &token, &body).await;
    assert_eq!(status, 200, "{out}");
    assert_eq!(out["object"], "chat.completion");
    assert_eq!(out["model"], "claude");
    let message = &out["choices"][0]["message"];
    assert_eq!(message["content"], "Let me check.");
    assert_eq!(message["tool_calls"][0]["id"], "toolu_mock1");
    assert_eq!(message["tool_calls"][0]["function"]["name"], "get_weather");
    let args: Value = serde_json::from_str(message["tool_calls"][0]["function"]["arguments"].as_str().unwrap()).unwrap();
    assert_eq!(args, json!({"city": "Paris"}));
    assert_eq!(out["choices"][0]["finish_reason"], "tool_calls");
    assert_eq!(out["usage"], json!({"prompt_tokens": 40, "completion_tokens": 9, "total_tokens": 49}));

    let sent = &gw.mock.received()[0];
    assert_eq!(sent.path, "/anthropic/v1/messages");
    assert_eq!(sent.headers["x-api-key"], ANTHROPIC_KEY);
    assert_eq!(sent.headers["anthropic-version"], "2023-06-01");
    assert!(sent.headers.get("authorization").is_none(), "the caller token must not go upstream");
    let b = &sent.body;
    assert_eq!(b["model"], "claude-mock");
    assert_eq!(b["system"], "You are terse.");
    assert_eq!(b["max_tokens"], 64);
    assert_eq!(b["tools"][0]["name"], "get_weather");
    assert_eq!(b["tools"][0]["input_schema"]["required"], json!(["city"]));
    assert_eq!(b["tool_choice"], json!({"type": "auto"}));
    assert_eq!(b["messages"][1]["content"][0], json!({"type": "tool_use", "id": "call_prev", "name": "get_weather", "input": {"city": "Lyon"}}));
    assert_eq!(b["messages"][2]["content"][0], json!({"type": "tool_result", "tool_use_id": "call_prev", "content": "12C"}));
}

#[tokio::test]
async fn anthropic_caller_reaches_openai_with_tools_and_gets_tool_use_back() {
    let gw = spawn().await;
    let token = gw.token(&["gpt"]);
    let body = json!({
        "model": "gpt", "max_tokens": 100, "system": "Be brief.",
        "messages": [
            {"role": "user", "content": "Weather in Paris?"},
            {"role": "assistant", "content": [{"type": "tool_use", "id": "toolu_prev", "name": "get_weather", "input": {"city": "Lyon"}}]},
            {"role": "user", "content": [{"type": "tool_result", "tool_use_id": "toolu_prev", "content": [{"type": "text", "text": "12C"}]},
                                          {"type": "text", "text": "And Paris?"}]},
        ],
        "tools": weather_tool_anthropic(),
        "tool_choice": {"type": "any"},
    });
    let (status, out) = gw.post_json("/v1/messages", &token, &body).await;
    assert_eq!(status, 200, "{out}");
    assert_eq!(out["type"], "message");
    assert_eq!(out["role"], "assistant");
    assert_eq!(out["content"], json!([{"type": "tool_use", "id": "call_mock1", "name": "get_weather", "input": {"city": "Paris"}}]));
    assert_eq!(out["stop_reason"], "tool_use");
    assert_eq!(out["usage"], json!({"input_tokens": 40, "output_tokens": 9}));

    let sent = &gw.mock.received()[0];
    assert_eq!(sent.path, "/openai/v1/chat/completions");
    assert_eq!(sent.headers["authorization"], format!("Bearer {OPENAI_KEY}"));
    let b = &sent.body;
    assert_eq!(b["model"], "gpt-4o-mini");
    assert_eq!(b["messages"][0], json!({"role": "system", "content": "Be brief."}));
    assert_eq!(b["messages"][2]["tool_calls"][0]["function"], json!({"name": "get_weather", "arguments": "{\"city\":\"Lyon\"}"}));
    assert_eq!(b["messages"][3], json!({"role": "tool", "tool_call_id": "toolu_prev", "content": "12C"}));
    assert_eq!(b["messages"][4], json!({"role": "user", "content": "And Paris?"}));
    assert_eq!(b["tools"][0]["function"]["parameters"]["required"], json!(["city"]));
    assert_eq!(b["tool_choice"], "required");
}

#[tokio::test]
async fn same_format_calls_pass_through_unchanged_but_for_the_model() {
    let gw = spawn().await;
    let token = gw.token(&["claude", "gpt"]);
    let body = json!({"model": "claude", "max_tokens": 10, "messages": [{"role": "user", "content": "hi"}], "top_k": 5});
    let r = gw.post("/v1/messages", &token, &body).await;
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["x-ferrocat-model"], "claude");
    let text = r.text().await.unwrap();
    assert_eq!(text.trim(), include_str!("../fixtures/anthropic_message.json").trim());
    let sent = &gw.mock.received()[0];
    assert_eq!(sent.body, json!({"model": "claude-mock", "max_tokens": 10, "messages": [{"role": "user", "content": "hi"}], "top_k": 5}));

    let body = json!({"model": "gpt", "messages": [{"role": "user", "content": "hi"}], "logit_bias": {"50256": -100}});
    let r = gw.post("/v1/chat/completions", &token, &body).await;
    assert_eq!(r.text().await.unwrap().trim(), include_str!("../fixtures/openai_chat.json").trim());
    assert_eq!(gw.mock.received()[1].body["logit_bias"], json!({"50256": -100}));
}

#[tokio::test]
async fn gemini_serves_both_dialects_with_its_key_in_a_header() {
    let gw = spawn().await;
    let token = gw.token(&["gemini"]);
    let (status, out) = gw
        .post_json("/v1/chat/completions", &token, &json!({"model": "gemini", "messages": [{"role": "system", "content": "s"}, {"role": "user", "content": "hi"}], "max_tokens": 20}))
        .await;
    assert_eq!(status, 200, "{out}");
    assert_eq!(out["choices"][0]["message"]["content"], "Hello from the mock provider.");
    assert_eq!(out["choices"][0]["finish_reason"], "stop");
    assert_eq!(out["usage"]["total_tokens"], 19);
    let sent = &gw.mock.received()[0];
    assert_eq!(sent.path, "/gemini/v1beta/models/gemini-mock:generateContent");
    assert_eq!(sent.query, None, "the key must not be in the URL");
    assert_eq!(sent.headers["x-goog-api-key"], GEMINI_KEY);
    assert_eq!(sent.body["systemInstruction"]["parts"][0]["text"], "s");
    assert_eq!(sent.body["generationConfig"]["maxOutputTokens"], 20);
    assert!(sent.body.get("model").is_none());

    let (status, out) = gw
        .post_json("/v1/chat/completions", &token, &json!({"model": "gemini", "messages": [{"role": "user", "content": "Paris?"}], "tools": weather_tool_openai()}))
        .await;
    assert_eq!(status, 200);
    let call = &out["choices"][0]["message"]["tool_calls"][0];
    assert_eq!(call["function"]["name"], "get_weather");
    assert_eq!(serde_json::from_str::<Value>(call["function"]["arguments"].as_str().unwrap()).unwrap(), json!({"city": "Paris"}));
    assert_eq!(out["choices"][0]["finish_reason"], "tool_calls");
    assert_eq!(gw.mock.received()[1].body["tools"][0]["functionDeclarations"][0]["name"], "get_weather");

    let (status, out) = gw
        .post_json("/v1/messages", &token, &json!({"model": "gemini", "max_tokens": 5, "messages": [{"role": "user", "content": "Paris?"}], "tools": weather_tool_anthropic()}))
        .await;
    assert_eq!(status, 200, "{out}");
    assert_eq!(out["content"][0]["type"], "tool_use");
    assert_eq!(out["content"][0]["input"], json!({"city": "Paris"}));
    assert_eq!(out["stop_reason"], "tool_use");
}

#[tokio::test]
async fn azure_and_openai_compatible_use_their_paths_and_key_headers() {
    let gw = spawn().await;
    let token = gw.token(&["azure-gpt", "local"]);
    let body = json!({"model": "azure-gpt", "messages": [{"role": "user", "content": "hi"}]});
    let (status, out) = gw.post_json("/v1/chat/completions", &token, &body).await;
    assert_eq!(status, 200, "{out}");
    let sent = &gw.mock.received()[0];
    assert_eq!(sent.path, "/azure/openai/deployments/prod-deployment/chat/completions");
    assert_eq!(sent.query.as_deref(), Some("api-version=2024-10-21"));
    assert_eq!(sent.headers["api-key"], AZURE_KEY);
    assert!(sent.headers.get("authorization").is_none());

    let body = json!({"model": "local", "messages": [{"role": "user", "content": "hi"}]});
    let (status, _) = gw.post_json("/v1/chat/completions", &token, &body).await;
    assert_eq!(status, 200);
    let sent = &gw.mock.received()[1];
    assert_eq!(sent.path, "/local/v1/chat/completions");
    assert_eq!(sent.body["model"], "llama");
    assert!(sent.headers.get("authorization").is_none(), "a keyless provider gets no Authorization, not the caller's");
}

#[tokio::test]
async fn json_mode_reaches_each_provider_in_its_own_terms() {
    let gw = spawn().await;
    let token = gw.token(&["*"]);
    let format = json!({"type": "json_schema", "json_schema": {"name": "answer", "schema": {"type": "object", "properties": {"ok": {"type": "boolean"}}}}});
    for model in ["gpt", "claude", "gemini"] {
        let body = json!({"model": model, "messages": [{"role": "user", "content": "ok?"}], "response_format": format});
        let (status, _) = gw.post_json("/v1/chat/completions", &token, &body).await;
        assert_eq!(status, 200, "{model}");
    }
    let sent = gw.mock.received();
    assert_eq!(sent[0].body["response_format"], format);
    assert_eq!(sent[1].body["tool_choice"], json!({"type": "tool", "name": "ferrocat_json_response"}));
    assert_eq!(sent[1].body["tools"][0]["input_schema"], format["json_schema"]["schema"]);
    assert_eq!(sent[2].body["generationConfig"]["responseMimeType"], "application/json");
    assert_eq!(sent[2].body["generationConfig"]["responseJsonSchema"], format["json_schema"]["schema"]);
}

#[tokio::test]
async fn embeddings_from_openai_and_gemini() {
    let gw = spawn().await;
    let token = gw.token(&["embed", "gemini-embed"]);
    let (status, out) = gw.post_json("/v1/embeddings", &token, &json!({"model": "embed", "input": "hello"})).await;
    assert_eq!(status, 200, "{out}");
    assert_eq!(out["data"][0]["embedding"][0], 0.0023);
    assert_eq!(gw.mock.received()[0].body["model"], "text-embedding-3-small");

    let (status, out) = gw.post_json("/v1/embeddings", &token, &json!({"model": "gemini-embed", "input": ["a", "b"]})).await;
    assert_eq!(status, 200, "{out}");
    assert_eq!(out["object"], "list");
    assert_eq!(out["data"][1]["index"], 1);
    assert_eq!(out["data"][1]["embedding"], json!([0.5, 0.25, -0.125]));
    let sent = &gw.mock.received()[1];
    assert_eq!(sent.path, "/gemini/v1beta/models/text-embedding-004:batchEmbedContents");
    assert_eq!(sent.body["requests"][1], json!({"model": "models/text-embedding-004", "content": {"parts": [{"text": "b"}]}}));

    let (status, out) = gw.post_json("/v1/embeddings", &gw.token(&["claude"]), &json!({"model": "claude", "input": "x"})).await;
    assert_eq!(status, 400, "{out}");
    assert!(out["error"]["message"].as_str().unwrap().contains("no embeddings endpoint"));
}

#[tokio::test]
async fn models_lists_only_what_the_token_allows() {
    let gw = spawn().await;
    let r = gw.http.get(format!("{}/v1/models", gw.base)).bearer_auth(gw.token(&["gpt", "gemini", "not-in-catalog"])).send().await.unwrap();
    assert_eq!(r.status(), 200);
    let out: Value = r.json().await.unwrap();
    let ids: Vec<&str> = out["data"].as_array().unwrap().iter().map(|m| m["id"].as_str().unwrap()).collect();
    assert_eq!(ids, ["gpt", "gemini"]);
    assert_eq!(out["data"][0]["owned_by"], "openai");
}

#[tokio::test]
async fn token_settings_override_the_request_and_catalog_caps_max_tokens() {
    let gw = spawn().await;
    let settings = json!({"temperature": 0.1, "seed": 7, "api_base": "http://attacker.invalid"}).as_object().unwrap().clone();
    let token = gw.token_for("ws-test", &["tiny"], settings);
    let body = json!({"messages": [{"role": "user", "content": "hi"}], "temperature": 1.9, "max_tokens": 5000});
    let (status, _) = gw.post_json("/v1/chat/completions", &token, &body).await;
    assert_eq!(status, 200);
    let sent = &gw.mock.received()[0].body;
    assert_eq!(sent["model"], "gpt-tiny", "the token's only model is the default");
    assert_eq!(sent["temperature"], 0.1);
    assert_eq!(sent["seed"], 7);
    assert_eq!(sent["max_tokens"], 10);
    assert!(sent.get("api_base").is_none());
}
