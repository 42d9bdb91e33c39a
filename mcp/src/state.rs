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

    /// The name on the single sign-on button, when there is one.
    pub fn sso_name(&self) -> Option<&str> {
        self.oidc.as_deref().map(Provider::name)
    }
}
