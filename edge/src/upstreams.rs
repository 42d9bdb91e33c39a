//! Upstream addresses: each upstream's host is resolved once at start and again by a background
//! service, never per request (Pingora's `HttpPeer::new("host:port")` would block on DNS for
//! every request), and turned into an [`HttpPeer`] with the route's timeouts. The upstreams are
//! the four named services plus every distinct URL the route table names.

use std::net::{SocketAddr, ToSocketAddrs};
use std::sync::{Arc, RwLock};
use std::time::Duration;

use async_trait::async_trait;
use pingora::server::ShutdownWatch;
use pingora::services::background::BackgroundService;
use pingora::upstreams::peer::HttpPeer;

use crate::config::EdgeConfig;
use crate::routes::{Route, RouteTable, UpstreamName, UpstreamRef, UpstreamUrl};

/// The resolved address of every upstream, shared by the proxy and the resolver service.
#[derive(Debug)]
pub struct Upstreams {
    entries: Vec<Entry>,
    /// Route index → entry index.
    by_route: Vec<usize>,
    connect_timeout: Duration,
}

#[derive(Debug)]
struct Entry {
    /// The service's name, or the URL for routes with one of their own.
    name: String,
    url: UpstreamUrl,
    addr: RwLock<Option<SocketAddr>>,
}

impl Upstreams {
    /// Resolves every upstream now (blocking; called once at start). A name that does not
    /// resolve yet is logged and left empty: its routes answer 502 until the resolver finds it,
    /// which is what a container that starts before its upstreams needs.
    pub fn resolve_at_start(config: &EdgeConfig) -> Self {
        let upstreams = Self::unresolved(config);
        for entry in &upstreams.entries {
            let resolved = (entry.url.host(), entry.url.port())
                .to_socket_addrs()
                .map_err(|e| e.to_string())
                .and_then(|addrs| pick(addrs).ok_or_else(|| "no address".to_owned()));
            entry.store(resolved);
        }
        upstreams
    }

    fn unresolved(config: &EdgeConfig) -> Self {
        let mut entries: Vec<Entry> = UpstreamName::ALL
            .into_iter()
            .map(|name| Entry::new(name.as_str().to_owned(), config.upstreams.get(name).clone()))
            .collect();
        let by_route = Self::index_routes(&config.routes, &mut entries);
        Self {
            entries,
            by_route,
            connect_timeout: config.connect_timeout,
        }
    }

    fn index_routes(routes: &RouteTable, entries: &mut Vec<Entry>) -> Vec<usize> {
        routes
            .routes()
            .iter()
            .map(|route| match &route.upstream {
                UpstreamRef::Named(name) => UpstreamName::ALL
                    .iter()
                    .position(|n| n == name)
                    .expect("every name has an entry"),
                UpstreamRef::Url(url) => {
                    match entries
                        .iter()
                        .position(|e| e.url == *url && e.name == url.to_string())
                    {
                        Some(index) => index,
                        None => {
                            entries.push(Entry::new(url.to_string(), url.clone()));
                            entries.len() - 1
                        }
                    }
                }
            })
            .collect()
    }

    /// Resolves every upstream again, keeping the last good address when a lookup fails.
    pub async fn refresh(&self) {
        for entry in &self.entries {
            let resolved = tokio::net::lookup_host((entry.url.host(), entry.url.port()))
                .await
                .map_err(|e| e.to_string())
                .and_then(|addrs| pick(addrs).ok_or_else(|| "no address".to_owned()));
            entry.store(resolved);
        }
    }

    /// The current address of an upstream, if it has resolved.
    pub fn addr(&self, name: UpstreamName) -> Option<SocketAddr> {
        let entry = self.entries.iter().find(|e| e.name == name.as_str())?;
        entry.current()
    }

    /// The peer for the route at `index` of the table, with its timeouts: connect always
    /// bounded; reads bounded by the route's timeout, none on streaming routes, whose responses
    /// (SSE) may stay silent for a long time.
    pub fn peer(&self, index: usize, route: &Route) -> Option<HttpPeer> {
        let addr = self.entries[*self.by_route.get(index)?].current()?;
        let mut peer = HttpPeer::new(addr, false, String::new());
        peer.options.connection_timeout = Some(self.connect_timeout);
        peer.options.read_timeout = route.read_timeout;
        Some(peer)
    }
}

impl Entry {
    fn new(name: String, url: UpstreamUrl) -> Self {
        Self {
            name,
            url,
            addr: RwLock::new(None),
        }
    }

