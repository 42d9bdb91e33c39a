//! The egress policy: which addresses a workflow's actions may open connections to.
//!
//! A workflow author is not trusted with the platform. Every connection an action opens (HTTP
//! and its redirects, SMTP, a sandboxed script's network, AI tools) is checked here against the
//! address it really connects to, after DNS resolution: by default loopback, link-local (cloud
//! metadata at 169.254.169.254, fe80::/10), unspecified and multicast addresses and every
//! address:port of the stack's own services (Temporal, Postgres, Redis, the object store, the
//! api, MCP, the model gateway, every service's metrics) are refused. Private ranges stay reachable:
//! a SOAR must reach on-prem tools. `FERROCAT_EGRESS_DENY` adds refusals and
//! `FERROCAT_EGRESS_ALLOW` exceptions (CIDRs, addresses, `host:port`), the latter winning.
//!
//! [`Mode::Permissive`] (what `ferrocat run` uses on a user's own machine) refuses only what
//! `FERROCAT_EGRESS_DENY` names.
//!
//! The HTTP side ([`EgressClient`]) checks IP-literal URLs before sending and every redirect
//! target, and resolves names through a resolver that drops refused addresses, so the address
//! checked is the address connected to (no DNS-rebinding window).

use std::collections::{BTreeSet, HashMap};
use std::net::{IpAddr, SocketAddr, ToSocketAddrs as _};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use crate::config::{ConfigError, Env};
use crate::net::Cidr;

/// The setting that adds exceptions.
pub const ALLOW_KEY: &str = "FERROCAT_EGRESS_ALLOW";
/// The setting that adds refusals.
pub const DENY_KEY: &str = "FERROCAT_EGRESS_DENY";

/// Settings that name the stack's own services, each refused to workflows at its address:port.
const SERVICE_KEYS: &[(&str, u16)] = &[
    ("FERROCAT_TEMPORAL_ADDRESS", 7233),
    ("FERROCAT_DATABASE_URL", 5432),
    ("FERROCAT_REDIS_URL", 6379),
    ("FERROCAT_S3_ENDPOINT", 9000),
    ("FERROCAT_S3_ADDR", 9000),
    ("FERROCAT_API_ADDR", 8000),
    ("FERROCAT_MCP_ADDR", 8099),
    ("FERROCAT_MCP_URL", 8099),
    ("FERROCAT_UI_ADDR", 3000),
    ("FERROCAT_LLM_GATEWAY_ADDR", 4000),
    ("FERROCAT_LLM_GATEWAY_URL", 4000),
    ("FERROCAT_EDGE_API_UPSTREAM", 8000),
    ("FERROCAT_EDGE_MCP_UPSTREAM", 8099),
    ("FERROCAT_EDGE_UI_UPSTREAM", 3000),
    ("FERROCAT_EDGE_S3_UPSTREAM", 9000),
    ("FERROCAT_EDGE_METRICS_ADDR", 9100),
    // Each service's own metrics (`crate::metrics::addr_var`): the figures name every
    // workspace's workflows, so no workflow may read them, wherever an operator puts them.
    ("FERROCAT_API_METRICS_ADDR", 9100),
    ("FERROCAT_WORKER_METRICS_ADDR", 9100),
    ("FERROCAT_EXECUTOR_METRICS_ADDR", 9100),
    ("FERROCAT_MCP_METRICS_ADDR", 9100),
    ("FERROCAT_UI_METRICS_ADDR", 9100),
    ("FERROCAT_S3_METRICS_ADDR", 9100),
];

/// How much is refused when no rule says otherwise.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Loopback, link-local, unspecified, multicast and the stack's services are refused.
    Strict,
    /// Only `FERROCAT_EGRESS_DENY` is refused (a user's own file on their own machine).
    Permissive,
}

impl std::str::FromStr for Mode {
    type Err = String;
    fn from_str(text: &str) -> Result<Self, String> {
        match text {
            "strict" => Ok(Mode::Strict),
            "permissive" => Ok(Mode::Permissive),
            other => Err(format!("egress mode must be strict or permissive, got {other:?}")),
        }
    }
}

