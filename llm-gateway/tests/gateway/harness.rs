//! Starts the mock provider and a gateway whose catalog points every provider kind at it, with
//! test credentials, a usage sink the test can await, and helpers to mint tokens, post and read
//! SSE.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use ferrocat_llm_gateway::auth::{Claims, TokenKey, unix_now};
use ferrocat_llm_gateway::catalog::Catalog;
use ferrocat_llm_gateway::credentials::EnvCredentials;
use ferrocat_llm_gateway::usage::{UsageRecord, UsageSink};
use ferrocat_llm_gateway::{Gateway, GatewayConfig};
use ferrocat_shared::config::Env;
use ferrocat_test_support::llm_mock::MockProvider;
use secrecy::SecretString;
use serde_json::Value;
use tokio::sync::mpsc;

pub const SIGNING_SECRET: &str = "test-signing-secret-0123456789";
pub const OPENAI_KEY: &str = "sk-test-openai-0123456789SECRET";
/// No recognisable key shape: only exact-value redaction can catch it.
pub const ANTHROPIC_KEY: &str = "plain-anthropic-credential-42";
pub const GEMINI_KEY: &str = "AIzaMockGeminiKey0123456789";
pub const AZURE_KEY: &str = "azure-credential-7f3e9a";
pub const KEYS: [&str; 4] = [OPENAI_KEY, ANTHROPIC_KEY, GEMINI_KEY, AZURE_KEY];

fn catalog(mock: &MockProvider) -> String {
    let base = mock.url("");
    format!(
        r#"
[providers.openai]
kind = "openai"
base_url = "{base}/openai/v1"
credential = "env:MOCK_OPENAI_KEY"
[providers.anthropic]
kind = "anthropic"
base_url = "{base}/anthropic"
credential = "env:MOCK_ANTHROPIC_KEY"
[providers.gemini]
kind = "gemini"
base_url = "{base}/gemini/v1beta"
credential = "env:MOCK_GEMINI_KEY"
[providers.azure]
kind = "azure"
base_url = "{base}/azure"
api_version = "2024-10-21"
credential = "env:MOCK_AZURE_KEY"
[providers.local]
kind = "openai_compatible"
base_url = "{base}/local/v1"
[providers.byok]
kind = "openai_compatible"
base_url = "{base}/byok/v1"
passthrough = true

[[models]]
name = "gpt"
provider = "openai"
upstream_model = "gpt-4o-mini"
[[models]]
name = "claude"
provider = "anthropic"
upstream_model = "claude-mock"
[[models]]
name = "gemini"
provider = "gemini"
upstream_model = "gemini-mock"
[[models]]
name = "azure-gpt"
provider = "azure"
upstream_model = "prod-deployment"
[[models]]
name = "local"
provider = "local"
upstream_model = "llama"
[[models]]
name = "byok"
provider = "byok"
upstream_model = "byok-model"
[[models]]
name = "flaky"
provider = "openai"
upstream_model = "fail-500-primary"
fallbacks = ["claude"]
[[models]]
name = "overloaded"
provider = "openai"
upstream_model = "fail-429-only"
[[models]]
name = "hanging"
provider = "openai"
upstream_model = "hang-primary"
fallbacks = ["gpt"]
[[models]]
name = "leaky"
provider = "openai"
upstream_model = "leak-openai"
[[models]]
name = "leaky-claude"
provider = "anthropic"
upstream_model = "leak-anthropic"
[[models]]
name = "gated"
provider = "openai"
upstream_model = "gated-openai"
[[models]]
name = "slowhead"
provider = "anthropic"
upstream_model = "slowhead-claude"
[[models]]
name = "limited"
provider = "openai"
upstream_model = "gpt-limited"
rpm = 2
[[models]]
name = "tiny"
provider = "openai"
upstream_model = "gpt-tiny"
max_tokens = 10
[[models]]
name = "embed"
provider = "openai"
upstream_model = "text-embedding-3-small"
[[models]]
name = "gemini-embed"
provider = "gemini"
upstream_model = "text-embedding-004"
"#
    )
}

struct ChannelSink(mpsc::UnboundedSender<UsageRecord>);

#[async_trait]
impl UsageSink for ChannelSink {
    async fn record(&self, record: &UsageRecord) {
        let _ = self.0.send(record.clone());
    }
}

/// A running gateway and its mock upstream.
pub struct TestGateway {
    pub base: String,
    pub mock: MockProvider,
    pub usage: mpsc::UnboundedReceiver<UsageRecord>,
    pub http: reqwest::Client,
    key: TokenKey,
}

