//! The edge's typed configuration: `FERROCAT_EDGE_*` variables read from an [`Env`], validated
//! at load, and turned into Pingora's [`ServerConf`] here so nothing else reads the environment.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use ferrocat_shared::config::{ConfigError, Env};
use pingora::server::configuration::ServerConf;
use url::Url;

use crate::forwarded::TrustedProxies;
use crate::routes::{RouteDefaults, RouteTable, UpstreamName, UpstreamUrl};

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
    /// runtimes are stopped (`FERROCAT_EDGE_GRACE_PERIOD_SECS`, default 5).
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
    pub access_log: crate::access_log::Destination,
    /// Loopback address of the Prometheus endpoint (`FERROCAT_EDGE_METRICS_ADDR`; off when
    /// unset).
    pub metrics_addr: Option<SocketAddr>,
}

/// Limits against oversized requests and slow or idle clients.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientLimits {
    /// Largest request body on every route but /s3 (`FERROCAT_EDGE_MAX_BODY_BYTES`, default
    /// 10 MiB); larger bodies get 413. The default of routes that set no `max_body_bytes`.
    pub max_body_bytes: u64,
    /// Largest request body on /s3 (`FERROCAT_EDGE_S3_MAX_BODY_BYTES`, default 5 GiB, S3's
    /// single-PUT maximum).
    pub s3_max_body_bytes: u64,
    /// Largest request head: target plus header lines (`FERROCAT_EDGE_MAX_HEADER_BYTES`,
    /// default 64 KiB); larger heads get 431.
    pub max_header_bytes: usize,
    /// How long an idle keep-alive HTTP/1 connection waits for its next request
    /// (`FERROCAT_EDGE_CLIENT_IDLE_TIMEOUT_SECS`, default 60).
    pub client_idle_timeout: Duration,
    /// Longest time a new connection may take to deliver its first request head, and longest
    /// silence while reading a request body (`FERROCAT_EDGE_CLIENT_READ_TIMEOUT_SECS`, default 60).
    pub client_read_timeout: Duration,
}

/// One upstream per route target; each is `http://host:port` with nothing else.
#[derive(Debug, Clone)]
pub struct UpstreamUrls {
    /// `FERROCAT_EDGE_API_UPSTREAM`, default `http://127.0.0.1:8000`.
    pub api: UpstreamUrl,
    /// `FERROCAT_EDGE_MCP_UPSTREAM`, default `http://127.0.0.1:8099`.
    pub mcp: UpstreamUrl,
    /// `FERROCAT_EDGE_UI_UPSTREAM`, default `http://127.0.0.1:3000`.
    pub ui: UpstreamUrl,
    /// `FERROCAT_EDGE_S3_UPSTREAM`, default `http://127.0.0.1:9000`.
    pub s3: UpstreamUrl,
}

impl UpstreamUrls {
    /// The URL behind a route target.
    pub fn get(&self, name: UpstreamName) -> &UpstreamUrl {
        match name {
            UpstreamName::Api => &self.api,
            UpstreamName::Mcp => &self.mcp,
            UpstreamName::Ui => &self.ui,
            UpstreamName::S3 => &self.s3,
        }
    }
}

/// Which ACME challenge proves control of the domains.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum AcmeChallenge {
    /// Answered on the plain listener under `/.well-known/acme-challenge/` (default).
    #[default]
    Http01,
    /// Answered in the TLS handshake on the HTTPS listener.
    TlsAlpn01,
}

impl std::str::FromStr for AcmeChallenge {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.to_ascii_lowercase().as_str() {
            "http-01" => Ok(Self::Http01),
            "tls-alpn-01" => Ok(Self::TlsAlpn01),
            _ => Err("expected http-01 or tls-alpn-01".into()),
        }
    }
}

