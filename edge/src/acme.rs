//! ACME certificates (rustls-acme): the order/renew loop as a Pingora background service, the
//! certificate resolver the HTTPS listener serves from, the HTTP-01 answer used by the proxy, and
//! the TLS-ALPN-01 answer as a pre-TLS hook (Pingora's rustls listener can only offer one ALPN
//! list, which cannot hold `acme-tls/1` next to `h2`, so challenge handshakes are taken over
//! before Pingora's own handshake).
//!
//! rustls-acme keeps the account key and certificate in the cache directory, deploys a cached
//! certificate at start without a new order, renews at two thirds of its validity and swaps it in
//! the resolver without a restart. A failed order is retried with exponential back-off (1 s
//! doubling up to about 18 h) while the current certificate keeps being served.

use std::path::Path;
use std::sync::{Arc, Mutex};

use anyhow::Context as _;
use async_trait::async_trait;
use futures::StreamExt as _;
use pingora::listeners::PreTlsProcess;
use pingora::protocols::l4::stream::Stream as L4Stream;
use pingora::server::ShutdownWatch;
use pingora::services::background::BackgroundService;
use pingora::{Error, ErrorType};
use rustls::RootCertStore;
use rustls::pki_types::CertificateDer;
use rustls::pki_types::pem::PemObject;
use rustls_acme::caches::DirCache;
use rustls_acme::{AcmeConfig, AcmeState, EventOk, ResolvesServerCertAcme, UseChallenge};
use tokio::io::AsyncReadExt as _;

use crate::config::{AcmeChallenge, TlsConfig};

/// The directory used when `FERROCAT_EDGE_ACME_DIRECTORY` is unset: Let's Encrypt production.
pub const DEFAULT_DIRECTORY: &str = rustls_acme::acme::LETS_ENCRYPT_PRODUCTION_DIRECTORY;

type State = AcmeState<std::io::Error, std::io::Error>;

/// The ACME side of the edge: built once at start, shared by the listener, the proxy and the
/// background loop.
pub struct Acme {
    resolver: Arc<ResolvesServerCertAcme>,
    challenge_config: Arc<rustls::ServerConfig>,
    state: Mutex<Option<State>>,
    domains: Vec<String>,
}

impl Acme {
    /// Prepares the ACME account and order state for `tls.domains`; nothing is requested until
    /// the background loop runs.
    pub fn build(tls: &TlsConfig) -> anyhow::Result<Arc<Self>> {
        let cache_dir = tls
            .acme_cache_dir
            .as_ref()
            .context("FERROCAT_EDGE_ACME_CACHE_DIR is required with FERROCAT_EDGE_DOMAINS")?;
        std::fs::create_dir_all(cache_dir).with_context(|| {
            format!(
                "cannot create the ACME cache directory {} (FERROCAT_EDGE_ACME_CACHE_DIR)",
                cache_dir.display()
            )
        })?;
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let client = rustls::ClientConfig::builder_with_provider(provider.clone())
            .with_safe_default_protocol_versions()
            .context("rustls client protocol versions")?
            .with_root_certificates(root_store(tls.acme_ca_file.as_deref())?)
            .with_no_client_auth();
        let directory = tls
            .acme_directory
            .as_ref()
            .map_or(DEFAULT_DIRECTORY, |url| url.as_str());
        let mut config = AcmeConfig::new_with_client_config(&tls.domains, Arc::new(client))
            .directory(directory)
            .challenge_type(match tls.acme_challenge {
                AcmeChallenge::Http01 => UseChallenge::Http01,
                AcmeChallenge::TlsAlpn01 => UseChallenge::TlsAlpn01,
            });
        if let Some(email) = &tls.acme_email {
            config = config.contact_push(format!("mailto:{email}"));
        }
        let state = config.cache(DirCache::new(cache_dir.clone())).state();
        Ok(Arc::new(Self {
            resolver: state.resolver(),
            challenge_config: state.challenge_rustls_config_with_provider(provider),
            state: Mutex::new(Some(state)),
            domains: tls.domains.clone(),
        }))
    }

    /// The certificate resolver for the HTTPS listener (no certificate until the first one is
    /// loaded from the cache or issued).
    pub fn resolver(&self) -> Arc<ResolvesServerCertAcme> {
        self.resolver.clone()
    }

    /// The key authorization for an HTTP-01 token currently being validated.
    pub fn http01_answer(&self, token: &str) -> Option<String> {
        self.resolver.get_http_01_key_auth(token)
    }
}

