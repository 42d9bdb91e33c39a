//! The MCP server's configuration, from `FERROCAT_*` variables. It embeds the platform's
//! ([`AppConfig`]): the MCP tools act through the same use cases as the api, against the same
//! Postgres and Temporal.

pub use ferrocat_app::sso::OidcConfig;
use std::net::SocketAddr;
use std::time::Duration;

use ferrocat_app::AppConfig;
use ferrocat_shared::config::{ConfigError, Env};

/// Everything the MCP server needs to start.
#[derive(Debug, Clone)]
pub struct McpConfig {
    /// `FERROCAT_MCP_ADDR`, default `127.0.0.1:8099`.
    pub addr: SocketAddr,
    /// The platform's settings (database, Temporal, `FERROCAT_PUBLIC_URL`, sessions).
    pub app: AppConfig,
    /// `FERROCAT_PUBLIC_URL` without a trailing `/`: the OAuth issuer.
    pub public_url: String,
    /// `FERROCAT_MCP_ACCESS_TOKEN_TTL_SECONDS`, default 900.
    pub access_token_ttl: Duration,
    /// `FERROCAT_MCP_REFRESH_TOKEN_TTL_SECONDS`, default 30 days.
    pub refresh_token_ttl: Duration,
    /// `FERROCAT_MCP_ALLOWED_HOSTS`: extra `Host` values accepted on `/mcp` (comma-separated),
    /// besides the public URL's host and loopback.
    pub allowed_hosts: Vec<String>,
    /// `FERROCAT_MCP_ALLOWED_ORIGINS`: extra browser origins accepted on `/mcp`
    /// (comma-separated), besides the public URL's origin. Requests without `Origin` pass.
    pub allowed_origins: Vec<String>,
    /// `FERROCAT_MCP_LEGACY_SESSIONS`, default true: `initialize` opens a session
    /// (2025-06-18/2025-11-25); 2026-07-28 requests are stateless either way.
    pub legacy_sessions: bool,
    /// `FERROCAT_MCP_SSE_KEEP_ALIVE_SECONDS`, default 15; 0 turns keep-alives off.
    pub sse_keep_alive: Option<Duration>,
    /// `FERROCAT_MCP_CIMD_ALLOW_INSECURE`, default false: lets client ID metadata documents be
    /// fetched over http and from private addresses. For tests only.
    pub cimd_allow_insecure: bool,
    /// Single sign-on through an OpenID Connect provider, when `FERROCAT_OIDC_ISSUER` is set.
    pub oidc: Option<OidcConfig>,
    /// `FERROCAT_MCP_REGISTER_RATE_LIMIT`: anonymous client registrations (`POST /register`)
    /// each client address may make per window, default 20; 0 turns the limit off. Counted in
    /// Redis, like the api's limits, so every MCP replica shares it.
    pub register_rate_limit: u64,
    /// `FERROCAT_MCP_REGISTER_RATE_WINDOW_SECONDS`, default 3600.
    pub register_rate_window: Duration,
}

fn list(env: &Env, key: &str) -> Vec<String> {
    env.get(key).map(|v| v.split(',').map(str::trim).filter(|s| !s.is_empty()).map(str::to_owned).collect()).unwrap_or_default()
}

fn seconds(env: &Env, key: &str, default: u64) -> Result<Duration, ConfigError> {
    let value = env.parse_or(key, default)?;
    if value == 0 {
        return Err(ConfigError::Invalid { key: key.into(), value: "0".into(), reason: "must be at least 1".into() });
    }
    Ok(Duration::from_secs(value))
}

