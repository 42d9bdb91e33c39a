//! The upstream OpenID Connect provider, as a relying party sees it: discovery (cached, with
//! its JWKS), the authorization redirect (state, nonce, PKCE S256), and the code exchange with
//! the ID token's verification (signature against the JWKS, RS256; `iss`, `aud`, `exp`,
//! `nonce`). What comes out is the identity the provider vouches for; who that is on this
//! platform is [`super::platform_user`]'s business.

use std::time::{Duration, Instant};

use openidconnect::core::{CoreAuthenticationFlow, CoreClient, CoreProviderMetadata};
use openidconnect::{
    AuthorizationCode, ClaimsVerificationError, ClientId, ClientSecret, CsrfToken, EndpointMaybeSet, EndpointNotSet, EndpointSet,
    IssuerUrl, Nonce, PkceCodeChallenge, PkceCodeVerifier, RedirectUrl, RequestTokenError, Scope, SignatureVerificationError,
    TokenResponse as _,
};
use secrecy::ExposeSecret as _;
use tokio::sync::Mutex;

use ferrocat_shared::config::{ConfigError, Env};
use secrecy::SecretString;

/// An upstream OpenID Connect provider the sign-in page offers beside the password form.
#[derive(Debug, Clone)]
pub struct OidcConfig {
    /// `FERROCAT_OIDC_ISSUER`: the provider's issuer URL, exactly as its discovery document
    /// (`{issuer}/.well-known/openid-configuration`) and ID tokens name it. https, or http on a
    /// loopback address.
    pub issuer: String,
    /// `FERROCAT_OIDC_CLIENT_ID`: this deployment's client at the provider; required with the
    /// issuer. The provider must accept `{FERROCAT_PUBLIC_URL}/auth/callback` (the MCP sign-in page) as a
    /// redirect URI.
    pub client_id: String,
    /// `FERROCAT_OIDC_CLIENT_SECRET`: unset for a public client (PKCE only).
    pub client_secret: Option<SecretString>,
    /// `FERROCAT_OIDC_NAME`: the button reads "Sign in with <name>"; default the issuer's host.
    pub name: String,
    /// `FERROCAT_OIDC_SCOPES` (comma- or space-separated), default `openid email profile`;
    /// `openid` is always asked for.
    pub scopes: Vec<String>,
    /// `FERROCAT_OIDC_CREATE_USERS`, default false: someone the provider vouches for (with a
    /// verified email) but who has no ferrocat account is refused; when true an account without
    /// a password is made for them, with the sign-in rules' default role in the default
    /// workspace.
    pub create_users: bool,
}

const OIDC_KEYS: [&str; 5] =
    ["FERROCAT_OIDC_CLIENT_ID", "FERROCAT_OIDC_CLIENT_SECRET", "FERROCAT_OIDC_NAME", "FERROCAT_OIDC_SCOPES", "FERROCAT_OIDC_CREATE_USERS"];

impl OidcConfig {
    /// `None` when `FERROCAT_OIDC_ISSUER` is unset (and so is every other `FERROCAT_OIDC_*`).
    pub fn from_env(env: &Env) -> Result<Option<Self>, ConfigError> {
        let Some(issuer) = env.get("FERROCAT_OIDC_ISSUER").map(str::trim).filter(|v| !v.is_empty()) else {
            if let Some(key) = OIDC_KEYS.iter().find(|k| env.get(k).is_some_and(|v| !v.trim().is_empty())) {
                return Err(ConfigError::Invalid {
                    key: (*key).into(),
                    value: "(set)".into(),
                    reason: "needs FERROCAT_OIDC_ISSUER too".into(),
                });
            }
            return Ok(None);
        };
        let invalid = |reason: &str| ConfigError::Invalid { key: "FERROCAT_OIDC_ISSUER".into(), value: issuer.into(), reason: reason.into() };
        let url = url::Url::parse(issuer).map_err(|e| invalid(&format!("not a URL ({e})")))?;
        let loopback = match url.host() {
            Some(url::Host::Domain(d)) => d == "localhost",
            Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
            Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
            None => return Err(invalid("not an absolute URL with a host")),
        };
        if url.scheme() != "https" && !(url.scheme() == "http" && loopback) {
            return Err(invalid("must be https (http only on a loopback address)"));
        }
        if url.query().is_some() || url.fragment().is_some() {
            return Err(invalid("must not have a query or fragment"));
        }
        let client_id = env.required("FERROCAT_OIDC_CLIENT_ID")?;
        let client_secret = env.get("FERROCAT_OIDC_CLIENT_SECRET").filter(|v| !v.is_empty()).map(|v| SecretString::from(v.to_owned()));
        let name = env.get("FERROCAT_OIDC_NAME").map(str::trim).filter(|v| !v.is_empty()).map(str::to_owned);
        let mut scopes = vec!["openid".to_owned()];
        let asked = env.get("FERROCAT_OIDC_SCOPES").unwrap_or("openid email profile");
        scopes.extend(asked.split([',', ' ']).map(str::trim).filter(|s| !s.is_empty() && *s != "openid").map(str::to_owned));
        Ok(Some(Self {
            // Issuers are compared as strings: keep the configured form, without a trailing `/`.
            issuer: issuer.trim_end_matches('/').to_owned(),
            client_id,
            client_secret,
            name: name.unwrap_or_else(|| url.host_str().unwrap_or_default().to_owned()),
            scopes,
            create_users: env.parse_or("FERROCAT_OIDC_CREATE_USERS", false)?,
        }))
    }
}


