//! The edge's typed configuration: `FERROCAT_EDGE_*` variables read from an [`Env`], validated
//! at load, and turned into Pingora's [`ServerConf`] here so nothing else reads the environment.
//!
//! Each area's settings are read in a module of their own (`upstreams`, `limits`, `https`);
//! [`EdgeConfig`] assembles them with the route table, the trusted proxies and the access log.

mod https;
mod limits;
mod upstreams;
mod vars;

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use ferrocat_shared::config::{ConfigError, Env};
use pingora::server::configuration::ServerConf;

use crate::access_log::Destination;
use crate::forwarded::TrustedProxies;
use crate::routes::{RouteDefaults, RouteTable};
use vars::{invalid, parse_addr, path_opt, secs};

pub use https::{AcmeChallenge, TlsConfig};
pub use limits::ClientLimits;
pub use upstreams::UpstreamUrls;

/// Everything the edge needs to start, validated.
#[derive(Debug, Clone)]
pub struct EdgeConfig {
    /// Plain-HTTP listener (`FERROCAT_EDGE_HTTP_ADDR`, default `0.0.0.0:80`).
    pub http_addr: SocketAddr,
    /// The four upstream services the route table points at.
    pub upstreams: UpstreamUrls,
    /// Worker threads of the proxy service (`FERROCAT_EDGE_THREADS`, default: CPU count).
    pub threads: usize,
    /// How long to wait for an upstream TCP connect before answering 502
    /// (`FERROCAT_EDGE_CONNECT_TIMEOUT_SECS`, default 2).
    pub connect_timeout: Duration,
    /// Longest silence from an upstream before answering 504, on every route except the streaming
    /// MCP routes (`FERROCAT_EDGE_READ_TIMEOUT_SECS`, default 300); a route file can set it per
    /// route.
    pub read_timeout: Duration,
    /// The route table: the built-in one, or the file of `--routes` / `FERROCAT_EDGE_ROUTES`.
    pub routes: RouteTable,
    /// Where `routes` came from (`None`: built in).
    pub routes_file: Option<PathBuf>,
    /// After SIGTERM: how long listeners stay closed while in-flight requests finish, before the
    /// runtimes are stopped (`FERROCAT_EDGE_GRACE_PERIOD_SECS`, else `FERROCAT_SHUTDOWN_GRACE`,
    /// default 5).
    pub grace_period: Duration,
    /// How often upstream host names are resolved again (Docker DNS can move a container).
    pub resolve_interval: Duration,
    /// HTTPS: a static certificate, ACME, or none.
    pub tls: TlsConfig,
    /// What a client may send, and how long it may take.
    pub limits: ClientLimits,
    /// Proxies in front of the edge whose `X-Forwarded-For` is believed
    /// (`FERROCAT_EDGE_TRUSTED_PROXIES`: comma-separated CIDRs or addresses, IPv4 and IPv6;
    /// default none: the TCP peer is always the client).
    pub trusted_proxies: TrustedProxies,
    /// Where the access log goes (`FERROCAT_EDGE_ACCESS_LOG`: `stdout`, `stderr`, `off` or a
    /// file; unset: stdout when the tracing filter enables `ferrocat_edge::access`, see
    /// [`crate::access_log`]).
    pub access_log: Destination,
    /// Loopback address of the Prometheus endpoint (`FERROCAT_EDGE_METRICS_ADDR`; off when
    /// unset).
    pub metrics_addr: Option<SocketAddr>,
}

const DEFAULT_HTTP_ADDR: &str = "0.0.0.0:80";

impl EdgeConfig {
    /// Reads and validates the edge's configuration.
    pub fn from_env(env: &Env) -> Result<Self, ConfigError> {
        Self::from_env_and_routes(env, None)
    }

