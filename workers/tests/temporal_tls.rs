//! The services reach a Temporal cluster over TLS and mTLS (`FERROCAT_TEMPORAL_TLS_*`), as
//! every one of them connects ([`TemporalConfig::connect`]). The dev server speaks plain gRPC,
//! so a real TLS terminator (rustls, ALPN h2, client certificates required from one CA) stands
//! in front of it: with the right CA, server name and client certificate the connection is
//! made and answers; without the certificate, with another CA or another name, it is refused.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use ferrocat_shared::config::Env;
use ferrocat_shared::temporal::TemporalConfig;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, pem::PemObject as _};

struct Pki {
    dir: PathBuf,
}

/// A CA, and a certificate it signs for `names` (written as `<file>.pem`, `<file>.key`).
fn ca(dir: &Path, name: &str) -> rcgen::Issuer<'static, rcgen::KeyPair> {
    let key = rcgen::KeyPair::generate().unwrap();
    let mut params = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
    params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
    params.distinguished_name.push(rcgen::DnType::CommonName, name);
    params.key_usages = vec![rcgen::KeyUsagePurpose::KeyCertSign, rcgen::KeyUsagePurpose::DigitalSignature];
    let cert = params.self_signed(&key).unwrap();
    std::fs::write(dir.join(format!("{name}.pem")), cert.pem()).unwrap();
    rcgen::Issuer::new(params, key)
}

fn leaf(dir: &Path, file: &str, names: &[&str], issuer: &rcgen::Issuer<'static, rcgen::KeyPair>) {
    let key = rcgen::KeyPair::generate().unwrap();
    let params = rcgen::CertificateParams::new(names.iter().map(|n| (*n).to_owned()).collect::<Vec<_>>()).unwrap();
    let cert = params.signed_by(&key, issuer).unwrap();
    std::fs::write(dir.join(format!("{file}.pem")), cert.pem()).unwrap();
    std::fs::write(dir.join(format!("{file}.key")), key.serialize_pem()).unwrap();
}

