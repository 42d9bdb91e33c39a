//! The HTTPS listener's TLS settings: rustls (ring) with HTTP/2 and HTTP/1.1 by ALPN, and the
//! certificate either from PEM files given by the operator (loaded and checked at start, so a bad
//! file fails the start instead of panicking inside Pingora) or from ACME (see [`crate::acme`]).

use std::path::Path;
use std::sync::Arc;

use anyhow::Context as _;
use pingora::listeners::TlsAccept;
use pingora::listeners::tls::TlsSettings;
use rustls::crypto::ring::sign::any_supported_type;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls::server::ResolvesServerCert;
use rustls::sign::{CertifiedKey, SingleCertAndKey};

/// `Strict-Transport-Security` sent on every HTTPS response: one year, as browsers recommend;
/// without `includeSubDomains`, since the edge does not own the operator's other names.
pub const HSTS: &str = "max-age=31536000";

/// Loads a PEM certificate chain and private key into a resolver that serves them for every SNI.
pub fn load_static_cert(cert: &Path, key: &Path) -> anyhow::Result<Arc<dyn ResolvesServerCert>> {
    let chain = CertificateDer::pem_file_iter(cert)
        .and_then(|certs| certs.collect::<Result<Vec<_>, _>>())
        .with_context(|| {
            format!(
                "cannot read the certificate chain {} (FERROCAT_EDGE_TLS_CERT)",
                cert.display()
            )
        })?;
    if chain.is_empty() {
        anyhow::bail!(
            "no certificate in {} (FERROCAT_EDGE_TLS_CERT)",
            cert.display()
        );
    }
    let private_key = PrivateKeyDer::from_pem_file(key).with_context(|| {
        format!(
            "cannot read the private key {} (FERROCAT_EDGE_TLS_KEY)",
            key.display()
        )
    })?;
    let signing_key = any_supported_type(&private_key).with_context(|| {
        format!(
            "unsupported private key in {} (FERROCAT_EDGE_TLS_KEY)",
            key.display()
        )
    })?;
    let certified = CertifiedKey::new(chain, signing_key);
    certified.keys_match().with_context(|| {
        format!(
            "the key {} does not belong to the certificate {}",
            key.display(),
            cert.display()
        )
    })?;
    Ok(Arc::new(SingleCertAndKey::from(certified)))
}

/// Listener settings serving certificates from `resolver`, offering h2 and http/1.1.
pub fn listener_settings(resolver: Arc<dyn ResolvesServerCert>) -> pingora::Result<TlsSettings> {
    let mut settings = TlsSettings::with_callbacks(Box::new(NoCallbacks))?;
    settings.set_cert_resolver(resolver);
    settings.enable_h2();
    Ok(settings)
}

/// Pingora wants post-handshake callbacks to build settings around a resolver; the edge has none.
struct NoCallbacks;

impl TlsAccept for NoCallbacks {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn missing_or_mismatched_files_are_errors() {
        let dir = std::env::temp_dir().join(format!("ferrocat-edge-tls-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let missing = dir.join("missing.pem");
        let error = load_static_cert(&missing, &missing).unwrap_err();
        assert!(
            format!("{error:#}").contains("FERROCAT_EDGE_TLS_CERT"),
            "{error:#}"
        );

        let empty = dir.join("empty.pem");
        std::fs::write(&empty, "").unwrap();
        let error = load_static_cert(&empty, &empty).unwrap_err();
        assert!(format!("{error:#}").contains("no certificate"), "{error:#}");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