    fn current(&self) -> Option<SocketAddr> {
        *self
            .addr
            .read()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn store(&self, resolved: Result<SocketAddr, String>) {
        let mut slot = self
            .addr
            .write()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        match resolved {
            Ok(addr) if *slot != Some(addr) => {
                tracing::info!(upstream = %self.name, url = %self.url, %addr, "upstream resolved");
                *slot = Some(addr);
            }
            Ok(_) => {}
            Err(error) => {
                tracing::warn!(upstream = %self.name, url = %self.url, %error, "upstream does not resolve");
            }
        }
    }
}

/// The first IPv4 address, else the first address: upstreams on one host usually listen on
/// 127.0.0.1 while `localhost` resolves to `::1` first.
fn pick(addrs: impl Iterator<Item = SocketAddr>) -> Option<SocketAddr> {
    let addrs: Vec<SocketAddr> = addrs.collect();
    addrs
        .iter()
        .find(|a| a.is_ipv4())
        .or(addrs.first())
        .copied()
}

/// Background service that re-resolves the upstreams every `interval` until shutdown.
pub struct Resolver {
    upstreams: Arc<Upstreams>,
    interval: Duration,
}

impl Resolver {
    /// A resolver refreshing `upstreams` every `interval`.
    pub fn new(upstreams: Arc<Upstreams>, interval: Duration) -> Self {
        Self {
            upstreams,
            interval,
        }
    }
}

#[async_trait]
impl BackgroundService for Resolver {
    async fn start(&self, mut shutdown: ShutdownWatch) {
        let mut ticks = tokio::time::interval(self.interval);
        ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        ticks.tick().await; // the first tick is immediate; start already resolved
        loop {
            tokio::select! {
                _ = shutdown.changed() => break,
                _ = ticks.tick() => self.upstreams.refresh().await,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ferrocat_shared::config::Env;

    fn config(pairs: &[(&str, &str)]) -> EdgeConfig {
        EdgeConfig::from_env(&Env::from_pairs(pairs.iter().copied())).unwrap()
    }

    fn peer(upstreams: &Upstreams, config: &EdgeConfig, path: &str) -> Option<HttpPeer> {
        let (index, route) = config.routes.route_for(path).unwrap();
        upstreams.peer(index, route)
    }

    #[test]
    fn ip_literals_and_localhost_resolve_at_start() {
        let upstreams = Upstreams::resolve_at_start(&config(&[
            ("FERROCAT_EDGE_API_UPSTREAM", "http://localhost:8001"),
            ("FERROCAT_EDGE_S3_UPSTREAM", "http://[::1]:9001"),
        ]));
        assert_eq!(
            upstreams.addr(UpstreamName::Api),
            Some("127.0.0.1:8001".parse().unwrap())
        );
        assert_eq!(
            upstreams.addr(UpstreamName::Ui),
            Some("127.0.0.1:3000".parse().unwrap())
        );
        assert_eq!(
            upstreams.addr(UpstreamName::S3),
            Some("[::1]:9001".parse().unwrap())
        );
    }

    #[test]
    fn an_unresolvable_name_leaves_the_upstream_empty() {
        let config = config(&[(
            "FERROCAT_EDGE_UI_UPSTREAM",
            "http://no-such-host.invalid:3000",
        )]);
        let upstreams = Upstreams::resolve_at_start(&config);
        assert_eq!(upstreams.addr(UpstreamName::Ui), None);
        assert!(peer(&upstreams, &config, "/").is_none());
        assert!(peer(&upstreams, &config, "/api").is_some());
    }

    #[test]
    fn peers_carry_the_route_timeouts() {
        let config = config(&[]);
        let upstreams = Upstreams::resolve_at_start(&config);
        let api = peer(&upstreams, &config, "/api/x").unwrap();
        assert_eq!(api.options.connection_timeout, Some(Duration::from_secs(2)));
        assert_eq!(api.options.read_timeout, Some(Duration::from_secs(300)));
        let mcp = peer(&upstreams, &config, "/mcp").unwrap();
        assert_eq!(mcp.options.connection_timeout, Some(Duration::from_secs(2)));
        assert_eq!(mcp.options.read_timeout, None);
    }

    #[test]
    fn routes_with_urls_get_upstreams_of_their_own() {
        let mut config = config(&[("FERROCAT_EDGE_API_UPSTREAM", "http://127.0.0.1:8001")]);
        config.routes = RouteTable::parse(
            r#"
            [[route]]
            name = "a"
            prefix = "/a"
            upstream = "http://127.0.0.1:7001"
            read_timeout_secs = 3
            [[route]]
            name = "b"
            prefix = "/b"
            upstream = "http://127.0.0.1:7001"
            [[route]]
            name = "c"
            prefix = "/c"
            upstream = "api"
            "#,
            &crate::routes::RouteDefaults::default(),
        )
        .unwrap();
        let upstreams = Upstreams::resolve_at_start(&config);
        assert_eq!(upstreams.entries.len(), 5, "one entry for the shared URL");
        let a = peer(&upstreams, &config, "/a").unwrap();
        assert_eq!(a._address.to_string(), "127.0.0.1:7001");
        assert_eq!(a.options.read_timeout, Some(Duration::from_secs(3)));
        let b = peer(&upstreams, &config, "/b").unwrap();
        assert_eq!(b._address.to_string(), "127.0.0.1:7001");
        assert_eq!(b.options.read_timeout, Some(Duration::from_secs(300)));
        let c = peer(&upstreams, &config, "/c").unwrap();
        assert_eq!(c._address.to_string(), "127.0.0.1:8001");
    }

    #[tokio::test]
    async fn refresh_keeps_the_last_good_address() {
        let upstreams = Upstreams::resolve_at_start(&config(&[]));
        let before = upstreams.addr(UpstreamName::Api);
        upstreams.refresh().await;
        assert_eq!(upstreams.addr(UpstreamName::Api), before);
        let entry = &upstreams.entries[0];
        entry.store(Err("lookup failed".into()));
        assert_eq!(upstreams.addr(UpstreamName::Api), before);
    }

    #[tokio::test]
    async fn the_resolver_runs_until_shutdown() {
        let upstreams = Arc::new(Upstreams::resolve_at_start(&config(&[])));
        let resolver = Resolver::new(upstreams.clone(), Duration::from_millis(5));
        let (shutdown, watch) = tokio::sync::watch::channel(false);
        let task = tokio::spawn(async move { resolver.start(watch).await });
        tokio::task::yield_now().await;
        assert!(!task.is_finished());
        shutdown.send(true).unwrap();
        tokio::time::timeout(Duration::from_secs(5), task)
            .await
            .expect("stops on shutdown")
            .unwrap();
        assert!(upstreams.addr(UpstreamName::Mcp).is_some());
    }
}
