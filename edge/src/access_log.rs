//! The access log: one structured `tracing` event per request at `info` on the target
//! [`TARGET`], which a JSON subscriber writes as one line. The edge never installs a subscriber.

use std::net::IpAddr;

/// The `tracing` target of access-log events, so operators can route or filter them.
pub const TARGET: &str = "ferrocat_edge::access";

/// What is logged about one request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccessRecord<'a> {
    /// When the request arrived (RFC 3339, UTC, milliseconds).
    pub ts: String,
    /// The request method.
    pub method: String,
    /// The normalised path (what was routed), without the query string.
    pub path: String,
    /// The route's name (`api`, `mcp`, `oauth`, `s3`, `ui` in the built-in table), or `edge`
    /// when answered locally.
    pub route: &'a str,
    /// Status sent downstream; 0 when the client went away before any response.
    pub status: u16,
    /// Response body bytes sent downstream.
    pub bytes: usize,
    /// From choosing the upstream to its response header; absent when none answered.
    pub upstream_ms: Option<u64>,
    /// Total time in the edge.
    pub duration_ms: u64,
    /// The client: the TCP peer, or the address trusted proxies forwarded (never what the
    /// client itself claims).
    pub client_ip: Option<IpAddr>,
}

impl AccessRecord<'_> {
    /// Emits the record as one `tracing` event.
    pub fn emit(&self) {
        tracing::info!(
            target: TARGET,
            ts = %self.ts,
            method = %self.method,
            path = %self.path,
            route = self.route,
            status = self.status,
            bytes = self.bytes,
            upstream_ms = self.upstream_ms,
            duration_ms = self.duration_ms,
            client_ip = self.client_ip.map(tracing::field::display),
            "access"
        );
    }
}

/// The current time in the access log's format.
pub fn now_rfc3339() -> String {
    chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}
