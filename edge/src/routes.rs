//! The route table as data: the built-in table (`edge/routes.toml`, the meaning of Tracecat's
//! Caddyfile) or an operator's TOML file of the same shape (`--routes FILE`), validated at load;
//! the matcher; and the one path normalisation that both routing and forwarding use, so the edge
//! and an upstream can never disagree about which path a request names.

use std::borrow::Cow;
use std::collections::HashSet;
use std::path::Path;
use std::time::Duration;

use http::HeaderName;
use serde::Deserialize;

use crate::config::UpstreamUrl;

/// The built-in table, as data.
pub const BUILTIN_ROUTES: &str = include_str!("../routes.toml");

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

    fn parse(name: &str) -> Option<Self> {
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
    fn parse(raw: &str) -> Result<Self, String> {
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

    fn path(&self) -> &str {
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

/// What a route file may leave out, taken from the environment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RouteDefaults {
    /// `FERROCAT_EDGE_READ_TIMEOUT_SECS`.
    pub read_timeout: Duration,
    /// `FERROCAT_EDGE_MAX_BODY_BYTES`.
    pub max_body_bytes: u64,
    /// `FERROCAT_EDGE_S3_MAX_BODY_BYTES`, for routes to the `s3` upstream.
    pub s3_max_body_bytes: u64,
}

impl Default for RouteDefaults {
    fn default() -> Self {
        Self {
            read_timeout: Duration::from_secs(300),
            max_body_bytes: 10 << 20,
            s3_max_body_bytes: 5 << 30,
        }
    }
}

/// The validated route table, first match wins.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RouteTable {
    routes: Vec<Route>,
}

/// A route file as written (see `edge/routes.toml`).
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RouteFile {
    #[serde(default)]
    route: Vec<RouteSpec>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RouteSpec {
    name: String,
    #[serde(default)]
    prefix: OneOrMany,
    #[serde(default)]
    exact: OneOrMany,
    upstream: String,
    strip_prefix: Option<String>,
    #[serde(default)]
    real_ip: bool,
    #[serde(default)]
    host_without_port: bool,
    #[serde(default)]
    remove_request_headers: Vec<String>,
    #[serde(default)]
    streaming: bool,
    read_timeout_secs: Option<u64>,
    max_body_bytes: Option<u64>,
}

#[derive(Deserialize, Default)]
#[serde(untagged)]
enum OneOrMany {
    #[default]
    None,
    One(String),
    Many(Vec<String>),
}

impl OneOrMany {
    fn into_vec(self) -> Vec<String> {
        match self {
            Self::None => Vec::new(),
            Self::One(one) => vec![one],
            Self::Many(many) => many,
        }
    }
}

impl RouteTable {
    /// The built-in table with these defaults.
    pub fn builtin(defaults: &RouteDefaults) -> Self {
        Self::parse(BUILTIN_ROUTES, defaults).expect("the built-in route table is valid")
    }

    /// Reads and validates a route file; the error is one line naming the file.
    pub fn load(path: &Path, defaults: &RouteDefaults) -> Result<Self, String> {
        let text = std::fs::read_to_string(path).map_err(|e| format!("cannot read: {e}"))?;
        Self::parse(&text, defaults)
    }

    /// Parses and validates a route table in TOML; the error is one line.
    pub fn parse(text: &str, defaults: &RouteDefaults) -> Result<Self, String> {
        let file: RouteFile = toml::from_str(text).map_err(|e| {
            let message = e.message().split_whitespace().collect::<Vec<_>>().join(" ");
            match e.span() {
                Some(span) => {
                    let line = text[..span.start.min(text.len())].lines().count().max(1);
                    format!("line {line}: {message}")
                }
                None => message,
            }
        })?;
        if file.route.is_empty() {
            return Err("no [[route]] entries".into());
        }
        let mut routes = Vec::with_capacity(file.route.len());
        let mut names = HashSet::new();
        for (index, spec) in file.route.into_iter().enumerate() {
            let label = format!("route {} ({:?})", index + 1, spec.name);
            let route = Self::validate(spec, defaults).map_err(|e| format!("{label}: {e}"))?;
            if !names.insert(route.name.clone()) {
                return Err(format!("{label}: the name is used twice"));
            }
            if let Some(earlier) = routes
                .iter()
                .find(|r: &&Route| r.matchers.iter().any(|m| *m == Match::Prefix("/".into())))
            {
                return Err(format!(
                    "{label}: unreachable, route {:?} before it matches every path",
                    earlier.name
                ));
            }
            routes.push(route);
        }
        Ok(Self { routes })
    }

    fn validate(spec: RouteSpec, defaults: &RouteDefaults) -> Result<Route, String> {
        let name_ok = !spec.name.is_empty()
            && spec.name.len() <= 64
            && spec
                .name
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
        if !name_ok {
            return Err("name must be 1-64 letters, digits, - or _".into());
        }
        let mut matchers: Vec<Match> = spec
            .prefix
            .into_vec()
            .into_iter()
            .map(Match::Prefix)
            .collect();
        matchers.extend(spec.exact.into_vec().into_iter().map(Match::Exact));
        if matchers.is_empty() {
            return Err("needs a prefix or an exact path".into());
        }
        for matcher in &matchers {
            let path = matcher.path();
            if normalize_path(path) != path {
                return Err(format!(
                    "{path:?} is not a normalised path (starting with /, no //, . or ..), so it would never match"
                ));
            }
        }
        if let Some(strip) = &spec.strip_prefix {
            if !strip.starts_with('/') || strip.len() < 2 || strip.ends_with('/') {
                return Err(format!(
                    "strip_prefix {strip:?} must start with / and not end with /"
                ));
            }
            if let Some(m) = matchers
                .iter()
                .find(|m| !starts_with_ignore_case(m.path(), strip))
            {
                return Err(format!(
                    "strip_prefix {strip:?} is not a prefix of {:?}",
                    m.path()
                ));
            }
        }
        let upstream = UpstreamRef::parse(&spec.upstream)?;
        let remove_request_headers = spec
            .remove_request_headers
            .iter()
            .map(|h| {
                HeaderName::from_bytes(h.as_bytes())
                    .map_err(|_| format!("{h:?} is not a header name"))
            })
            .collect::<Result<_, _>>()?;
        let read_timeout = match (spec.streaming, spec.read_timeout_secs) {
            (true, Some(_)) => {
                return Err("a streaming route has no read timeout; drop read_timeout_secs".into());
            }
            (true, None) => None,
            (false, Some(0)) => return Err("read_timeout_secs must be at least 1".into()),
            (false, Some(secs)) => Some(Duration::from_secs(secs)),
            (false, None) => Some(defaults.read_timeout),
        };
        let max_body_bytes = spec.max_body_bytes.unwrap_or(match upstream {
            UpstreamRef::Named(UpstreamName::S3) => defaults.s3_max_body_bytes,
            _ => defaults.max_body_bytes,
        });
        Ok(Route {
            name: spec.name,
            matchers,
            upstream,
            strip_prefix: spec.strip_prefix,
            set_real_ip: spec.real_ip,
            host_without_port: spec.host_without_port,
            remove_request_headers,
            streaming: spec.streaming,
            read_timeout,
            max_body_bytes,
        })
    }

    /// The first route matching a normalised path (see [`normalize_path`]), with its index.
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

/// Normalises a request path once, before routing: decodes `%XX` only where it names an
/// unreserved character (RFC 3986 §2.3, so `%2F` stays encoded; repeatedly, until no such
/// escape is left), merges repeated `/`, and
/// resolves `.` and `..` segments without climbing above the root. The result starts with `/`.
pub fn normalize_path(raw: &str) -> String {
    // Decoding can make a new escape (`%6%31` → `%61`): decode until nothing changes, so the
    // result is a fixed point and no upstream that decodes once more sees another path. Each
    // round that changes anything shortens the text, so this ends.
    let mut decoded = decode_unreserved(raw);
    loop {
        let again = decode_unreserved(&decoded);
        if again == decoded {
            break;
        }
        decoded = Cow::Owned(again.into_owned());
    }
    let mut segments: Vec<&str> = Vec::new();
    // A path ending in `/`, `/.` or `/..` names a directory; keep its trailing slash.
    let mut trailing_slash = false;
    for segment in decoded.split('/') {
        match segment {
            "" | "." => trailing_slash = true,
            ".." => {
                segments.pop();
                trailing_slash = true;
            }
            segment => {
                segments.push(segment);
                trailing_slash = false;
            }
        }
    }
    let mut out = String::with_capacity(decoded.len() + 1);
    for segment in &segments {
        out.push('/');
        out.push_str(segment);
    }
    if trailing_slash || segments.is_empty() {
        out.push('/');
    }
    out
}

fn decode_unreserved(raw: &str) -> Cow<'_, str> {
    if !raw.contains('%') {
        return Cow::Borrowed(raw);
    }
    let bytes = raw.as_bytes();
    let mut out = String::with_capacity(raw.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%'
            && let (Some(hi), Some(lo)) = (
                bytes.get(i + 1).and_then(hex),
                bytes.get(i + 2).and_then(hex),
            )
        {
            let byte = hi << 4 | lo;
            if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'.' | b'_' | b'~') {
                out.push(char::from(byte));
                i += 3;
                continue;
            }
        }
        // Everything else is copied; the input is a valid `str`, so char boundaries line up.
        let len = utf8_len(bytes[i]);
        out.push_str(&raw[i..i + len]);
        i += len;
    }
    Cow::Owned(out)
}

fn hex(b: &u8) -> Option<u8> {
    char::from(*b).to_digit(16).map(|d| d as u8)
}

fn utf8_len(first: u8) -> usize {
    match first {
        0x00..=0x7f => 1,
        0xc0..=0xdf => 2,
        0xe0..=0xef => 3,
        _ => 4,
    }
}

fn starts_with_ignore_case(s: &str, prefix: &str) -> bool {
    s.len() >= prefix.len() && s.as_bytes()[..prefix.len()].eq_ignore_ascii_case(prefix.as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Raw path → (route, path forwarded upstream). Mirrors the Caddy conformance run in
    /// `reference/edge.md`, with its deliberate deviations (`/api/../mcp`, and prefixes that
    /// end at a segment boundary: `/apix`, `/api%2Fx` and `/mcpx` are the ui's).
    const CASES: &[(&str, &str, &str)] = &[
        ("/", "ui", "/"),
        ("/index.html", "ui", "/index.html"),
        ("/api", "api", "/"),
        ("/api/", "api", "/"),
        ("/api/health", "api", "/health"),
        ("/API/x", "api", "/x"),
        ("/apix", "ui", "/apix"),
        ("/apihealth", "ui", "/apihealth"),
        ("/API/health", "api", "/health"),
        ("/api%2Fx", "ui", "/api%2Fx"),
        ("/%61pi/x", "api", "/x"),
        ("//api/x", "api", "/x"),
        ("/api//x", "api", "/x"),
        ("/mcp/../api/x", "api", "/x"),
        ("/s3/../api/x", "api", "/x"),
        ("/api/../mcp", "mcp", "/mcp"),
        ("/api/%2e%2E/mcp", "mcp", "/mcp"),
        (
            "/api/webhooks/wf/secret/wait",
            "api",
            "/webhooks/wf/secret/wait",
        ),
        ("/s3", "ui", "/s3"),
        ("/s3/", "s3", "/"),
        ("/s3/bucket/key.txt", "s3", "/bucket/key.txt"),
        ("/S3/b", "s3", "/b"),
        ("/s3x", "ui", "/s3x"),
        ("/mcp", "mcp", "/mcp"),
        ("/mcp/", "mcp", "/mcp/"),
        ("/mcp/sse", "mcp", "/mcp/sse"),
        ("/MCP", "mcp", "/MCP"),
        ("/mcpx", "ui", "/mcpx"),
        ("/mcp-evil", "ui", "/mcp-evil"),
        (
            "/.well-known/oauth-authorization-server",
            "oauth",
            "/.well-known/oauth-authorization-server",
        ),
        (
            "/.well-known/oauth-authorization-server/x",
            "ui",
            "/.well-known/oauth-authorization-server/x",
        ),
        (
            "/.well-known/oauth-protected-resource",
            "oauth",
            "/.well-known/oauth-protected-resource",
        ),
        (
            "/.well-known/oauth-protected-resource/mcp",
            "oauth",
            "/.well-known/oauth-protected-resource/mcp",
        ),
        (
            "/.well-known/openid-configuration",
            "ui",
            "/.well-known/openid-configuration",
        ),
        ("/authorize", "oauth", "/authorize"),
        ("/authorize/x", "oauth", "/authorize/x"),
        ("/authorizex", "ui", "/authorizex"),
        (
            "/.well-known/oauth-protected-resourcex",
            "ui",
            "/.well-known/oauth-protected-resourcex",
        ),
        ("/token", "oauth", "/token"),
        ("/TOKEN", "oauth", "/TOKEN"),
        ("/token/", "ui", "/token/"),
        ("/tokens", "ui", "/tokens"),
        ("/register", "oauth", "/register"),
        ("/register/x", "ui", "/register/x"),
        ("/consent", "oauth", "/consent"),
        ("/consent/abc", "oauth", "/consent/abc"),
        ("/consentx", "ui", "/consentx"),
        ("/auth", "ui", "/auth"),
        ("/auth/callback", "oauth", "/auth/callback"),
        ("/auth/callback/github", "oauth", "/auth/callback/github"),
        ("/auth/callbackx", "ui", "/auth/callbackx"),
        ("/../../etc/passwd", "ui", "/etc/passwd"),
    ];

    fn builtin() -> RouteTable {
        RouteTable::builtin(&RouteDefaults::default())
    }

    fn route_for(path: &str) -> Route {
        builtin()
            .route_for(path)
            .expect("the built-in table has a fallback")
            .1
            .clone()
    }

    fn parse(text: &str) -> Result<RouteTable, String> {
        RouteTable::parse(text, &RouteDefaults::default())
    }

    #[test]
    fn conformance_table() {
        for &(raw, name, forwarded) in CASES {
            let path = normalize_path(raw);
            let route = route_for(&path);
            assert_eq!(route.name, name, "route of {raw} (normalised {path})");
            assert_eq!(
                route.upstream_path(&path),
                forwarded,
                "path forwarded for {raw}"
            );
        }
    }

    #[test]
    fn route_flags_follow_the_caddyfile() {
        let named = |n| UpstreamRef::Named(n);
        let defaults = RouteDefaults::default();
        let s3 = route_for("/s3/b");
        assert_eq!(s3.upstream, named(UpstreamName::S3));
        assert!(s3.host_without_port && !s3.set_real_ip && !s3.streaming);
        assert_eq!(s3.remove_request_headers, ["server"]);
        assert_eq!(s3.max_body_bytes, defaults.s3_max_body_bytes);
        let api = route_for("/api/x");
        assert!(api.set_real_ip && !api.host_without_port && !api.streaming);
        assert_eq!(api.read_timeout, Some(defaults.read_timeout));
        assert_eq!(api.max_body_bytes, defaults.max_body_bytes);
        let mcp = route_for("/mcp");
        assert!(mcp.streaming && mcp.strip_prefix.is_none());
        assert_eq!(mcp.read_timeout, None);
        assert_eq!(route_for("/token").upstream, named(UpstreamName::Mcp));
        assert_eq!(route_for("/anything").upstream, named(UpstreamName::Ui));
        let table = builtin();
        let names: Vec<&str> = table.routes().iter().map(|r| r.name.as_str()).collect();
        assert_eq!(names, ["s3", "api", "mcp", "oauth", "ui"]);
    }

    #[test]
    fn a_route_file_overrides_the_table() {
        let defaults = RouteDefaults {
            read_timeout: Duration::from_secs(7),
            max_body_bytes: 100,
            s3_max_body_bytes: 200,
        };
        let table = RouteTable::parse(
            r#"
            [[route]]
            name = "hooks"
            prefix = "/hooks"
            strip_prefix = "/hooks"
            upstream = "http://10.0.0.5:8081"
            read_timeout_secs = 30
            max_body_bytes = 1048576
            real_ip = true

            [[route]]
            name = "events"
            exact = "/events"
            upstream = "api"
            streaming = true

            [[route]]
            name = "files"
            prefix = ["/files/", "/blobs/"]
            upstream = "s3"
            "#,
            &defaults,
        )
        .unwrap();
        let (index, hooks) = table.route_for("/HOOKS/github").unwrap();
        assert_eq!(index, 0);
        assert_eq!(
            hooks.upstream,
            UpstreamRef::Url(UpstreamUrl::parse("http://10.0.0.5:8081").unwrap())
        );
        assert_eq!(hooks.upstream_path("/HOOKS/github"), "/github");
        assert_eq!(hooks.read_timeout, Some(Duration::from_secs(30)));
        assert_eq!(hooks.max_body_bytes, 1 << 20);
        assert!(hooks.set_real_ip);
        assert_eq!(hooks.upstream_label(), "hooks", "the URL stays internal");
        let events = table.route_for("/events").unwrap().1;
        assert!(events.streaming && events.read_timeout.is_none());
        assert_eq!(events.max_body_bytes, 100);
        assert!(table.route_for("/events/x").is_none());
        let files = table.route_for("/blobs/a").unwrap().1;
        assert_eq!(files.max_body_bytes, 200, "s3 routes take the s3 default");
        assert_eq!(files.read_timeout, Some(Duration::from_secs(7)));
        assert!(
            table.route_for("/").is_none(),
            "no fallback: 404 from the edge"
        );
    }

    #[test]
    fn bad_route_files_fail_with_one_line() {
        let route = |extra: &str| format!("[[route]]\nname = \"r\"\nupstream = \"api\"\n{extra}\n");
        let cases = [
            ("", "no [[route]]"),
            ("[[route]]\nname = \"r\"\n", "missing field `upstream`"),
            (
                &route("prefix = \"/a\"\ncolour = 1"),
                "unknown field `colour`",
            ),
            (&route("prefix = \"/a\"\nstreaming = \"yes\""), "line 5"),
            (&route(""), "needs a prefix or an exact path"),
            (&route("prefix = \"api\""), "not a normalised path"),
            (&route("prefix = \"/a//b\""), "not a normalised path"),
            (
                &route("prefix = \"/a\"\nstrip_prefix = \"/b\""),
                "not a prefix of",
            ),
            (
                &route("prefix = \"/a/\"\nstrip_prefix = \"/a/\""),
                "must start with /",
            ),
            (
                &route("prefix = \"/a\"\nstreaming = true\nread_timeout_secs = 5"),
                "streaming",
            ),
            (
                &route("prefix = \"/a\"\nread_timeout_secs = 0"),
                "at least 1",
            ),
            (
                &route("prefix = \"/a\"\nremove_request_headers = [\"bad header\"]"),
                "not a header name",
            ),
            (
                "[[route]]\nname = \"r\"\nprefix = \"/a\"\nupstream = \"db\"\n",
                "neither api, mcp, ui, s3",
            ),
            (
                "[[route]]\nname = \"r\"\nprefix = \"/a\"\nupstream = \"https://x:1\"\n",
                "scheme must be http",
            ),
            (
                "[[route]]\nname = \"bad name\"\nprefix = \"/a\"\nupstream = \"api\"\n",
                "name must be",
            ),
            (
                &format!("{}{}", route("prefix = \"/a\""), route("prefix = \"/b\"")),
                "used twice",
            ),
            (
                "[[route]]\nname = \"all\"\nprefix = \"/\"\nupstream = \"ui\"\n\
                 [[route]]\nname = \"late\"\nprefix = \"/api\"\nupstream = \"api\"\n",
                "unreachable",
            ),
        ];
        for (text, want) in cases {
            let error = parse(text).expect_err(text);
            assert!(error.contains(want), "{text:?}: {error}");
            assert!(!error.contains('\n'), "one line: {error:?}");
        }
    }

    #[test]
    fn normalisation_examples() {
        for (raw, want) in [
            ("", "/"),
            ("/", "/"),
            ("///", "/"),
            ("/a/./b", "/a/b"),
            ("/a/b/..", "/a/"),
            ("/a/b/.", "/a/b/"),
            ("/a/..", "/"),
            ("/..", "/"),
            ("/a/%2e%2e/b", "/b"),
            ("/a/%2E/b", "/a/b"),
            ("/%7Euser/%41%5a", "/~user/AZ"),
            ("/a%2Fb", "/a%2Fb"),
            ("/a%2fb/%20x", "/a%2fb/%20x"),
            ("/bad%zz/%4", "/bad%zz/%4"),
            ("/caf%C3%A9/é", "/caf%C3%A9/é"),
            ("relative/x", "/relative/x"),
        ] {
            assert_eq!(normalize_path(raw), want, "normalize_path({raw:?})");
        }
    }

    /// Exhaustive over short paths built from tricky segments: the result is rooted, has no
    /// empty, `.` or `..` segment, and normalising again changes nothing.
    #[test]
    fn normalisation_invariants() {
        const PARTS: &[&str] = &[
            "", ".", "..", "a", "%2e", "%2E%2e", "%2F", "%41pi", "%", "%zz", "é",
        ];
        let mut paths = vec![String::new()];
        for _ in 0..4 {
            let mut next = Vec::new();
            for prefix in &paths {
                for part in PARTS {
                    next.push(format!("{prefix}/{part}"));
                }
            }
            paths.extend(next);
        }
        for raw in &paths {
            let path = normalize_path(raw);
            assert!(path.starts_with('/'), "{raw:?} -> {path:?}");
            let inner = path.trim_start_matches('/');
            let inner = inner.strip_suffix('/').unwrap_or(inner);
            if !inner.is_empty() {
                for segment in inner.split('/') {
                    assert!(!matches!(segment, "" | "." | ".."), "{raw:?} -> {path:?}");
                }
            }
            assert_eq!(normalize_path(&path), path, "idempotent for {raw:?}");
        }
    }

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
