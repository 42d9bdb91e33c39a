//! One model call from request to response: check the token against the catalog, apply limits
//! and the token's settings, then try the model's deployment and its fallbacks (bounded
//! attempts, retries on 429/5xx/timeouts), translate, and record usage off the hot path.

use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use secrecy::{ExposeSecret as _, SecretString};
use serde_json::{Map, Value};

use crate::state::AppState;
use crate::auth::Claims;
use crate::catalog::Model;
use crate::error::{ApiError, GatewayError};
use crate::providers::{Auth, ProviderError};
use crate::redact::redact;
use crate::stream::{self, Start, StreamContext, StreamEnd, Upstream};
use crate::translate::{self, Options};
use crate::usage::{Usage, UsageRecord};
use crate::wire::{Dialect, Format};

/// Largest upstream error body read (the rest is not needed for a message).
const ERROR_BODY_LIMIT: usize = 64 << 10;

/// What the caller asked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    Chat,
    Embeddings,
}

/// One call as received.
pub struct Call {
    pub op: Op,
    pub endpoint: &'static str,
    pub dialect: Dialect,
    pub body: Map<String, Value>,
    pub claims: Claims,
    /// The caller's headers, forwarded to passthrough providers.
    pub headers: HeaderMap,
    pub started: Instant,
}

struct Plan {
    op: Op,
    dialect: Dialect,
    body: Map<String, Value>,
    stream: bool,
    candidates: Vec<Arc<Model>>,
    workspace_id: String,
    headers: HeaderMap,
}

/// Serves one chat or embeddings call.
pub async fn call(state: AppState, call: Call) -> Result<Response, ApiError> {
    let dialect = call.dialect;
    serve(state, call).await.map_err(|e| e.in_dialect(dialect))
}

async fn serve(state: AppState, mut call: Call) -> Result<Response, ApiError> {
    let name = match call.body.get("model").and_then(Value::as_str) {
        Some(name) => name.to_owned(),
        None => call.claims.default_model().map(str::to_owned).ok_or_else(|| GatewayError::BadRequest("request names no model".into()))?,
    };
    if !call.claims.allows_model(&name) {
        return Err(GatewayError::ModelNotAllowed(name).into());
    }
    let catalog = state.catalog.load();
    let model = catalog.get(&name).cloned().ok_or_else(|| GatewayError::UnknownModel(name.clone()))?;
    let candidates = catalog.candidates(&model);
    drop(catalog);
    if let Some(wanted) = &call.claims.provider
        && wanted != &model.deployment.provider_name
    {
        return Err(GatewayError::ProviderMismatch { token: wanted.clone(), model: name, actual: model.deployment.provider_name.clone() }.into());
    }
    if let Some(limiter) = &state.limiter {
        limiter.check(&call.claims.workspace_id, &name, model.rpm).await?;
    }
    if call.op == Op::Chat {
        apply_settings(&mut call.body, call.dialect, &call.claims, model.max_tokens);
    }
    let stream = call.op == Op::Chat && call.body.get("stream") == Some(&Value::Bool(true));
    let include_usage = call.body.get("stream_options").and_then(|o| o.get("include_usage")) == Some(&Value::Bool(true));
    let plan = Arc::new(Plan {
        op: call.op,
        dialect: call.dialect,
        candidates,
        body: std::mem::take(&mut call.body),
        stream,
        workspace_id: call.claims.workspace_id.clone(),
        headers: std::mem::take(&mut call.headers),
    });
    let record = {
        let state = state.clone();
        let claims = call.claims;
        let name = name.clone();
        let endpoint = call.endpoint;
        let started = call.started;
        move |end: StreamEnd| {
            state.usage.record(UsageRecord {
                workspace_id: claims.workspace_id,
                run_id: claims.run_id,
                model: name,
                served_by: end.upstream.as_ref().map(|u| (u.0.clone(), u.1.clone())),
                endpoint,
                stream,
                status: end.status,
                attempts: end.upstream.as_ref().map(|u| u.2).unwrap_or(0),
                usage: end.usage,
                latency: started.elapsed(),
                first_event: end.first_event,
                at: chrono::Utc::now(),
            })
        }
    };
    if !stream {
        return match complete(&state, &plan, &name).await {
            Ok((response, usage, served)) => {
                record(StreamEnd { usage, upstream: Some(served), status: 200, first_event: None });
                Ok(response)
            }
            Err(e) => {
                let e = ApiError::from(e);
                record(StreamEnd { usage: Usage::default(), upstream: None, status: e.status_code().as_u16(), first_event: None });
                Err(e)
            }
        };
    }
    let mut attempt = Box::pin(attempt_all(state.clone(), plan.clone()));
    let start = tokio::select! {
        result = &mut attempt => Start::Ready(result.map_err(ApiError::from)?),
        // The upstream is slow to answer: commit to a stream and keep it alive meanwhile.
        _ = tokio::time::sleep(state.config.keepalive) => {
            let dialect = plan.dialect;
            Start::Pending(Box::pin(async move { attempt.await.map_err(|e| ApiError::from(e).in_dialect(dialect)) }))
        }
    };
    Ok(stream::respond(
        start,
        StreamContext {
            dialect: plan.dialect,
            model: name,
            include_usage,
            keepalive: state.config.keepalive,
            idle_timeout: state.config.upstream_timeout,
            started: call.started,
            on_end: Box::new(record),
        },
    ))
}