    /// [`from_env`](Self::from_env), with the route file named on the command line (`--routes`),
    /// which wins over `FERROCAT_EDGE_ROUTES`.
    pub fn from_env_and_routes(env: &Env, routes: Option<&Path>) -> Result<Self, ConfigError> {
        let upstreams = UpstreamUrls::from_env(env)?;

        let threads = match env.parse_opt::<usize>("FERROCAT_EDGE_THREADS")? {
            Some(0) => return Err(invalid("FERROCAT_EDGE_THREADS", "0", "must be at least 1")),
            Some(n) => n,
            None => std::thread::available_parallelism().map_or(1, |n| n.get()),
        };
        let read_timeout = secs(env, "FERROCAT_EDGE_READ_TIMEOUT_SECS", 300, 1)?;
        let limits = ClientLimits::from_env(env)?;
        let defaults = RouteDefaults {
            read_timeout,
            max_body_bytes: limits.max_body_bytes,
            s3_max_body_bytes: limits.s3_max_body_bytes,
        };
        let (routes_key, routes_file) = match routes {
            Some(path) => ("--routes", Some(path.to_owned())),
            None => (
                "FERROCAT_EDGE_ROUTES",
                path_opt(env, "FERROCAT_EDGE_ROUTES"),
            ),
        };
        let routes = match &routes_file {
            None => RouteTable::builtin(&defaults),
            Some(path) => RouteTable::load(path, &defaults)
                .map_err(|reason| invalid(routes_key, &path.to_string_lossy(), reason))?,
        };

        Ok(Self {
            http_addr: env.parse_or("FERROCAT_EDGE_HTTP_ADDR", parse_addr(DEFAULT_HTTP_ADDR))?,
            upstreams,
            threads,
            connect_timeout: secs(env, "FERROCAT_EDGE_CONNECT_TIMEOUT_SECS", 2, 1)?,
            read_timeout,
            routes,
            routes_file,
            // The edge's own setting, else the one every service honours, else 5 s.
            grace_period: match env.get("FERROCAT_EDGE_GRACE_PERIOD_SECS") {
                Some(_) => secs(env, "FERROCAT_EDGE_GRACE_PERIOD_SECS", 5, 0)?,
                None => secs(env, "FERROCAT_SHUTDOWN_GRACE", 5, 0)?,
            },
            resolve_interval: Duration::from_secs(10),
            tls: TlsConfig::from_env(env)?,
            limits,
            trusted_proxies: match env.get("FERROCAT_EDGE_TRUSTED_PROXIES") {
                None => TrustedProxies::default(),
                Some(raw) => TrustedProxies::parse(raw)
                    .map_err(|reason| invalid("FERROCAT_EDGE_TRUSTED_PROXIES", raw, reason))?,
            },
            access_log: Destination::parse(env.get("FERROCAT_EDGE_ACCESS_LOG")),
            metrics_addr: metrics_addr(env)?,
        })
    }

    /// Pingora's server settings for this configuration. The pid file and upgrade socket are
    /// per process (not Pingora's shared `/tmp` defaults), so several edges can share a host.
    pub(crate) fn server_conf(&self) -> ServerConf {
        let pid = std::process::id();
        let dir = std::env::temp_dir();
        ServerConf {
            threads: self.threads,
            grace_period_seconds: Some(self.grace_period.as_secs()),
            graceful_shutdown_timeout_seconds: Some(5),
            pid_file: dir
                .join(format!("ferrocat-edge-{pid}.pid"))
                .to_string_lossy()
                .into_owned(),
            upgrade_sock: dir
                .join(format!("ferrocat-edge-{pid}-upgrade.sock"))
                .to_string_lossy()
                .into_owned(),
            ..ServerConf::default()
        }
    }
}