/// One rule: a network, optionally one port of it, and where it came from (for messages).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rule {
    net: Cidr,
    port: Option<u16>,
    origin: String,
}

impl Rule {
    fn matches(&self, ip: IpAddr, port: Option<u16>) -> bool {
        // A rule for one port matches an unknown port: an unknown port could be that one.
        self.net.contains(ip) && (self.port.is_none() || port.is_none() || self.port == port)
    }

    fn matches_surely(&self, ip: IpAddr, port: Option<u16>) -> bool {
        self.net.contains(ip) && (self.port.is_none() || (port.is_some() && self.port == port))
    }

    /// Parses `10.0.0.0/8`, `10.0.0.5`, `10.0.0.5:7233`, `[fd00::1]:443`, `fd00::/8`,
    /// `host.internal:7233` or `host.internal` (names resolved now, one rule per address).
    pub fn parse(text: &str, origin: &str) -> Result<Vec<Rule>, String> {
        let text = text.trim();
        let (target, port) = split_port(text)?;
        let origin = origin.to_owned();
        if let Ok(net) = target.parse::<Cidr>() {
            return Ok(vec![Rule { net, port, origin }]);
        }
        if target.is_empty() || target.contains('/') || !target.chars().all(|c| c.is_ascii_alphanumeric() || "-._".contains(c)) {
            return Err(format!("{text:?} is not a CIDR, an address or host:port"));
        }
        let addresses: BTreeSet<IpAddr> = (target, port.unwrap_or(0))
            .to_socket_addrs()
            .map_err(|e| format!("cannot resolve {target:?}: {e}"))?
            .map(|a| a.ip().to_canonical())
            .collect();
        Ok(addresses.into_iter().map(|ip| Rule { net: Cidr::host(ip), port, origin: origin.clone() }).collect())
    }
}

/// Splits an optional `:port` off a rule (IPv6 needs brackets to carry a port).
fn split_port(text: &str) -> Result<(&str, Option<u16>), String> {
    let port = |p: &str| p.parse::<u16>().map_err(|_| format!("{text:?}: invalid port {p:?}"));
    if let Some(rest) = text.strip_prefix('[') {
        let (inside, after) = rest.split_once(']').ok_or_else(|| format!("{text:?}: missing ]"))?;
        return match after {
            "" => Ok((inside, None)),
            p => Ok((inside, Some(port(p.strip_prefix(':').ok_or_else(|| format!("{text:?}: expected :port after ]"))?)?))),
        };
    }
    match text.matches(':').count() {
        1 => {
            let (target, p) = text.split_once(':').unwrap_or((text, ""));
            Ok((target, Some(port(p)?)))
        }
        _ => Ok((text, None)),
    }
}

/// Why a connection was refused. The message says "egress", names the address and the
/// setting that would allow it.
#[derive(Debug, Clone, thiserror::Error, PartialEq, Eq)]
pub enum EgressError {
    /// The address is refused by the policy.
    #[error("egress to {target} refused: {reason}; to allow it, add {allow} to FERROCAT_EGRESS_ALLOW")]
    Refused {
        /// The address (with its port when known).
        target: String,
        /// Which rule refused it.
        reason: String,
        /// What to add to the allow list.
        allow: String,
    },
    /// Every address a name resolves to is refused.
    #[error("egress to {host} refused: it resolves to {detail}")]
    NameRefused {
        /// The name.
        host: String,
        /// The first refusal, e.g. "127.0.0.1:80, which …".
        detail: String,
    },
    /// The URL cannot be checked (scheme, no host).
    #[error("egress check failed for {0}")]
    Unsupported(String),
}

/// Which addresses actions may connect to. Cheap to share behind an `Arc`.
#[derive(Debug, Clone)]
pub struct EgressPolicy {
    mode: Mode,
    allow: Vec<Rule>,
    deny: Vec<Rule>,
    services: Vec<Rule>,
}