/// Merges the token's allowed settings (they win over the request's) and caps `max_tokens`.
fn apply_settings(body: &mut Map<String, Value>, dialect: Dialect, claims: &Claims, cap: Option<u64>) {
    for (key, value) in claims.allowed_settings() {
        let key = match (dialect, key) {
            (Dialect::Anthropic, "stop") => "stop_sequences",
            (Dialect::Anthropic, "frequency_penalty" | "presence_penalty" | "seed" | "reasoning_effort") => continue,
            (_, k) => k,
        };
        body.insert(key.to_owned(), value.clone());
    }
    if let Some(cap) = cap {
        for key in ["max_tokens", "max_completion_tokens"] {
            if let Some(n) = body.get(key).and_then(Value::as_u64)
                && n > cap
            {
                body.insert(key.to_owned(), cap.into());
            }
        }
        if dialect == Dialect::Anthropic && !body.contains_key("max_tokens") {
            body.insert("max_tokens".into(), cap.into());
        }
    }
}

/// A non-streamed call: attempts, then the body read, translated and answered.
async fn complete(state: &AppState, plan: &Arc<Plan>, name: &str) -> Result<(Response, Usage, (String, String, u32)), GatewayError> {
    let up = attempt_all(state.clone(), plan.clone()).await?;
    let served = (up.model.name.clone(), up.model.deployment.provider_name.clone(), up.attempts);
    let provider = served.1.clone();
    let bytes = match tokio::time::timeout(state.config.upstream_timeout, up.response.bytes()).await {
        Ok(Ok(b)) => b,
        Ok(Err(e)) => return Err(ProviderError::Transport { provider, message: redact(&e.to_string(), &[]) }.into()),
        Err(_) => return Err(ProviderError::Timeout { provider, seconds: state.config.upstream_timeout.as_secs_f64() }.into()),
    };
    let caller = Format::from(plan.dialect);
    let usage = Usage::from_body(up.format, &bytes);
    let body = if up.format == caller && plan.op == Op::Chat {
        bytes
    } else {
        let value: Value = serde_json::from_slice(&bytes).map_err(|e| ProviderError::Decode { provider: provider.clone(), message: e.to_string() })?;
        let value = match plan.op {
            Op::Chat => translate::response(up.format, caller, value, name),
            Op::Embeddings if up.format == Format::Gemini => translate::gemini::embeddings_response(value, name),
            Op::Embeddings => value,
        };
        Bytes::from(serde_json::to_vec(&value).expect("JSON values serialize"))
    };
    let mut response = (StatusCode::OK, [(header::CONTENT_TYPE, HeaderValue::from_static("application/json"))], body).into_response();
    served_headers(response.headers_mut(), &served);
    Ok((response, usage, served))
}

