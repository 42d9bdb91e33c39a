//! Prometheus metrics of the api, worker, executor, MCP server, ui and object store: one
//! registry per process with every metric below (each process moves the ones its work
//! touches), served as text on a listener of its own when the service's
//! `FERROCAT_<SERVICE>_METRICS_ADDR` is set (never on a port the edge routes to: the figures
//! name workflows). The edge and the model gateway keep registries of their own.
//!
//! What an operator watches: webhooks accepted and refused by reason, runs started by trigger
//! and finished by status per workflow, each action's latency, outcome and queue lag, sandbox
//! runs, egress refusals, and the process's memory and open files.

use std::net::SocketAddr;
use std::sync::LazyLock;
use std::time::Duration;

use prometheus::{Encoder as _, HistogramOpts, HistogramVec, IntCounterVec, IntGauge, Opts, Registry};

/// Every metric of the services that share this registry.
pub struct Metrics {
    registry: Registry,
    webhooks: IntCounterVec,
    runs_started: IntCounterVec,
    runs_finished: IntCounterVec,
    actions: IntCounterVec,
    action_seconds: HistogramVec,
    action_queue_seconds: HistogramVec,
    sandbox_runs: IntCounterVec,
    egress_refused: IntCounterVec,
    resident_bytes: IntGauge,
    open_fds: IntGauge,
}

const BUCKETS: &[f64] = &[0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 300.0];

static METRICS: LazyLock<Metrics> = LazyLock::new(Metrics::new);

/// This process's metrics.
pub fn get() -> &'static Metrics {
    &METRICS
}

fn register<T: prometheus::core::Collector + Clone + 'static>(registry: &Registry, metric: T) -> T {
    registry.register(Box::new(metric.clone())).expect("first registration");
    metric
}

impl Metrics {
    fn new() -> Metrics {
        let r = Registry::new();
        let counter = |name: &str, help: &str, labels: &[&str]| register(&r, IntCounterVec::new(Opts::new(name, help), labels).expect("valid metric"));
        let histogram = |name: &str, help: &str, labels: &[&str]| {
            register(&r, HistogramVec::new(HistogramOpts::new(name, help).buckets(BUCKETS.to_vec()), labels).expect("valid metric"))
        };
        let gauge = |name: &str, help: &str| register(&r, IntGauge::new(name, help).expect("valid metric"));
        Metrics {
            webhooks: counter(
                "ferrocat_webhooks_total",
                "Webhook requests by outcome: accepted, or the reason they were refused",
                &["outcome"],
            ),
            runs_started: counter("ferrocat_runs_started_total", "Runs started, by trigger type", &["trigger"]),
            runs_finished: counter(
                "ferrocat_runs_finished_total",
                "Runs that finished, by workflow and status (completed, failed)",
                &["workflow_id", "status"],
            ),
            actions: counter("ferrocat_actions_total", "Action attempts, by action and outcome (ok, error, timeout)", &["action", "outcome"]),
            action_seconds: histogram("ferrocat_action_seconds", "Time an action attempt took, by action", &["action"]),
            action_queue_seconds: histogram(
                "ferrocat_action_queue_seconds",
                "Time an action attempt waited on its queue before a worker took it, by action",
                &["action"],
            ),
            sandbox_runs: counter("ferrocat_sandbox_runs_total", "Python programs run in the sandbox, by outcome (ok, error)", &["outcome"]),
            egress_refused: counter(
                "ferrocat_egress_refused_total",
                "Outbound connections the egress policy refused, by why",
                &["reason"],
            ),
            resident_bytes: gauge("process_resident_memory_bytes", "Resident memory of this process"),
            open_fds: gauge("process_open_fds", "Open file descriptors of this process"),
            registry: r,
        }
    }

    /// A webhook request's outcome: `accepted` or why it was refused.
    pub fn webhook(&self, outcome: &str) {
        self.webhooks.with_label_values(&[outcome]).inc();
    }

    pub fn run_started(&self, trigger: &str) {
        self.runs_started.with_label_values(&[trigger]).inc();
    }

    pub fn run_finished(&self, workflow_id: &str, completed: bool) {
        self.runs_finished.with_label_values(&[workflow_id, if completed { "completed" } else { "failed" }]).inc();
    }

    /// One action attempt: its outcome (`ok`, `error`, `timeout`), how long it ran and how
    /// long it had waited on its queue.
    pub fn action(&self, action: &str, outcome: &str, took: Duration, queued: Option<Duration>) {
        self.actions.with_label_values(&[action, outcome]).inc();
        self.action_seconds.with_label_values(&[action]).observe(took.as_secs_f64());
        if let Some(queued) = queued {
            self.action_queue_seconds.with_label_values(&[action]).observe(queued.as_secs_f64());
        }
    }

