//! The model gateway as the executor's actions see it: where it is, and a client that mints a
//! short-lived token per call (naming the run's workspace and the model) and retries what can
//! be retried. Provider keys stay in the gateway.

use std::time::Duration;

use secrecy::SecretString;
use serde_json::{Map, Value};

use ferrocat_shared::config::{ConfigError, Env};
use ferrocat_shared::gateway_token::{Claims, TokenKey, unix_now};
use ferrocat_shared::temporal::RunContext;

use crate::error::ActionError;

/// `FERROCAT_LLM_GATEWAY_URL` (else `http://` + `FERROCAT_LLM_GATEWAY_ADDR`) and the gateway's
/// signing secret.
#[derive(Debug, Clone)]
pub struct GatewaySettings {
    base: String,
    secret: SecretString,
}

impl GatewaySettings {
    /// `None` when the address or the secret is missing; an error when the URL is not one.
    pub fn from_env(env: &Env) -> Result<Option<Self>, ConfigError> {
        let base = match (env.get("FERROCAT_LLM_GATEWAY_URL"), env.get("FERROCAT_LLM_GATEWAY_ADDR")) {
            (Some(url), _) => url.trim_end_matches('/').to_owned(),
            (None, Some(addr)) => format!("http://{addr}"),
            (None, None) => return Ok(None),
        };
        if let Err(e) = url::Url::parse(&base) {
            return Err(ConfigError::Invalid { key: "FERROCAT_LLM_GATEWAY_URL".into(), value: base, reason: e.to_string() });
        }
        let Some(secret) = env.get("FERROCAT_LLM_GATEWAY_SIGNING_SECRET") else { return Ok(None) };
        Ok(Some(Self { base, secret: SecretString::from(secret.to_owned()) }))
    }
}

/// The gateway the executor calls, and the key its tokens are signed with.
pub struct AiGateway {
    base: String,
    key: TokenKey,
    /// The gateway is one of the stack's own services: its client is not the actions' one,
    /// whose egress policy refuses it.
    http: reqwest::Client,
}

impl AiGateway {
    /// The client `settings` describe.
    pub fn new(settings: &GatewaySettings) -> anyhow::Result<Self> {
        let http = reqwest::Client::builder().build()?;
        Ok(Self { base: settings.base.clone(), key: TokenKey::new(&settings.secret), http })
    }

    /// A token for `run` to call `model`, valid ten minutes.
    pub(crate) fn token(&self, run: &RunContext, model: &str) -> String {
        let now = unix_now();
        self.key.mint(&Claims {
            workspace_id: run.workspace_id.to_string(),
            model: Some(model.to_owned()),
            models: Vec::new(),
            provider: None,
            run_id: Some(run.wf_exec_id.clone()),
            exp: now + 600,
            iat: now,
            settings: Map::new(),
        })
    }

    /// One chat completion; 429 and 5xx are retried `retries` times (the gateway itself also
    /// falls back across deployments).
    pub(crate) async fn complete(&self, token: &str, body: &Value, retries: u32) -> Result<Value, ActionError> {
        let url = format!("{}/v1/chat/completions", self.base);
        let mut attempt = 0;
        loop {
            let response = self
                .http
                .post(&url)
                .bearer_auth(token)
                .json(body)
                .timeout(Duration::from_secs(300))
                .send()
                .await
                .map_err(|e| ActionError::Http(format!("the model gateway did not answer: {}", e.without_url())))?;
            let status = response.status();
            let text = response.text().await.map_err(|e| ActionError::Http(e.without_url().to_string()))?;
            if status.is_success() {
                return serde_json::from_str(&text).map_err(|e| ActionError::Http(format!("the model gateway sent bad JSON: {e}")));
            }
            let retryable = status.as_u16() == 429 || status.is_server_error();
            if retryable && attempt < retries {
                attempt += 1;
                tokio::time::sleep(Duration::from_millis(200 * 2u64.pow(attempt))).await;
                continue;
            }
            let detail = serde_json::from_str::<Value>(&text)
                .ok()
                .and_then(|v| v["error"]["message"].as_str().or(v["detail"].as_str()).map(str::to_owned))
                .unwrap_or(text);
            let message = format!("the model call failed ({status}): {detail}");
            return Err(if retryable { ActionError::Http(message) } else { ActionError::Value(message) });
        }
    }
}
