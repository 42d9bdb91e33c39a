//! Route files: the built-in table (`edge/routes.toml`, the meaning of Tracecat's Caddyfile) or
//! an operator's TOML file of the same shape (`--routes FILE`), parsed and validated at load into
//! a [`RouteTable`], with the defaults a file may leave out.

use std::collections::HashSet;
use std::path::Path;
use std::time::Duration;

use http::HeaderName;
use serde::Deserialize;

use super::path::{normalize_path, starts_with_ignore_case};
use super::table::{Match, Route, RouteTable};
use super::upstream::{UpstreamName, UpstreamRef};

/// The built-in table, as data.
pub const BUILTIN_ROUTES: &str = include_str!("../../routes.toml");

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
            max_body_bytes: 32 << 20,
            s3_max_body_bytes: 5 << 30,
        }
    }
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
        Ok(Self::from_validated(routes))
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
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::routes::UpstreamUrl;

    fn parse(text: &str) -> Result<RouteTable, String> {
        RouteTable::parse(text, &RouteDefaults::default())
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
}