fn served_headers(headers: &mut HeaderMap, served: &(String, String, u32)) {
    if let Ok(v) = HeaderValue::from_str(&served.0) {
        headers.insert("x-ferrocat-model", v);
    }
    headers.insert("x-ferrocat-attempts", HeaderValue::from(served.2));
}

/// Tries the candidates in order, each up to `1 + retries` times, at most `max_attempts` in all,
/// moving on only after a retryable failure.
async fn attempt_all(state: AppState, plan: Arc<Plan>) -> Result<Upstream, GatewayError> {
    let config = &state.config;
    let mut attempts = 0u32;
    let mut last = None;
    'candidates: for model in &plan.candidates {
        let deployment = &model.deployment;
        let format = deployment.provider.format();
        let body = match build_body(&plan, model, format, config.default_max_tokens) {
            Ok(b) => b,
            // The primary's format cannot take this request: that is the caller's problem.
            Err(e) if last.is_none() => return Err(e),
            Err(e) => {
                last = Some(e);
                continue;
            }
        };
        let credential = match (&deployment.credential, deployment.passthrough) {
            (Some(reference), false) => match state.credentials.resolve(&plan.workspace_id, reference).await {
                Ok(secret) => Some(secret),
                Err(e) => {
                    tracing::warn!(model = %model.name, error = %e, "credential not resolved; trying the next deployment");
                    last = Some(e.into());
                    continue;
                }
            },
            _ => None,
        };
        for retry in 0..=config.retries {
            if attempts >= config.max_attempts {
                break 'candidates;
            }
            attempts += 1;
            if retry > 0 {
                tokio::time::sleep(config.retry_backoff * 2u32.saturating_pow(retry - 1)).await;
            }
            match send_once(&state, &plan, model, format, body.clone(), credential.as_ref()).await {
                Ok(response) => return Ok(Upstream { response, model: model.clone(), format, attempts }),
                Err(e) if e.retryable() => {
                    tracing::info!(model = %model.name, attempt = attempts, error = %e, "upstream attempt failed; retrying");
                    last = Some(e.into());
                }
                Err(e) => return Err(e.into()),
            }
        }
    }
    Err(last.unwrap_or_else(|| GatewayError::BadRequest("no deployment could be attempted".into())))
}

fn build_body(plan: &Plan, model: &Model, format: Format, default_max_tokens: u64) -> Result<Bytes, GatewayError> {
    let upstream_model = &model.deployment.upstream_model;
    let bytes = match plan.op {
        Op::Chat => {
            let opts = Options { default_max_tokens: model.max_tokens.unwrap_or(default_max_tokens) };
            translate::request(plan.dialect.into(), format, &plan.body, upstream_model, opts)
                .map_err(|e| GatewayError::BadRequest(e.to_string()))?
        }
        Op::Embeddings => match format {
            Format::Gemini => translate::gemini::embeddings_request(&plan.body, upstream_model),
            _ => {
                let mut body = plan.body.clone();
                body.insert("model".into(), Value::String(upstream_model.clone()));
                serde_json::to_vec(&body).expect("JSON values serialize")
            }
        },
    };
    Ok(Bytes::from(bytes))
}

