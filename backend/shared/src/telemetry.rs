//! Tracing set-up shared by every service: human-readable logs on a terminal, JSON lines when
//! `FERROCAT_LOG_FORMAT=json`; the filter comes from `RUST_LOG` (default `info`).

use tracing_subscriber::EnvFilter;

/// Installs the global subscriber once; later calls are no-ops.
pub fn init(service: &'static str) {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| {
        EnvFilter::new("info,pingora_core=warn,pingora_proxy=warn,temporalio_sdk_core=warn,sqlx=warn,h2=warn,hyper=warn")
    });
    let json = std::env::var("FERROCAT_LOG_FORMAT").is_ok_and(|v| v == "json");
    let builder = tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr);
    let result = if json {
        builder.json().flatten_event(true).try_init()
    } else {
        builder.with_target(false).try_init()
    };
    if result.is_ok() {
        tracing::debug!(service, "telemetry ready");
    }
}