/// HTTPS settings. Either ACME (`domains` set) or a static certificate (`cert`/`key`), or
/// neither (plain HTTP only).
#[derive(Debug, Clone)]
pub struct TlsConfig {
    /// HTTPS listener (`FERROCAT_EDGE_HTTPS_ADDR`, default `0.0.0.0:443`).
    pub https_addr: SocketAddr,
    /// Domains to obtain certificates for (`FERROCAT_EDGE_DOMAINS`, comma separated).
    pub domains: Vec<String>,
    /// ACME directory URL (`FERROCAT_EDGE_ACME_DIRECTORY`), e.g. Let's Encrypt's.
    pub acme_directory: Option<Url>,
    /// Contact address for the ACME account (`FERROCAT_EDGE_ACME_EMAIL`).
    pub acme_email: Option<String>,
    /// Extra root CA (PEM) trusted for the ACME directory (`FERROCAT_EDGE_ACME_CA_FILE`).
    pub acme_ca_file: Option<PathBuf>,
    /// Where the account key and certificates are kept (`FERROCAT_EDGE_ACME_CACHE_DIR`;
    /// required with `domains`).
    pub acme_cache_dir: Option<PathBuf>,
    /// `FERROCAT_EDGE_ACME_CHALLENGE`: `http-01` (default) or `tls-alpn-01`.
    pub acme_challenge: AcmeChallenge,
    /// Static certificate chain (PEM) (`FERROCAT_EDGE_TLS_CERT`), with `key`.
    pub cert: Option<PathBuf>,
    /// Static private key (PEM) (`FERROCAT_EDGE_TLS_KEY`), with `cert`.
    pub key: Option<PathBuf>,
}

impl TlsConfig {
    /// Whether any HTTPS listener is asked for.
    pub fn enabled(&self) -> bool {
        !self.domains.is_empty() || self.cert.is_some()
    }
}

const DEFAULT_HTTP_ADDR: &str = "0.0.0.0:80";
const DEFAULT_HTTPS_ADDR: &str = "0.0.0.0:443";

impl EdgeConfig {
    /// Reads and validates the edge's configuration.
    pub fn from_env(env: &Env) -> Result<Self, ConfigError> {
        Self::from_env_and_routes(env, None)
    }

