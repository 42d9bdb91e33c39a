//! The validated route table and its matcher: the first route with a matching path wins, and
//! the route says how the path is rewritten for its upstream.

use std::borrow::Cow;
use std::time::Duration;

use http::HeaderName;

use super::path::starts_with_ignore_case;
use super::upstream::UpstreamRef;

/// How a route matches a normalised path. Comparisons are ASCII case-insensitive, as in Caddy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Match {
    /// The path is this prefix or continues it with a new segment: `/api` matches `/api` and
    /// `/api/...`, never `/apix` or `/apihealth` (unlike Caddy's `/api*`). A prefix ending in
    /// `/` (`/s3/`) matches every path that starts with it.
    Prefix(String),
    /// The path is exactly this string.
    Exact(String),
}

impl Match {
    /// Whether a normalised path matches.
    pub fn matches(&self, path: &str) -> bool {
        match self {
            Self::Prefix(prefix) => {
                starts_with_ignore_case(path, prefix)
                    && (prefix.ends_with('/')
                        || path.len() == prefix.len()
                        || path.as_bytes()[prefix.len()] == b'/')
            }
            Self::Exact(exact) => path.eq_ignore_ascii_case(exact),
        }
    }

    /// The path or prefix this matcher compares with.
    pub(super) fn path(&self) -> &str {
        match self {
            Self::Prefix(p) | Self::Exact(p) => p,
        }
    }
}

/// One entry of the route table: where a request goes and how it is rewritten on the way.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Route {
    /// Name in the access log and metrics.
    pub name: String,
    /// The route applies when any of these match.
    pub matchers: Vec<Match>,
    /// Where matching requests go.
    pub upstream: UpstreamRef,
    /// Prefix removed from the forwarded path (Caddy's `handle_path`).
    pub strip_prefix: Option<String>,
    /// Send `X-Real-IP` (the client address) and `X-Forwarded-Host` without its port.
    pub set_real_ip: bool,
    /// Send the public `Host` upstream without its port (presigned S3 URLs sign the host).
    pub host_without_port: bool,
    /// Request headers removed before forwarding.
    pub remove_request_headers: Vec<HeaderName>,
    /// Long-lived streamed responses (SSE): no read timeout. Pingora never buffers a response,
    /// so every route streams; this only lifts the timeout.
    pub streaming: bool,
    /// Longest upstream silence before 504; `None` on streaming routes.
    pub read_timeout: Option<Duration>,
    /// Largest request body (413 beyond).
    pub max_body_bytes: u64,
}

/// The validated route table, first match wins.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RouteTable {
    routes: Vec<Route>,
}

impl RouteTable {
    /// A table of routes already validated (see [`RouteTable::parse`]).
    pub(super) fn from_validated(routes: Vec<Route>) -> Self {
        Self { routes }
    }

    /// The first route matching a normalised path (see
    /// [`normalize_path`](super::normalize_path)), with its index.
    pub fn route_for(&self, path: &str) -> Option<(usize, &Route)> {
        self.routes
            .iter()
            .enumerate()
            .find(|(_, route)| route.matchers.iter().any(|m| m.matches(path)))
    }

    /// The route at an index [`route_for`](Self::route_for) returned.
    pub fn get(&self, index: usize) -> &Route {
        &self.routes[index]
    }

    /// Every route, in order.
    pub fn routes(&self) -> &[Route] {
        &self.routes
    }
}

impl Route {
    /// The path sent upstream for a normalised, matched path: the prefix stripped when the route
    /// strips one, and never empty (`/api` becomes `/`, `/api/x` becomes `/x`).
    pub fn upstream_path<'a>(&self, path: &'a str) -> Cow<'a, str> {
        let Some(prefix) = &self.strip_prefix else {
            return Cow::Borrowed(path);
        };
        if !starts_with_ignore_case(path, prefix) {
            return Cow::Borrowed(path);
        }
        let rest = &path[prefix.len()..];
        if rest.starts_with('/') {
            Cow::Borrowed(rest)
        } else {
            Cow::Owned(format!("/{rest}"))
        }
    }

    /// The upstream's name for error bodies: the service (`api`), or for a route with a URL of
    /// its own the route's name (the URL is internal).
    pub fn upstream_label(&self) -> &str {
        match &self.upstream {
            UpstreamRef::Named(name) => name.as_str(),
            UpstreamRef::Url(_) => &self.name,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matching_ignores_ascii_case_only() {
        let prefix = |p: &str| Match::Prefix(p.to_owned());
        let exact = |p: &str| Match::Exact(p.to_owned());
        assert!(prefix("/api").matches("/ApI/x"));
        assert!(exact("/token").matches("/Token"));
        assert!(!exact("/token").matches("/token/"));
        assert!(!prefix("/api").matches("/ap"));
        assert!(!prefix("/api").matches("/äpi"));
    }

    #[test]
    fn prefixes_match_on_segment_boundaries() {
        let prefix = |p: &str| Match::Prefix(p.to_owned());
        for path in ["/api", "/API", "/api/", "/api/health", "/api/x/y"] {
            assert!(prefix("/api").matches(path), "{path}");
        }
        for path in ["/apihealth", "/apix", "/api-x", "/api.json", "/api%2Fx"] {
            assert!(!prefix("/api").matches(path), "{path}");
        }
        // A prefix that ends with `/` already names its boundary.
        assert!(prefix("/s3/").matches("/s3/bucket"));
        assert!(!prefix("/s3/").matches("/s3"));
        assert!(!prefix("/s3/").matches("/s3x/bucket"));
    }
}
