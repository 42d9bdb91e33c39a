//! Tracing set-up shared by every service: human-readable logs on a terminal, JSON lines when
//! `FERROCAT_LOG_FORMAT=json`; the filter comes from `RUST_LOG` (default `info`). Lines are
//! written by a background thread, so a slow stderr (a pipe, a terminal) never blocks the
//! threads that log — the edge's proxy threads write one access-log line per request.

use tracing_appender::non_blocking::WorkerGuard;
use tracing_subscriber::EnvFilter;

/// Keeps the log writer alive; dropping it flushes what is still queued. Hold it for the
/// lifetime of `main`.
#[must_use = "dropping the guard stops the log writer"]
pub struct LogGuard {
    _writer: Option<WorkerGuard>,
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
            tracing::debug!(service, "telemetry ready");
            LogGuard { _writer: Some(guard) }
        }
        Err(_) => LogGuard { _writer: None },
    }
}
