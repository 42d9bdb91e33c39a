//! Tracing set-up shared by every service: human-readable logs on a terminal, JSON lines when
//! `FERROCAT_LOG_FORMAT=json`; the filter comes from `RUST_LOG` (default `info`). Lines are
//! written by a background thread, so a slow stderr (a pipe, a terminal) never blocks the
//! threads that log — the edge's proxy threads write one access-log line per request.
//!
//! Traces: OpenTelemetry spans exported over OTLP/HTTP when `OTEL_EXPORTER_OTLP_ENDPOINT` (or
//! `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`) is set, off otherwise; `OTEL_EXPORTER_OTLP_PROTOCOL`
//! `http/protobuf` (default) or `http/json`, and the exporter's other standard variables. One
//! trace follows a request from the edge (which starts it) through the api, Temporal's headers
//! (the SDK's OpenTelemetry plugin) and the worker to every action on the executor. Each
//! service names itself `ferrocat-<service>`.

use std::sync::OnceLock;

use opentelemetry::propagation::{Extractor, Injector, TextMapPropagator as _};
use opentelemetry::trace::{SpanKind, TraceContextExt as _, Tracer as _};
use opentelemetry::{Context, KeyValue};
use opentelemetry_sdk::propagation::TraceContextPropagator;
use opentelemetry_sdk::trace::SdkTracerProvider;
use tracing_appender::non_blocking::WorkerGuard;
use tracing_subscriber::EnvFilter;

/// Keeps the log writer (and the trace exporter) alive; dropping it flushes what is still
/// queued. Hold it for the lifetime of `main`.
#[must_use = "dropping the guard stops the log writer"]
pub struct LogGuard {
    _writer: Option<WorkerGuard>,
    traces: Option<SdkTracerProvider>,
}

impl Drop for LogGuard {
    fn drop(&mut self) {
        if let Some(provider) = self.traces.take()
            && let Err(e) = provider.shutdown()
        {
            eprintln!("ferrocat: flushing traces: {e}");
        }
    }
}

static TRACES_ON: OnceLock<bool> = OnceLock::new();

/// Whether this process exports traces.
pub fn traces_on() -> bool {
    TRACES_ON.get().copied().unwrap_or(false)
}

/// The exporter and provider when OTLP is configured; installed as the global provider, with
/// W3C trace context as the propagator.
fn start_traces(service: &'static str) -> Option<SdkTracerProvider> {
    let configured = ["OTEL_EXPORTER_OTLP_ENDPOINT", "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"]
        .iter()
        .any(|key| std::env::var(key).is_ok_and(|v| !v.trim().is_empty()));
    if !configured {
        return None;
    }
    let json = std::env::var("OTEL_EXPORTER_OTLP_PROTOCOL").is_ok_and(|p| p == "http/json");
    // The exporter's blocking HTTP client may not be built inside an async runtime. Its own
    // client, not the egress-checked one: the collector's address is the operator's setting
    // (often loopback or a sidecar), never anything a workflow can name.
    let built = std::thread::spawn(move || {
        use opentelemetry_otlp::{Protocol, WithExportConfig as _};
        let protocol = if json { Protocol::HttpJson } else { Protocol::HttpBinary };
        opentelemetry_otlp::SpanExporter::builder().with_http().with_protocol(protocol).build()
    })
    .join();
    let exporter = match built {
        Ok(Ok(exporter)) => exporter,
        Ok(Err(e)) => {
            eprintln!("ferrocat: traces are off: the OTLP exporter could not be built: {e}");
            return None;
        }
        Err(_) => return None,
    };
    let resource = opentelemetry_sdk::Resource::builder().with_service_name(format!("ferrocat-{service}")).build();
    let provider = SdkTracerProvider::builder().with_batch_exporter(exporter).with_resource(resource).build();
    opentelemetry::global::set_tracer_provider(provider.clone());
    opentelemetry::global::set_text_map_propagator(TraceContextPropagator::new());
    Some(provider)
}

struct Headers<'a>(&'a http::HeaderMap);

impl Extractor for Headers<'_> {
    fn get(&self, key: &str) -> Option<&str> {
        self.0.get(key).and_then(|v| v.to_str().ok())
    }

    fn keys(&self) -> Vec<&str> {
        self.0.keys().map(http::HeaderName::as_str).collect()
    }
}

struct Carrier(Vec<(String, String)>);

impl Injector for Carrier {
    fn set(&mut self, key: &str, value: String) {
        self.0.push((key.to_owned(), value));
    }
}

/// A server span named by `name()` for a request that arrived with `headers` (their
/// `traceparent` is its parent; `None` starts a new trace), as the current context to run its
/// handling in. `None` when traces are off, without building the name: the edge and the api
/// call this on every request.
pub fn server_span(name: impl FnOnce() -> String, headers: Option<&http::HeaderMap>) -> Option<Context> {
    if !traces_on() {
        return None;
    }
    let parent = match headers {
        Some(headers) => TraceContextPropagator::new().extract(&Headers(headers)),
        None => Context::new(),
    };
    let tracer = opentelemetry::global::tracer("ferrocat");
    let span = tracer.span_builder(name()).with_kind(SpanKind::Server).start_with_context(&tracer, &parent);
    Some(parent.with_span(span))
}

/// The headers (`traceparent`, `tracestate`) that carry `cx` to the next service.
pub fn trace_headers(cx: &Context) -> Vec<(String, String)> {
    let mut carrier = Carrier(Vec::new());
    TraceContextPropagator::new().inject_context(cx, &mut carrier);
    carrier.0
}

/// Ends the server span of `cx` with the response's status.
pub fn end_server_span(cx: &Context, status: u16) {
    let span = cx.span();
    span.set_attribute(KeyValue::new("http.response.status_code", i64::from(status)));
    if status >= 500 {
        span.set_status(opentelemetry::trace::Status::error(format!("status {status}")));
    }
    span.end();
}

/// Installs the global subscriber once; later calls are no-ops (and return an empty guard).
pub fn init(service: &'static str) -> LogGuard {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| {
        EnvFilter::new("info,pingora_core=warn,pingora_proxy=warn,temporalio_sdk_core=warn,sqlx=warn,h2=warn,hyper=warn")
    });
    let json = std::env::var("FERROCAT_LOG_FORMAT").is_ok_and(|v| v == "json");
    // Lossless: when the queue is full the logging thread waits rather than dropping lines.
    let (writer, guard) = tracing_appender::non_blocking::NonBlockingBuilder::default()
        .lossy(false)
        // A bounded queue: under a burst the loggers wait instead of growing memory.
        .buffered_lines_limit(8_192)
        .finish(std::io::stderr());
    let builder = tracing_subscriber::fmt().with_env_filter(filter).with_writer(writer);
    let result = if json {
        builder.json().flatten_event(true).try_init()
    } else {
        builder.with_target(false).try_init()
    };
    match result {
        Ok(()) => {
            let traces = start_traces(service);
            let _ = TRACES_ON.set(traces.is_some());
            tracing::debug!(service, traces = traces.is_some(), "telemetry ready");
            LogGuard { _writer: Some(guard), traces }
        }
        Err(_) => LogGuard { _writer: None, traces: None },
    }
}
