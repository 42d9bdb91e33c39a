//! The organisation's SAML 2.0 identity provider, with ferrocat as the service provider
//! (samael over libxmlsec1). One SP entity, two assertion consumer services: the console's
//! (`/api/auth/saml/acs`) and the MCP sign-in page's (`/authorize/saml/acs`); its metadata is at
//! `/api/auth/saml/metadata`, which is also its entity id.
//!
//! samael's defaults are not safe on their own, so this module:
//! - refuses IdP metadata without a signing certificate at configuration (samael would accept
//!   unsigned answers from such an IdP) and checks again before every verification;
//! - allows RSA and ECDSA signatures with SHA-256 or stronger only (samael allows every
//!   algorithm, SHA-1 included, unless told);
//! - sets the entity id, both ACS URLs and the SLO URL from the public URL (samael's defaults
//!   point at localhost:8080), and publishes no logout endpoint, since it offers none;
//! - replaces samael's 32-bit AuthnRequest IDs with 256-bit ones, keeps every outstanding
//!   request server-side by the hash of its RelayState, bound to the browser that started it by
//!   a cookie, and spends it once: an answer is checked against that one request's ID
//!   (InResponseTo), so a replayed or unsolicited answer matches nothing;
//! - verifies on a blocking thread (samael's error is not `Send`, and xmlsec is CPU work), with
//!   xmlsec's stderr reports routed to `tracing` ([`ferrocat_xmlsec_log`]).
//!
//! Who the verified person is on this platform is [`super::platform_user`]'s business, with the
//! same rules as OpenID Connect. SAML has no `email_verified`: the organisation's own IdP,
//! configured by a superuser, is trusted for the addresses it asserts (as Tracecat does).

use std::str::FromStr as _;
use std::time::Duration;

use chrono::{DateTime, Utc};
use samael::crypto::AllowedSignatureAlgorithm;
use samael::metadata::{EntityDescriptor, HTTP_POST_BINDING, HTTP_REDIRECT_BINDING, IndexedEndpoint};
use samael::schema::Assertion;
use samael::service_provider::{ServiceProvider, ServiceProviderBuilder};
use samael::traits::ToXml as _;
use serde_json::{Value, json};
use sqlx::PgPool;
use uuid::Uuid;

use super::{Identity, Method, Source};
use crate::AppError;
use crate::accounts::{new_session_token, token_hash};
use crate::checks::invalid;
use crate::db::users::User;

/// How long the user has at the identity provider.
const LOGIN_TTL_SECONDS: i64 = 600;
/// The largest metadata document accepted (federation aggregates are not).
const MAX_METADATA_BYTES: usize = 1 << 20;
/// Clock difference tolerated between the IdP and this host.
const MAX_CLOCK_SKEW_SECONDS: i64 = 60;
/// The button's default label.
const DEFAULT_NAME: &str = "SAML";

/// The service provider's URLs, from the deployment's public URL.
#[derive(Debug, Clone)]
pub struct SpUrls {
    pub entity_id: String,
    pub metadata: String,
    pub console_acs: String,
    pub mcp_acs: String,
    pub slo: String,
}

impl SpUrls {
    pub fn new(public_url: &str) -> Self {
        let base = public_url.trim_end_matches('/');
        let metadata = format!("{base}/api/auth/saml/metadata");
        Self {
            entity_id: metadata.clone(),
            metadata,
            console_acs: format!("{base}/api/auth/saml/acs"),
            mcp_acs: format!("{base}/authorize/saml/acs"),
            slo: format!("{base}/api/auth/saml/slo"),
        }
    }
}

/// Which page's sign-in this is; each has its own assertion consumer service.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Face {
    Console,
    Mcp,
}

impl Face {
    fn as_str(self) -> &'static str {
        match self {
            Face::Console => "console",
            Face::Mcp => "mcp",
        }
    }

    fn acs(self, urls: &SpUrls) -> &str {
        match self {
            Face::Console => &urls.console_acs,
            Face::Mcp => &urls.mcp_acs,
        }
    }
}

/// The identity provider as configured.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct IdpSettings {
    pub idp_metadata_xml: String,
    pub idp_metadata_url: Option<String>,
    pub idp_entity_id: String,
    pub idp_sso_url: String,
    pub idp_name: String,
    pub updated_at: DateTime<Utc>,
}

