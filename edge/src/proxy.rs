//! The request path through Pingora ([`ProxyHttp`] for [`Edge`]): normalise and route in
//! `request_filter` (and answer `/__edge/*` locally), pick the resolved peer, rewrite the
//! forwarded request (path, `X-Forwarded-*`, `X-Real-IP`, `Host`), turn failures into short
//! JSON errors, and write the access log.

use std::net::IpAddr;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use async_trait::async_trait;
use bytes::Bytes;
use http::header::{self, STRICT_TRANSPORT_SECURITY};
use pingora::http::{RequestHeader, ResponseHeader};
use pingora::prelude::HttpPeer;
use pingora::proxy::{FailToProxy, ProxyHttp, Session};
use pingora::{Error, ErrorSource, ErrorType, Result};

use crate::access_log::{AccessLog, AccessRecord, RouteLabel};
use crate::acme::Acme;
use crate::config::ClientLimits;
use crate::forwarded::TrustedProxies;
use crate::metrics::Metrics;
use crate::routes::{self, Route, RouteTable, WEBHOOK_PREFIX, starts_with_ignore_case};
use crate::shutdown::{InFlight, InFlightGuard};
use crate::tls::HSTS;
use crate::upstreams::Upstreams;

/// Paths under this prefix are the edge's own and never forwarded.
const EDGE_PREFIX: &str = "/__edge/";

/// Where ACME HTTP-01 validations ask for their token; never redirected to HTTPS.
const ACME_CHALLENGE_PREFIX: &str = "/.well-known/acme-challenge/";

/// The edge's proxy logic; one instance serves every request.
pub struct Edge {
    routes: RouteTable,
    upstreams: Arc<Upstreams>,
    https: Option<Https>,
    limits: ClientLimits,
    trusted: TrustedProxies,
    metrics: Option<Arc<Metrics>>,
    in_flight: InFlight,
    access_log: AccessLog,
}

/// What the plain listener needs to know when HTTPS is served.
pub struct Https {
    /// The HTTPS listener's port, for redirect targets (omitted from them when 443).
    pub port: u16,
    /// The ACME state when certificates come from ACME: HTTP-01 answers.
    pub acme: Option<Arc<Acme>>,
}

impl Edge {
    /// A proxy forwarding to the (continuously resolved) `upstreams`; with `https`, plain-HTTP
    /// requests are redirected there. Requests are recorded in `metrics` when given.
    #[allow(clippy::too_many_arguments)] // one per collaborator; built in one place (lib.rs)
    pub fn new(
        routes: RouteTable,
        upstreams: Arc<Upstreams>,
        https: Option<Https>,
        limits: ClientLimits,
        trusted: TrustedProxies,
        metrics: Option<Arc<Metrics>>,
        in_flight: InFlight,
        access_log: AccessLog,
    ) -> Self {
        Self {
            routes,
            upstreams,
            https,
            limits,
            trusted,
            metrics,
            in_flight,
            access_log,
        }
    }

    /// The route chosen in `request_filter`.
    fn route(&self, ctx: &RequestCtx) -> Result<&Route> {
        ctx.route
            .map(|index| self.routes.get(index))
            .ok_or_else(|| Error::explain(ErrorType::InternalError, "no route chosen"))
    }
}

/// Per-request state shared between the phases.
#[derive(Debug)]
pub struct RequestCtx {
    started: Instant,
    ts: SystemTime,
    /// The normalised path: routed, logged and (after prefix stripping) forwarded.
    path: String,
    /// Index of the chosen route in the table.
    route: Option<usize>,
    /// The client: the peer, or what trusted proxies say (see [`crate::forwarded`]).
    client: Option<IpAddr>,
    /// `X-Forwarded-For` to send when the peer is a trusted proxy (else the client alone).
    forwarded_for: Option<String>,
    upstream_started: Option<Instant>,
    upstream_elapsed: Option<Duration>,
    body_limit: u64,
    body_bytes: u64,
    /// The request's span when traces are on: the edge starts each trace.
    trace: Option<opentelemetry::Context>,
    /// Counts this request as in flight until the context is dropped (after the access log).
    _in_flight: InFlightGuard,
}

#[async_trait]
impl ProxyHttp for Edge {
    type CTX = RequestCtx;

