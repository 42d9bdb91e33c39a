//! What a route points at: one of the four named services, or an upstream URL of its own,
//! validated as plain `http://host:port`.

use std::fmt;

use url::Url;

/// The services behind the edge, each with a `FERROCAT_EDGE_*_UPSTREAM` URL.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum UpstreamName {
    Api,
    Mcp,
    Ui,
    S3,
}

impl UpstreamName {
    /// Every upstream, in a fixed order.
    pub const ALL: [Self; 4] = [Self::Api, Self::Mcp, Self::Ui, Self::S3];

    /// The name used in route files, logs and error bodies.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Api => "api",
            Self::Mcp => "mcp",
            Self::Ui => "ui",
            Self::S3 => "s3",
        }
    }

    pub(super) fn parse(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|u| u.as_str() == name)
    }
}

/// Where a route sends its requests: one of the named services, or a URL of its own.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UpstreamRef {
    Named(UpstreamName),
    Url(UpstreamUrl),
}

impl UpstreamRef {
    pub(super) fn parse(raw: &str) -> Result<Self, String> {
        if let Some(name) = UpstreamName::parse(raw) {
            return Ok(Self::Named(name));
        }
        if !raw.contains("://") {
            return Err(format!(
                "upstream {raw:?} is neither api, mcp, ui, s3 nor an http:// url"
            ));
        }
        UpstreamUrl::parse(raw)
            .map(Self::Url)
            .map_err(|e| format!("upstream {raw:?}: {e}"))
    }
}

/// A validated upstream URL: plain `http`, a host, a port (explicit or 80), no path or query.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UpstreamUrl {
    host: String,
    port: u16,
}

impl UpstreamUrl {
    /// Parses and validates an upstream URL such as `http://api:8000`.
    pub fn parse(raw: &str) -> Result<Self, String> {
        let url = Url::parse(raw).map_err(|e| e.to_string())?;
        if url.scheme() != "http" {
            return Err(format!("scheme must be http, not {:?}", url.scheme()));
        }
        if !url.username().is_empty() || url.password().is_some() {
            return Err("credentials are not allowed in an upstream url".into());
        }
        if url.path() != "/" || url.query().is_some() || url.fragment().is_some() {
            return Err("an upstream url is scheme, host and port only (no path or query)".into());
        }
        let host = match url.host() {
            Some(url::Host::Domain(d)) if !d.is_empty() => d.to_owned(),
            Some(url::Host::Ipv4(ip)) => ip.to_string(),
            Some(url::Host::Ipv6(ip)) => ip.to_string(),
            _ => return Err("missing host".into()),
        };
        let port = url.port_or_known_default().ok_or("missing port")?;
        if port == 0 {
            return Err("port 0 is not a valid upstream port".into());
        }
        Ok(Self { host, port })
    }

    /// Host name or IP literal (IPv6 without brackets), ready for resolution.
    pub fn host(&self) -> &str {
        &self.host
    }

    /// The TCP port (80 when the URL names none).
    pub fn port(&self) -> u16 {
        self.port
    }
}

impl fmt::Display for UpstreamUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.host.contains(':') {
            write!(f, "http://[{}]:{}", self.host, self.port)
        } else {
            write!(f, "http://{}:{}", self.host, self.port)
        }
    }
}