/// The configured identity provider, if any.
pub async fn idp(db: &PgPool) -> Result<Option<IdpSettings>, AppError> {
    Ok(sqlx::query_as::<_, IdpSettings>(
        "SELECT idp_metadata_xml, idp_metadata_url, idp_entity_id, idp_sso_url, idp_name, updated_at FROM saml_settings WHERE singleton",
    )
    .fetch_optional(db)
    .await?)
}

/// The button's label when the organisation's `rules` turn SAML sign-in on and an identity
/// provider is configured.
pub async fn offered(db: &PgPool, rules: &crate::auth_settings::AuthSettings) -> Result<Option<String>, AppError> {
    if !rules.saml_enabled {
        return Ok(None);
    }
    Ok(idp(db).await?.map(|idp| idp.idp_name))
}

/// What `/settings/saml` shows (Tracecat's names, and the facts an IdP administrator needs).
pub async fn read_model(db: &PgPool, urls: &SpUrls) -> Result<Value, AppError> {
    let rules = crate::auth_settings::read(db).await?;
    let idp = idp(db).await?;
    Ok(json!({
        "saml_enabled": rules.saml_enabled,
        "saml_enforced": rules.sso_enforced,
        "saml_idp_metadata_url": idp.as_ref().and_then(|i| i.idp_metadata_url.clone()),
        "saml_idp_configured": idp.is_some(),
        "saml_idp_entity_id": idp.as_ref().map(|i| i.idp_entity_id.clone()),
        "saml_idp_sso_url": idp.as_ref().map(|i| i.idp_sso_url.clone()),
        "saml_idp_name": idp.as_ref().map_or(DEFAULT_NAME.to_owned(), |i| i.idp_name.clone()),
        "saml_sp_entity_id": urls.entity_id,
        "saml_sp_acs_url": urls.console_acs,
        "saml_mcp_acs_url": urls.mcp_acs,
        "saml_sp_metadata_url": urls.metadata,
        "updated_at": idp.as_ref().map(|i| i.updated_at),
    }))
}

/// The identity provider's facts, once its metadata passed the checks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdpFacts {
    pub entity_id: String,
    pub sso_url: String,
}

/// A service provider for `face` that trusts the IdP of `metadata`, or why not.
fn service_provider(metadata: &str, urls: &SpUrls, face: Face) -> Result<ServiceProvider, String> {
    let idp = EntityDescriptor::from_str(metadata).map_err(|_| "this is not a SAML EntityDescriptor (metadata XML of one identity provider)".to_owned())?;
    if idp.entity_id.as_deref().is_none_or(str::is_empty) {
        return Err("this is not a SAML EntityDescriptor of an identity provider: it names no entityID".into());
    }
    if idp.idp_sso_descriptors.as_ref().is_none_or(Vec::is_empty) {
        return Err("the metadata describes no identity provider (IDPSSODescriptor)".into());
    }
    let sp = ServiceProviderBuilder::default()
        .entity_id(urls.entity_id.clone())
        .metadata_url(urls.metadata.clone())
        .acs_url(face.acs(urls).to_owned())
        .slo_url(urls.slo.clone())
        .idp_metadata(idp)
        .max_clock_skew(chrono::Duration::seconds(MAX_CLOCK_SKEW_SECONDS))
        .allowed_signature_algorithms(vec![
            AllowedSignatureAlgorithm::RsaSha256,
            AllowedSignatureAlgorithm::RsaSha384,
            AllowedSignatureAlgorithm::RsaSha512,
            AllowedSignatureAlgorithm::EcdsaSha256,
            AllowedSignatureAlgorithm::EcdsaSha384,
            AllowedSignatureAlgorithm::EcdsaSha512,
        ])
        .build()
        .map_err(|e| format!("the service provider could not be set up: {e}"))?;
    // Without a signing certificate samael checks no signature at all.
    match sp.idp_signing_certs() {
        Ok(Some(certs)) if !certs.is_empty() => Ok(sp),
        Ok(_) => Err("the identity provider's metadata has no signing certificate, so its answers could not be verified: export the metadata with its signing certificate (KeyDescriptor use=\"signing\")".into()),
        Err(e) => Err(format!("the metadata's signing certificate cannot be read: {e}")),
    }
}