impl McpConfig {
    /// Reads `FERROCAT_MCP_*` and the platform's variables.
    pub fn from_env(env: &Env) -> Result<Self, ConfigError> {
        let app = AppConfig::from_env(env)?;
        let public_url = app.public_url.trim_end_matches('/').to_owned();
        if url::Url::parse(&public_url).map(|u| u.host_str().is_none()).unwrap_or(true) {
            return Err(ConfigError::Invalid {
                key: "FERROCAT_PUBLIC_URL".into(),
                value: public_url,
                reason: "not an absolute URL with a host".into(),
            });
        }
        let keep_alive = env.parse_or("FERROCAT_MCP_SSE_KEEP_ALIVE_SECONDS", 15u64)?;
        Ok(Self {
            addr: env.parse_or("FERROCAT_MCP_ADDR", SocketAddr::from(([127, 0, 0, 1], 8099)))?,
            public_url,
            access_token_ttl: seconds(env, "FERROCAT_MCP_ACCESS_TOKEN_TTL_SECONDS", 900)?,
            refresh_token_ttl: seconds(env, "FERROCAT_MCP_REFRESH_TOKEN_TTL_SECONDS", 30 * 24 * 3600)?,
            allowed_hosts: list(env, "FERROCAT_MCP_ALLOWED_HOSTS"),
            allowed_origins: list(env, "FERROCAT_MCP_ALLOWED_ORIGINS"),
            legacy_sessions: env.parse_or("FERROCAT_MCP_LEGACY_SESSIONS", true)?,
            sse_keep_alive: (keep_alive > 0).then(|| Duration::from_secs(keep_alive)),
            cimd_allow_insecure: env.parse_or("FERROCAT_MCP_CIMD_ALLOW_INSECURE", false)?,
            oidc: OidcConfig::from_env(env)?,
            register_rate_limit: env.parse_or("FERROCAT_MCP_REGISTER_RATE_LIMIT", 20u64)?,
            register_rate_window: seconds(env, "FERROCAT_MCP_REGISTER_RATE_WINDOW_SECONDS", 3600)?,
            app,
        })
    }

    /// The OAuth issuer: the public URL itself.
    pub fn issuer(&self) -> &str {
        &self.public_url
    }

    /// The protected resource (RFC 8707/9728): the public `/mcp` URL, every token's audience.
    pub fn resource(&self) -> String {
        format!("{}/mcp", self.public_url)
    }