impl Pki {
    fn new() -> Pki {
        let dir = std::env::temp_dir().join(format!("ferrocat-temporal-tls-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let server_ca = ca(&dir, "server-ca");
        leaf(&dir, "server", &["temporal.test"], &server_ca);
        let client_ca = ca(&dir, "client-ca");
        leaf(&dir, "client", &["ferrocat-worker"], &client_ca);
        let stranger_ca = ca(&dir, "stranger-ca");
        leaf(&dir, "stranger", &["ferrocat-worker"], &stranger_ca);
        Pki { dir }
    }

    fn path(&self, file: &str) -> String {
        self.dir.join(file).to_string_lossy().into_owned()
    }
}

impl Drop for Pki {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// A TLS terminator on a free port that requires a client certificate of `client-ca` and
/// passes the bytes on to `upstream`.
async fn terminator(pki: &Pki, upstream: String) -> u16 {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut roots = rustls::RootCertStore::empty();
    for cert in CertificateDer::pem_file_iter(pki.path("client-ca.pem")).unwrap() {
        roots.add(cert.unwrap()).unwrap();
    }
    let verifier = rustls::server::WebPkiClientVerifier::builder_with_provider(Arc::new(roots), provider.clone()).build().unwrap();
    let chain: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(pki.path("server.pem")).unwrap().map(Result::unwrap).collect();
    let key = PrivateKeyDer::from_pem_file(pki.path("server.key")).unwrap();
    let mut config = rustls::ServerConfig::builder_with_provider(provider).with_safe_default_protocol_versions().unwrap().with_client_cert_verifier(verifier).with_single_cert(chain, key).unwrap();
    config.alpn_protocols = vec![b"h2".to_vec()];
    let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(async move {
        loop {
            let Ok((socket, _)) = listener.accept().await else { return };
            let (acceptor, upstream) = (acceptor.clone(), upstream.clone());
            tokio::spawn(async move {
                // A refused handshake just ends this connection.
                let Ok(mut tls) = acceptor.accept(socket).await else { return };
                let Ok(mut plain) = tokio::net::TcpStream::connect(&upstream).await else { return };
                let _ = tokio::io::copy_bidirectional(&mut tls, &mut plain).await;
            });
        }
    });
    port
}

async fn connects(settings: &[(&str, String)]) -> Result<(), String> {
    let config = TemporalConfig::from_env(&Env::from_pairs(settings.to_vec())).map_err(|e| e.to_string())?;
    let client = tokio::time::timeout(std::time::Duration::from_secs(20), config.connect()).await.map_err(|_| "timed out".to_owned())?.map_err(|e| format!("{e:#}"))?;
    // A real call through the tunnel, not just a handshake.
    let mut list = client.list_workflows("", Default::default());
    use futures_util::StreamExt as _;
    match tokio::time::timeout(std::time::Duration::from_secs(20), list.next()).await {
        Ok(None | Some(Ok(_))) => Ok(()),
        Ok(Some(Err(e))) => Err(format!("listing workflows: {e}")),
        Err(_) => Err("listing workflows timed out".into()),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_services_reach_temporal_over_mtls_and_nothing_less() {
    let temporal = ferrocat_test_support::temporal().await;
    let upstream = temporal.address.trim_start_matches("http://").to_owned();
    let pki = Pki::new();
    let port = terminator(&pki, upstream).await;
    let base = |cert: &str, ca: &str, name: &str| {
        vec![
            ("FERROCAT_TEMPORAL_ADDRESS", format!("127.0.0.1:{port}")),
            ("FERROCAT_TEMPORAL_TLS_CA_FILE", pki.path(ca)),
            ("FERROCAT_TEMPORAL_TLS_SERVER_NAME", name.to_owned()),
            ("FERROCAT_TEMPORAL_TLS_CERT_FILE", pki.path(&format!("{cert}.pem"))),
            ("FERROCAT_TEMPORAL_TLS_KEY_FILE", pki.path(&format!("{cert}.key"))),
        ]
    };
    connects(&base("client", "server-ca.pem", "temporal.test")).await.expect("mTLS with the right CA, name and certificate");

    let without_cert: Vec<_> = base("client", "server-ca.pem", "temporal.test").into_iter().filter(|(k, _)| !k.contains("CERT_FILE") && !k.contains("KEY_FILE")).collect();
    assert!(connects(&without_cert).await.is_err(), "no client certificate");
    assert!(connects(&base("stranger", "server-ca.pem", "temporal.test")).await.is_err(), "a client certificate of another CA");
    assert!(connects(&base("client", "stranger-ca.pem", "temporal.test")).await.is_err(), "a server this CA did not sign");
    assert!(connects(&base("client", "server-ca.pem", "other.test")).await.is_err(), "a server certificate for another name");
    // Plain gRPC to a TLS port is no connection either.
    let plain = vec![("FERROCAT_TEMPORAL_ADDRESS", format!("127.0.0.1:{port}"))];
    assert!(connects(&plain).await.is_err(), "plain text to the TLS port");
}

#[test]
fn tls_settings_are_checked_when_read() {
    let env = |pairs: &[(&str, &str)]| Env::from_pairs(pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())));
    let half = TemporalConfig::from_env(&env(&[("FERROCAT_TEMPORAL_TLS_CERT_FILE", "/etc/hostname")])).unwrap_err().to_string();
    assert!(half.contains("go together"), "{half}");
    let missing = TemporalConfig::from_env(&env(&[("FERROCAT_TEMPORAL_TLS_CA_FILE", "/nonexistent/ca.pem")])).unwrap_err().to_string();
    assert!(missing.contains("cannot be read"), "{missing}");
    let key_in_clear = TemporalConfig::from_env(&env(&[("FERROCAT_TEMPORAL_API_KEY", "k"), ("FERROCAT_TEMPORAL_TLS", "false")])).unwrap_err().to_string();
    assert!(key_in_clear.contains("only sent over TLS"), "{key_in_clear}");
    let cloud = TemporalConfig::from_env(&env(&[("FERROCAT_TEMPORAL_ADDRESS", "ns.acct.tmprl.cloud:7233"), ("FERROCAT_TEMPORAL_API_KEY", "secret-key")])).unwrap();
    assert_eq!(cloud.address.scheme(), "https", "an API key turns TLS on");
    assert!(!format!("{cloud:?}").contains("secret-key"), "the key never prints");
    let plain = TemporalConfig::from_env(&env(&[])).unwrap();
    assert!(plain.tls.is_none() && plain.address.as_str() == "http://127.0.0.1:7233/");
}