impl EgressPolicy {
    /// The default for services: internal addresses refused, nothing configured.
    pub fn strict() -> Self {
        Self { mode: Mode::Strict, allow: Vec::new(), deny: Vec::new(), services: Vec::new() }
    }

    /// Public addresses only: [`EgressPolicy::strict`] with the private, shared and
    /// documentation ranges refused too (for fetches the platform makes on an anonymous
    /// caller's word, such as OAuth client metadata documents).
    pub fn public_only() -> Self {
        let mut policy = Self::strict();
        for net in [
            "10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "100.64.0.0/10", "192.0.2.0/24", "198.18.0.0/15",
            "198.51.100.0/24", "203.0.113.0/24", "fc00::/7", "2001:db8::/32",
        ] {
            policy.deny.extend(Rule::parse(net, "the private and reserved ranges").unwrap_or_default());
        }
        policy
    }

    /// Nothing refused unless denied explicitly.
    pub fn permissive() -> Self {
        Self { mode: Mode::Permissive, ..Self::strict() }
    }

    /// The policy of `mode` with `FERROCAT_EGRESS_ALLOW`/`_DENY` (comma or space separated)
    /// and, in strict mode, the stack's own services named in `env` refused.
    pub fn from_env(env: &Env, mode: Mode) -> Result<Self, ConfigError> {
        let mut policy = Self { mode, ..Self::strict() };
        for (key, into) in [(ALLOW_KEY, &mut policy.allow), (DENY_KEY, &mut policy.deny)] {
            let Some(raw) = env.get(key) else { continue };
            for item in raw.split([',', ' ', '\n']).filter(|s| !s.trim().is_empty()) {
                let rules = Rule::parse(item, key).map_err(|reason| ConfigError::Invalid {
                    key: key.to_owned(),
                    value: raw.to_owned(),
                    reason,
                })?;
                into.extend(rules);
            }
        }
        if mode == Mode::Strict {
            for (key, default_port) in SERVICE_KEYS {
                let Some(value) = env.get(key) else { continue };
                match service_rules(value, *default_port, key) {
                    Ok(rules) => policy.services.extend(rules),
                    // Not fatal: the service itself will say what is wrong with its setting.
                    Err(reason) => tracing::warn!(setting = key, %reason, "egress: cannot resolve a service of the stack to refuse it"),
                }
            }
        }
        Ok(policy)
    }

    /// This policy with one more exception (`FERROCAT_EGRESS_ALLOW` syntax).
    pub fn allowing(mut self, rule: &str) -> Result<Self, String> {
        self.allow.extend(Rule::parse(rule, ALLOW_KEY)?);
        Ok(self)
    }

    /// This policy with one more refusal (`FERROCAT_EGRESS_DENY` syntax).
    pub fn denying(mut self, rule: &str) -> Result<Self, String> {
        self.deny.extend(Rule::parse(rule, DENY_KEY)?);
        Ok(self)
    }

    /// The mode this policy was built in.
    pub fn mode(&self) -> Mode {
        self.mode
    }

    /// Whether a connection to `ip` on `port` may be opened. With `port` unknown (`None`), an
    /// address is refused when a refusal could apply to any of its ports.
    pub fn check(&self, ip: IpAddr, port: Option<u16>) -> Result<(), EgressError> {
        let ip = ip.to_canonical();
        if self.allow.iter().any(|rule| rule.matches_surely(ip, port)) {
            return Ok(());
        }
        // `class` labels ferrocat_egress_refused_total; `reason` is for the person reading.
        let refuse = |class: &str, reason: String| {
            crate::metrics::get().egress_refused(class);
            let target = match (ip, port) {
                (IpAddr::V6(v6), Some(p)) => format!("[{v6}]:{p}"),
                (ip, Some(p)) => format!("{ip}:{p}"),
                (ip, None) => ip.to_string(),
            };
            Err(EgressError::Refused { allow: target.clone(), target, reason })
        };
        if let Some(rule) = self.deny.iter().find(|rule| rule.matches(ip, port)) {
            return refuse("deny_rule", format!("it is in {}", rule.origin));
        }
        if self.mode == Mode::Permissive {
            return Ok(());
        }
        if let Some(rule) = self.services.iter().find(|rule| rule.matches(ip, port)) {
            return refuse("stack_service", format!("it is one of the stack's own services ({})", rule.origin));
        }
        if let Some(reason) = internal(ip) {
            return refuse("internal_address", reason.to_owned());
        }
        Ok(())
    }
}

