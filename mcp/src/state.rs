//! The state every handler and tool shares.

use std::sync::Arc;

use sqlx::PgPool;

use crate::config::McpConfig;
use ferrocat_app::sso::Provider;

/// Cheap to clone: pools and clients are shared.
#[derive(Clone)]
pub struct McpState {
    /// The use cases' pools, clients and settings.
    pub app: ferrocat_app::App,
    pub config: Arc<McpConfig>,
    /// Fetches client ID metadata documents (public addresses only).
    pub http: ferrocat_shared::egress::EgressClient,
    /// The single sign-on provider, when one is configured.
    pub oidc: Option<Arc<Provider>>,
}

impl McpState {
    /// The Postgres pool.
    pub fn db(&self) -> &PgPool {
        &self.app.db
    }

    /// The single sign-on buttons of the sign-in page: the OpenID Connect provider when one is
    /// configured and the organisation's rules leave it on; SAML when the rules turn it on and
    /// an identity provider is configured.
    pub async fn offered(&self) -> crate::oauth::pages::Offered {
        let rules = match ferrocat_app::auth_settings::read(self.db()).await {
            Ok(rules) => rules,
            Err(e) => {
                tracing::warn!(error = %e, "reading the sign-in rules");
                return crate::oauth::pages::Offered::default();
            }
        };
        let saml = match ferrocat_app::sso::saml::offered(self.db(), &rules).await {
            Ok(saml) => saml,
            Err(e) => {
                tracing::warn!(error = %e, "reading the SAML settings");
                None
            }
        };
        let oidc = self.oidc.as_deref().filter(|_| rules.oidc_enabled).map(|p| p.name().to_owned());
        crate::oauth::pages::Offered { oidc, saml }
    }
}
