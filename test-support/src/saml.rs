//! A real SAML 2.0 identity provider for the single sign-on tests: Debian's SimpleSAMLphp
//! (deploy/test.sh installs `simplesamlphp php-cli php-xml php-mbstring`) under PHP's built-in
//! server on a free loopback port, with its configuration, a fresh RSA key and certificate
//! (openssl) and its users in a folder of the test's own. Each test starts one with the service
//! providers it should know, each with its own signing options (unsigned, SHA-1, an assertion
//! that is born expired), and drives the IdP's password form as a browser would.

use std::fmt::Write as _;
use std::io::{Read as _, Write as _};
use std::path::PathBuf;
use std::process::Stdio;
use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use reqwest::{Client, StatusCode};

/// SimpleSAMLphp's sources (Debian's package).
const WWW: &str = "/usr/share/simplesamlphp/www";
pub const RSA_SHA256: &str = "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256";
pub const RSA_SHA1: &str = "http://www.w3.org/2000/09/xmldsig#rsa-sha1";

/// A service provider as the IdP knows it, and how the IdP answers it.
#[derive(Debug, Clone)]
pub struct KnownSp {
    pub entity_id: String,
    /// Its assertion consumer services (HTTP-POST), in order.
    pub acs: Vec<String>,
    pub sign_response: bool,
    pub sign_assertion: bool,
    pub signature_algorithm: &'static str,
    /// Seconds an assertion is valid for (SimpleSAMLphp's default 300); negative makes it
    /// expired when issued.
    pub assertion_lifetime: i64,
}

impl KnownSp {
    /// A service provider answered the usual way: both signed, RSA-SHA256, five minutes.
    pub fn new(entity_id: &str, acs: &[&str]) -> Self {
        Self {
            entity_id: entity_id.to_owned(),
            acs: acs.iter().map(|a| (*a).to_owned()).collect(),
            sign_response: true,
            sign_assertion: true,
            signature_algorithm: RSA_SHA256,
            assertion_lifetime: 300,
        }
    }
}

/// A user of the IdP's password form, and the email attribute it asserts.
#[derive(Debug, Clone)]
pub struct User {
    pub username: String,
    pub password: String,
    pub email: String,
}

impl User {
    pub fn new(username: &str, email: &str) -> Self {
        Self { username: username.to_owned(), password: format!("{username}-pass"), email: email.to_owned() }
    }
}

/// What the IdP's page posts to the service provider.
#[derive(Debug, Clone)]
pub struct Answer {
    /// The form's action: the ACS it answers.
    pub acs: String,
    pub saml_response: String,
    pub relay_state: String,
}

impl Answer {
    /// The response's XML.
    pub fn xml(&self) -> String {
        String::from_utf8(STANDARD.decode(&self.saml_response).expect("base64 SAMLResponse")).expect("UTF-8 XML")
    }

    /// The same answer with its XML changed by `edit` (signatures untouched).
    pub fn tampered(&self, edit: impl FnOnce(String) -> String) -> Answer {
        Answer { saml_response: STANDARD.encode(edit(self.xml())), ..self.clone() }
    }

