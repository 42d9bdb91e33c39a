//! Usage: tokens in and out and latency of every call, per workspace and run. Handlers hand a
//! [`UsageRecord`] to a bounded queue (`try_send`: never waits; a full queue drops and counts);
//! one background task feeds the metrics and every [`UsageSink`] (logs, the Redis token counter
//! of the limits, later the database).

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use serde::Deserialize;
use serde_json::Value;
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

use crate::metrics::Metrics;
use crate::sse::SseEvent;
use crate::wire::Format;

/// Token counts of one call.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Usage {
    pub input: u64,
    pub output: u64,
}

#[derive(Deserialize)]
struct UsageOnly {
    usage: Option<Value>,
    #[serde(rename = "usageMetadata")]
    usage_metadata: Option<Value>,
}

impl Usage {
    /// The usage of a non-streamed response body in `format`, read without building the rest.
    pub fn from_body(format: Format, body: &[u8]) -> Self {
        let Ok(u) = serde_json::from_slice::<UsageOnly>(body) else { return Self::default() };
        let mut usage = Self::default();
        match format {
            Format::Gemini => usage.add_gemini(u.usage_metadata.as_ref()),
            _ => usage.add(format, u.usage.as_ref()),
        }
        usage
    }

    fn add(&mut self, format: Format, u: Option<&Value>) {
        let Some(u) = u.filter(|u| u.is_object()) else { return };
        let (i, o) = match format {
            Format::OpenAi => ("prompt_tokens", "completion_tokens"),
            _ => ("input_tokens", "output_tokens"),
        };
        if let Some(n) = u[i].as_u64() {
            self.input = n;
        }
        if let Some(n) = u[o].as_u64() {
            self.output = n;
        }
    }

    fn add_gemini(&mut self, u: Option<&Value>) {
        let Some(u) = u else { return };
        if let Some(n) = u["promptTokenCount"].as_u64() {
            self.input = n;
        }
        let out = u["candidatesTokenCount"].as_u64().unwrap_or(0) + u["thoughtsTokenCount"].as_u64().unwrap_or(0);
        if out > 0 {
            self.output = out;
        }
    }

    /// Updates the counts from one upstream stream event; events without usage are skipped
    /// without being parsed.
    pub fn sniff_event(&mut self, format: Format, event: &SseEvent) {
        let key = if format == Format::Gemini { "\"usageMetadata\"" } else { "\"usage\"" };
        let Some(at) = event.data.find(key) else { return };
        let rest = event.data[at + key.len()..].trim_start().trim_start_matches(':').trim_start();
        if !rest.starts_with('{') {
            return;
        }
        let Ok(v) = serde_json::from_str::<Value>(&event.data) else { return };
        match format {
            Format::OpenAi => self.add(format, v.get("usage")),
            Format::Anthropic => self.add(format, v.get("usage").or_else(|| v.pointer("/message/usage"))),
            Format::Gemini => self.add_gemini(v.get("usageMetadata")),
        }
    }
}

/// One call, as recorded.
#[derive(Debug, Clone)]
pub struct UsageRecord {
    pub workspace_id: String,
    pub run_id: Option<String>,
    /// The model the caller asked for.
    pub model: String,
    /// The model that answered (differs after a fallback) and its provider.
    pub served_by: Option<(String, String)>,
    pub endpoint: &'static str,
    pub stream: bool,
    pub status: u16,
    pub attempts: u32,
    pub usage: Usage,
    /// Until the last byte (streams) or the whole response.
    pub latency: Duration,
    /// Streams: until the first upstream event.
    pub first_event: Option<Duration>,
    /// When the call ended.
    pub at: chrono::DateTime<chrono::Utc>,
}

/// Somewhere usage records go, off the request path.
#[async_trait]
pub trait UsageSink: Send + Sync {
    async fn record(&self, record: &UsageRecord);

    /// Records several at once (what a sink that writes somewhere remote should override).
    async fn record_batch(&self, records: &[UsageRecord]) {
        for r in records {
            self.record(r).await;
        }
    }
}

/// Most records handed to the sinks at once.
const BATCH: usize = 512;

/// Writes each record as a `usage` log event.
pub struct LogSink;

#[async_trait]
impl UsageSink for LogSink {
    async fn record(&self, r: &UsageRecord) {
        tracing::info!(
            target: "usage",
            workspace_id = %r.workspace_id, run_id = r.run_id.as_deref().unwrap_or(""), model = %r.model,
            served_by = r.served_by.as_ref().map(|s| s.0.as_str()).unwrap_or(""), endpoint = r.endpoint,
            status = r.status, attempts = r.attempts, input_tokens = r.usage.input, output_tokens = r.usage.output,
            latency_ms = r.latency.as_secs_f64() * 1e3, stream = r.stream, "llm call"
        );
    }
}

/// The hot-path handle: hands records to the background task.
#[derive(Clone)]
pub struct UsageRecorder {
    tx: mpsc::Sender<UsageRecord>,
    metrics: Arc<Metrics>,
}

impl UsageRecorder {
    /// Starts the background task; it ends when every recorder is dropped and the queue is empty.
    pub fn spawn(capacity: usize, metrics: Arc<Metrics>, sinks: Vec<Arc<dyn UsageSink>>) -> (Self, JoinHandle<()>) {
        let (tx, mut rx) = mpsc::channel::<UsageRecord>(capacity.max(1));
        let task_metrics = metrics.clone();
        let task = tokio::spawn(async move {
            let mut batch = Vec::with_capacity(BATCH);
            while rx.recv_many(&mut batch, BATCH).await > 0 {
                for record in &batch {
                    let provider = record.served_by.as_ref().map(|s| s.1.as_str()).unwrap_or("");
                    let tokens = (record.usage.input, record.usage.output);
                    task_metrics.record_call(&record.model, provider, record.status, tokens, record.latency);
                }
                for sink in &sinks {
                    sink.record_batch(&batch).await;
                }
                batch.clear();
            }
        });
        (Self { tx, metrics }, task)
    }

    /// Queues `record`; drops (and counts) it when the queue is full.
    pub fn record(&self, record: UsageRecord) {
        if self.tx.try_send(record).is_err() {
            self.metrics.usage_dropped.inc();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_usage_of_each_format() {
        let oa = br#"{"id":"x","choices":[{"message":{"content":"hi"}}],"usage":{"prompt_tokens":3,"completion_tokens":5}}"#;
        assert_eq!(Usage::from_body(Format::OpenAi, oa), Usage { input: 3, output: 5 });
        let an = br#"{"content":[],"usage":{"input_tokens":7,"output_tokens":2}}"#;
        assert_eq!(Usage::from_body(Format::Anthropic, an), Usage { input: 7, output: 2 });
        let ge = br#"{"candidates":[],"usageMetadata":{"promptTokenCount":1,"candidatesTokenCount":4}}"#;
        assert_eq!(Usage::from_body(Format::Gemini, ge), Usage { input: 1, output: 4 });

        let mut u = Usage::default();
        u.sniff_event(Format::OpenAi, &SseEvent { event: None, data: r#"{"choices":[],"usage":null}"#.into() });
        assert_eq!(u, Usage::default());
        u.sniff_event(Format::Anthropic, &SseEvent { event: None, data: r#"{"type":"message_start","message":{"usage":{"input_tokens":9}}}"#.into() });
        u.sniff_event(Format::Anthropic, &SseEvent { event: None, data: r#"{"type":"message_delta","usage":{"output_tokens":4}}"#.into() });
        assert_eq!(u, Usage { input: 9, output: 4 });
    }
}
