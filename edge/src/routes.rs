//! The route table as data (same meaning as Tracecat's Caddyfile), the matcher, and the one path
//! normalisation that both routing and forwarding use, so the edge and an upstream can never
//! disagree about which path a request names.

use std::borrow::Cow;

/// The services behind the edge.
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

    /// The name used in logs and error bodies.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Api => "api",
            Self::Mcp => "mcp",
            Self::Ui => "ui",
            Self::S3 => "s3",
        }
    }
}

/// How a route matches a normalised path. Comparisons are ASCII case-insensitive, as in Caddy.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Match {
    /// The path starts with this string (`/api` also matches `/apix`, as Caddy's `/api*`).
    Prefix(&'static str),
    /// The path is exactly this string.
    Exact(&'static str),
    /// Every path (the fallback).
    Any,
}

impl Match {
    /// Whether a normalised path matches.
    pub fn matches(self, path: &str) -> bool {
        match self {
            Self::Prefix(prefix) => starts_with_ignore_case(path, prefix),
            Self::Exact(exact) => path.eq_ignore_ascii_case(exact),
            Self::Any => true,
        }
    }
}

/// One entry of the route table: where a request goes and how it is rewritten on the way.
#[derive(Debug, PartialEq, Eq)]
pub struct Route {
    /// Name in the access log.
    pub name: &'static str,
    /// The route applies when any of these match.
    pub matchers: &'static [Match],
    /// Where matching requests go.
    pub upstream: UpstreamName,
    /// Prefix removed from the forwarded path (Caddy's `handle_path`).
    pub strip_prefix: Option<&'static str>,
    /// Send `X-Real-IP` (the peer address) and `X-Forwarded-Host` without its port.
    pub set_real_ip: bool,
    /// Send the public `Host` upstream without its port (presigned S3 URLs sign the host).
    pub host_without_port: bool,
    /// Request headers removed before forwarding.
    pub remove_request_headers: &'static [&'static str],
    /// Long-lived streamed responses (SSE): no read timeout.
    pub streaming: bool,
}

const fn route(name: &'static str, matchers: &'static [Match], upstream: UpstreamName) -> Route {
    Route {
        name,
        matchers,
        upstream,
        strip_prefix: None,
        set_real_ip: false,
        host_without_port: false,
        remove_request_headers: &[],
        streaming: false,
    }
}

/// The route table, first match wins. The prefixes are disjoint, so order only matters for the
/// fallback, which comes last.
pub static ROUTES: &[Route] = &[
    Route {
        strip_prefix: Some("/s3"),
        host_without_port: true,
        remove_request_headers: &["server"],
        ..route("s3", &[Match::Prefix("/s3/")], UpstreamName::S3)
    },
    Route {
        strip_prefix: Some("/api"),
        set_real_ip: true,
        ..route("api", &[Match::Prefix("/api")], UpstreamName::Api)
    },
    Route {
        streaming: true,
        ..route("mcp", &[Match::Prefix("/mcp")], UpstreamName::Mcp)
    },
    route(
        "oauth",
        &[
            Match::Exact("/.well-known/oauth-authorization-server"),
            Match::Prefix("/.well-known/oauth-protected-resource"),
            Match::Prefix("/authorize"),
            Match::Exact("/token"),
            Match::Exact("/register"),
            Match::Prefix("/consent"),
            Match::Prefix("/auth/callback"),
        ],
        UpstreamName::Mcp,
    ),
    route("ui", &[Match::Any], UpstreamName::Ui),
];

/// The route for a normalised path (see [`normalize_path`]).
pub fn route_for(path: &str) -> &'static Route {
    ROUTES
        .iter()
        .find(|route| route.matchers.iter().any(|m| m.matches(path)))
        .expect("the route table ends with a fallback")
}

impl Route {
    /// The path sent upstream for a normalised, matched path: the prefix stripped when the route
    /// strips one, and never empty (`/api` becomes `/`, `/apix` becomes `/x`).
    pub fn upstream_path<'a>(&self, path: &'a str) -> Cow<'a, str> {
        let Some(prefix) = self.strip_prefix else {
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
}

/// Normalises a request path once, before routing: decodes `%XX` only where it names an
/// unreserved character (RFC 3986 §2.3, so `%2F` stays encoded), merges repeated `/`, and
/// resolves `.` and `..` segments without climbing above the root. The result starts with `/`.
pub fn normalize_path(raw: &str) -> String {
    let decoded = decode_unreserved(raw);
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
    /// `reference/edge.md`, with its three deliberate deviations (`/apix`, `/api/../mcp`,
    /// `/api%2Fx`).
    const CASES: &[(&str, &str, &str)] = &[
        ("/", "ui", "/"),
        ("/index.html", "ui", "/index.html"),
        ("/api", "api", "/"),
        ("/api/", "api", "/"),
        ("/api/health", "api", "/health"),
        ("/API/x", "api", "/x"),
        ("/apix", "api", "/x"),
        ("/api%2Fx", "api", "/%2Fx"),
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
        ("/mcpx", "mcp", "/mcpx"),
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
        ("/token", "oauth", "/token"),
        ("/TOKEN", "oauth", "/TOKEN"),
        ("/token/", "ui", "/token/"),
        ("/tokens", "ui", "/tokens"),
        ("/register", "oauth", "/register"),
        ("/register/x", "ui", "/register/x"),
        ("/consent", "oauth", "/consent"),
        ("/consent/abc", "oauth", "/consent/abc"),
        ("/auth", "ui", "/auth"),
        ("/auth/callback", "oauth", "/auth/callback"),
        ("/auth/callback/github", "oauth", "/auth/callback/github"),
        ("/../../etc/passwd", "ui", "/etc/passwd"),
    ];

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
        let s3 = route_for("/s3/b");
        assert_eq!(s3.upstream, UpstreamName::S3);
        assert!(s3.host_without_port && !s3.set_real_ip && !s3.streaming);
        assert_eq!(s3.remove_request_headers, ["server"]);
        let api = route_for("/api/x");
        assert!(api.set_real_ip && !api.host_without_port && !api.streaming);
        let mcp = route_for("/mcp");
        assert!(mcp.streaming && mcp.strip_prefix.is_none());
        assert_eq!(route_for("/token").upstream, UpstreamName::Mcp);
        assert_eq!(route_for("/anything").upstream, UpstreamName::Ui);
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
        assert!(Match::Prefix("/api").matches("/ApI/x"));
        assert!(Match::Exact("/token").matches("/Token"));
        assert!(!Match::Exact("/token").matches("/token/"));
        assert!(!Match::Prefix("/api").matches("/ap"));
        assert!(!Match::Prefix("/api").matches("/äpi"));
    }
}