    /// [`from_env`](Self::from_env), with the route file named on the command line (`--routes`),
    /// which wins over `FERROCAT_EDGE_ROUTES`.
    pub fn from_env_and_routes(env: &Env, routes: Option<&Path>) -> Result<Self, ConfigError> {
        let upstream = |key: &str, default: &str| -> Result<UpstreamUrl, ConfigError> {
            let raw = env.string_or(key, default);
            UpstreamUrl::parse(&raw).map_err(|reason| invalid(key, &raw, reason))
        };
        let upstreams = UpstreamUrls {
            api: upstream("FERROCAT_EDGE_API_UPSTREAM", "http://127.0.0.1:8000")?,
            mcp: upstream("FERROCAT_EDGE_MCP_UPSTREAM", "http://127.0.0.1:8099")?,
            ui: upstream("FERROCAT_EDGE_UI_UPSTREAM", "http://127.0.0.1:3000")?,
            s3: upstream("FERROCAT_EDGE_S3_UPSTREAM", "http://127.0.0.1:9000")?,
        };

        let threads = match env.parse_opt::<usize>("FERROCAT_EDGE_THREADS")? {
            Some(0) => return Err(invalid("FERROCAT_EDGE_THREADS", "0", "must be at least 1")),
            Some(n) => n,
            None => std::thread::available_parallelism().map_or(1, |n| n.get()),
        };
        let secs = |key: &str, default: u64, min: u64| -> Result<Duration, ConfigError> {
            let value = env.parse_or(key, default)?;
            if value < min {
                return Err(invalid(
                    key,
                    &value.to_string(),
                    format!("must be at least {min}"),
                ));
            }
            Ok(Duration::from_secs(value))
        };

        let read_timeout = secs("FERROCAT_EDGE_READ_TIMEOUT_SECS", 300, 1)?;
        let limits = ClientLimits {
            max_body_bytes: env.parse_or("FERROCAT_EDGE_MAX_BODY_BYTES", 10 << 20)?,
            s3_max_body_bytes: env.parse_or("FERROCAT_EDGE_S3_MAX_BODY_BYTES", 5 << 30)?,
            max_header_bytes: env.parse_or("FERROCAT_EDGE_MAX_HEADER_BYTES", 64 << 10)?,
            client_idle_timeout: secs("FERROCAT_EDGE_CLIENT_IDLE_TIMEOUT_SECS", 60, 1)?,
            client_read_timeout: secs("FERROCAT_EDGE_CLIENT_READ_TIMEOUT_SECS", 60, 1)?,
        };
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
            connect_timeout: secs("FERROCAT_EDGE_CONNECT_TIMEOUT_SECS", 2, 1)?,
            read_timeout,
            routes,
            routes_file,
            grace_period: secs("FERROCAT_EDGE_GRACE_PERIOD_SECS", 5, 0)?,
            resolve_interval: Duration::from_secs(10),
            tls: TlsConfig::from_env(env)?,
            limits,
            trusted_proxies: match env.get("FERROCAT_EDGE_TRUSTED_PROXIES") {
                None => TrustedProxies::default(),
                Some(raw) => TrustedProxies::parse(raw)
                    .map_err(|reason| invalid("FERROCAT_EDGE_TRUSTED_PROXIES", raw, reason))?,
            },
            access_log: crate::access_log::Destination::parse(env.get("FERROCAT_EDGE_ACCESS_LOG")),
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

impl TlsConfig {
    fn from_env(env: &Env) -> Result<Self, ConfigError> {
        let domains: Vec<String> = env
            .get("FERROCAT_EDGE_DOMAINS")
            .map(|raw| {
                raw.split(',')
                    .map(|d| d.trim().trim_end_matches('.').to_ascii_lowercase())
                    .filter(|d| !d.is_empty())
                    .collect()
            })
            .unwrap_or_default();
        for domain in &domains {
            if !is_dns_name(domain) {
                return Err(invalid("FERROCAT_EDGE_DOMAINS", domain, "not a DNS name"));
            }
        }
        let path = |key: &str| env.get(key).map(PathBuf::from);
        let cert = path("FERROCAT_EDGE_TLS_CERT");
        let key = path("FERROCAT_EDGE_TLS_KEY");
        match (&cert, &key) {
            (Some(_), None) => return Err(missing("FERROCAT_EDGE_TLS_KEY")),
            (None, Some(_)) => return Err(missing("FERROCAT_EDGE_TLS_CERT")),
            _ => {}
        }
        if cert.is_some() && !domains.is_empty() {
            let raw = env.get("FERROCAT_EDGE_TLS_CERT").unwrap_or_default();
            return Err(invalid(
                "FERROCAT_EDGE_TLS_CERT",
                raw,
                "set either FERROCAT_EDGE_DOMAINS (ACME) or a static certificate, not both",
            ));
        }
        let acme_directory = match env.get("FERROCAT_EDGE_ACME_DIRECTORY") {
            None => None,
            Some(raw) => {
                let url = Url::parse(raw)
                    .map_err(|e| invalid("FERROCAT_EDGE_ACME_DIRECTORY", raw, e.to_string()))?;
                if url.scheme() != "https" {
                    return Err(invalid(
                        "FERROCAT_EDGE_ACME_DIRECTORY",
                        raw,
                        "must be an https url",
                    ));
                }
                Some(url)
            }
        };
        let acme_cache_dir = path("FERROCAT_EDGE_ACME_CACHE_DIR");
        if !domains.is_empty() && acme_cache_dir.is_none() {
            // Without a cache every start orders a new certificate, which runs into the ACME
            // server's rate limits after a few restarts.
            return Err(missing("FERROCAT_EDGE_ACME_CACHE_DIR"));
        }
        let acme_email = env.get("FERROCAT_EDGE_ACME_EMAIL").map(str::to_owned);
        if let Some(email) = &acme_email
            && !email.contains('@')
        {
            return Err(invalid(
                "FERROCAT_EDGE_ACME_EMAIL",
                email,
                "not an email address",
            ));
        }
        Ok(Self {
            https_addr: env.parse_or("FERROCAT_EDGE_HTTPS_ADDR", parse_addr(DEFAULT_HTTPS_ADDR))?,
            domains,
            acme_directory,
            acme_email,
            acme_ca_file: path("FERROCAT_EDGE_ACME_CA_FILE"),
            acme_cache_dir,
            acme_challenge: env
                .parse_or("FERROCAT_EDGE_ACME_CHALLENGE", AcmeChallenge::default())?,
            cert,
            key,
        })
    }
}

/// The metrics listener must be on loopback: it is for the host's scraper, not the internet.
fn metrics_addr(env: &Env) -> Result<Option<SocketAddr>, ConfigError> {
    let addr = env.parse_opt::<SocketAddr>("FERROCAT_EDGE_METRICS_ADDR")?;
    if let Some(addr) = addr
        && !addr.ip().is_loopback()
    {
        return Err(invalid(
            "FERROCAT_EDGE_METRICS_ADDR",
            &addr.to_string(),
            "must be a loopback address (127.0.0.1 or [::1])",
        ));
    }
    Ok(addr)
}

fn path_opt(env: &Env, key: &str) -> Option<PathBuf> {
    env.get(key).filter(|v| !v.is_empty()).map(PathBuf::from)
}

fn parse_addr(raw: &str) -> SocketAddr {
    raw.parse().expect("built-in default address parses")
}

/// Dot-separated labels of letters, digits and inner hyphens; a leading `*.` is allowed.
fn is_dns_name(name: &str) -> bool {
    let name = name.strip_prefix("*.").unwrap_or(name);
    name.len() <= 253
        && name.split('.').all(|label| {
            !label.is_empty()
                && label.len() <= 63
                && !label.starts_with('-')
                && !label.ends_with('-')
                && label
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-')
        })
}

fn invalid(key: &str, value: &str, reason: impl Into<String>) -> ConfigError {
    ConfigError::Invalid {
        key: key.to_owned(),
        value: value.to_owned(),
        reason: reason.into(),
    }
}

fn missing(key: &str) -> ConfigError {
    ConfigError::Missing {
        key: key.to_owned(),
    }
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
        assert_eq!(config.limits.max_body_bytes, 10 * 1024 * 1024);
        assert_eq!(config.limits.s3_max_body_bytes, 5 * 1024 * 1024 * 1024);
        assert_eq!(config.limits.max_header_bytes, 64 * 1024);
        assert_eq!(config.limits.client_idle_timeout, Duration::from_secs(60));
        assert_eq!(config.metrics_addr, None);
    }

    #[test]
    fn upstream_urls_are_validated() {
        for bad in [
            "https://api:8000",
            "api:8000",
            "http://",
            "http://api:8000/prefix",
            "http://api:8000?x=1",
            "http://user:pw@api:8000",
            "http://api:0",
        ] {
            let err = load(&[("FERROCAT_EDGE_API_UPSTREAM", bad)]).unwrap_err();
            assert!(
                matches!(&err, ConfigError::Invalid { key, .. } if key == "FERROCAT_EDGE_API_UPSTREAM"),
                "{bad}: {err}"
            );
        }
        let config = load(&[
            ("FERROCAT_EDGE_API_UPSTREAM", "http://api:8000/"),
            ("FERROCAT_EDGE_UI_UPSTREAM", "http://ui"),
            ("FERROCAT_EDGE_S3_UPSTREAM", "http://[::1]:9000"),
        ])
        .unwrap();
        assert_eq!(
            (config.upstreams.api.host(), config.upstreams.api.port()),
            ("api", 8000)
        );
        assert_eq!(config.upstreams.ui.port(), 80);
        assert_eq!(config.upstreams.s3.host(), "::1");
        assert_eq!(config.upstreams.s3.to_string(), "http://[::1]:9000");
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
    fn tls_settings_are_parsed_and_checked() {
        let config = load(&[
            (
                "FERROCAT_EDGE_DOMAINS",
                " Edge.Example.org, api.example.org ,",
            ),
            ("FERROCAT_EDGE_ACME_DIRECTORY", "https://acme.example/dir"),
            ("FERROCAT_EDGE_ACME_EMAIL", "ops@example.org"),
            ("FERROCAT_EDGE_ACME_CHALLENGE", "tls-alpn-01"),
            ("FERROCAT_EDGE_ACME_CACHE_DIR", "/var/lib/edge"),
        ])
        .unwrap();
        assert_eq!(config.tls.domains, ["edge.example.org", "api.example.org"]);
        assert_eq!(config.tls.acme_challenge, AcmeChallenge::TlsAlpn01);
        assert!(config.tls.enabled());

        assert!(load(&[("FERROCAT_EDGE_DOMAINS", "not a domain")]).is_err());
        assert!(matches!(
            load(&[("FERROCAT_EDGE_DOMAINS", "edge.example.org")]),
            Err(ConfigError::Missing { key }) if key == "FERROCAT_EDGE_ACME_CACHE_DIR"
        ));
        assert!(load(&[("FERROCAT_EDGE_ACME_CHALLENGE", "dns-01")]).is_err());
        assert!(load(&[("FERROCAT_EDGE_ACME_DIRECTORY", "http://acme.example/dir")]).is_err());
        assert!(load(&[("FERROCAT_EDGE_ACME_EMAIL", "ops")]).is_err());
        assert!(matches!(
            load(&[("FERROCAT_EDGE_TLS_CERT", "/c.pem")]),
            Err(ConfigError::Missing { key }) if key == "FERROCAT_EDGE_TLS_KEY"
        ));
        let both = [
            ("FERROCAT_EDGE_TLS_CERT", "/c.pem"),
            ("FERROCAT_EDGE_TLS_KEY", "/k.pem"),
            ("FERROCAT_EDGE_DOMAINS", "edge.example.org"),
        ];
        assert!(load(&both).is_err());
        assert!(load(&both[..2]).unwrap().tls.enabled());
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
        assert!(load(&[("FERROCAT_EDGE_METRICS_ADDR", "0.0.0.0:9100")]).is_err());
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