/// Checks IdP metadata as configuration: one identity provider, a signing certificate, an
/// HTTP-Redirect sign-in endpoint.
pub fn check_metadata(metadata: &str, urls: &SpUrls) -> Result<IdpFacts, String> {
    let sp = service_provider(metadata, urls, Face::Console)?;
    let sso_url = sp
        .sso_binding_location(HTTP_REDIRECT_BINDING)
        .ok_or_else(|| "the identity provider offers no HTTP-Redirect sign-in endpoint (SingleSignOnService), the binding ferrocat sends requests with".to_owned())?;
    let entity_id = sp.idp_metadata.entity_id.clone().unwrap_or_default();
    Ok(IdpFacts { entity_id, sso_url })
}

/// The service provider's metadata: signing nothing, wanting signed assertions, both
/// assertion consumer services (the console's the default), no logout endpoint.
pub fn sp_metadata(urls: &SpUrls) -> Result<String, AppError> {
    let sp = ServiceProviderBuilder::default()
        .entity_id(urls.entity_id.clone())
        .metadata_url(urls.metadata.clone())
        .acs_url(urls.console_acs.clone())
        .slo_url(urls.slo.clone())
        .build()
        .map_err(|e| AppError::Internal(anyhow::anyhow!("the service provider: {e}")))?;
    let mut metadata = sp.metadata().map_err(|e| AppError::Internal(anyhow::anyhow!("the service provider's metadata: {e}")))?;
    for descriptor in metadata.sp_sso_descriptors.iter_mut().flatten() {
        descriptor.single_logout_services = None;
        descriptor.assertion_consumer_services = vec![
            IndexedEndpoint { binding: HTTP_POST_BINDING.into(), location: urls.console_acs.clone(), index: 0, is_default: Some(true), response_location: None },
            IndexedEndpoint { binding: HTTP_POST_BINDING.into(), location: urls.mcp_acs.clone(), index: 1, is_default: None, response_location: None },
        ];
    }
    metadata.to_string().map_err(|e| AppError::Internal(anyhow::anyhow!("the service provider's metadata as XML: {e:?}")))
}

/// Changes to the identity provider; absent fields keep.
#[derive(Debug, Default, Clone)]
pub struct IdpChanges {
    /// Fetch the metadata from here (and remember where it came from).
    pub metadata_url: Option<String>,
    /// The metadata XML itself.
    pub metadata_xml: Option<String>,
    pub name: Option<String>,
}

/// Fetches metadata from `url`: http(s), 10 seconds, at most [`MAX_METADATA_BYTES`]. The body
/// is never repeated in an error (the URL is a superuser's, but it may point anywhere).
async fn fetch_metadata(url: &str) -> Result<String, AppError> {
    let field = "saml_idp_metadata_url";
    let parsed = url::Url::parse(url).map_err(|_| invalid(field, "saml_idp_metadata_url is not a URL"))?;
    if !matches!(parsed.scheme(), "https" | "http") || parsed.host_str().is_none() {
        return Err(invalid(field, "saml_idp_metadata_url must be an http(s) URL"));
    }
    // A client of its own, not the egress-checked one workflows use: only a superuser names
    // this URL (no workflow can), and identity providers commonly live on the organisation's
    // private network, which the egress policy refuses. Nothing it answers is repeated back.
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .redirect(reqwest::redirect::Policy::limited(3))
        .build()
        .map_err(|e| AppError::Internal(anyhow::anyhow!("http client: {e}")))?;
    let unreachable = |why: String| invalid(field, format!("the identity provider's metadata could not be fetched from {parsed}: {why}"));
    let mut response = client.get(parsed.clone()).send().await.map_err(|e| unreachable(if e.is_timeout() { "no answer within 10 seconds".into() } else { "the connection failed".into() }))?;
    if !response.status().is_success() {
        return Err(unreachable(format!("it answered HTTP {}", response.status().as_u16())));
    }
    let mut body = Vec::new();
    while let Some(chunk) = response.chunk().await.map_err(|_| unreachable("the answer broke off".into()))? {
        body.extend_from_slice(&chunk);
        if body.len() > MAX_METADATA_BYTES {
            return Err(invalid(field, "the metadata at saml_idp_metadata_url is larger than 1 MiB"));
        }
    }
    String::from_utf8(body).map_err(|_| invalid(field, "the metadata at saml_idp_metadata_url is not UTF-8 text"))
}