/// Why an address is internal to the host or the cloud it runs on, if it is.
fn internal(ip: IpAddr) -> Option<&'static str> {
    match ip {
        IpAddr::V4(v4) => {
            let [a, b, ..] = v4.octets();
            if v4.is_loopback() {
                Some("it is a loopback address")
            } else if v4.is_link_local() {
                Some("it is a link-local address (cloud metadata lives there)")
            } else if a == 0 {
                Some("it is an unspecified address (\"this host\")")
            } else if v4.is_multicast() || v4.is_broadcast() || a >= 240 {
                Some("it is a multicast, broadcast or reserved address")
            } else if a == 192 && b == 0 && v4.octets()[2] == 0 {
                Some("it is an IETF protocol address (192.0.0.0/24)")
            } else {
                None
            }
        }
        IpAddr::V6(v6) => {
            let first = v6.segments()[0];
            if v6.is_loopback() {
                Some("it is a loopback address")
            } else if v6.is_unspecified() {
                Some("it is an unspecified address (\"this host\")")
            } else if (first & 0xffc0) == 0xfe80 {
                Some("it is a link-local address (cloud metadata lives there)")
            } else if v6.is_multicast() {
                Some("it is a multicast address")
            } else if v6.segments()[..3] == [0xfd00, 0x0ec2, 0] {
                Some("it is a cloud metadata address")
            } else if v6.segments()[..6] == [0, 0, 0, 0, 0, 0] || v6.segments()[..2] == [0x64, 0xff9b] {
                // IPv4-compatible and NAT64 forms can carry a loopback or metadata address.
                Some("it embeds an IPv4 address (IPv4-compatible or NAT64 form)")
            } else {
                None
            }
        }
    }
}

/// The rules refusing one service: `value` is a URL (`postgres://u:p@db:5432/x`,
/// `http://temporal:7233`) or `host:port`.
fn service_rules(value: &str, default_port: u16, key: &str) -> Result<Vec<Rule>, String> {
    let (host, port) = match url::Url::parse(value) {
        Ok(url) if url.has_host() => {
            let host = url.host_str().unwrap_or_default().trim_matches(['[', ']']).to_owned();
            (host, url.port().unwrap_or(default_port))
        }
        // `host:port` (a scheme-less address parses as a URL with scheme "host").
        _ => {
            let (host, port) = split_port(value)?;
            (host.to_owned(), port.unwrap_or(default_port))
        }
    };
    if host.is_empty() || host.starts_with('/') {
        return Ok(Vec::new()); // a Unix socket: not reachable over the network
    }
    let target = if host.contains(':') { format!("[{host}]:{port}") } else { format!("{host}:{port}") };
    Rule::parse(&target, key)
}

// ---------------------------------------------------------------------------------------------
// HTTP

/// Checks URLs and resolves names for one family of clients, remembering which ports each
/// name is asked for so that the resolver can check address and port together.
#[derive(Debug)]
struct Guard {
    policy: Arc<EgressPolicy>,
    ports: Mutex<HashMap<String, BTreeSet<u16>>>,
}

/// Names remembered before the map starts over (an unknown port is checked conservatively).
const MAX_REMEMBERED_NAMES: usize = 4096;