async fn send_once(
    state: &AppState,
    plan: &Plan,
    model: &Model,
    format: Format,
    body: Bytes,
    credential: Option<&SecretString>,
) -> Result<reqwest::Response, ProviderError> {
    let deployment = &model.deployment;
    let provider = deployment.provider_name.as_str();
    let auth = match credential {
        _ if deployment.passthrough => Auth::Passthrough(&plan.headers),
        Some(secret) => Auth::Key(secret),
        None => Auth::None,
    };
    let upstream_model = deployment.upstream_model.as_str();
    let http = &state.http;
    let request = match plan.op {
        Op::Chat => deployment.provider.chat(http, upstream_model, plan.stream, auth),
        Op::Embeddings => deployment.provider.embeddings(http, upstream_model, auth)?,
    };
    let request = request.header(header::CONTENT_TYPE, "application/json").body(body);
    let known: Vec<&str> = credential.map(|c| c.expose_secret()).into_iter().collect();
    let timeout = state.config.upstream_timeout;
    let response = match tokio::time::timeout(timeout, request.send()).await {
        Err(_) => return Err(ProviderError::Timeout { provider: provider.to_owned(), seconds: timeout.as_secs_f64() }),
        Ok(Err(e)) if e.is_timeout() => return Err(ProviderError::Timeout { provider: provider.to_owned(), seconds: timeout.as_secs_f64() }),
        Ok(Err(e)) => {
            let message = redact(&error_chain(&e), &known);
            return Err(ProviderError::Transport { provider: provider.to_owned(), message });
        }
        Ok(Ok(r)) => r,
    };
    let status = response.status();
    if status.is_success() {
        return Ok(response);
    }
    let retry_after = response
        .headers()
        .get(header::RETRY_AFTER)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok());
    let text = read_limited(response, Duration::from_secs(5)).await;
    let _ = format;
    Err(ProviderError::Status {
        provider: provider.to_owned(),
        status: status.as_u16(),
        message: redact(&error_message(&text), &known),
        retry_after,
        passthrough: deployment.passthrough,
    })
}

fn error_chain(e: &reqwest::Error) -> String {
    let mut out = e.to_string();
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        out.push_str(": ");
        out.push_str(&s.to_string());
        source = s.source();
    }
    out
}

async fn read_limited(mut response: reqwest::Response, within: Duration) -> String {
    let mut buf = Vec::new();
    let read = async {
        while let Ok(Some(chunk)) = response.chunk().await {
            buf.extend_from_slice(&chunk);
            if buf.len() >= ERROR_BODY_LIMIT {
                buf.truncate(ERROR_BODY_LIMIT);
                break;
            }
        }
    };
    let _ = tokio::time::timeout(within, read).await;
    String::from_utf8_lossy(&buf).into_owned()
}

/// The provider's own error message (`error.message` in all three formats), or the raw text.
fn error_message(text: &str) -> String {
    let parsed: Option<Value> = serde_json::from_str(text).ok();
    let message = parsed.as_ref().and_then(|v| {
        v.pointer("/error/message").or_else(|| v.pointer("/0/error/message")).or_else(|| v.get("message")).and_then(Value::as_str)
    });
    let mut message = message.map(str::to_owned).unwrap_or_else(|| text.trim().to_owned());
    if message.len() > 1000 {
        let mut cut = 1000;
        while !message.is_char_boundary(cut) {
            cut -= 1;
        }
        message.truncate(cut);
        message.push('…');
    }
    if message.is_empty() { "no error message".into() } else { message }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn token_settings_win_and_max_tokens_is_capped() {
        let claims: Claims = serde_json::from_value(json!({
            "workspace_id": "w", "model": "m", "exp": 1,
            "settings": {"temperature": 0.1, "stop": ["X"], "base_url": "http://evil"},
        }))
        .unwrap();
        let mut body = json!({"temperature": 1.5, "max_tokens": 99999}).as_object().unwrap().clone();
        apply_settings(&mut body, Dialect::OpenAi, &claims, Some(100));
        assert_eq!(Value::Object(body), json!({"temperature": 0.1, "max_tokens": 100, "stop": ["X"]}));
        let mut body = Map::new();
        apply_settings(&mut body, Dialect::Anthropic, &claims, Some(100));
        assert_eq!(Value::Object(body), json!({"temperature": 0.1, "stop_sequences": ["X"], "max_tokens": 100}));
    }

    #[test]
    fn error_messages_are_extracted() {
        assert_eq!(error_message(r#"{"error":{"message":"bad model","type":"x"}}"#), "bad model");
        assert_eq!(error_message("plain failure\n"), "plain failure");
        assert_eq!(error_message(""), "no error message");
    }
}
