//! The access log: one JSON line per request, written by a thread of its own so the proxy
//! threads never wait for it.
//!
//! A proxy thread only moves a small [`AccessRecord`] into a bounded queue (`try_send`, no
//! formatting, no I/O, no lock held while writing). When the writer falls behind (a full pipe, a
//! slow disk) and the queue is full, the record is dropped and counted in
//! `ferrocat_edge_access_log_dropped_total`, rather than making requests wait. The writer
//! wakes on a tick ([`FLUSH_EVERY`]), not per record: a sender never has a sleeping receiver
//! to wake (no futex call, no context switch per request, which measured as the single
//! largest cost of a request when the writer shared the proxy's core). It formats what is
//! queued and writes it in one call per 64 KiB, so lines appear within a tick.
//!
//! Where (`FERROCAT_EDGE_ACCESS_LOG`): `stdout`, `stderr`, `off`, or a file path (appended).
//! Unset means stdout when the process's tracing filter enables `ferrocat_edge::access` at
//! `info` (the `ferrocat` default; `RUST_LOG=…,ferrocat_edge::access=warn` turns it off), else off.

use std::io::Write;
use std::net::IpAddr;
use std::path::PathBuf;
use std::sync::mpsc::{self, Receiver, SyncSender, TryRecvError, TrySendError};
use std::time::{Duration, SystemTime};

use prometheus::IntCounter;

/// The `target` field of access lines (and the tracing target whose level turns them on).
pub const TARGET: &str = "ferrocat_edge::access";

/// Lines queued at most before new ones are dropped: with [`FLUSH_EVERY`], room for about
/// 400,000 requests/s, far above what one edge serves (a bigger queue costs resident memory:
/// the ring's slots are all touched as it cycles).
pub const QUEUE_LINES: usize = 8_192;

/// How often the writer drains the queue.
pub const FLUSH_EVERY: Duration = Duration::from_millis(20);

/// Where access lines go.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Destination {
    Stdout,
    Stderr,
    File(PathBuf),
    Off,
}

impl Destination {
    /// Parses `FERROCAT_EDGE_ACCESS_LOG`; `None` (unset) follows the tracing filter.
    pub fn parse(raw: Option<&str>) -> Self {
        match raw.map(str::trim) {
            Some("stdout") => Self::Stdout,
            Some("stderr") => Self::Stderr,
            Some("off" | "") => Self::Off,
            Some(path) => Self::File(PathBuf::from(path)),
            None if tracing::enabled!(target: "ferrocat_edge::access", tracing::Level::INFO) => {
                Self::Stdout
            }
            None => Self::Off,
        }
    }
}

/// What is logged about one request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccessRecord {
    /// When the request arrived.
    pub ts: SystemTime,
    /// The request method.
    pub method: http::Method,
    /// The normalised path (what was routed), without the query string.
    pub path: String,
    /// Which route answered.
    pub route: RouteLabel,
    /// Status sent downstream; 0 when the client went away before any response.
    pub status: u16,
    /// Response body bytes sent downstream.
    pub bytes: usize,
    /// From choosing the upstream to its response header; absent when none answered.
    pub upstream_ms: Option<u64>,
    /// Total time in the edge.
    pub duration_ms: u64,
    /// The client (the TCP peer, or what trusted proxies forwarded).
    pub client_ip: Option<IpAddr>,
}

/// The `route` of a line: a route of the table (by index), the edge itself, or none.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RouteLabel {
    Route(usize),
    Edge,
    None,
}

/// The proxy's handle on the writer thread.
pub struct AccessLog {
    queue: Option<SyncSender<AccessRecord>>,
    dropped: IntCounter,
}