/// How long discovery (and the provider's keys) are trusted before they are fetched again. A
/// token signed with a key not yet seen refetches them at once.
const METADATA_TTL: Duration = Duration::from_secs(600);

type Client = CoreClient<EndpointSet, EndpointNotSet, EndpointNotSet, EndpointNotSet, EndpointMaybeSet, EndpointMaybeSet>;

/// What went wrong talking to the provider. The messages name no token or secret.
#[derive(Debug, thiserror::Error)]
pub enum OidcError {
    #[error("discovery of {issuer} failed: {reason}")]
    Discovery { issuer: String, reason: String },
    #[error("the provider refused the code: {0}")]
    CodeRefused(String),
    #[error("the token request failed: {0}")]
    TokenRequest(String),
    #[error("the provider sent no ID token")]
    NoIdToken,
    #[error("the ID token failed verification: {0}")]
    InvalidIdToken(String),
}

/// Where to send the browser, and what the callback needs to finish.
pub struct Redirect {
    pub url: String,
    pub state: String,
    pub nonce: String,
    pub pkce_verifier: String,
}

/// The identity a verified ID token names.
#[derive(Debug, Clone)]
pub struct Identity {
    pub issuer: String,
    pub subject: String,
    pub email: Option<String>,
    /// Only `email_verified: true` counts; absent means unverified.
    pub email_verified: bool,
}

/// One configured provider; cheap to share behind an `Arc`.
pub struct Provider {
    config: OidcConfig,
    redirect_uri: RedirectUrl,
    http: reqwest::Client,
    metadata: Mutex<Option<(Instant, CoreProviderMetadata)>>,
}

impl Provider {
    /// A provider whose browser flow returns to `redirect_uri`. Nothing is fetched yet, so a
    /// provider that is down does not stop the server (password sign-in keeps working).
    pub fn new(config: OidcConfig, redirect_uri: String) -> anyhow::Result<Self> {
        // A client of its own, not the egress-checked one: it only ever reaches the issuer the
        // operator configured (`FERROCAT_OIDC_ISSUER`), which no workflow or user can change,
        // and that identity provider may well sit on the operator's own network.
        let http = reqwest::Client::builder()
            // Following redirects would let discovery wander (SSRF).
            .redirect(reqwest::redirect::Policy::none())
            .timeout(Duration::from_secs(10))
            .build()?;
        Ok(Self { redirect_uri: RedirectUrl::new(redirect_uri)?, config, http, metadata: Mutex::new(None) })
    }

    /// The name on the sign-in button.
    pub fn name(&self) -> &str {
        &self.config.name
    }

    /// The configured issuer.
    pub fn issuer(&self) -> &str {
        &self.config.issuer
    }

    /// Whether someone without an account gets one.
    pub fn create_users(&self) -> bool {
        self.config.create_users
    }