/// Configures the identity provider (as superuser `by`): the metadata by URL or XML must pass
/// [`check_metadata`]; the label is 1 to 60 characters.
pub async fn configure(db: &PgPool, urls: &SpUrls, by: Uuid, changes: IdpChanges) -> Result<IdpSettings, AppError> {
    let current = idp(db).await?;
    let name = match changes.name.as_deref().map(str::trim) {
        Some(name) if name.is_empty() || name.chars().count() > 60 => return Err(invalid("saml_idp_name", "saml_idp_name is 1 to 60 characters")),
        Some(name) => name.to_owned(),
        None => current.as_ref().map_or(DEFAULT_NAME.to_owned(), |c| c.idp_name.clone()),
    };
    let url = changes.metadata_url.as_deref().map(str::trim).filter(|u| !u.is_empty());
    let (xml, field, source_url) = match (url, changes.metadata_xml.as_deref().map(str::trim).filter(|x| !x.is_empty())) {
        (Some(_), Some(_)) => return Err(invalid("saml_idp_metadata", "give the metadata by URL or as XML, not both")),
        (Some(url), None) => (fetch_metadata(url).await?, "saml_idp_metadata_url", Some(url.to_owned())),
        (None, Some(xml)) if xml.len() > MAX_METADATA_BYTES => return Err(invalid("saml_idp_metadata", "the metadata is larger than 1 MiB")),
        (None, Some(xml)) => (xml.to_owned(), "saml_idp_metadata", None),
        (None, None) => match current {
            Some(current) => (current.idp_metadata_xml, "saml_idp_metadata", current.idp_metadata_url),
            None => return Err(invalid("saml_idp_metadata", "give the identity provider's metadata: saml_idp_metadata_url or saml_idp_metadata (XML)")),
        },
    };
    let facts = check_metadata(&xml, urls).map_err(|why| invalid(field, why))?;
    let saved = sqlx::query_as::<_, IdpSettings>(
        "INSERT INTO saml_settings (singleton, idp_metadata_xml, idp_metadata_url, idp_entity_id, idp_sso_url, idp_name, updated_at, updated_by)
         VALUES (TRUE, $1, $2, $3, $4, $5, now(), $6)
         ON CONFLICT (singleton) DO UPDATE SET idp_metadata_xml = EXCLUDED.idp_metadata_xml, idp_metadata_url = EXCLUDED.idp_metadata_url,
           idp_entity_id = EXCLUDED.idp_entity_id, idp_sso_url = EXCLUDED.idp_sso_url, idp_name = EXCLUDED.idp_name,
           updated_at = now(), updated_by = EXCLUDED.updated_by
         RETURNING idp_metadata_xml, idp_metadata_url, idp_entity_id, idp_sso_url, idp_name, updated_at",
    )
    .bind(&xml)
    .bind(&source_url)
    .bind(&facts.entity_id)
    .bind(&facts.sso_url)
    .bind(&name)
    .bind(by)
    .fetch_one(db)
    .await?;
    tracing::info!(user_id = %by, idp = %facts.entity_id, "the SAML identity provider was configured");
    Ok(saved)
}