    pub fn form(&self) -> [(&'static str, &str); 2] {
        [("SAMLResponse", &self.saml_response), ("RelayState", &self.relay_state)]
    }
}

/// A running SimpleSAMLphp; the server is killed and its folder removed when dropped.
pub struct SamlIdp {
    /// `http://127.0.0.1:<port>`.
    pub url: String,
    dir: PathBuf,
    _child: tokio::process::Child,
}

impl Drop for SamlIdp {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// PHP's single-quoted string literal of `s`.
fn php(s: &str) -> String {
    format!("'{}'", s.replace('\\', "\\\\").replace('\'', "\\'"))
}

fn write(path: PathBuf, text: &str) {
    std::fs::File::create(&path).and_then(|mut f| f.write_all(text.as_bytes())).unwrap_or_else(|e| panic!("writing {}: {e}", path.display()));
}

/// The value of the hidden input `name` in an HTML page (as SimpleSAMLphp escapes it).
fn hidden(html: &str, name: &str) -> Option<String> {
    let at = html.find(&format!("name=\"{name}\""))?;
    let rest = &html[at..];
    let value = rest.split("value=\"").nth(1)?.split('"').next()?;
    Some(unescape(value))
}

fn unescape(s: &str) -> String {
    s.replace("&quot;", "\"").replace("&#039;", "'").replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")
}

impl SamlIdp {
    /// Starts an IdP that knows `sps` and signs `users` in.
    pub async fn start(sps: &[KnownSp], users: &[User]) -> SamlIdp {
        let dir = std::env::temp_dir().join(format!("ferrocat-saml-idp-{}", uuid::Uuid::new_v4().simple()));
        for sub in ["config", "metadata", "cert", "data", "tmp", "log"] {
            std::fs::create_dir_all(dir.join(sub)).unwrap();
        }
        let key = tokio::process::Command::new("openssl")
            .args(["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=ferrocat-test-idp", "-keyout"])
            .arg(dir.join("cert/idp.key"))
            .arg("-out")
            .arg(dir.join("cert/idp.crt"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .await
            .expect("openssl");
        assert!(key.success(), "openssl made no key");
        let port = crate::free_port();
        let url = format!("http://127.0.0.1:{port}");
        let d = |sub: &str| php(&format!("{}/{sub}/", dir.display()));
        write(
            dir.join("config/config.php"),
            &format!(
                "<?php\n$config = [\n 'baseurlpath' => {base},\n 'certdir' => {cert},\n 'loggingdir' => {log},\n 'datadir' => {data},\n 'tempdir' => {tmp},\n 'metadatadir' => {meta},\n \
                 'secretsalt' => 'ferrocat-test-salt',\n 'auth.adminpassword' => 'unused-{port}',\n 'technicalcontact_email' => 'idp@example.com',\n 'timezone' => 'UTC',\n \
                 'enable.saml20-idp' => true,\n 'module.enable' => ['exampleauth' => true, 'core' => true, 'saml' => true],\n 'session.cookie.secure' => false,\n \
                 'session.phpsession.savepath' => {tmp},\n 'logging.handler' => 'file',\n 'logging.logfile' => 'simplesamlphp.log',\n 'logging.level' => SimpleSAML\\Logger::WARNING,\n \
                 'store.type' => 'phpsession',\n 'trusted.url.domains' => ['127.0.0.1'],\n 'metadata.sources' => [['type' => 'flatfile']],\n];\n",
                base = php(&format!("{url}/")),
                cert = d("cert"),
                log = d("log"),
                data = d("data"),
                tmp = d("tmp"),
                meta = d("metadata"),
            ),
        );
        let mut auth = String::from("<?php\n$config = [\n 'admin' => ['core:AdminPassword'],\n 'users' => [\n  'exampleauth:UserPass',\n");
        for user in users {
            let _ = writeln!(
                auth,
                "  {creds} => ['uid' => [{uid}], 'email' => [{email}], 'displayName' => [{uid}]],",
                creds = php(&format!("{}:{}", user.username, user.password)),
                uid = php(&user.username),
                email = php(&user.email),
            );
        }
        auth.push_str(" ],\n];\n");
        write(dir.join("config/authsources.php"), &auth);
        write(
            dir.join("metadata/saml20-idp-hosted.php"),
            &format!(
                "<?php\n$metadata['__DYNAMIC:1__'] = ['host' => '__DEFAULT__', 'privatekey' => 'idp.key', 'certificate' => 'idp.crt', 'auth' => 'users', 'signature.algorithm' => {}];\n",
                php(RSA_SHA256)
            ),
        );
        let mut remote = String::from("<?php\n");
        for sp in sps {
            let acs: String = sp
                .acs
                .iter()
                .enumerate()
                .map(|(i, a)| format!("['Binding' => 'urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST', 'Location' => {}, 'index' => {i}],", php(a)))
                .collect();
            let _ = writeln!(
                remote,
                "$metadata[{id}] = ['AssertionConsumerService' => [{acs}], 'saml20.sign.response' => {sr}, 'saml20.sign.assertion' => {sa}, 'signature.algorithm' => {alg}, 'assertion.lifetime' => {life}];",
                id = php(&sp.entity_id),
                sr = sp.sign_response,
                sa = sp.sign_assertion,
                alg = php(sp.signature_algorithm),
                life = sp.assertion_lifetime,
            );
        }
        write(dir.join("metadata/saml20-sp-remote.php"), &remote);
        let child = tokio::process::Command::new("php")
            .args(["-S", &format!("127.0.0.1:{port}"), "-t", WWW])
            .env("SIMPLESAMLPHP_CONFIG_DIR", dir.join("config"))
            .current_dir(&dir)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .expect("php -S (is php-cli installed? deploy/test.sh installs it)");
        let idp = SamlIdp { url, dir, _child: child };
        crate::eventually(Duration::from_secs(30), "SimpleSAMLphp to serve its metadata", || async {
            let response = Client::new().get(idp.metadata_url()).send().await.ok()?;
            (response.status() == StatusCode::OK).then_some(())
        })
        .await;
        idp
    }

    pub fn metadata_url(&self) -> String {
        format!("{}/saml2/idp/metadata.php", self.url)
    }

    /// The IdP's metadata XML.
    pub async fn metadata(&self) -> String {
        Client::new().get(self.metadata_url()).send().await.unwrap().text().await.unwrap()
    }

    /// Follows a sign-in redirect (the AuthnRequest) to the IdP's password form, signs `user`
    /// in with `password`, and returns what the IdP's page would post to the service provider.
    pub async fn sign_in(&self, request_url: &str, user: &str, password: &str) -> Answer {
        let browser = Client::builder().cookie_store(true).build().unwrap();
        let form = browser.get(request_url).send().await.unwrap();
        let login_url = form.url().clone();
        let page = form.text().await.unwrap();
        let auth_state = hidden(&page, "AuthState").unwrap_or_else(|| panic!("the IdP showed no password form for {request_url}: {page}"));
        let answered = browser.post(login_url).form(&[("username", user), ("password", password), ("AuthState", &auth_state)]).send().await.unwrap();
        assert_eq!(answered.status(), StatusCode::OK);
        let page = answered.text().await.unwrap();
        let acs = page.split("action=\"").nth(1).and_then(|r| r.split('"').next()).map(unescape);
        match (acs, hidden(&page, "SAMLResponse"), hidden(&page, "RelayState")) {
            (Some(acs), Some(saml_response), Some(relay_state)) => Answer { acs, saml_response, relay_state },
            _ => panic!("the IdP did not answer with a SAML response form: {page}"),
        }
    }
}

/// The AuthnRequest XML of an HTTP-Redirect sign-in URL, and its RelayState.
pub fn request_of(url: &str) -> (String, String) {
    let parsed = reqwest::Url::parse(url).unwrap();
    let param = |name: &str| parsed.query_pairs().find(|(k, _)| k == name).map(|(_, v)| v.into_owned()).unwrap_or_default();
    let deflated = STANDARD.decode(param("SAMLRequest")).expect("base64 SAMLRequest");
    let mut xml = String::new();
    flate2::read::DeflateDecoder::new(&deflated[..]).read_to_string(&mut xml).expect("a deflated AuthnRequest");
    (xml, param("RelayState"))
}

/// An HTTP-Redirect sign-in URL for `xml` at `sso_url`, with `relay_state`.
pub fn request_url(sso_url: &str, xml: &str, relay_state: &str) -> String {
    let mut encoder = flate2::write::DeflateEncoder::new(Vec::new(), flate2::Compression::default());
    encoder.write_all(xml.as_bytes()).unwrap();
    let mut url = reqwest::Url::parse(sso_url).unwrap();
    url.query_pairs_mut().append_pair("SAMLRequest", &STANDARD.encode(encoder.finish().unwrap())).append_pair("RelayState", relay_state);
    url.to_string()
}
