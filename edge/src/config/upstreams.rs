//! The four named upstream services (`FERROCAT_EDGE_*_UPSTREAM`) and their defaults.

use ferrocat_shared::config::{ConfigError, Env};

use super::vars::invalid;
use crate::routes::{UpstreamName, UpstreamUrl};

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

    /// Reads the four `FERROCAT_EDGE_*_UPSTREAM` URLs.
    pub(super) fn from_env(env: &Env) -> Result<Self, ConfigError> {
        let upstream = |key: &str, default: &str| -> Result<UpstreamUrl, ConfigError> {
            let raw = env.string_or(key, default);
            UpstreamUrl::parse(&raw).map_err(|reason| invalid(key, &raw, reason))
        };
        Ok(Self {
            api: upstream("FERROCAT_EDGE_API_UPSTREAM", "http://127.0.0.1:8000")?,
            mcp: upstream("FERROCAT_EDGE_MCP_UPSTREAM", "http://127.0.0.1:8099")?,
            ui: upstream("FERROCAT_EDGE_UI_UPSTREAM", "http://127.0.0.1:3000")?,
            s3: upstream("FERROCAT_EDGE_S3_UPSTREAM", "http://127.0.0.1:9000")?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn load_upstreams(pairs: &[(&str, &str)]) -> Result<UpstreamUrls, ConfigError> {
        UpstreamUrls::from_env(&Env::from_pairs(pairs.iter().copied()))
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
            let err = load_upstreams(&[("FERROCAT_EDGE_API_UPSTREAM", bad)]).unwrap_err();
            assert!(
                matches!(&err, ConfigError::Invalid { key, .. } if key == "FERROCAT_EDGE_API_UPSTREAM"),
                "{bad}: {err}"
            );
        }
        let urls = load_upstreams(&[
            ("FERROCAT_EDGE_API_UPSTREAM", "http://api:8000/"),
            ("FERROCAT_EDGE_UI_UPSTREAM", "http://ui"),
            ("FERROCAT_EDGE_S3_UPSTREAM", "http://[::1]:9000"),
        ])
        .unwrap();
        assert_eq!((urls.api.host(), urls.api.port()), ("api", 8000));
        assert_eq!(urls.ui.port(), 80);
        assert_eq!(urls.s3.host(), "::1");
        assert_eq!(urls.s3.to_string(), "http://[::1]:9000");
    }
}