    /// The discovery document (and JWKS), from the cache unless it is old or `refresh`.
    async fn metadata(&self, refresh: bool) -> Result<CoreProviderMetadata, OidcError> {
        let mut cached = self.metadata.lock().await;
        if let Some((at, metadata)) = cached.as_ref()
            && !refresh
            && at.elapsed() < METADATA_TTL
        {
            return Ok(metadata.clone());
        }
        let discovery = |reason: String| OidcError::Discovery { issuer: self.config.issuer.clone(), reason };
        let issuer = IssuerUrl::new(self.config.issuer.clone()).map_err(|e| discovery(e.to_string()))?;
        // Discovery also checks that the document names this very issuer.
        let metadata = CoreProviderMetadata::discover_async(issuer, &self.http).await.map_err(|e| discovery(error_chain(&e)))?;
        *cached = Some((Instant::now(), metadata.clone()));
        Ok(metadata)
    }

    fn client(&self, metadata: CoreProviderMetadata) -> Client {
        let secret = self.config.client_secret.as_ref().map(|s| ClientSecret::new(s.expose_secret().to_owned()));
        CoreClient::from_provider_metadata(metadata, ClientId::new(self.config.client_id.clone()), secret)
            .set_redirect_uri(self.redirect_uri.clone())
    }

    /// The authorization request to send the browser to, with fresh state, nonce and PKCE.
    pub async fn redirect(&self) -> Result<Redirect, OidcError> {
        let client = self.client(self.metadata(false).await?);
        let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
        let mut request = client.authorize_url(CoreAuthenticationFlow::AuthorizationCode, CsrfToken::new_random, Nonce::new_random);
        for scope in self.config.scopes.iter().filter(|s| *s != "openid") {
            request = request.add_scope(Scope::new(scope.clone()));
        }
        let (url, state, nonce) = request.set_pkce_challenge(challenge).url();
        Ok(Redirect {
            url: url.into(),
            state: state.secret().clone(),
            nonce: nonce.secret().clone(),
            pkce_verifier: verifier.secret().clone(),
        })
    }

    /// Redeems `code` and verifies the ID token against `nonce`.
    pub async fn finish(&self, code: &str, nonce: &str, pkce_verifier: &str) -> Result<Identity, OidcError> {
        let client = self.client(self.metadata(false).await?);
        let response = client
            .exchange_code(AuthorizationCode::new(code.to_owned()))
            .map_err(|e| OidcError::TokenRequest(e.to_string()))?
            .set_pkce_verifier(PkceCodeVerifier::new(pkce_verifier.to_owned()))
            .request_async(&self.http)
            .await
            .map_err(|e| match e {
                RequestTokenError::ServerResponse(refusal) => OidcError::CodeRefused(refusal.error().to_string()),
                other => OidcError::TokenRequest(error_chain(&other)),
            })?;
        let id_token = response.id_token().ok_or(OidcError::NoIdToken)?;
        let nonce = Nonce::new(nonce.to_owned());
        let claims = match id_token.claims(&client.id_token_verifier(), &nonce) {
            Ok(claims) => claims.clone(),
            // Signed with a key we have not seen: the provider may have rotated its keys.
            Err(ClaimsVerificationError::SignatureVerification(SignatureVerificationError::NoMatchingKey)) => {
                let client = self.client(self.metadata(true).await?);
                id_token.claims(&client.id_token_verifier(), &nonce).map_err(|e| OidcError::InvalidIdToken(error_chain(&e)))?.clone()
            }
            Err(e) => return Err(OidcError::InvalidIdToken(error_chain(&e))),
        };
        Ok(Identity {
            issuer: self.config.issuer.clone(),
            subject: claims.subject().as_str().to_owned(),
            email: claims.email().map(|e| e.as_str().to_owned()),
            email_verified: claims.email_verified() == Some(true),
        })
    }
}

/// An error and its sources on one line (the crate's top-level messages are terse).
fn error_chain(error: &dyn std::error::Error) -> String {
    let mut out = error.to_string();
    let mut source = error.source();
    while let Some(e) = source {
        out.push_str(": ");
        out.push_str(&e.to_string());
        source = e.source();
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_chains_read_as_one_line() {
        let inner = std::io::Error::other("connection refused");
        let outer = OidcError::Discovery { issuer: "https://idp".into(), reason: error_chain(&inner) };
        assert_eq!(outer.to_string(), "discovery of https://idp failed: connection refused");
    }
}