impl Guard {
    fn check_url(&self, url: &url::Url) -> Result<(), EgressError> {
        if !matches!(url.scheme(), "http" | "https") {
            return Err(EgressError::Unsupported(format!("{} URLs (only http and https)", url.scheme())));
        }
        let port = url.port_or_known_default();
        match url.host() {
            Some(url::Host::Ipv4(ip)) => self.policy.check(IpAddr::V4(ip), port),
            Some(url::Host::Ipv6(ip)) => self.policy.check(IpAddr::V6(ip), port),
            Some(url::Host::Domain(name)) => {
                if let Some(port) = port {
                    let mut ports = self.ports.lock().unwrap_or_else(|p| p.into_inner());
                    if ports.len() >= MAX_REMEMBERED_NAMES && !ports.contains_key(name) {
                        ports.clear();
                    }
                    ports.entry(name.to_ascii_lowercase()).or_default().insert(port);
                }
                Ok(())
            }
            None => Err(EgressError::Unsupported(format!("{url} (no host)"))),
        }
    }

    fn ports_of(&self, name: &str) -> Vec<Option<u16>> {
        let ports = self.ports.lock().unwrap_or_else(|p| p.into_inner());
        match ports.get(&name.to_ascii_lowercase()) {
            Some(set) if !set.is_empty() => set.iter().copied().map(Some).collect(),
            _ => vec![None],
        }
    }
}

/// Resolves `host` and keeps the addresses `policy` allows on every one of `ports`; an error
/// naming the first refusal when none is left.
pub async fn resolve_allowed(policy: &EgressPolicy, host: &str, ports: &[Option<u16>]) -> Result<Vec<IpAddr>, std::io::Error> {
    let host = host.trim_matches(['[', ']']);
    let found: Vec<IpAddr> = match host.parse::<IpAddr>() {
        Ok(ip) => vec![ip],
        Err(_) => tokio::net::lookup_host((host, 0)).await?.map(|a| a.ip()).collect(),
    };
    let mut refused = None;
    let mut allowed = Vec::new();
    for ip in found {
        match ports.iter().try_for_each(|port| policy.check(ip, *port)) {
            Ok(()) => allowed.push(ip),
            Err(error) => {
                refused.get_or_insert(error);
            }
        }
    }
    match (allowed.is_empty(), refused) {
        (true, Some(EgressError::Refused { target, reason, .. })) => Err(std::io::Error::new(
            std::io::ErrorKind::PermissionDenied,
            EgressError::NameRefused { host: host.to_owned(), detail: format!("{target}, and {reason}; to allow it, add {target} to FERROCAT_EGRESS_ALLOW") },
        )),
        (true, Some(other)) => Err(std::io::Error::new(std::io::ErrorKind::PermissionDenied, other)),
        (true, None) => Err(std::io::Error::new(std::io::ErrorKind::NotFound, format!("{host} has no addresses"))),
        (false, _) => Ok(allowed),
    }
}

impl reqwest::dns::Resolve for GuardResolver {
    fn resolve(&self, name: reqwest::dns::Name) -> reqwest::dns::Resolving {
        let guard = self.0.clone();
        let host = name.as_str().to_owned();
        Box::pin(async move {
            let ports = guard.ports_of(&host);
            let addresses = resolve_allowed(&guard.policy, &host, &ports).await?;
            let addrs: Box<dyn Iterator<Item = SocketAddr> + Send> = Box::new(addresses.into_iter().map(|ip| SocketAddr::new(ip, 0)));
            Ok(addrs)
        })
    }
}

#[derive(Debug)]
struct GuardResolver(Arc<Guard>);

/// How one client handles redirects, TLS and time.
#[derive(Debug, Clone, Copy, Default)]
pub struct ClientOptions {
    /// Follow up to this many redirects (each target checked); `None` returns 3xx as they are.
    pub follow_redirects: Option<usize>,
    /// Accept any certificate (`verify_ssl: false`).
    pub accept_invalid_certs: bool,
    /// A whole-request timeout.
    pub timeout: Option<Duration>,
}

/// An HTTP client whose every connection passes the egress policy. Build requests with
/// [`EgressClient::request`], which checks the URL first.
#[derive(Debug, Clone)]
pub struct EgressClient {
    client: reqwest::Client,
    guard: Arc<Guard>,
}