    /// An absolute URL on the public origin.
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.public_url)
    }

    /// Where the RFC 9728 metadata of `/mcp` lives (the path form, which clients try first).
    pub fn resource_metadata_url(&self) -> String {
        self.url("/.well-known/oauth-protected-resource/mcp")
    }

    /// `Host` values `/mcp` accepts: the public host (with and without its port) and loopback.
    pub fn mcp_allowed_hosts(&self) -> Vec<String> {
        let mut hosts: Vec<String> = vec!["localhost".into(), "127.0.0.1".into(), "::1".into()];
        if let Ok(url) = url::Url::parse(&self.public_url)
            && let Some(host) = url.host_str()
        {
            hosts.push(match url.port() {
                Some(port) => format!("{host}:{port}"),
                None => host.to_owned(),
            });
        }
        hosts.extend(self.allowed_hosts.iter().cloned());
        hosts
    }

    /// Browser origins `/mcp` accepts: the public origin and the configured extras.
    pub fn mcp_allowed_origins(&self) -> Vec<String> {
        let mut origins = Vec::new();
        if let Ok(url) = url::Url::parse(&self.public_url)
            && let Some(port) = url.port_or_known_default()
        {
            origins.push(format!("{}://{}:{port}", url.scheme(), url.host_str().unwrap_or_default()));
        }
        origins.extend(self.allowed_origins.iter().cloned());
        origins
    }

    /// Where the upstream identity provider sends the browser back.
    pub fn oidc_redirect_uri(&self) -> String {
        self.url("/auth/callback")
    }

    /// Whether cookies must be `Secure` (the public URL is https).
    pub fn secure_cookies(&self) -> bool {
        self.public_url.starts_with("https://")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn base() -> Vec<(&'static str, &'static str)> {
        vec![
            ("FERROCAT_DATABASE_URL", "postgres://localhost/x"),
            ("FERROCAT_SIGNING_SECRET", "0123456789abcdef0123"),
            ("FERROCAT_DB_ENCRYPTION_KEY", "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f"),
            ("FERROCAT_PUBLIC_URL", "https://soar.example.com/"),
        ]
    }

    #[test]
    fn derives_issuer_resource_and_hosts_from_the_public_url() {
        let config = McpConfig::from_env(&Env::from_pairs(base())).unwrap();
        assert_eq!(config.issuer(), "https://soar.example.com");
        assert_eq!(config.resource(), "https://soar.example.com/mcp");
        assert_eq!(config.resource_metadata_url(), "https://soar.example.com/.well-known/oauth-protected-resource/mcp");
        assert!(config.mcp_allowed_hosts().contains(&"soar.example.com".to_owned()));
        assert_eq!(config.mcp_allowed_origins(), vec!["https://soar.example.com:443".to_owned()]);
        assert_eq!(config.access_token_ttl, Duration::from_secs(900));
        assert!(config.secure_cookies());
    }

    #[test]
    fn refuses_a_zero_token_lifetime() {
        let mut vars = base();
        vars.push(("FERROCAT_MCP_ACCESS_TOKEN_TTL_SECONDS", "0"));
        let err = McpConfig::from_env(&Env::from_pairs(vars)).unwrap_err().to_string();
        assert!(err.contains("FERROCAT_MCP_ACCESS_TOKEN_TTL_SECONDS"), "{err}");
    }

    fn with(extra: &[(&'static str, &'static str)]) -> Result<McpConfig, ConfigError> {
        let mut vars = base();
        vars.extend_from_slice(extra);
        McpConfig::from_env(&Env::from_pairs(vars))
    }

    #[test]
    fn single_sign_on_is_off_unless_an_issuer_is_set() {
        assert!(with(&[]).unwrap().oidc.is_none());
        let err = with(&[("FERROCAT_OIDC_CLIENT_ID", "ferrocat")]).unwrap_err().to_string();
        assert!(err.contains("FERROCAT_OIDC_CLIENT_ID") && err.contains("FERROCAT_OIDC_ISSUER"), "{err}");
    }

    #[test]
    fn an_oidc_provider_has_secure_defaults() {
        let config = with(&[
            ("FERROCAT_OIDC_ISSUER", "https://idp.example.com/realms/soc/"),
            ("FERROCAT_OIDC_CLIENT_ID", "ferrocat"),
            ("FERROCAT_OIDC_CLIENT_SECRET", "s3cret"),
        ])
        .unwrap();
        let oidc = config.oidc.as_ref().unwrap();
        assert_eq!(oidc.issuer, "https://idp.example.com/realms/soc");
        assert_eq!(oidc.name, "idp.example.com");
        assert_eq!(oidc.scopes, ["openid", "email", "profile"]);
        assert!(!oidc.create_users);
        assert!(!format!("{config:?}").contains("s3cret"), "the secret never shows in debug output");
        assert_eq!(config.oidc_redirect_uri(), "https://soar.example.com/auth/callback");
    }

    #[test]
    fn a_bad_oidc_issuer_or_missing_client_fails_with_the_key_named() {
        for (issuer, why) in [("http://idp.example.com", "https"), ("not a url", "not a URL"), ("https://idp.example.com/?x=1", "query")] {
            let err = with(&[("FERROCAT_OIDC_ISSUER", issuer), ("FERROCAT_OIDC_CLIENT_ID", "c")]).unwrap_err().to_string();
            assert!(err.contains("FERROCAT_OIDC_ISSUER") && err.contains(why), "{issuer}: {err}");
        }
        assert!(with(&[("FERROCAT_OIDC_ISSUER", "http://127.0.0.1:9400"), ("FERROCAT_OIDC_CLIENT_ID", "c")]).unwrap().oidc.is_some());
        let err = with(&[("FERROCAT_OIDC_ISSUER", "https://idp.example.com")]).unwrap_err().to_string();
        assert!(err.contains("FERROCAT_OIDC_CLIENT_ID"), "{err}");
    }
}