/// The metrics listener: on loopback, unless `FERROCAT_METRICS_REMOTE` says a firewall keeps it
/// to the scraper (see [`ferrocat_shared::metrics::listen_addr`]).
fn metrics_addr(env: &Env) -> Result<Option<SocketAddr>, ConfigError> {
    ferrocat_shared::metrics::listen_addr(env, "FERROCAT_EDGE_METRICS_ADDR")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn load(pairs: &[(&str, &str)]) -> Result<EdgeConfig, ConfigError> {
        EdgeConfig::from_env(&Env::from_pairs(pairs.iter().copied()))
    }

    #[test]
    fn defaults_match_the_deployment_ports() {
        let config = load(&[]).unwrap();
        assert_eq!(config.http_addr, "0.0.0.0:80".parse().unwrap());
        assert_eq!(config.tls.https_addr, "0.0.0.0:443".parse().unwrap());
        assert_eq!(config.upstreams.api.to_string(), "http://127.0.0.1:8000");
        assert_eq!(config.upstreams.mcp.to_string(), "http://127.0.0.1:8099");
        assert_eq!(config.upstreams.ui.to_string(), "http://127.0.0.1:3000");
        assert_eq!(config.upstreams.s3.to_string(), "http://127.0.0.1:9000");
        assert!(config.threads >= 1);
        assert_eq!(config.connect_timeout, Duration::from_secs(2));
        assert_eq!(config.read_timeout, Duration::from_secs(300));
        assert!(!config.tls.enabled());
        assert_eq!(config.tls.acme_challenge, AcmeChallenge::Http01);
        assert_eq!(config.limits.max_body_bytes, 32 * 1024 * 1024);
        assert_eq!(config.limits.s3_max_body_bytes, 5 * 1024 * 1024 * 1024);
        assert_eq!(config.limits.max_header_bytes, 64 * 1024);
        assert_eq!(config.limits.client_idle_timeout, Duration::from_secs(60));
        assert_eq!(config.metrics_addr, None);
    }

    #[test]
    fn the_grace_period_is_the_edges_own_else_every_services_else_five_seconds() {
        assert_eq!(load(&[]).unwrap().grace_period, Duration::from_secs(5));
        assert_eq!(load(&[("FERROCAT_SHUTDOWN_GRACE", "40")]).unwrap().grace_period, Duration::from_secs(40));
        let both = load(&[("FERROCAT_SHUTDOWN_GRACE", "40"), ("FERROCAT_EDGE_GRACE_PERIOD_SECS", "2")]).unwrap();
        assert_eq!(both.grace_period, Duration::from_secs(2));
        assert!(load(&[("FERROCAT_SHUTDOWN_GRACE", "soon")]).unwrap_err().to_string().contains("FERROCAT_SHUTDOWN_GRACE"));
    }

    #[test]
    fn threads_and_addresses_are_validated() {
        assert_eq!(load(&[("FERROCAT_EDGE_THREADS", "3")]).unwrap().threads, 3);
        assert!(load(&[("FERROCAT_EDGE_THREADS", "0")]).is_err());
        assert!(load(&[("FERROCAT_EDGE_THREADS", "many")]).is_err());
        assert!(load(&[("FERROCAT_EDGE_HTTP_ADDR", "localhost")]).is_err());
        let config = load(&[("FERROCAT_EDGE_HTTP_ADDR", "127.0.0.1:8080")]).unwrap();
        assert_eq!(config.http_addr.port(), 8080);
    }

    #[test]
    fn limits_and_metrics_are_configurable() {
        let config = load(&[
            ("FERROCAT_EDGE_MAX_BODY_BYTES", "1000"),
            ("FERROCAT_EDGE_S3_MAX_BODY_BYTES", "2000"),
            ("FERROCAT_EDGE_MAX_HEADER_BYTES", "4096"),
            ("FERROCAT_EDGE_CLIENT_IDLE_TIMEOUT_SECS", "5"),
            ("FERROCAT_EDGE_METRICS_ADDR", "127.0.0.1:9100"),
        ])
        .unwrap();
        assert_eq!(config.limits.max_body_bytes, 1000);
        assert_eq!(config.limits.s3_max_body_bytes, 2000);
        assert_eq!(config.limits.max_header_bytes, 4096);
        assert_eq!(config.limits.client_idle_timeout, Duration::from_secs(5));
        assert_eq!(config.metrics_addr, Some("127.0.0.1:9100".parse().unwrap()));
        let error = load(&[("FERROCAT_EDGE_METRICS_ADDR", "0.0.0.0:9100")]).unwrap_err().to_string();
        assert!(error.contains("loopback") && error.contains("FERROCAT_METRICS_REMOTE"), "{error}");
        let remote = load(&[("FERROCAT_EDGE_METRICS_ADDR", "0.0.0.0:9100"), ("FERROCAT_METRICS_REMOTE", "true")]).unwrap();
        assert_eq!(remote.metrics_addr, Some("0.0.0.0:9100".parse().unwrap()));
        assert!(load(&[("FERROCAT_EDGE_METRICS_ADDR", "0.0.0.0:9100"), ("FERROCAT_METRICS_REMOTE", "maybe")]).is_err());
        assert!(load(&[("FERROCAT_EDGE_MAX_BODY_BYTES", "-1")]).is_err());
        assert!(load(&[("FERROCAT_EDGE_CLIENT_IDLE_TIMEOUT_SECS", "0")]).is_err());
    }

    #[test]
    fn a_route_file_replaces_the_builtin_table() {
        let builtin = load(&[]).unwrap();
        assert_eq!(builtin.routes_file, None);
        assert_eq!(builtin.routes.routes().len(), 5);

        let dir = std::env::temp_dir().join(format!("ferrocat-edge-routes-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let good = dir.join("good.toml");
        std::fs::write(
            &good,
            "[[route]]\nname = \"api\"\nprefix = \"/\"\nupstream = \"api\"\n",
        )
        .unwrap();
        let bad = dir.join("bad.toml");
        std::fs::write(
            &bad,
            "[[route]]\nname = \"x\"\nprefix = \"/\"\nupstream = \"db\"\n",
        )
        .unwrap();
        let good_str = good.to_str().unwrap();
        let bad_str = bad.to_str().unwrap();

        let config = load(&[
            ("FERROCAT_EDGE_ROUTES", good_str),
            ("FERROCAT_EDGE_READ_TIMEOUT_SECS", "9"),
        ])
        .unwrap();
        assert_eq!(config.routes.routes().len(), 1);
        assert_eq!(
            config.routes.routes()[0].read_timeout,
            Some(Duration::from_secs(9)),
            "the global read timeout is the routes' default"
        );
        let err = load(&[("FERROCAT_EDGE_ROUTES", bad_str)]).unwrap_err();
        assert!(
            matches!(&err, ConfigError::Invalid { key, .. } if key == "FERROCAT_EDGE_ROUTES"),
            "{err}"
        );
        let message = err.to_string();
        assert!(
            message.contains(bad_str) && message.contains("route 1"),
            "{message}"
        );
        assert!(!message.contains('\n'), "{message}");

        // The flag wins over the variable.
        let env = Env::from_pairs([("FERROCAT_EDGE_ROUTES", bad_str)]);
        let config = EdgeConfig::from_env_and_routes(&env, Some(&good)).unwrap();
        assert_eq!(config.routes_file.as_deref(), Some(good.as_path()));
        let err = EdgeConfig::from_env_and_routes(
            &Env::from_pairs([("A", "b")]),
            Some(&dir.join("missing.toml")),
        )
        .unwrap_err();
        assert!(err.to_string().starts_with("--routes="), "{err}");
        assert!(err.to_string().contains("cannot read"), "{err}");
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn trusted_proxies_are_parsed_and_checked() {
        assert!(load(&[]).unwrap().trusted_proxies.is_empty());
        let config = load(&[("FERROCAT_EDGE_TRUSTED_PROXIES", "10.0.0.0/8, fd00::/8")]).unwrap();
        assert!(config.trusted_proxies.contains("10.1.2.3".parse().unwrap()));
        assert!(config.trusted_proxies.contains("fd00::1".parse().unwrap()));
        assert!(
            !config
                .trusted_proxies
                .contains("127.0.0.1".parse().unwrap())
        );
        let err = load(&[("FERROCAT_EDGE_TRUSTED_PROXIES", "10.0.0.0/8,10.0.0.1/8")]).unwrap_err();
        assert!(
            matches!(&err, ConfigError::Invalid { key, .. } if key == "FERROCAT_EDGE_TRUSTED_PROXIES"),
            "{err}"
        );
        assert!(err.to_string().contains("host bits"), "{err}");
    }

    #[test]
    fn server_conf_uses_per_process_paths() {
        let conf = load(&[("FERROCAT_EDGE_THREADS", "2")])
            .unwrap()
            .server_conf();
        assert_eq!(conf.threads, 2);
        let pid = std::process::id().to_string();
        assert!(conf.pid_file.contains(&pid), "{}", conf.pid_file);
        assert!(conf.upgrade_sock.contains(&pid), "{}", conf.upgrade_sock);
        assert_ne!(conf.pid_file, ServerConf::default().pid_file);
    }
}