/// Webpki's roots plus the PEM certificates of `extra` (a private ACME CA, or pebble in tests).
fn root_store(extra: Option<&Path>) -> anyhow::Result<RootCertStore> {
    let mut roots = RootCertStore::empty();
    roots.extend(webpki_roots());
    if let Some(path) = extra {
        let certs = CertificateDer::pem_file_iter(path)
            .and_then(|certs| certs.collect::<Result<Vec<_>, _>>())
            .with_context(|| {
                format!(
                    "cannot read {} (FERROCAT_EDGE_ACME_CA_FILE)",
                    path.display()
                )
            })?;
        if certs.is_empty() {
            anyhow::bail!(
                "no certificate in {} (FERROCAT_EDGE_ACME_CA_FILE)",
                path.display()
            );
        }
        for cert in certs {
            roots.add(cert).with_context(|| {
                format!(
                    "bad certificate in {} (FERROCAT_EDGE_ACME_CA_FILE)",
                    path.display()
                )
            })?;
        }
    }
    Ok(roots)
}

fn webpki_roots() -> impl Iterator<Item = rustls::pki_types::TrustAnchor<'static>> {
    webpki_roots::TLS_SERVER_ROOTS.iter().cloned()
}

/// The order/renew loop as a Pingora background service: logs every event, and stops at
/// shutdown.
pub struct Renewal(pub Arc<Acme>);

#[async_trait]
impl BackgroundService for Renewal {
    async fn start(&self, mut shutdown: ShutdownWatch) {
        let acme = &self.0;
        let state = acme
            .state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .take();
        let Some(mut state) = state else { return };
        tracing::info!(domains = ?acme.domains, "acme: loading the cached certificate or ordering one");
        loop {
            tokio::select! {
                _ = shutdown.changed() => break,
                event = state.next() => match event {
                    Some(Ok(EventOk::DeployedCachedCert)) => {
                        tracing::info!(domains = ?acme.domains, "acme: serving the cached certificate");
                    }
                    Some(Ok(EventOk::DeployedNewCert)) => {
                        tracing::info!(domains = ?acme.domains, "acme: new certificate issued and deployed");
                    }
                    Some(Ok(event)) => tracing::debug!(?event, "acme"),
                    Some(Err(error)) => tracing::error!(
                        domains = ?acme.domains,
                        error = %error,
                        "acme: failed; the current certificate (if any) stays in use and the \
                         order is retried with back-off"
                    ),
                    None => break,
                },
            }
        }
    }
}

/// The TLS-ALPN-01 answer: peeks at each ClientHello on the HTTPS listener; a validation
/// handshake (ALPN `acme-tls/1`) is completed here with the challenge certificate and the
/// connection dropped, every other connection is rewound and handed to Pingora untouched.
pub struct TlsAlpnHook(pub Arc<Acme>);

/// A ClientHello larger than this is not an ACME validation; stop buffering and let Pingora
/// handle (or reject) it.
const MAX_CLIENT_HELLO: usize = 16 * 1024;

#[async_trait]
impl PreTlsProcess for TlsAlpnHook {
    async fn process(&self, stream: &mut L4Stream) -> pingora::Result<()> {
        let mut acceptor = rustls::server::Acceptor::default();
        let mut seen = Vec::new();
        let mut buf = [0u8; 4096];
        let is_challenge = loop {
            let n = stream
                .read(&mut buf)
                .await
                .map_err(|e| Error::because(ErrorType::ReadError, "reading the ClientHello", e))?;
            if n == 0 {
                break false;
            }
            seen.extend_from_slice(&buf[..n]);
            if acceptor.read_tls(&mut &buf[..n]).is_err() {
                break false;
            }
            match acceptor.accept() {
                Ok(Some(accepted)) => {
                    break rustls_acme::is_tls_alpn_challenge(&accepted.client_hello());
                }
                Ok(None) if seen.len() < MAX_CLIENT_HELLO => continue,
                Ok(None) | Err(_) => break false,
            }
        };
        stream.rewind(&seen);
        if !is_challenge {
            return Ok(());
        }
        let served = tokio_rustls::TlsAcceptor::from(self.0.challenge_config.clone())
            .accept(&mut *stream)
            .await
            .is_ok();
        tracing::info!(served, "acme: answered a tls-alpn-01 validation handshake");
        Error::e_explain(
            ErrorType::HandshakeError,
            "acme tls-alpn-01 validation answered; connection closed",
        )
    }
}
