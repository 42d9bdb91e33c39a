//! The route table as data: where each request path goes and how it is rewritten on the way.
//!
//! - `path`: the one path normalisation that both routing and forwarding use.
//! - `upstream`: what a route points at (a named service or a URL of its own).
//! - `table`: the validated table and its matcher.
//! - `file`: the built-in table and operators' route files, validated at load.

mod file;
mod path;
mod table;
mod upstream;

pub use file::{BUILTIN_ROUTES, RouteDefaults};
pub use path::{WEBHOOK_PREFIX, normalize_path, starts_with_ignore_case};
pub use table::{Match, Route, RouteTable};
pub use upstream::{UpstreamName, UpstreamRef, UpstreamUrl};

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
}