    fn new_ctx(&self) -> RequestCtx {
        RequestCtx {
            started: Instant::now(),
            ts: SystemTime::now(),
            path: String::new(),
            route: None,
            client: None,
            forwarded_for: None,
            upstream_started: None,
            upstream_elapsed: None,
            body_limit: 0,
            body_bytes: 0,
            trace: None,
            _in_flight: self.in_flight.enter(),
        }
    }

    async fn request_filter(&self, session: &mut Session, ctx: &mut RequestCtx) -> Result<bool> {
        // Pingora keeps an idle HTTP/1.1 connection open forever by default; bound it. Only when
        // the client keeps the connection alive at all (HTTP/1.0 without keep-alive, or
        // `Connection: close`, stays closing); a noop on h2.
        if session.get_keepalive().is_some() {
            session.set_keepalive(Some(self.limits.client_idle_timeout.as_secs()));
        }
        session.set_read_timeout(Some(self.limits.client_read_timeout));
        if head_size(session.req_header()) > self.limits.max_header_bytes {
            session.set_keepalive(None);
            respond_json(
                session,
                431,
                r#"{"detail":"request header fields too large"}"#,
            )
            .await?;
            return Ok(true);
        }
        // RFC 9112 §3.2: a 1.1 request without Host (or with an empty one) is a 400.
        if session.req_header().version == http::Version::HTTP_11 && public_host(session).is_none()
        {
            session.set_keepalive(None);
            respond_json(
                session,
                400,
                r#"{"detail":"an HTTP/1.1 request needs a Host header"}"#,
            )
            .await?;
            return Ok(true);
        }
        if let Some(peer) = peer_ip(session) {
            if self.trusted.is_empty() {
                ctx.client = Some(peer);
            } else {
                let sent = session.req_header().headers.get_all("x-forwarded-for");
                let forwarded = self
                    .trusted
                    .resolve(peer, sent.iter().map(|v| v.as_bytes()));
                ctx.client = Some(forwarded.client);
                ctx.forwarded_for = Some(forwarded.chain);
            }
        }
        let req = session.req_header();
        if !req.raw_path_is_utf8() {
            return Error::e_explain(ErrorType::HTTPStatus(400), "request target is not utf-8");
        }
        ctx.path = routes::normalize_path(req.uri.path());
        if let Some(acme) = self.https.as_ref().and_then(|h| h.acme.as_ref())
            && let Some(token) = ctx.path.strip_prefix(ACME_CHALLENGE_PREFIX)
        {
            match acme.http01_answer(token) {
                Some(key_auth) => {
                    tracing::info!("acme: answered an http-01 validation");
                    respond(session, 200, "text/plain", Bytes::from(key_auth)).await?;
                }
                None => respond_json(session, 404, r#"{"detail":"not found"}"#).await?,
            }
            return Ok(true);
        }
        if starts_with_ignore_case(&ctx.path, EDGE_PREFIX) {
            let (status, body) = match (ctx.path.as_str(), req.method.as_str()) {
                ("/__edge/healthz", "GET" | "HEAD") => (200, r#"{"status":"ok"}"#),
                ("/__edge/healthz", _) => (405, r#"{"detail":"method not allowed"}"#),
                _ => (404, r#"{"detail":"not found"}"#),
            };
            respond_json(session, status, body).await?;
            return Ok(true);
        }
        if let Some(https) = &self.https
            && !is_tls(session)
            && !starts_with_ignore_case(&ctx.path, ACME_CHALLENGE_PREFIX)
        {
            redirect_to_https(session, https.port).await?;
            return Ok(true);
        }
        let Some((index, route)) = self.routes.route_for(&ctx.path) else {
            respond_json(session, 404, r#"{"detail":"no route for this path"}"#).await?;
            return Ok(true);
        };
        ctx.route = Some(index);
        ctx.body_limit = route.max_body_bytes;
        let declared = session
            .req_header()
            .headers
            .get(header::CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse::<u64>().ok());
        if declared.is_some_and(|len| len > ctx.body_limit) {
            // Refused before reading the body; the unread body makes the connection unusable.
            session.set_keepalive(None);
            respond_json(session, 413, PAYLOAD_TOO_LARGE).await?;
            return Ok(true);
        }
        Ok(false)
    }

    async fn request_body_filter(
        &self,
        session: &mut Session,
        body: &mut Option<Bytes>,
        _end_of_stream: bool,
        ctx: &mut RequestCtx,
    ) -> Result<()> {
        // Chunked (or h2) bodies declare no length: count what passes.
        if let Some(chunk) = body {
            ctx.body_bytes += chunk.len() as u64;
            if ctx.body_bytes > ctx.body_limit {
                session.set_keepalive(None);
                return Error::e_explain(
                    ErrorType::HTTPStatus(413),
                    format!(
                        "request body over the route's {} byte limit",
                        ctx.body_limit
                    ),
                );
            }
        }
        Ok(())
    }

    async fn upstream_peer(
        &self,
        _session: &mut Session,
        ctx: &mut RequestCtx,
    ) -> Result<Box<HttpPeer>> {
        let route = self.route(ctx)?;
        ctx.upstream_started = Some(Instant::now());
        let index = ctx.route.unwrap_or_default();
        match self.upstreams.peer(index, route) {
            Some(peer) => Ok(Box::new(peer)),
            None => Err(Error::explain(
                ErrorType::ConnectNoRoute,
                format!(
                    "upstream {} has no address (name does not resolve)",
                    route.upstream_label()
                ),
            )
            .into_up()),
        }
    }

    async fn upstream_request_filter(
        &self,
        session: &mut Session,
        upstream: &mut RequestHeader,
        ctx: &mut RequestCtx,
    ) -> Result<()> {
        let route = self.route(ctx)?;

        let path = route.upstream_path(&ctx.path);
        let target = match upstream.uri.query() {
            Some(query) => format!("{path}?{query}"),
            None => path.into_owned(),
        };
        let uri = target.parse::<http::Uri>().map_err(|e| {
            Error::because(
                ErrorType::HTTPStatus(400),
                "rewriting the request target",
                e,
            )
        })?;
        upstream.set_uri(uri);

        // Traces start here: a client's own trace context is never passed on, ours is.
        if ctx.trace.is_none()
            && let Some(cx) = ferrocat_shared::telemetry::server_span(|| format!("{} {}", session.req_header().method, route.name), None)
        {
            upstream.remove_header("traceparent");
            upstream.remove_header("tracestate");
            for (name, value) in ferrocat_shared::telemetry::trace_headers(&cx) {
                upstream.insert_header(name, value)?;
            }
            ctx.trace = Some(cx);
        }

        let host = public_host(session);
        let proto = if is_tls(session) { "https" } else { "http" };

        // Replaced, never passed on: a client-sent X-Forwarded-For or X-Real-IP is spoofable.
        // Only a trusted proxy's chain is kept (and the peer appended), in `forwarded_for`.
        upstream.remove_header("x-forwarded-for");
        upstream.remove_header("x-real-ip");
        upstream.remove_header("x-forwarded-host");
        if let Some(ip) = ctx.client {
            let chain = ctx.forwarded_for.take().unwrap_or_else(|| ip.to_string());
            upstream.insert_header("x-forwarded-for", chain)?;
            if route.set_real_ip {
                upstream.insert_header("x-real-ip", ip.to_string())?;
            }
        }
        upstream.insert_header("x-forwarded-proto", proto)?;
        if let Some(host) = &host {
            let forwarded_host = if route.set_real_ip {
                host_without_port(host)
            } else {
                host.as_str()
            };
            upstream.insert_header("x-forwarded-host", forwarded_host)?;
            if route.host_without_port {
                upstream.insert_header(header::HOST, host_without_port(host))?;
            }
        }
        for name in &route.remove_request_headers {
            upstream.remove_header(name);
        }
        if starts_with_ignore_case(&ctx.path, WEBHOOK_PREFIX) {
            upstream.remove_header(&header::COOKIE);
        }
        Ok(())
    }

    async fn upstream_response_filter(
        &self,
        session: &mut Session,
        upstream: &mut ResponseHeader,
        ctx: &mut RequestCtx,
    ) -> Result<()> {
        if let (None, Some(started)) = (ctx.upstream_elapsed, ctx.upstream_started) {
            ctx.upstream_elapsed = Some(started.elapsed());
        }
        if is_tls(session) && upstream.headers.get(STRICT_TRANSPORT_SECURITY).is_none() {
            upstream.insert_header(STRICT_TRANSPORT_SECURITY, HSTS)?;
        }
        Ok(())
    }

    async fn fail_to_proxy(
        &self,
        session: &mut Session,
        e: &Error,
        ctx: &mut RequestCtx,
    ) -> FailToProxy {
        let upstream = ctx
            .route
            .map_or("unknown", |index| self.routes.get(index).upstream_label());
        let code = error_status(e);
        if code > 0 {
            let detail = match code {
                502 => format!("upstream {upstream} unavailable"),
                504 => format!("upstream {upstream} timed out"),
                413 => "request body too large".to_owned(),
                _ => http::StatusCode::from_u16(code)
                    .ok()
                    .and_then(|s| s.canonical_reason())
                    .unwrap_or("error")
                    .to_ascii_lowercase(),
            };
            let body = serde_json::json!({ "detail": detail }).to_string();
            match local_header(session, code, "application/json", body.len()) {
                Ok(header) => {
                    // Writes nothing when a response header already went out (a stream broke
                    // midway): the client then sees the connection close.
                    if let Err(error) = session
                        .as_downstream_mut()
                        .write_error_response(header, Bytes::from(body))
                        .await
                    {
                        tracing::debug!(%error, "could not send the error response");
                    }
                }
                Err(error) => tracing::error!(%error, "could not build the error response"),
            }
        }
        FailToProxy {
            error_code: code,
            can_reuse_downstream: false,
        }
    }

    async fn logging(&self, session: &mut Session, _e: Option<&Error>, ctx: &mut RequestCtx) {
        let label = match ctx.route {
            Some(index) => RouteLabel::Route(index),
            None if !ctx.path.is_empty() => RouteLabel::Edge,
            None => RouteLabel::None,
        };
        let status = session.response_written().map_or(0, |r| r.status.as_u16());
        if let Some(cx) = ctx.trace.take() {
            ferrocat_shared::telemetry::end_server_span(&cx, status);
        }
        if let Some(metrics) = &self.metrics {
            let route = match label {
                RouteLabel::Route(index) => self.routes.get(index).name.as_str(),
                RouteLabel::Edge => "edge",
                RouteLabel::None => "none",
            };
            metrics.record(route, status, ctx.upstream_elapsed);
        }
        if !self.access_log.enabled() {
            return;
        }
        self.access_log.log(AccessRecord {
            ts: ctx.ts,
            method: session.req_header().method.clone(),
            path: std::mem::take(&mut ctx.path),
            route: label,
            status,
            bytes: session.body_bytes_sent(),
            upstream_ms: ctx
                .upstream_elapsed
                .map(|d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX)),
            duration_ms: millis(ctx.started),
            client_ip: ctx.client.or_else(|| peer_ip(session)),
        });
    }
}

const PAYLOAD_TOO_LARGE: &str = r#"{"detail":"request body too large"}"#;

/// The size of a request head as sent on the wire by HTTP/1.1: request line and header lines.
fn head_size(req: &RequestHeader) -> usize {
    let target = req.uri.path_and_query().map_or(1, |pq| pq.as_str().len());
    let fields: usize = req
        .headers
        .iter()
        .map(|(name, value)| name.as_str().len() + value.len() + 4)
        .sum();
    req.method.as_str().len() + target + 11 + fields
}

/// The status for a failed request, as Pingora's default but with upstream timeouts as 504;
/// 0 means the client is gone and nothing can be sent.
fn error_status(e: &Error) -> u16 {
    match (e.etype(), e.esource()) {
        (ErrorType::HTTPStatus(code), _) => *code,
        (ErrorType::ReadTimedout | ErrorType::WriteTimedout, ErrorSource::Upstream) => 504,
        (_, ErrorSource::Upstream) => 502,
        (
            ErrorType::WriteError | ErrorType::ReadError | ErrorType::ConnectionClosed,
            ErrorSource::Downstream,
        ) => 0,
        (_, ErrorSource::Downstream) => 400,
        (_, ErrorSource::Internal | ErrorSource::Unset) => 500,
    }
}

/// The header of a response the edge writes itself: not cached, HSTS on HTTPS.
fn local_header(
    session: &Session,
    status: u16,
    content_type: &str,
    len: usize,
) -> Result<ResponseHeader> {
    let mut header = ResponseHeader::build(status, Some(4))?;
    header.insert_header(header::CONTENT_TYPE, content_type)?;
    header.insert_header(header::CONTENT_LENGTH, len.to_string())?;
    header.insert_header(header::CACHE_CONTROL, "no-store")?;
    if is_tls(session) {
        header.insert_header(STRICT_TRANSPORT_SECURITY, HSTS)?;
    }
    Ok(header)
}

/// Answers a request from the edge itself, keeping the connection reusable.
async fn respond(
    session: &mut Session,
    status: u16,
    content_type: &str,
    body: Bytes,
) -> Result<()> {
    let header = local_header(session, status, content_type, body.len())?;
    write_local(session, header, body).await
}

async fn write_local(session: &mut Session, header: ResponseHeader, body: Bytes) -> Result<()> {
    if session.req_header().method == http::Method::HEAD || body.is_empty() {
        return session.write_response_header(Box::new(header), true).await;
    }
    session
        .write_response_header(Box::new(header), false)
        .await?;
    session.write_response_body(Some(body), true).await
}

async fn respond_json(session: &mut Session, status: u16, body: &'static str) -> Result<()> {
    respond(
        session,
        status,
        "application/json",
        Bytes::from_static(body.as_bytes()),
    )
    .await
}

/// `308 Permanent Redirect` to the same host, path and query on HTTPS (308 keeps the method and
/// body, unlike 301).
async fn redirect_to_https(session: &mut Session, https_port: u16) -> Result<()> {
    let Some(host) = public_host(session) else {
        return respond_json(session, 400, r#"{"detail":"missing host"}"#).await;
    };
    let host = host_without_port(&host);
    let target = session
        .req_header()
        .uri
        .path_and_query()
        .map_or("/", |pq| pq.as_str());
    let location = if https_port == 443 {
        format!("https://{host}{target}")
    } else {
        format!("https://{host}:{https_port}{target}")
    };
    let mut header = local_header(session, 308, "text/plain", 0)?;
    header.insert_header(header::LOCATION, location)?;
    write_local(session, header, Bytes::new()).await
}

/// The TCP peer's address; `::ffff:a.b.c.d` is shown as `a.b.c.d`.
fn peer_ip(session: &Session) -> Option<IpAddr> {
    session
        .client_addr()
        .and_then(|addr| addr.as_inet())
        .map(|addr| addr.ip().to_canonical())
}

fn is_tls(session: &Session) -> bool {
    session.digest().is_some_and(|d| d.ssl_digest.is_some())
}

/// The host the client asked for: the `Host` header, else the request target's authority (h2).
fn public_host(session: &Session) -> Option<String> {
    let req = session.req_header();
    if let Some(host) = req.headers.get(header::HOST) {
        return host
            .to_str()
            .ok()
            .filter(|h| !h.is_empty())
            .map(str::to_owned);
    }
    req.uri.authority().map(|a| a.as_str().to_owned())
}

/// `example.org:8080` → `example.org`, `[::1]:8080` → `[::1]`; a host without port is unchanged.
fn host_without_port(host: &str) -> &str {
    if host.starts_with('[') {
        return host.find(']').map_or(host, |end| &host[..=end]);
    }
    match host.rsplit_once(':') {
        Some((name, port)) if port.bytes().all(|b| b.is_ascii_digit()) => name,
        _ => host,
    }
}

fn millis(since: Instant) -> u64 {
    u64::try_from(since.elapsed().as_millis()).unwrap_or(u64::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn host_port_is_dropped() {
        assert_eq!(host_without_port("example.org:8080"), "example.org");
        assert_eq!(host_without_port("example.org"), "example.org");
        assert_eq!(host_without_port("127.0.0.1:80"), "127.0.0.1");
        assert_eq!(host_without_port("[::1]:8080"), "[::1]");
        assert_eq!(host_without_port("[::1]"), "[::1]");
    }

    #[test]
    fn errors_map_to_statuses() {
        let up = |t| Error::new(t).into_up();
        assert_eq!(error_status(&up(ErrorType::ConnectRefused)), 502);
        assert_eq!(error_status(&up(ErrorType::ConnectTimedout)), 502);
        assert_eq!(error_status(&up(ErrorType::ConnectNoRoute)), 502);
        assert_eq!(error_status(&up(ErrorType::ReadTimedout)), 504);
        assert_eq!(error_status(&Error::new(ErrorType::HTTPStatus(400))), 400);
        assert_eq!(
            error_status(&Error::new(ErrorType::ReadError).into_down()),
            0
        );
        assert_eq!(
            error_status(&Error::new(ErrorType::InvalidHTTPHeader).into_down()),
            400
        );
        assert_eq!(error_status(&Error::new(ErrorType::InternalError)), 500);
    }
}
