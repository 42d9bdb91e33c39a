//! The ferrocat edge: the one public port, a Pingora proxy that routes by path to the api, the
//! MCP server, the object store and the web console (see `ARCHITECTURE.md` for the table).
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
pub mod config;
pub mod proxy;
pub mod routes;
pub mod upstreams;

use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex};

use anyhow::Context as _;
use async_trait::async_trait;
use pingora::server::{RunArgs, Server, ShutdownSignal, ShutdownSignalWatch};
use pingora::services::background::background_service;

pub use config::EdgeConfig;

/// Runs the edge until SIGTERM (graceful: stop accepting, let in-flight requests finish for the
/// grace period) or SIGINT (immediate). Blocks the calling thread; do not call it from inside a
/// tokio runtime.
pub fn run(config: EdgeConfig) -> anyhow::Result<()> {
    build_server(&config)?.run(RunArgs::default());
    Ok(())
}

/// Runs the edge until `shutdown` completes, then drains gracefully as on SIGTERM. Process
/// signals are not watched. For tests and embedders that run the edge on a thread of their own.
pub fn run_until<F>(config: EdgeConfig, shutdown: F) -> anyhow::Result<()>
where
    F: Future<Output = ()> + Send + 'static,
{
    let server = build_server(&config)?;
    let signal = ShutdownOn(Mutex::new(Some(Box::pin(shutdown))));
    server.run(RunArgs {
        shutdown_signal: Box::new(signal),
    });
    Ok(())
}

/// The Pingora server with the proxy service and the upstream resolver, ready to run.
fn build_server(config: &EdgeConfig) -> anyhow::Result<Server> {
    if config.tls.enabled() {
        anyhow::bail!(
            "TLS is not implemented yet: FERROCAT_EDGE_DOMAINS (ACME) and FERROCAT_EDGE_TLS_CERT/KEY \
             are parsed but not served; unset them to run the edge on plain HTTP"
        );
    }
    // Pingora binds inside its service runtime and only logs a failure there, leaving a process
    // that runs without listening; bind once here so a taken or forbidden port fails the start.
    std::net::TcpListener::bind(config.http_addr).with_context(|| {
        format!(
            "cannot listen on {} (FERROCAT_EDGE_HTTP_ADDR)",
            config.http_addr
        )
    })?;

    let upstreams = Arc::new(upstreams::Upstreams::resolve_at_start(config));
    let mut server = Server::new_with_opt_and_conf(None, config.server_conf());
    server.bootstrap();

    let mut proxy = pingora::proxy::http_proxy_service_with_name(
        &server.configuration,
        proxy::Edge::new(upstreams.clone()),
        "ferrocat edge",
    );
    proxy.add_tcp(&config.http_addr.to_string());
    server.add_service(proxy);
    server.add_service(background_service(
        "upstream resolver",
        upstreams::Resolver::new(upstreams, config.resolve_interval),
    ));
    tracing::info!(http = %config.http_addr, threads = config.threads, "edge starting");
    Ok(server)
}

type ShutdownFuture = Pin<Box<dyn Future<Output = ()> + Send>>;

/// A shutdown "signal" that is a future: graceful termination once it completes.
struct ShutdownOn(Mutex<Option<ShutdownFuture>>);

#[async_trait]
impl ShutdownSignalWatch for ShutdownOn {
    async fn recv(&self) -> ShutdownSignal {
        let shutdown = self
            .0
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .take();
        match shutdown {
            Some(shutdown) => shutdown.await,
            None => std::future::pending().await,
        }
        ShutdownSignal::GracefulTerminate
    }
}
