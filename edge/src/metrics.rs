//! Prometheus metrics: requests by route and status, and upstream response-header latency by
//! route, in a registry of the edge's own, served as text on a loopback-only listener
//! (`FERROCAT_EDGE_METRICS_ADDR`). Off (nothing recorded) when that address is unset.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use http::Response;
use pingora::apps::http_app::ServeHttp;
use pingora::protocols::http::ServerSession;
use prometheus::{Encoder as _, HistogramOpts, HistogramVec, IntCounterVec, Opts, Registry};

/// The edge's metrics.
pub struct Metrics {
    registry: Registry,
    requests: IntCounterVec,
    upstream_seconds: HistogramVec,
}

impl Metrics {
    /// A fresh registry with the edge's metrics registered.
    pub fn new() -> Arc<Self> {
        let registry = Registry::new();
        let requests = IntCounterVec::new(
            Opts::new(
                "ferrocat_edge_requests_total",
                "Requests answered, by route and status (0: the client left before a response)",
            ),
            &["route", "status"],
        )
        .expect("valid metric");
        let upstream_seconds = HistogramVec::new(
            HistogramOpts::new(
                "ferrocat_edge_upstream_response_seconds",
                "Time from choosing the upstream to its response header, by route",
            )
            .buckets(vec![
                0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0,
            ]),
            &["route"],
        )
        .expect("valid metric");
        registry
            .register(Box::new(requests.clone()))
            .expect("first registration");
        registry
            .register(Box::new(upstream_seconds.clone()))
            .expect("first registration");
        Arc::new(Self {
            registry,
            requests,
            upstream_seconds,
        })
    }

    /// Adds a metric kept elsewhere (requests in flight, dropped log lines) to the exposition.
    pub fn register(&self, collector: Box<dyn prometheus::core::Collector>) {
        if let Err(error) = self.registry.register(collector) {
            tracing::error!(%error, "cannot register a metric");
        }
    }

    /// Counts one finished request and, if an upstream answered, its latency.
    pub fn record(&self, route: &str, status: u16, upstream: Option<Duration>) {
        self.requests
            .with_label_values(&[route, status.to_string().as_str()])
            .inc();
        if let Some(elapsed) = upstream {
            self.upstream_seconds
                .with_label_values(&[route])
                .observe(elapsed.as_secs_f64());
        }
    }

    /// The Prometheus text exposition of every metric.
    pub fn render(&self) -> Vec<u8> {
        let mut out = Vec::new();
        if let Err(error) = prometheus::TextEncoder::new().encode(&self.registry.gather(), &mut out)
        {
            tracing::error!(%error, "cannot encode metrics");
        }
        out
    }
}

/// The metrics listener's HTTP app: every request gets the exposition.
pub struct MetricsApp(pub Arc<Metrics>);

#[async_trait]
impl ServeHttp for MetricsApp {
    async fn response(&self, _session: &mut ServerSession) -> Response<Vec<u8>> {
        let body = self.0.render();
        Response::builder()
            .status(200)
            .header(http::header::CONTENT_TYPE, prometheus::TEXT_FORMAT)
            .header(http::header::CONTENT_LENGTH, body.len())
            .body(body)
            .expect("valid response")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_requests_and_latency() {
        let metrics = Metrics::new();
        metrics.record("api", 200, Some(Duration::from_millis(3)));
        metrics.record("api", 200, None);
        metrics.record("edge", 308, None);
        let text = String::from_utf8(metrics.render()).unwrap();
        assert!(
            text.contains(r#"ferrocat_edge_requests_total{route="api",status="200"} 2"#),
            "{text}"
        );
        assert!(
            text.contains(r#"ferrocat_edge_requests_total{route="edge",status="308"} 1"#),
            "{text}"
        );
        assert!(
            text.contains(r#"ferrocat_edge_upstream_response_seconds_count{route="api"} 1"#),
            "{text}"
        );
        assert!(
            text.contains(
                r#"ferrocat_edge_upstream_response_seconds_bucket{route="api",le="0.005"} 1"#
            ),
            "{text}"
        );
    }
}
