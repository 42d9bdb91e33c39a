//! Prometheus metrics of the gateway, in a registry of its own, served as text at `/metrics`:
//! requests by route and status with their latency (to the response head), and, from the
//! usage task, calls and tokens by model, upstream attempts, and dropped usage records.

use std::sync::Arc;
use std::time::Duration;

use prometheus::{Encoder as _, HistogramOpts, HistogramVec, IntCounter, IntCounterVec, Opts, Registry};

/// The gateway's metrics.
pub struct Metrics {
    registry: Registry,
    requests: IntCounterVec,
    request_seconds: HistogramVec,
    calls: IntCounterVec,
    tokens: IntCounterVec,
    call_seconds: HistogramVec,
    /// Usage records dropped because the queue was full.
    pub usage_dropped: IntCounter,
    /// Requests refused by a rate or token limit, by scope.
    pub rate_limited: IntCounterVec,
    /// Rate-limit checks that could not reach Redis (the request was let through).
    pub limiter_errors: IntCounter,
}

fn register<T: prometheus::core::Collector + Clone + 'static>(registry: &Registry, metric: T) -> T {
    registry.register(Box::new(metric.clone())).expect("first registration");
    metric
}

const BUCKETS: &[f64] = &[0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0];

impl Metrics {
    /// A fresh registry with every metric registered.
    pub fn new() -> Arc<Self> {
        let r = Registry::new();
        let counter = |name: &str, help: &str, labels: &[&str]| {
            register(&r, IntCounterVec::new(Opts::new(name, help), labels).expect("valid metric"))
        };
        let histogram = |name: &str, help: &str, labels: &[&str]| {
            register(&r, HistogramVec::new(HistogramOpts::new(name, help).buckets(BUCKETS.to_vec()), labels).expect("valid metric"))
        };
        let requests = counter("ferrocat_llm_gateway_requests_total", "HTTP requests answered, by route and status", &["route", "status"]);
        let request_seconds = histogram("ferrocat_llm_gateway_request_seconds", "Time to the response head, by route", &["route"]);
        let calls = counter("ferrocat_llm_gateway_calls_total", "Model calls, by requested model, serving provider and status", &["model", "provider", "status"]);
        let tokens = counter("ferrocat_llm_gateway_tokens_total", "Tokens, by requested model and direction (input, output)", &["model", "direction"]);
        let call_seconds = histogram("ferrocat_llm_gateway_call_seconds", "Whole model calls (streams until their last byte), by model", &["model"]);
        let rate_limited = counter("ferrocat_llm_gateway_rate_limited_total", "Requests refused by a limit, by scope", &["scope"]);
        let usage_dropped = register(&r, IntCounter::new("ferrocat_llm_gateway_usage_dropped_total", "Usage records dropped (queue full)").expect("valid metric"));
        let limiter_errors = register(&r, IntCounter::new("ferrocat_llm_gateway_limiter_errors_total", "Limit checks that failed open (Redis unreachable)").expect("valid metric"));
        Arc::new(Self { registry: r, requests, request_seconds, calls, tokens, call_seconds, usage_dropped, rate_limited, limiter_errors })
    }

    /// Counts one answered request.
    pub fn record_request(&self, route: &str, status: u16, elapsed: Duration) {
        self.requests.with_label_values(&[route, itoa(status).as_str()]).inc();
        self.request_seconds.with_label_values(&[route]).observe(elapsed.as_secs_f64());
    }

    /// Counts one finished model call (from the usage task): the model asked for, the provider
    /// that served it (empty when none did), its status, its tokens in and out, and how long
    /// it took.
    pub fn record_call(&self, model: &str, provider: &str, status: u16, (input, output): (u64, u64), latency: Duration) {
        self.calls.with_label_values(&[model, provider, itoa(status).as_str()]).inc();
        self.tokens.with_label_values(&[model, "input"]).inc_by(input);
        self.tokens.with_label_values(&[model, "output"]).inc_by(output);
        self.call_seconds.with_label_values(&[model]).observe(latency.as_secs_f64());
    }

    /// The Prometheus text exposition.
    pub fn render(&self) -> String {
        let mut out = Vec::new();
        prometheus::TextEncoder::new().encode(&self.registry.gather(), &mut out).expect("text encoding");
        String::from_utf8(out).expect("prometheus text is UTF-8")
    }
}

fn itoa(n: u16) -> String {
    n.to_string()
}