/// Where a sign-in started, to go on from there once it is answered.
pub enum Origin<'a> {
    /// The console, to land on this path of the site afterwards.
    Console { return_to: Option<&'a str> },
    /// The MCP sign-in page's pending authorization request: its id, which the browser's
    /// cookie carries back (as with OpenID Connect), so it binds the answer to this browser.
    Mcp { request_id: &'a str },
}

/// Where to send the browser, and the token its cookie must carry back.
pub struct Started {
    pub url: String,
    pub browser_token: String,
}

/// A fresh AuthnRequest ID: `_` and 256 random bits (an NCName, as SAML wants).
fn request_id() -> String {
    format!("_{}", hex::encode(token_hash(&new_session_token().0)))
}

/// Starts a SAML sign-in: an AuthnRequest by HTTP-Redirect to the IdP, remembered here.
pub async fn start(db: &PgPool, urls: &SpUrls, origin: Origin<'_>) -> Result<Started, AppError> {
    if !crate::auth_settings::read(db).await?.saml_enabled {
        return Err(AppError::Forbidden("single sign-on through SAML is turned off for this organisation".into()));
    }
    let Some(idp) = idp(db).await? else {
        return Err(AppError::NotFound("no SAML identity provider is configured: sign in another way".into()));
    };
    let face = match origin {
        Origin::Console { .. } => Face::Console,
        Origin::Mcp { .. } => Face::Mcp,
    };
    let sp = service_provider(&idp.idp_metadata_xml, urls, face).map_err(|why| AppError::Internal(anyhow::anyhow!("the stored SAML metadata: {why}")))?;
    let mut request = sp.make_authentication_request(&idp.idp_sso_url).map_err(|e| AppError::Internal(anyhow::anyhow!("the AuthnRequest: {e}")))?;
    request.id = request_id();
    let (relay_state, relay_hash) = new_session_token();
    let url = request
        .redirect(&relay_state)
        .map_err(|e| AppError::Internal(anyhow::anyhow!("the AuthnRequest redirect: {e}")))?
        .ok_or_else(|| AppError::Internal(anyhow::anyhow!("the AuthnRequest has no destination")))?;
    let (browser_token, browser_hash, return_to, mcp_request_hash) = match origin {
        Origin::Console { return_to } => {
            let (token, hash) = new_session_token();
            (token, hash, Some(super::console::safe_return_to(return_to)), None)
        }
        Origin::Mcp { request_id } => (request_id.to_owned(), token_hash(request_id), None, Some(token_hash(request_id))),
    };
    sqlx::query(
        "INSERT INTO saml_logins (relay_hash, request_id, browser_hash, face, return_to, mcp_request_hash, expires_at) VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(relay_hash)
    .bind(&request.id)
    .bind(browser_hash)
    .bind(face.as_str())
    .bind(return_to)
    .bind(mcp_request_hash)
    .bind(Utc::now() + chrono::Duration::seconds(LOGIN_TTL_SECONDS))
    .execute(db)
    .await?;
    // Sign-ins nobody finished go after a day.
    sqlx::query("DELETE FROM saml_logins WHERE expires_at < now() - interval '1 day'").execute(db).await?;
    Ok(Started { url: url.to_string(), browser_token })
}

/// A sign-in the IdP answered, and the platform user it signed in.
#[derive(Debug)]
pub struct Finished {
    pub user: User,
    /// The console's path to land on.
    pub return_to: Option<String>,
    /// The MCP sign-in page's pending request.
    pub mcp_request_hash: Option<Vec<u8>>,
}

/// What an IdP asserted about the person, from its attributes.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Asserted {
    pub name_id: Option<(String, Option<String>)>,
    pub email: Option<String>,
    pub display_name: Option<String>,
    pub groups: Vec<String>,
}

/// Attribute names that carry the email: plain, the LDAP `mail` (name and OID), Okta's, and
/// Entra's email and name claims (Entra's name claim is the user principal name, an address).
const EMAIL_ATTRIBUTES: &[&str] = &[
    "email",
    "mail",
    "emailaddress",
    "urn:oid:0.9.2342.19200300.100.1.3",
    "urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress",
    "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/emailaddress",
    "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/name",
];
const NAME_ATTRIBUTES: &[&str] = &[
    "displayName",
    "name",
    "urn:oid:2.16.840.1.113730.3.1.241",
    "http://schemas.microsoft.com/identity/claims/displayname",
];
const GROUP_ATTRIBUTES: &[&str] = &["groups", "memberOf", "urn:oid:1.3.6.1.4.1.5923.1.5.1.1", "http://schemas.microsoft.com/ws/2008/06/identity/claims/groups"];
const EMAIL_FORMAT: &str = "urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress";
const PERSISTENT_FORMAT: &str = "urn:oasis:names:tc:SAML:2.0:nameid-format:persistent";

/// The person an assertion describes.
pub fn asserted(assertion: &Assertion) -> Asserted {
    let attributes: Vec<_> = assertion.attribute_statements.iter().flatten().flat_map(|s| s.attributes.iter()).collect();
    let values = |names: &[&str]| -> Vec<String> {
        names
            .iter()
            .flat_map(|wanted| {
                attributes
                    .iter()
                    .filter(move |a| a.name.as_deref().is_some_and(|n| n.eq_ignore_ascii_case(wanted)) || a.friendly_name.as_deref().is_some_and(|n| n.eq_ignore_ascii_case(wanted)))
                    .flat_map(|a| a.values.iter().filter_map(|v| v.value.as_deref().map(str::trim).filter(|v| !v.is_empty()).map(str::to_owned)))
            })
            .collect()
    };
    let name_id = assertion.subject.as_ref().and_then(|s| s.name_id.as_ref()).map(|n| (n.value.trim().to_owned(), n.format.clone()));
    let email = values(EMAIL_ATTRIBUTES)
        .into_iter()
        .find(|v| v.contains('@'))
        .or_else(|| name_id.as_ref().filter(|(v, format)| format.as_deref() == Some(EMAIL_FORMAT) && v.contains('@')).map(|(v, _)| v.clone()));
    let mut groups = values(GROUP_ATTRIBUTES);
    groups.dedup();
    Asserted { name_id, email, display_name: values(NAME_ATTRIBUTES).into_iter().next(), groups }
}

impl Asserted {
    /// As the identity layer sees it: the subject is a persistent NameID when there is one,
    /// else the address (a transient NameID changes every time).
    fn identity(&self, issuer: &str) -> Identity {
        let subject = match &self.name_id {
            Some((value, Some(format))) if format == PERSISTENT_FORMAT && !value.is_empty() => value.clone(),
            _ => format!("email:{}", self.email.as_deref().unwrap_or_default().to_ascii_lowercase()),
        };
        Identity { issuer: issuer.to_owned(), subject, email: self.email.clone(), email_verified: true }
    }
}

/// Verifies a base64 `SAMLResponse` for `face` against the one request it must answer.
pub async fn verify(metadata: String, urls: SpUrls, face: Face, request_id: String, response: String) -> Result<Assertion, String> {
    tokio::task::spawn_blocking(move || {
        let sp = service_provider(&metadata, &urls, face)?;
        // xmlsec initialises on its first use and then puts its own printer back: initialise it
        // once here (loading the IdP's certificate; the check of an empty document fails,
        // silently), so every report of a real verification goes to tracing.
        static XMLSEC: std::sync::Once = std::sync::Once::new();
        XMLSEC.call_once(|| {
            ferrocat_xmlsec_log::route_to_tracing();
            if let Ok(Some(cert)) = sp.idp_signing_certs()
                && let Some(cert) = cert.first()
            {
                let _ = <samael::crypto::Crypto as samael::crypto::CryptoProvider>::verify_signed_xml("<x/>", cert, None);
            }
        });
        ferrocat_xmlsec_log::route_to_tracing();
        sp.parse_base64_response(response.trim(), Some(&[request_id.as_str()])).map_err(|e| e.to_string())
    })
    .await
    .map_err(|e| format!("the verification did not finish: {e}"))?
}

/// A sign-in waiting for its answer, as [`start`] stored it.
#[derive(sqlx::FromRow)]
struct Pending {
    request_id: String,
    browser_hash: Vec<u8>,
    return_to: Option<String>,
    mcp_request_hash: Option<Vec<u8>>,
}

/// Finishes a SAML sign-in at `face`'s ACS: the RelayState must name a sign-in started there,
/// unspent and unexpired, by this browser; the response must verify against its request.
pub async fn finish(db: &PgPool, urls: &SpUrls, face: Face, relay_state: &str, browser_token: Option<&str>, response: &str) -> Result<Finished, AppError> {
    let again = "sign in again";
    let found = sqlx::query_as::<_, Pending>(
        "UPDATE saml_logins SET used_at = now() WHERE relay_hash = $1 AND face = $2 AND used_at IS NULL AND expires_at > now()
         RETURNING request_id, browser_hash, return_to, mcp_request_hash",
    )
    .bind(token_hash(relay_state))
    .bind(face.as_str())
    .fetch_optional(db)
    .await?;
    let Some(Pending { request_id, browser_hash, return_to, mcp_request_hash }) = found else {
        tracing::warn!("a SAML answer matched no sign-in waiting for one (replayed, expired, or not started here)");
        return Err(AppError::BadRequest(format!("this sign-in answer was already used, expired, or was not started here: {again}")));
    };
    // Only the browser that started the sign-in holds the token (login CSRF).
    if browser_token.map(token_hash) != Some(browser_hash) {
        tracing::warn!("a SAML answer came to another browser than the one that started it");
        return Err(AppError::BadRequest(format!("this sign-in was started in another browser: {again}")));
    }
    let Some(idp) = idp(db).await? else {
        return Err(AppError::NotFound("no SAML identity provider is configured".into()));
    };
    let assertion = verify(idp.idp_metadata_xml.clone(), urls.clone(), face, request_id, response.to_owned()).await.map_err(|why| {
        tracing::warn!(idp = %idp.idp_entity_id, why = %why, "a SAML answer failed verification");
        AppError::BadRequest(format!("the answer of {} failed verification, so it cannot sign you in", idp.idp_name))
    })?;
    let person = asserted(&assertion);
    let identity = person.identity(&idp.idp_entity_id);
    let source = Source { method: Method::Saml, name: &idp.idp_name, create_users: false };
    match super::platform_user(db, &source, &identity).await? {
        Ok(user) => {
            tracing::info!(user_id = %user.id, idp = %idp.idp_entity_id, face = face.as_str(), groups = person.groups.len(), "signed in through SAML");
            Ok(Finished { user, return_to, mcp_request_hash })
        }
        Err(refusal) => {
            tracing::info!(idp = %idp.idp_entity_id, subject = %identity.subject, why = %refusal, "SAML sign-in: no platform user");
            Err(AppError::Forbidden(refusal))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const CERT: &str = "MIIBgDCCASegAwIBAgIUaiKK20AcIzM78e78nWYF8rZ0wmIwCgYIKoZIzj0EAwIwFjEUMBIGA1UEAwwLZXhhbXBsZS1pZHAwHhcNMjYxMjA2MTkyNTAyWhcNMzYxMjAzMTkyNTAyWjAWMRQwEgYDVQQDDAtleGFtcGxlLWlkcDBZMBMGByqGSM49AgEGCCqGSM49AwEHA0IABHJcMutuiUfikaxRpweecCcns5nSDbU/yh5MP6+d5nR4g1ea5heAih6K/8uJl9yvnvtYldgHmgIM9mCvJq37aH+jUzBRMB0GA1UdDgQWBBSOvq45NciqZyz08ejAlu/xpKaMEzAfBgNVHSMEGDAWgBSOvq45NciqZyz08ejAlu/xpKaMEzAPBgNVHRMBAf8EBTADAQH/MAoGCCqGSM49BAMCA0cAMEQCIBrYRV8Luknr4MoCFba/L/9lQBpBtTXYoIQwj4ggxwpBAiAz1zVYN8rZ4RjEu1eQ45LSG6FGWP512zZtfLLKZpliTQ==";

    fn metadata(key: &str, sso: &str) -> String {
        format!(
            r#"<md:EntityDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata" xmlns:ds="http://www.w3.org/2000/09/xmldsig#" entityID="https://idp.example.com">
  <md:IDPSSODescriptor protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol">{key}{sso}</md:IDPSSODescriptor>
</md:EntityDescriptor>"#
        )
    }

    fn key() -> String {
        format!(r#"<md:KeyDescriptor use="signing"><ds:KeyInfo><ds:X509Data><ds:X509Certificate>{CERT}</ds:X509Certificate></ds:X509Data></ds:KeyInfo></md:KeyDescriptor>"#)
    }

    const REDIRECT: &str = r#"<md:SingleSignOnService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect" Location="https://idp.example.com/sso"/>"#;

    #[test]
    fn metadata_without_a_signing_certificate_or_a_redirect_endpoint_is_refused() {
        let urls = SpUrls::new("https://soc.example.com/");
        let facts = check_metadata(&metadata(&key(), REDIRECT), &urls).expect("complete metadata");
        assert_eq!(facts, IdpFacts { entity_id: "https://idp.example.com".into(), sso_url: "https://idp.example.com/sso".into() });
        let unsigned = check_metadata(&metadata("", REDIRECT), &urls).unwrap_err();
        assert!(unsigned.contains("no signing certificate"), "{unsigned}");
        let post_only = REDIRECT.replace("HTTP-Redirect", "HTTP-POST");
        assert!(check_metadata(&metadata(&key(), &post_only), &urls).unwrap_err().contains("HTTP-Redirect"));
        assert!(check_metadata("<html>hello</html>", &urls).unwrap_err().contains("EntityDescriptor"));
    }

    #[test]
    fn the_service_provider_names_its_own_urls_and_both_consumers() {
        let urls = SpUrls::new("https://soc.example.com");
        assert_eq!(urls.entity_id, "https://soc.example.com/api/auth/saml/metadata");
        let xml = sp_metadata(&urls).unwrap();
        assert!(xml.contains(r#"entityID="https://soc.example.com/api/auth/saml/metadata""#), "{xml}");
        assert!(xml.contains("https://soc.example.com/api/auth/saml/acs") && xml.contains("https://soc.example.com/authorize/saml/acs"), "{xml}");
        assert!(!xml.contains("localhost") && !xml.contains("SingleLogoutService"), "{xml}");
        let sp = service_provider(&metadata(&key(), REDIRECT), &urls, Face::Mcp).unwrap();
        assert_eq!(sp.acs_url.as_deref(), Some("https://soc.example.com/authorize/saml/acs"));
        let allowed = sp.allowed_signature_algorithms.unwrap();
        assert!(!allowed.iter().any(|a| a.signature_uri().contains("sha1") || a.signature_uri().contains("sha224")), "no SHA-1");
    }

    #[test]
    fn request_ids_are_long_and_fresh() {
        let (a, b) = (request_id(), request_id());
        assert!(a.starts_with('_') && a.len() == 65 && a != b);
    }

    #[test]
    fn the_email_comes_from_the_usual_attributes_and_a_transient_name_id_is_not_a_subject() {
        let assertion_xml = |attrs: &str, name_id: &str| {
            format!(
                r#"<saml:Assertion xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion" ID="_a" IssueInstant="2026-12-06T00:00:00Z" Version="2.0"><saml:Issuer>https://idp.example.com</saml:Issuer><saml:Subject>{name_id}</saml:Subject><saml:AttributeStatement>{attrs}</saml:AttributeStatement></saml:Assertion>"#
            )
        };
        let attr = |name: &str, value: &str| format!(r#"<saml:Attribute Name="{name}"><saml:AttributeValue>{value}</saml:AttributeValue></saml:Attribute>"#);
        let entra = assertion_xml(
            &[attr("http://schemas.xmlsoap.org/ws/2005/05/identity/claims/name", "Ana@Example.com"), attr("http://schemas.microsoft.com/identity/claims/displayname", "Ana"), attr("groups", "soc")].concat(),
            r#"<saml:NameID Format="urn:oasis:names:tc:SAML:2.0:nameid-format:persistent">abc-123</saml:NameID>"#,
        );
        let person = asserted(&entra.parse::<Assertion>().unwrap());
        assert_eq!(person.email.as_deref(), Some("Ana@Example.com"));
        assert_eq!(person.display_name.as_deref(), Some("Ana"));
        assert_eq!(person.groups, vec!["soc".to_owned()]);
        assert_eq!(person.identity("https://idp.example.com").subject, "abc-123");
        let transient = assertion_xml(&attr("email", "bo@example.com"), r#"<saml:NameID Format="urn:oasis:names:tc:SAML:2.0:nameid-format:transient">_x1</saml:NameID>"#);
        let person = asserted(&transient.parse::<Assertion>().unwrap());
        assert_eq!(person.identity("i").subject, "email:bo@example.com");
        let okta = assertion_xml("", r#"<saml:NameID Format="urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress">cy@example.com</saml:NameID>"#);
        assert_eq!(asserted(&okta.parse::<Assertion>().unwrap()).email.as_deref(), Some("cy@example.com"));
    }
}
