//! HTTPS settings: ACME (`FERROCAT_EDGE_DOMAINS`, `FERROCAT_EDGE_ACME_*`) or a static
//! certificate (`FERROCAT_EDGE_TLS_CERT`/`_KEY`), or neither, checked against each other.

use std::net::SocketAddr;
use std::path::PathBuf;

use ferrocat_shared::config::{ConfigError, Env};
use url::Url;

use super::vars::{invalid, missing, parse_addr};

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

const DEFAULT_HTTPS_ADDR: &str = "0.0.0.0:443";

impl TlsConfig {
    /// Reads and cross-checks the HTTPS settings.
    pub(super) fn from_env(env: &Env) -> Result<Self, ConfigError> {
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

#[cfg(test)]
mod tests {
    use super::*;

    fn load_tls(pairs: &[(&str, &str)]) -> Result<TlsConfig, ConfigError> {
        TlsConfig::from_env(&Env::from_pairs(pairs.iter().copied()))
    }

    #[test]
    fn tls_settings_are_parsed_and_checked() {
        let tls = load_tls(&[
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
        assert_eq!(tls.domains, ["edge.example.org", "api.example.org"]);
        assert_eq!(tls.acme_challenge, AcmeChallenge::TlsAlpn01);
        assert!(tls.enabled());

        assert!(load_tls(&[("FERROCAT_EDGE_DOMAINS", "not a domain")]).is_err());
        assert!(matches!(
            load_tls(&[("FERROCAT_EDGE_DOMAINS", "edge.example.org")]),
            Err(ConfigError::Missing { key }) if key == "FERROCAT_EDGE_ACME_CACHE_DIR"
        ));
        assert!(load_tls(&[("FERROCAT_EDGE_ACME_CHALLENGE", "dns-01")]).is_err());
        assert!(load_tls(&[("FERROCAT_EDGE_ACME_DIRECTORY", "http://acme.example/dir")]).is_err());
        assert!(load_tls(&[("FERROCAT_EDGE_ACME_EMAIL", "ops")]).is_err());
        assert!(matches!(
            load_tls(&[("FERROCAT_EDGE_TLS_CERT", "/c.pem")]),
            Err(ConfigError::Missing { key }) if key == "FERROCAT_EDGE_TLS_KEY"
        ));
        let both = [
            ("FERROCAT_EDGE_TLS_CERT", "/c.pem"),
            ("FERROCAT_EDGE_TLS_KEY", "/k.pem"),
            ("FERROCAT_EDGE_DOMAINS", "edge.example.org"),
        ];
        assert!(load_tls(&both).is_err());
        assert!(load_tls(&both[..2]).unwrap().enabled());
    }
}
