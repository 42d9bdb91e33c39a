//! The ferrocat edge: the one public port, a Pingora proxy that routes by path to the api, the
//! MCP server, the object store and the web console (see `ARCHITECTURE.md` for the table).
//!
//! With a certificate (`FERROCAT_EDGE_TLS_CERT`/`_KEY`, see [`tls`]) or ACME domains
//! (`FERROCAT_EDGE_DOMAINS`, see [`acme`]) it also serves HTTPS (h2 and HTTP/1.1) and redirects
//! plain HTTP there with 308, except ACME's HTTP-01 path and `/__edge/healthz`. Metrics are
//! served on a loopback listener when `FERROCAT_EDGE_METRICS_ADDR` is set (see [`metrics`]).
//!
//! The entry is synchronous because Pingora owns its runtimes:
//!
//! ```no_run
//! # fn main() -> anyhow::Result<()> {
//! let env = ferrocat_shared::config::Env::from_process();
//! let config = ferrocat_edge::EdgeConfig::from_env(&env)?;
//! ferrocat_edge::run(config) // blocks; SIGTERM drains gracefully
//! # }
//! ```

pub mod access_log;
pub mod acme;
pub mod config;
pub mod forwarded;
pub mod head_timeout;
pub mod metrics;
pub mod proxy;
pub mod routes;
pub mod shutdown;
pub mod tls;
pub mod upstreams;

use std::future::Future;
use std::sync::Arc;

use anyhow::Context as _;
use pingora::server::{RunArgs, Server};
use pingora::services::background::background_service;

pub use config::EdgeConfig;

/// Runs the edge until SIGTERM or SIGQUIT (graceful: stop accepting, let in-flight requests
/// finish within the grace period; see [`shutdown`]) or SIGINT (immediate). Blocks the calling
/// thread; do not call it from inside a tokio runtime.
pub fn run(config: EdgeConfig) -> anyhow::Result<()> {
    let (server, in_flight) = build_server(&config)?;
    server.run(RunArgs {
        shutdown_signal: Box::new(shutdown::Shutdown::on_signals(in_flight)),
    });
    Ok(())
}

/// Runs the edge until `shutdown` completes, then drains gracefully as on SIGTERM. Process
/// signals are not watched. For tests and embedders that run the edge on a thread of their own.
pub fn run_until<F>(config: EdgeConfig, shutdown: F) -> anyhow::Result<()>
where
    F: Future<Output = ()> + Send + 'static,
{
    let (server, in_flight) = build_server(&config)?;
    server.run(RunArgs {
        shutdown_signal: Box::new(shutdown::Shutdown::on(shutdown, in_flight)),
    });
    Ok(())
}

/// The Pingora server with the proxy service and the upstream resolver, ready to run, and the
/// count of its requests in flight.
fn build_server(config: &EdgeConfig) -> anyhow::Result<(Server, shutdown::InFlight)> {
    // Pingora binds inside its service runtime and only logs a failure there, leaving a process
    // that runs without listening; bind once here so a taken or forbidden port fails the start.
    check_bind(config.http_addr, "FERROCAT_EDGE_HTTP_ADDR")?;
    let acme = match config.tls.domains.is_empty() {
        true => None,
        false => Some(acme::Acme::build(&config.tls)?),
    };
    let resolver: Option<Arc<dyn rustls::server::ResolvesServerCert>> =
        match (&config.tls.cert, &config.tls.key, &acme) {
            (Some(cert), Some(key), _) => Some(tls::load_static_cert(cert, key)?),
            (_, _, Some(acme)) => Some(acme.resolver()),
            _ => None,
        };
    if resolver.is_some() {
        check_bind(config.tls.https_addr, "FERROCAT_EDGE_HTTPS_ADDR")?;
    }

    if let Some(addr) = config.metrics_addr {
        check_bind(addr, "FERROCAT_EDGE_METRICS_ADDR")?;
    }
    let in_flight = shutdown::InFlight::new();
    let metrics = config.metrics_addr.map(|_| {
        let metrics = metrics::Metrics::new();
        metrics.register(Box::new(in_flight.gauge().clone()));
        metrics
    });
    let route_names = config
        .routes
        .routes()
        .iter()
        .map(|r| r.name.clone())
        .collect();
    let access_log = access_log::AccessLog::start(&config.access_log, route_names)
        .with_context(|| format!("opening the access log {:?}", config.access_log))?;
    if let Some(metrics) = &metrics {
        metrics.register(Box::new(access_log.dropped().clone()));
    }
    let upstreams = Arc::new(upstreams::Upstreams::resolve_at_start(config));
    let mut server = Server::new_with_opt_and_conf(None, config.server_conf());
    server.bootstrap();

    let edge = proxy::Edge::new(
        config.routes.clone(),
        upstreams.clone(),
        resolver.is_some().then(|| proxy::Https {
            port: config.tls.https_addr.port(),
            acme: acme.clone(),
        }),
        config.limits.clone(),
        config.trusted_proxies.clone(),
        metrics.clone(),
        in_flight.clone(),
        access_log,
    );
    // The proxy behind a deadline on each connection's first request head (slowloris).
    let app = head_timeout::EdgeApp::new(
        pingora::proxy::http_proxy(&server.configuration, edge),
        config.limits.client_read_timeout,
    );
    let mut proxy = pingora::services::listening::Service::new("ferrocat edge".to_owned(), app);
    proxy.add_tcp(&config.http_addr.to_string());
    if let Some(resolver) = resolver {
        let settings = tls::listener_settings(resolver).context("building the TLS settings")?;
        proxy.add_tls_with_settings(&config.tls.https_addr.to_string(), None, settings);
    }
    if let Some(acme) = &acme {
        if config.tls.acme_challenge == config::AcmeChallenge::TlsAlpn01 {
            proxy
                .endpoints()
                .set_pre_tls_callback(Arc::new(acme::TlsAlpnHook(acme.clone())));
        }
        server.add_service(background_service("acme", acme::Renewal(acme.clone())));
    }
    server.add_service(proxy);
    if let (Some(addr), Some(metrics)) = (config.metrics_addr, &metrics) {
        let mut service = pingora::services::listening::Service::new(
            "ferrocat edge metrics".to_owned(),
            metrics::MetricsApp(metrics.clone()),
        );
        service.add_tcp(&addr.to_string());
        service.threads = Some(1); // a scrape every few seconds needs no more
        server.add_service(service);
    }
    server.add_service(background_service(
        "upstream resolver",
        upstreams::Resolver::new(upstreams, config.resolve_interval),
    ));
    tracing::info!(
        http = %config.http_addr,
        https = config.tls.enabled().then(|| tracing::field::display(config.tls.https_addr)),
        threads = config.threads,
        "edge starting"
    );
    Ok((server, in_flight))
}

fn check_bind(addr: std::net::SocketAddr, key: &str) -> anyhow::Result<()> {
    std::net::TcpListener::bind(addr)
        .map(drop)
        .with_context(|| format!("cannot listen on {addr} ({key})"))
}