/// A gateway with the test catalog; `adjust` changes the config first.
pub async fn spawn_with(adjust: impl FnOnce(&mut GatewayConfig)) -> TestGateway {
    let mock = MockProvider::spawn().await;
    let env = Env::from_pairs([
        ("FERROCAT_LLM_GATEWAY_SIGNING_SECRET", SIGNING_SECRET),
        ("FERROCAT_LLM_GATEWAY_RETRY_BACKOFF_MS", "5"),
        ("FERROCAT_LLM_GATEWAY_UPSTREAM_TIMEOUT_SECS", "10"),
        ("MOCK_OPENAI_KEY", OPENAI_KEY),
        ("MOCK_ANTHROPIC_KEY", ANTHROPIC_KEY),
        ("MOCK_GEMINI_KEY", GEMINI_KEY),
        ("MOCK_AZURE_KEY", AZURE_KEY),
        // The catalog's `limited` model has a per-minute limit, kept in the real Redis.
        ("FERROCAT_REDIS_URL", "redis://127.0.0.1:6379"),
    ]);
    let mut config = GatewayConfig::from_env(&env).unwrap();
    config.redis_prefix = format!("ferrocat-test:{}:", uuid::Uuid::new_v4());
    config.catalog = Catalog::parse(&catalog(&mock)).unwrap();
    config.credentials = EnvCredentials::capture(&env, config.catalog.env_credentials());
    adjust(&mut config);
    let (tx, usage) = mpsc::unbounded_channel();
    let gateway = Gateway::build(config, None, vec![Arc::new(ChannelSink(tx))]).await.unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(gateway.serve(listener, std::future::pending()));
    TestGateway {
        base,
        mock,
        usage,
        http: reqwest::Client::new(),
        key: TokenKey::new(&SecretString::from(SIGNING_SECRET.to_owned())),
    }
}

pub async fn spawn() -> TestGateway {
    spawn_with(|_| {}).await
}

impl TestGateway {
    /// A token for workspace `ws-test` allowing `models`, valid for 10 minutes.
    pub fn token(&self, models: &[&str]) -> String {
        self.token_for("ws-test", models, serde_json::Map::new())
    }

    pub fn token_for(&self, workspace: &str, models: &[&str], settings: serde_json::Map<String, Value>) -> String {
        self.key.mint(&Claims {
            workspace_id: workspace.into(),
            model: None,
            models: models.iter().map(|m| m.to_string()).collect(),
            provider: None,
            run_id: Some("run-42".into()),
            exp: unix_now() + 600,
            iat: unix_now(),
            settings,
        })
    }

    pub fn mint(&self, claims: &Claims) -> String {
        self.key.mint(claims)
    }

    pub async fn post(&self, path: &str, token: &str, body: &Value) -> reqwest::Response {
        self.http.post(format!("{}{path}", self.base)).bearer_auth(token).json(body).send().await.unwrap()
    }

    /// POSTs and returns status and JSON body.
    pub async fn post_json(&self, path: &str, token: &str, body: &Value) -> (u16, Value) {
        let r = self.post(path, token, body).await;
        let status = r.status().as_u16();
        let text = r.text().await.unwrap();
        (status, serde_json::from_str(&text).unwrap_or_else(|_| panic!("not JSON ({status}): {text}")))
    }

    /// The next usage record (the usage task is asynchronous).
    pub async fn next_usage(&mut self) -> UsageRecord {
        tokio::time::timeout(Duration::from_secs(10), self.usage.recv()).await.expect("a usage record within 10 s").unwrap()
    }
}

/// `(event name, data)` of every event of an SSE text; comments are skipped.
pub fn sse_events(text: &str) -> Vec<(Option<String>, String)> {
    text.split("\n\n")
        .filter_map(|frame| {
            let mut name = None;
            let mut data = None;
            for line in frame.lines() {
                if let Some(v) = line.strip_prefix("event: ") {
                    name = Some(v.to_owned());
                } else if let Some(v) = line.strip_prefix("data: ") {
                    data = Some(v.to_owned());
                }
            }
            data.map(|d| (name, d))
        })
        .collect()
}

/// The JSON data of every event but `[DONE]`.
pub fn sse_json(text: &str) -> Vec<Value> {
    sse_events(text).into_iter().filter(|(_, d)| d != "[DONE]").map(|(_, d)| serde_json::from_str(&d).unwrap()).collect()
}

/// Concatenated `choices[0].delta.content` of OpenAI chunks.
pub fn openai_stream_text(events: &[Value]) -> String {
    events.iter().filter_map(|e| e.pointer("/choices/0/delta/content").and_then(Value::as_str)).collect()
}

/// Panics if any test credential appears in `text`.
pub fn assert_no_key(text: &str) {
    for key in KEYS {
        assert!(!text.contains(key), "credential {key} leaked in: {text}");
    }
}