impl AccessLog {
    /// Starts the writer for `destination`; `route_names` label [`RouteLabel::Route`] indexes.
    pub fn start(destination: &Destination, route_names: Vec<String>) -> std::io::Result<Self> {
        let out: Box<dyn Write + Send> = match destination {
            Destination::Off => return Ok(Self::off()),
            Destination::Stdout => Box::new(std::io::stdout()),
            Destination::Stderr => Box::new(std::io::stderr()),
            Destination::File(path) => Box::new(
                std::fs::OpenOptions::new()
                    .create(true)
                    .append(true)
                    .open(path)?,
            ),
        };
        Self::with_writer(out, route_names, QUEUE_LINES)
    }

    /// A writer thread over any `out`, with a queue of `capacity` lines.
    pub fn with_writer(
        out: Box<dyn Write + Send>,
        route_names: Vec<String>,
        capacity: usize,
    ) -> std::io::Result<Self> {
        let (queue, lines) = mpsc::sync_channel(capacity);
        std::thread::Builder::new()
            .name("edge-access-log".into())
            .spawn(move || write_lines(lines, out, &route_names))?;
        Ok(Self {
            queue: Some(queue),
            dropped: dropped_counter(),
        })
    }

    /// No access log.
    pub fn off() -> Self {
        Self {
            queue: None,
            dropped: dropped_counter(),
        }
    }

    /// Whether lines are written at all (when not, records need not be built).
    pub fn enabled(&self) -> bool {
        self.queue.is_some()
    }

    /// Queues one record; never waits. A full queue drops it and counts the drop.
    pub fn log(&self, record: AccessRecord) {
        let Some(queue) = &self.queue else { return };
        match queue.try_send(record) {
            Ok(()) => {}
            Err(TrySendError::Full(_)) => self.dropped.inc(),
            Err(TrySendError::Disconnected(_)) => self.dropped.inc(),
        }
    }

    /// Lines dropped so far (also `ferrocat_edge_access_log_dropped_total`).
    pub fn dropped(&self) -> &IntCounter {
        &self.dropped
    }
}

fn dropped_counter() -> IntCounter {
    IntCounter::new(
        "ferrocat_edge_access_log_dropped_total",
        "Access-log lines dropped because the writer fell behind",
    )
    .expect("valid metric")
}

/// The writer thread: every tick, formats and writes whatever is queued (in 64 KiB batches).
/// Ends once the proxy (the sender) is gone and the queue is drained.
fn write_lines(lines: Receiver<AccessRecord>, mut out: Box<dyn Write + Send>, names: &[String]) {
    let mut buf = Vec::with_capacity(64 * 1024);
    loop {
        let mut open = true;
        loop {
            match lines.try_recv() {
                Ok(record) => format_line(&record, names, &mut buf),
                Err(TryRecvError::Empty) => break,
                Err(TryRecvError::Disconnected) => {
                    open = false;
                    break;
                }
            }
            if buf.len() >= 60 * 1024 {
                write_batch(&mut out, &mut buf);
            }
        }
        write_batch(&mut out, &mut buf);
        if !open {
            return;
        }
        std::thread::sleep(FLUSH_EVERY);
    }
}

fn write_batch(out: &mut Box<dyn Write + Send>, buf: &mut Vec<u8>) {
    if buf.is_empty() {
        return;
    }
    if let Err(error) = out.write_all(buf).and_then(|()| out.flush()) {
        // Nowhere better to say it; the lines are lost, the proxy goes on.
        eprintln!("ferrocat edge: cannot write the access log: {error}");
    }
    buf.clear();
}