impl EgressClient {
    /// A client for `policy` with `options`.
    pub fn new(policy: Arc<EgressPolicy>, options: ClientOptions) -> Result<Self, reqwest::Error> {
        let guard = Arc::new(Guard { policy, ports: Mutex::new(HashMap::new()) });
        Self::build(guard, options)
    }

    /// Another client under the same policy, with other options.
    pub fn with_options(&self, options: ClientOptions) -> Result<Self, reqwest::Error> {
        Self::build(self.guard.clone(), options)
    }

    /// The policy this client enforces.
    pub fn policy(&self) -> &Arc<EgressPolicy> {
        &self.guard.policy
    }

    fn build(guard: Arc<Guard>, options: ClientOptions) -> Result<Self, reqwest::Error> {
        let redirect = match options.follow_redirects {
            None => reqwest::redirect::Policy::none(),
            Some(max) => {
                let guard = guard.clone();
                reqwest::redirect::Policy::custom(move |attempt| {
                    if attempt.previous().len() > max {
                        return attempt.error(format!("too many redirects (more than {max})"));
                    }
                    match guard.check_url(attempt.url()) {
                        Ok(()) => attempt.follow(),
                        Err(refused) => attempt.error(refused),
                    }
                })
            }
        };
        let mut builder = reqwest::Client::builder()
            .redirect(redirect)
            // A proxy from the environment would connect for us, past the resolver.
            .no_proxy()
            .dns_resolver(Arc::new(GuardResolver(guard.clone())))
            .danger_accept_invalid_certs(options.accept_invalid_certs)
            .user_agent(concat!("ferrocat/", env!("CARGO_PKG_VERSION")));
        if let Some(timeout) = options.timeout {
            builder = builder.timeout(timeout);
        }
        Ok(Self { client: builder.build()?, guard })
    }