    pub fn sandbox_run(&self, ok: bool) {
        self.sandbox_runs.with_label_values(&[if ok { "ok" } else { "error" }]).inc();
    }

    pub fn egress_refused(&self, reason: &str) {
        self.egress_refused.with_label_values(&[reason]).inc();
    }

    /// The Prometheus text format of every metric, with the process figures read now.
    pub fn render(&self) -> String {
        if let Ok(statm) = std::fs::read_to_string("/proc/self/statm")
            && let Some(pages) = statm.split_whitespace().nth(1).and_then(|p| p.parse::<i64>().ok())
        {
            self.resident_bytes.set(pages * 4096);
        }
        if let Ok(fds) = std::fs::read_dir("/proc/self/fd") {
            self.open_fds.set(fds.count() as i64);
        }
        let mut out = Vec::new();
        prometheus::TextEncoder::new().encode(&self.registry.gather(), &mut out).expect("text encoding");
        String::from_utf8(out).expect("the text format is UTF-8")
    }
}

/// The variable naming where `service` serves its metrics: `FERROCAT_API_METRICS_ADDR`, …
pub fn addr_var(service: &str) -> String {
    let name = match service {
        "object-store" => "S3".to_owned(),
        other => other.to_ascii_uppercase().replace('-', "_"),
    };
    format!("FERROCAT_{name}_METRICS_ADDR")
}

/// `FERROCAT_<SERVICE>_METRICS_ADDR` (see [`addr_var`]; the edge's is `FERROCAT_EDGE_METRICS_ADDR`),
/// if set. It must be a loopback address (the figures name every workspace's workflows: they
/// are for the host's scraper, not the network) unless `FERROCAT_METRICS_REMOTE=true` says a
/// firewall or NetworkPolicy keeps the port to the scraper (as the Kubernetes manifests do).
pub fn listen_addr(env: &crate::config::Env, key: &str) -> Result<Option<SocketAddr>, crate::config::ConfigError> {
    let Some(addr) = env.parse_opt::<SocketAddr>(key)? else { return Ok(None) };
    if !addr.ip().is_loopback() && !env.parse_or("FERROCAT_METRICS_REMOTE", false)? {
        return Err(crate::config::ConfigError::Invalid {
            key: key.to_owned(),
            value: addr.to_string(),
            reason: "must be a loopback address (127.0.0.1 or [::1]), or set FERROCAT_METRICS_REMOTE=true where a firewall keeps the port to the scraper".into(),
        });
    }
    Ok(Some(addr))
}

/// Serves `GET /metrics` on `addr` until the process ends.
pub async fn serve(addr: SocketAddr) -> std::io::Result<()> {
    let listener = tokio::net::TcpListener::bind(addr).await?;
    tracing::info!(%addr, "metrics listening");
    let app = axum::Router::new().route(
        "/metrics",
        axum::routing::get(|| async { ([(http::header::CONTENT_TYPE, "text/plain; version=0.0.4")], get().render()) }),
    );
    axum::serve(listener, app).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn what_moves_shows_in_the_text() {
        let m = get();
        m.webhook("accepted");
        m.run_started("webhook");
        m.run_finished("wf_x", true);
        m.action("core.http_request", "ok", Duration::from_millis(3), Some(Duration::from_millis(1)));
        m.egress_refused("private address");
        let text = m.render();
        for line in [
            "ferrocat_webhooks_total{outcome=\"accepted\"} 1",
            "ferrocat_runs_started_total{trigger=\"webhook\"} 1",
            "ferrocat_runs_finished_total{status=\"completed\",workflow_id=\"wf_x\"} 1",
            "ferrocat_actions_total{action=\"core.http_request\",outcome=\"ok\"} 1",
            "ferrocat_action_queue_seconds_count{action=\"core.http_request\"} 1",
            "ferrocat_egress_refused_total{reason=\"private address\"} 1",
        ] {
            assert!(text.lines().any(|l| l == line), "no {line:?} in\n{text}");
        }
        let rss = text.lines().find_map(|l| l.strip_prefix("process_resident_memory_bytes ")).and_then(|v| v.parse::<f64>().ok());
        assert!(rss.is_some_and(|b| b > 1e6), "{text}");
        assert_eq!(addr_var("object-store"), "FERROCAT_S3_METRICS_ADDR");
        assert_eq!(addr_var("api"), "FERROCAT_API_METRICS_ADDR");
    }
}