/// One JSON line, with the fields of the former tracing line (`target`, `level`, ...).
pub fn format_line(record: &AccessRecord, names: &[String], buf: &mut Vec<u8>) {
    let ts = chrono::DateTime::<chrono::Utc>::from(record.ts)
        .to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
    let route = match record.route {
        RouteLabel::Route(index) => names.get(index).map_or("unknown", String::as_str),
        RouteLabel::Edge => "edge",
        RouteLabel::None => "none",
    };
    // Writing into a Vec cannot fail.
    let _ = write!(
        buf,
        r#"{{"ts":"{ts}","level":"INFO","target":"{TARGET}","method":"#
    );
    let _ = serde_json::to_writer(&mut *buf, record.method.as_str());
    buf.extend_from_slice(br#","path":"#);
    let _ = serde_json::to_writer(&mut *buf, &redact_path(&record.path));
    buf.extend_from_slice(br#","route":"#);
    let _ = serde_json::to_writer(&mut *buf, route);
    let _ = write!(
        buf,
        r#","status":{},"bytes":{}"#,
        record.status, record.bytes
    );
    if let Some(ms) = record.upstream_ms {
        let _ = write!(buf, r#","upstream_ms":{ms}"#);
    }
    let _ = write!(buf, r#","duration_ms":{}"#, record.duration_ms);
    if let Some(ip) = record.client_ip {
        let _ = write!(buf, r#","client_ip":"{ip}""#);
    }
    buf.extend_from_slice(b",\"message\":\"access\"}\n");
}

/// What replaces a webhook's secret in a logged path.
pub const REDACTED: &str = "<redacted>";

/// The path as logged: a webhook URL's secret segment (`/api/webhooks/{id}/{secret}...`) is
/// replaced by [`REDACTED`], since anyone who reads the log could otherwise run the workflow.
pub fn redact_path(path: &str) -> std::borrow::Cow<'_, str> {
    let prefix = crate::routes::WEBHOOK_PREFIX;
    let is_webhook = path.len() > prefix.len()
        && path.as_bytes()[..prefix.len()].eq_ignore_ascii_case(prefix.as_bytes());
    if !is_webhook {
        return std::borrow::Cow::Borrowed(path);
    }
    let rest = &path[prefix.len()..];
    let Some((id, after_id)) = rest.split_once('/') else {
        return std::borrow::Cow::Borrowed(path);
    };
    if after_id.is_empty() {
        return std::borrow::Cow::Borrowed(path);
    }
    let tail = after_id.find('/').map_or("", |i| &after_id[i..]);
    std::borrow::Cow::Owned(format!(
        "{}{id}/{REDACTED}{tail}",
        &path[..prefix.len()]
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::{Arc, Mutex};
    use std::time::{Duration, Instant};

    fn record(path: &str) -> AccessRecord {
        AccessRecord {
            ts: SystemTime::UNIX_EPOCH + Duration::from_millis(1_767_225_600_123),
            method: http::Method::POST,
            path: path.to_owned(),
            route: RouteLabel::Route(1),
            status: 201,
            bytes: 13,
            upstream_ms: Some(4),
            duration_ms: 5,
            client_ip: Some("192.0.2.1".parse().unwrap()),
        }
    }

    #[test]
    fn a_line_is_one_json_object() {
        let mut buf = Vec::new();
        let names = vec!["s3".to_owned(), "api".to_owned()];
        format_line(&record("/a\"b\\c\u{1}"), &names, &mut buf);
        let mut edge = record("/__edge/healthz");
        edge.route = RouteLabel::Edge;
        edge.upstream_ms = None;
        edge.client_ip = None;
        format_line(&edge, &names, &mut buf);
        let text = String::from_utf8(buf).unwrap();
        let lines: Vec<serde_json::Value> = text
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        assert_eq!(
            lines[0],
            serde_json::json!({
                "ts": "2026-01-01T00:00:00.123Z", "level": "INFO", "target": TARGET,
                "method": "POST", "path": "/a\"b\\c\u{1}", "route": "api", "status": 201,
                "bytes": 13, "upstream_ms": 4, "duration_ms": 5, "client_ip": "192.0.2.1",
                "message": "access",
            })
        );
        assert_eq!(lines[1]["route"], "edge");
        assert!(lines[1].get("upstream_ms").is_none() && lines[1].get("client_ip").is_none());
    }

    /// A writer that blocks until released, then records what it got.
    #[derive(Clone)]
    struct Stuck {
        gate: Arc<(Mutex<bool>, std::sync::Condvar)>,
        written: Arc<Mutex<Vec<u8>>>,
    }

    impl Write for Stuck {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            let (open, cv) = &*self.gate;
            let mut open = open.lock().unwrap();
            while !*open {
                open = cv.wait(open).unwrap();
            }
            self.written.lock().unwrap().extend_from_slice(buf);
            Ok(buf.len())
        }

        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn a_stuck_writer_never_blocks_the_logger_and_drops_are_counted() {
        let stuck = Stuck {
            gate: Arc::new((Mutex::new(false), std::sync::Condvar::new())),
            written: Arc::default(),
        };
        let capacity = 8;
        let log =
            AccessLog::with_writer(Box::new(stuck.clone()), vec!["r".into(); 2], capacity).unwrap();
        assert!(log.enabled());
        let total = 5_000u64;
        let started = Instant::now();
        for i in 0..total {
            log.log(record(&format!("/{i}")));
        }
        // With a blocking queue this loop would never end: the writer is stuck.
        assert!(started.elapsed() < Duration::from_secs(5));
        let dropped = log.dropped().get();
        // Through at most: the queue, plus the one batch (up to 60 KiB of lines) the writer
        // formatted before its write blocked.
        let mut one = Vec::new();
        format_line(&record("/9999"), &["r".into(), "r".into()], &mut one);
        let batch = (60 * 1024 / (one.len() - 3) + 1) as u64;
        assert!(
            dropped >= total - capacity as u64 - batch && dropped < total,
            "dropped {dropped}"
        );

        let (open, cv) = &*stuck.gate;
        *open.lock().unwrap() = true;
        cv.notify_all();
        drop(log); // ends the writer once the queue is drained
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let lines = stuck.written.lock().unwrap().split(|b| *b == b'\n').count() - 1;
            if lines as u64 == total - dropped {
                break;
            }
            assert!(
                Instant::now() < deadline,
                "{lines} lines written, want {}",
                total - dropped
            );
            std::thread::yield_now();
        }
    }

    #[test]
    fn webhook_secrets_are_redacted() {
        for (path, logged) in [
            ("/api/webhooks/wf_1/5106cb16fe59", "/api/webhooks/wf_1/<redacted>"),
            (
                "/api/webhooks/wf_1/5106cb16fe59/wait",
                "/api/webhooks/wf_1/<redacted>/wait",
            ),
            ("/API/Webhooks/wf_1/abc/", "/API/Webhooks/wf_1/<redacted>/"),
            ("/api/webhooks/wf_1", "/api/webhooks/wf_1"),
            ("/api/webhooks/wf_1/", "/api/webhooks/wf_1/"),
            ("/api/webhooks/", "/api/webhooks/"),
            ("/api/workflows/wf_1/secret", "/api/workflows/wf_1/secret"),
            ("/webhooks/wf_1/secret", "/webhooks/wf_1/secret"),
        ] {
            assert_eq!(redact_path(path), logged, "{path}");
        }
        let mut buf = Vec::new();
        format_line(&record("/api/webhooks/wf_1/5106cb16fe59/wait"), &[], &mut buf);
        let text = String::from_utf8(buf).unwrap();
        assert!(!text.contains("5106cb16fe59"), "{text}");
        assert!(text.contains(r#""path":"/api/webhooks/wf_1/<redacted>/wait""#), "{text}");
    }

    #[test]
    fn destinations_parse() {
        assert_eq!(Destination::parse(Some("stdout")), Destination::Stdout);
        assert_eq!(Destination::parse(Some("stderr")), Destination::Stderr);
        assert_eq!(Destination::parse(Some("off")), Destination::Off);
        assert_eq!(
            Destination::parse(Some("/var/log/edge.jsonl")),
            Destination::File("/var/log/edge.jsonl".into())
        );
        // No subscriber in unit tests: the target is not enabled.
        assert_eq!(Destination::parse(None), Destination::Off);
        let off = AccessLog::off();
        off.log(record("/x"));
        assert!(!off.enabled());
        assert_eq!(off.dropped().get(), 0);
    }
}