    /// A request to `url`, refused at once when the URL's address (an IP literal) is refused;
    /// names are checked when they are resolved.
    pub fn request(&self, method: reqwest::Method, url: url::Url) -> Result<reqwest::RequestBuilder, EgressError> {
        self.guard.check_url(&url)?;
        Ok(self.client.request(method, url))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(text: &str) -> IpAddr {
        text.parse().unwrap()
    }

    #[test]
    fn strict_refuses_internal_addresses_and_keeps_private_ranges() {
        let policy = EgressPolicy::strict();
        for refused in [
            "127.0.0.1", "127.9.9.9", "169.254.169.254", "0.0.0.0", "::1", "::", "fe80::1", "::ffff:127.0.0.1",
            "::ffff:169.254.169.254", "224.0.0.1", "255.255.255.255", "fd00:ec2::254", "::127.0.0.1", "64:ff9b::7f00:1",
        ] {
            let error = policy.check(ip(refused), Some(80)).unwrap_err().to_string();
            assert!(error.contains("egress") && error.contains("FERROCAT_EGRESS_ALLOW"), "{refused}: {error}");
        }
        for allowed in ["10.1.2.3", "192.168.1.1", "172.16.0.1", "100.64.0.1", "8.8.8.8", "fd12::1", "2606:4700::1111"] {
            assert!(policy.check(ip(allowed), Some(443)).is_ok(), "{allowed}");
        }
        assert!(EgressPolicy::permissive().check(ip("127.0.0.1"), Some(80)).is_ok());
        let public = EgressPolicy::public_only();
        for refused in ["10.1.2.3", "192.168.0.1", "100.64.0.1", "fd00::1", "::ffff:10.0.0.1", "127.0.0.1", "169.254.169.254"] {
            assert!(public.check(ip(refused), Some(443)).is_err(), "{refused}");
        }
        assert!(public.check(ip("1.1.1.1"), Some(443)).is_ok() && public.check(ip("2606:4700::1111"), Some(443)).is_ok());
    }

    #[test]
    fn allow_and_deny_rules_with_ports() {
        let policy = EgressPolicy::strict().allowing("127.0.0.1:8123").unwrap().denying("10.0.0.0/8").unwrap();
        assert!(policy.check(ip("127.0.0.1"), Some(8123)).is_ok());
        assert!(policy.check(ip("127.0.0.1"), Some(8124)).is_err());
        // An unknown port is not surely the allowed one.
        assert!(policy.check(ip("127.0.0.1"), None).is_err());
        let error = policy.check(ip("10.2.3.4"), Some(443)).unwrap_err().to_string();
        assert!(error.contains("FERROCAT_EGRESS_DENY") && error.contains("10.2.3.4:443"), "{error}");
        let v6 = EgressPolicy::strict().allowing("[::1]:9000").unwrap();
        assert!(v6.check(ip("::1"), Some(9000)).is_ok() && v6.check(ip("::1"), Some(9001)).is_err());
        let permissive = EgressPolicy::permissive().denying("192.168.0.0/16").unwrap();
        assert!(permissive.check(ip("192.168.4.4"), Some(1)).is_err());
        for bad in ["10.0.0.0/8:x", "[::1", "a/b", "", "no such host!"] {
            assert!(Rule::parse(bad, ALLOW_KEY).is_err(), "{bad}");
        }
    }

    #[test]
    fn the_stacks_services_are_refused_at_their_port() {
        let env = Env::from_pairs([
            ("FERROCAT_TEMPORAL_ADDRESS", "http://10.9.0.5:7233"),
            ("FERROCAT_DATABASE_URL", "postgres://ferrocat:pw@10.9.0.6/ferrocat"),
            ("FERROCAT_REDIS_URL", "redis://:pw@[fd00::7]:6380"),
            ("FERROCAT_API_ADDR", "10.9.0.8:8000"),
            ("FERROCAT_EGRESS_ALLOW", "10.9.0.8:8000"),
        ]);
        let policy = EgressPolicy::from_env(&env, Mode::Strict).unwrap();
        let error = policy.check(ip("10.9.0.5"), Some(7233)).unwrap_err().to_string();
        assert!(error.contains("FERROCAT_TEMPORAL_ADDRESS"), "{error}");
        assert!(policy.check(ip("10.9.0.5"), Some(443)).is_ok());
        assert!(policy.check(ip("10.9.0.6"), Some(5432)).is_err());
        assert!(policy.check(ip("fd00::7"), Some(6380)).is_err());
        assert!(policy.check(ip("10.9.0.8"), Some(8000)).is_ok(), "the allow list wins");
        let permissive = EgressPolicy::from_env(&env, Mode::Permissive).unwrap();
        assert!(permissive.check(ip("10.9.0.5"), Some(7233)).is_ok());
        let bad = Env::from_pairs([("FERROCAT_EGRESS_DENY", "10.0.0.0/33")]);
        assert!(EgressPolicy::from_env(&bad, Mode::Strict).unwrap_err().to_string().contains("FERROCAT_EGRESS_DENY"));
    }

    #[test]
    fn every_services_metrics_are_refused_at_their_address() {
        for (i, service) in ["api", "worker", "executor", "mcp", "ui", "object-store"].into_iter().enumerate() {
            let key = crate::metrics::addr_var(service);
            let env = Env::from_pairs([(key.as_str(), format!("10.9.1.{i}:9101"))]);
            let policy = EgressPolicy::from_env(&env, Mode::Strict).unwrap();
            let error = policy.check(ip(&format!("10.9.1.{i}")), Some(9101)).expect_err(&key).to_string();
            assert!(error.contains(&key), "{error}");
        }
    }

    #[tokio::test]
    async fn names_resolving_to_refused_addresses_are_refused() {
        let policy = EgressPolicy::strict();
        let error = resolve_allowed(&policy, "localhost", &[Some(80)]).await.unwrap_err().to_string();
        assert!(error.contains("egress to localhost refused") && error.contains("loopback"), "{error}");
        let allowed = EgressPolicy::strict().allowing("127.0.0.1:80").unwrap().allowing("[::1]:80").unwrap();
        assert!(!resolve_allowed(&allowed, "localhost", &[Some(80)]).await.unwrap().is_empty());
        assert!(resolve_allowed(&allowed, "localhost", &[Some(80), Some(81)]).await.is_err());
    }
}
